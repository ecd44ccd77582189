from django.urls import path
from rest_framework.routers import SimpleRouter

from ..circulars.api import CircularViewSet, LeaderReportViewSet, ReviewDecisionViewSet, ReviewMeetingViewSet
from ..dashboards.views import DashboardView
from ..deptreports.api import DepartmentReportViewSet, DepartmentSurveyReportViewSet
from ..needreports.api import NeedAnalysisReportViewSet, NeedMeetingDecisionViewSet
from .group import GroupSummaryViewSet, RegradingViewSet
from .review import (
    AnalysisReportViewSet,
    AssessmentViewSet,
    ClientAnalysisViewSet,
    SpotCheckViewSet,
    WorkSummaryViewSet,
)
from .views import MonthlyReportViewSet, RankingViewSet

router = SimpleRouter()
router.register("monthly-reports", MonthlyReportViewSet, basename="monthly-report")
router.register("rankings", RankingViewSet, basename="ranking")
router.register("analysis-reports", AnalysisReportViewSet, basename="analysis-report")
router.register("client-analyses", ClientAnalysisViewSet, basename="client-analysis")
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register("spot-checks", SpotCheckViewSet, basename="spot-check")
router.register("work-summaries", WorkSummaryViewSet, basename="work-summary")
router.register("group-summaries", GroupSummaryViewSet, basename="group-summary")
router.register("regradings", RegradingViewSet, basename="regrading")
router.register("need-analysis-reports", NeedAnalysisReportViewSet, basename="need-analysis-report")
router.register("need-meeting-decisions", NeedMeetingDecisionViewSet, basename="need-meeting-decision")
router.register("department-reports", DepartmentReportViewSet, basename="department-report")
router.register(
    "department-survey-reports", DepartmentSurveyReportViewSet, basename="department-survey-report"
)
router.register("review-meetings", ReviewMeetingViewSet, basename="review-meeting")
router.register("review-decisions", ReviewDecisionViewSet, basename="review-decision")
router.register("circulars", CircularViewSet, basename="circular")
router.register("leader-reports", LeaderReportViewSet, basename="leader-report")

urlpatterns = [path("dashboard/", DashboardView.as_view(), name="api-dashboard"), *router.urls]
