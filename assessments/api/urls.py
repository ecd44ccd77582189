from rest_framework.routers import SimpleRouter

from .review import AnalysisReportViewSet, AssessmentViewSet, WorkSummaryViewSet
from .views import MonthlyReportViewSet, RankingViewSet

router = SimpleRouter()
router.register("monthly-reports", MonthlyReportViewSet, basename="monthly-report")
router.register("rankings", RankingViewSet, basename="ranking")
router.register("analysis-reports", AnalysisReportViewSet, basename="analysis-report")
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register("work-summaries", WorkSummaryViewSet, basename="work-summary")

urlpatterns = router.urls
