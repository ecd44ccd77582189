from django.urls import path
from rest_framework.routers import SimpleRouter

from ..improvements.api import ImprovementPlanViewSet
from . import views

router = SimpleRouter()
router.register("survey-templates", views.SurveyTemplateViewSet, basename="survey-template")
router.register("surveys", views.SurveyViewSet, basename="survey")
router.register("survey-answers", views.AnswerViewSet, basename="survey-answer")
router.register("survey-follow-ups", views.FollowUpViewSet, basename="survey-follow-up")
router.register("survey-targets", views.TargetViewSet, basename="survey-target")
router.register("survey-campaigns", views.CampaignViewSet, basename="survey-campaign")
router.register("survey-reports", views.CampaignReportViewSet, basename="survey-report")
router.register("improvement-plans", ImprovementPlanViewSet, basename="improvement-plan")

urlpatterns = [
    path("public/surveys/<str:token>/", views.PublicAnswerView.as_view(), name="survey-public-answer"),
    *router.urls,
]
