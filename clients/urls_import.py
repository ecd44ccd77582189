"""URLs of the import pages (included by clients/urls.py under the "clients" namespace)."""

urlpatterns = []
