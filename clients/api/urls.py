"""API routes of the archive: each part registers on its own router module."""

from .access_urls import router as access_router
from .archive_urls import router as archive_router

urlpatterns = archive_router.urls + access_router.urls
