"""URLs of the cultivation pages (included by clients/urls.py under the "clients" namespace)."""

from django.urls import path

from . import views as v

urlpatterns = [
    path("", v.cultivation_list, name="cultivation-list"),
    path("<int:pk>/", v.cultivation_detail, name="cultivation-detail"),
    path("<int:pk>/<slug:step>/", v.cultivation_step, name="cultivation-step"),
    path("evaluations/", v.b_evaluation_list, name="b-evaluation-list"),
]
