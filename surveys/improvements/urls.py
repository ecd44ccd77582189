"""URLs of the improvement plans (included by surveys/urls.py under the "surveys" namespace)."""

from django.urls import path

from . import views as v

urlpatterns = [
    path("", v.improvement_list, name="improvement-list"),
    path("new/", v.improvement_create, name="improvement-create"),
    path("<int:pk>/", v.improvement_detail, name="improvement-detail"),
    path("<int:pk>/<slug:step>/", v.improvement_step, name="improvement-step"),
]
