"""API routes of the archive; cross-branch access registers on its own router (clients/access/api)."""

from rest_framework.routers import SimpleRouter

from ..access.api.urls import router as access_router
from ..giveups.api import GiveUpViewSet
from ..imports.api import ImportJobViewSet
from ..projects.api import FeeCollectionViewSet, SiteServiceViewSet
from .views import ClientViewSet, ContactViewSet, NeedViewSet, ProjectViewSet, VisitPlanViewSet, VisitViewSet

router = SimpleRouter()
router.register("clients", ClientViewSet, basename="client")
router.register("contacts", ContactViewSet, basename="contact")
router.register("projects", ProjectViewSet, basename="project")
router.register("needs", NeedViewSet, basename="need")
router.register("visits", VisitViewSet, basename="visit")
router.register("visit-plans", VisitPlanViewSet, basename="visitplan")
router.register("import-jobs", ImportJobViewSet, basename="import-job")
router.register("give-ups", GiveUpViewSet, basename="give-up")
router.register("fee-collections", FeeCollectionViewSet, basename="fee-collection")
router.register("site-services", SiteServiceViewSet, basename="site-service")

urlpatterns = router.urls + access_router.urls
