"""URLs of the give-up pages (included by clients/urls.py under the "clients" namespace)."""

from django.urls import path

from . import views as v

urlpatterns = [
    path("", v.give_up_list, name="give-up-list"),
    path("<int:pk>/", v.give_up_detail, name="give-up-detail"),
    path("<int:pk>/<slug:step>/", v.give_up_step, name="give-up-step"),
]
