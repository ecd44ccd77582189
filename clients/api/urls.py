"""API routes of the archive; cross-branch access registers on its own router (clients/access/api)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from ..access.api.urls import router as access_router
from ..attachments.api import NeedAttachmentViewSet, VisitAttachmentViewSet
from ..cultivation.api import BEvaluationViewSet, CultivationPlanViewSet
from ..giveups.api import GiveUpViewSet
from ..imports.api import ImportJobViewSet
from ..needcare.api import PublicNeedRatingView
from ..projects.api import FeeCollectionViewSet, SiteServiceViewSet
from ..tracking.api import NeedCheckFindingViewSet, NeedCheckViewSet, NeedLedgerViewSet
from .views import (
    ClientViewSet,
    ContactViewSet,
    NeedConflictViewSet,
    NeedViewSet,
    ProjectViewSet,
    VisitPlanViewSet,
    VisitViewSet,
)

router = SimpleRouter()
router.register("clients", ClientViewSet, basename="client")
router.register("contacts", ContactViewSet, basename="contact")
router.register("projects", ProjectViewSet, basename="project")
router.register("needs", NeedViewSet, basename="need")
router.register("need-conflicts", NeedConflictViewSet, basename="need-conflict")
router.register("visits", VisitViewSet, basename="visit")
router.register("visit-plans", VisitPlanViewSet, basename="visitplan")
router.register("import-jobs", ImportJobViewSet, basename="import-job")
router.register("give-ups", GiveUpViewSet, basename="give-up")
router.register("cultivation-plans", CultivationPlanViewSet, basename="cultivation-plan")
router.register("b-evaluations", BEvaluationViewSet, basename="b-evaluation")
router.register("fee-collections", FeeCollectionViewSet, basename="fee-collection")
router.register("site-services", SiteServiceViewSet, basename="site-service")
router.register("need-ledger-entries", NeedLedgerViewSet, basename="need-ledger-entry")
router.register("need-checks", NeedCheckViewSet, basename="need-check")
router.register("need-check-findings", NeedCheckFindingViewSet, basename="need-check-finding")
router.register("need-attachments", NeedAttachmentViewSet, basename="need-attachment")
router.register("visit-attachments", VisitAttachmentViewSet, basename="visit-attachment")

urlpatterns = [
    path("public/need-ratings/<str:token>/", PublicNeedRatingView.as_view(), name="need-public-rating"),
    *router.urls,
    *access_router.urls,
]
