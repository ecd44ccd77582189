from rest_framework.routers import SimpleRouter

from ..repairs.api import RepairViewSet
from .views import ComplaintViewSet

router = SimpleRouter()
router.register("complaints", ComplaintViewSet, basename="complaint")
router.register("repairs", RepairViewSet, basename="repair")

urlpatterns = router.urls
