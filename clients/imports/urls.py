"""URLs of the import pages (included by clients/urls.py under the "clients" namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.import_start, name="import-start"),
    path("template/", views.import_template, name="import-template"),
    path("<uuid:job>/", views.import_preview, name="import-preview"),
    path("<uuid:job>/confirm/", views.import_confirm, name="import-confirm"),
    path("<uuid:job>/status/", views.import_status, name="import-status"),
    path("<uuid:job>/retry/", views.import_retry, name="import-retry"),
]
