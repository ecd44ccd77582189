from rest_framework.routers import SimpleRouter

from .views import AccessLogViewSet, AccessRequestViewSet, ClientTransferViewSet

router = SimpleRouter()
router.register("access-requests", AccessRequestViewSet, basename="access-request")
router.register("access-logs", AccessLogViewSet, basename="access-log")
router.register("client-transfers", ClientTransferViewSet, basename="client-transfer")
