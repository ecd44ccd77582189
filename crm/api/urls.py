from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from crm.outbox.api import DeliveryViewSet, PreferencesView
from crm.robots.api import ChatRobotViewSet

from . import views

router = DefaultRouter()
router.register("branches", views.BranchViewSet, basename="branch")
# "api-" before the name: the pages' routes are called notification-list and notification-read-all.
router.register("notifications", views.NotificationViewSet, basename="api-notification")
router.register("chat-robots", ChatRobotViewSet, basename="chat-robot")
router.register("deliveries", DeliveryViewSet, basename="api-delivery")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("auth/token/revoke/", views.TokenRevokeView.as_view(), name="api-token-revoke"),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("me/preferences/", PreferencesView.as_view(), name="api-preferences"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", views.DocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include(router.urls)),
    path("", include("clients.api.urls")),
    path("", include("complaints.api.urls")),
    path("", include("surveys.api.urls")),
    path("", include("assessments.api.urls")),
]
