"""URLs of the access pages (included by clients/urls.py under the "clients" namespace)."""

urlpatterns = []
