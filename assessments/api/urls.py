from rest_framework.routers import SimpleRouter

from .views import MonthlyReportViewSet, RankingViewSet

router = SimpleRouter()
router.register("monthly-reports", MonthlyReportViewSet, basename="monthly-report")
router.register("rankings", RankingViewSet, basename="ranking")

urlpatterns = router.urls
