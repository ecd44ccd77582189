"""URLs of the archive pages (included by clients/urls.py under the "clients" namespace)."""

urlpatterns = []
