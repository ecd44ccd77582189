"""Pages of the archive; each part keeps its own URL module."""

from django.urls import include, path

app_name = "clients"

urlpatterns = [
    path("", include("clients.urls_archive")),
    path("import/", include("clients.urls_import")),
    path("access/", include("clients.urls_access")),
]
