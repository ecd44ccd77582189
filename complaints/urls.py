"""Pages of the complaints app, mounted at /complaints/ under the "complaints" namespace."""

from django.urls import include, path

from . import views

app_name = "complaints"

urlpatterns = [
    path("", views.complaint_list, name="complaint-list"),
    path("repairs/", include("complaints.repairs.urls")),
    path("new/", views.complaint_create, name="complaint-create"),
    path("<int:pk>/", views.complaint_detail, name="complaint-detail"),
    path("<int:pk>/edit/", views.complaint_edit, name="complaint-edit"),
    path("<int:pk>/<slug:step>/", views.complaint_step, name="complaint-step"),
]
