"""Page routes of the attachments of needs and visits (included by clients/urls.py, "clients"
namespace): the upload on the record, the download and the delete of one attachment."""

from django.urls import path

from . import views as v

urlpatterns = [
    path("needs/<int:pk>/attachments/", v.need_attachment_add, name="need-attachment-add"),
    path("needs/attachments/<int:pk>/", v.need_attachment_download, name="need-attachment-download"),
    path("needs/attachments/<int:pk>/delete/", v.need_attachment_delete, name="need-attachment-delete"),
    path("visits/<int:pk>/attachments/", v.visit_attachment_add, name="visit-attachment-add"),
    path("visits/attachments/<int:pk>/", v.visit_attachment_download, name="visit-attachment-download"),
    path("visits/attachments/<int:pk>/delete/", v.visit_attachment_delete, name="visit-attachment-delete"),
]
