"""URLs of warranty repairs (included by complaints/urls.py under "repairs/", "complaints"
namespace)."""

from django.urls import path

from . import views as v

urlpatterns = [
    path("", v.repair_list, name="repair-list"),
    path("new/", v.repair_create, name="repair-create"),
    path("<int:pk>/", v.repair_detail, name="repair-detail"),
    path("<int:pk>/edit/", v.repair_edit, name="repair-edit"),
    path("<int:pk>/<slug:step>/", v.repair_step, name="repair-step"),
]
