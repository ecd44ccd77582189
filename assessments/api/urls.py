from rest_framework.routers import SimpleRouter

from .review import AnalysisReportViewSet, AssessmentViewSet, WorkSummaryViewSet
from .views import MonthlyReportViewSet, RankingViewSet

router = SimpleRouter()
router.register("monthly-reports", MonthlyReportViewSet, basename="monthly-report")
router.register("rankings", RankingViewSet, basename="ranking")
router.register("analysis-reports", AnalysisReportViewSet, basename="analysis-report")
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register("work-summaries", WorkSummaryViewSet, basename="work-summary")

from django.urls import path  # noqa: E402

from ..dashboards.views import DashboardView  # noqa: E402

urlpatterns = [path("dashboard/", DashboardView.as_view(), name="api-dashboard"), *router.urls]
