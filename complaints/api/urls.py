from rest_framework.routers import SimpleRouter

from ..attachments.api import ComplaintAttachmentViewSet
from ..repairs.api import RepairViewSet
from .views import ComplaintViewSet

router = SimpleRouter()
router.register("complaints", ComplaintViewSet, basename="complaint")
router.register("complaint-attachments", ComplaintAttachmentViewSet, basename="complaint-attachment")
router.register("repairs", RepairViewSet, basename="repair")

urlpatterns = router.urls
