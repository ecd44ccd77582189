"""Pages of the complaints app, mounted at /complaints/ under the "complaints" namespace."""

from django.urls import include, path

from . import views
from .attachments import views as attachment_views

app_name = "complaints"

urlpatterns = [
    path("", views.complaint_list, name="complaint-list"),
    path("repairs/", include("complaints.repairs.urls")),
    path("new/", views.complaint_create, name="complaint-create"),
    path("<int:pk>/", views.complaint_detail, name="complaint-detail"),
    path("<int:pk>/edit/", views.complaint_edit, name="complaint-edit"),
    # Before the steps' route, which would take "attachments" for a step.
    path("<int:pk>/attachments/", attachment_views.complaint_attachment_add, name="complaint-attachment-add"),
    path(
        "attachments/<int:pk>/",
        attachment_views.complaint_attachment_download,
        name="complaint-attachment-download",
    ),
    path(
        "attachments/<int:pk>/delete/",
        attachment_views.complaint_attachment_delete,
        name="complaint-attachment-delete",
    ),
    path("<int:pk>/<slug:step>/", views.complaint_step, name="complaint-step"),
]
