"""API of the surveys (design.md "The API"): viewsets restricted in ``initial()``; workflow
steps are actions answering 400 with a message when refused. The public answer endpoint is
outside the API's authentication (R22) and throttled."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from clients.access.log import AccessLoggedMixin
from crm.api.base import RestrictedReadOnlyViewSet, RestrictedViewSet

from .. import services
from ..models import (
    Answer,
    Campaign,
    CampaignBranchReport,
    FollowUp,
    Question,
    Survey,
    SurveyTemplate,
    config_can,
)
from .serializers import (
    AnswerSerializer,
    CampaignReportSerializer,
    CampaignSerializer,
    CloseSerializer,
    FollowUpSerializer,
    PaperSerializer,
    PublicSurveySerializer,
    ScoresSerializer,
    SendResultSerializer,
    SendSerializer,
    SurveySerializer,
    SurveyTemplateSerializer,
)


class ConfigRoleRequired(permissions.BasePermission):
    """Group configuration: every role reads, the model-level permission writes (R3)."""

    def has_permission(self, request, view):
        return config_can(request.user, view.get_restrict_action(), view.queryset.model)


CONFIG_PERMISSIONS = [permissions.IsAuthenticated, ConfigRoleRequired]


def _refused(exc: ValidationError):
    return DRFValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages})


class SurveyTemplateViewSet(RestrictedViewSet):
    """Questionnaires with their dimensions (importance weights) and questions (R20, R21)."""

    permission_classes = CONFIG_PERMISSIONS
    queryset = SurveyTemplate.objects.prefetch_related("dimensions__questions")
    serializer_class = SurveyTemplateSerializer
    filterset_fields = ["is_active", "is_default"]
    ordering_fields = ["name"]


class SurveyViewSet(AccessLoggedMixin, RestrictedViewSet):
    """Surveys of clients (R20); ``send`` issues the personal link (R22), ``paper`` enters a
    paper survey."""

    queryset = Survey.objects.select_related("client", "template").prefetch_related("answers")
    serializer_class = SurveySerializer
    filterset_fields = ["client", "template", "project", "campaign", "branch", "status"]
    ordering_fields = ["created_at", "answered_at", "unsatisfied_count"]
    # A draft survey is the branch's paper: those who may change it may withdraw it.
    action_scopes = {"send": "change", "paper": "change", "destroy": "change"}

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            serializer.instance = services.survey_create(
                by=self.request.user,
                client=data["client"],
                template=data["template"],
                project=data.get("project"),
                recipient_name=data.get("recipient_name", ""),
                recipient_email=data.get("recipient_email", ""),
            )
        except ValidationError as exc:
            raise _refused(exc) from None

    def perform_destroy(self, instance):
        if instance.status == Survey.Status.ANSWERED:
            raise DRFValidationError({"detail": [_("已回收的问卷不能删除。")]})
        instance.delete()

    @extend_schema(request=SendSerializer, responses={200: SendResultSerializer})
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        survey = self.get_object()
        params = SendSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            survey, url = services.survey_send(
                survey=survey,
                by=request.user,
                email=params.validated_data.get("email", ""),
                days=params.validated_data["days"],
            )
        except ValidationError as exc:
            raise _refused(exc) from None
        return Response({"answer_url": url, "expires_at": survey.expires_at, "status": survey.status})

    @extend_schema(request=PaperSerializer, responses={200: SurveySerializer})
    @action(detail=True, methods=["post"])
    def paper(self, request, pk=None):
        survey = self.get_object()
        params = PaperSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        try:
            survey = services.survey_enter_paper(
                survey=survey,
                by=request.user,
                scores=data["scores"],
                respondent=data["respondent"],
                comment=data.get("comment", ""),
                answered_on=data.get("answered_on"),
            )
        except ValidationError as exc:
            raise _refused(exc) from None
        return Response(SurveySerializer(survey, context=self.get_serializer_context()).data)


class AnswerViewSet(RestrictedReadOnlyViewSet):
    """Ratings, readable by those who may see their survey."""

    queryset = Answer.objects.select_related("survey")
    serializer_class = AnswerSerializer
    filterset_fields = ["survey", "dimension", "unsatisfied"]


class FollowUpViewSet(RestrictedReadOnlyViewSet):
    """Follow-ups of unsatisfied items (R21); ``close`` records how they were followed up."""

    http_method_names = ["get", "head", "options", "post"]
    queryset = FollowUp.objects.all()
    serializer_class = FollowUpSerializer
    filterset_fields = ["status", "client", "owner", "branch"]
    action_scopes = {"close": "change"}

    def create(self, request, *args, **kwargs):
        return Response(status=status.HTTP_405_METHOD_NOT_ALLOWED)

    @extend_schema(request=CloseSerializer, responses={200: FollowUpSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        follow_up = self.get_object()
        params = CloseSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            follow_up = services.followup_close(
                follow_up=follow_up, by=request.user, note=params.validated_data["note"]
            )
        except ValidationError as exc:
            raise _refused(exc) from None
        return Response(FollowUpSerializer(follow_up).data)


class CampaignViewSet(RestrictedReadOnlyViewSet):
    """Survey campaigns (R25a); every role reads them, progress is in the surveys' scope."""

    permission_classes = CONFIG_PERMISSIONS
    queryset = Campaign.objects.all()
    serializer_class = CampaignSerializer
    filterset_fields = ["status", "template"]


class CampaignReportViewSet(RestrictedReadOnlyViewSet):
    """Branch satisfaction reports of campaigns (R25a)."""

    queryset = CampaignBranchReport.objects.all()
    serializer_class = CampaignReportSerializer
    filterset_fields = ["campaign", "branch"]


class PublicAnswerView(APIView):
    """The personal link as an endpoint (R22): GET the questions, POST ``{"scores": {question
    id: score}, "respondent", "comment"}``. No authentication; throttled; answers once. A used,
    expired or tampered token answers 410/404 and records nothing."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "public_answer"

    def _survey(self, token):
        try:
            return services.survey_for_token(token)
        except services.LinkError as exc:
            raise _gone(exc.reason) from None

    @extend_schema(responses={200: PublicSurveySerializer})
    def get(self, request, token):
        survey = self._survey(token)
        questions = Question.objects.filter(dimension__template=survey.template).select_related("dimension")
        return Response(
            {
                "group": settings.CRM_GROUP_NAME,
                "title": survey.template.name,
                "title_en": survey.template.name_en,
                "expires_at": survey.expires_at,
                "questions": [
                    {
                        "id": q.pk,
                        "dimension": q.dimension.name,
                        "text": q.text,
                        "text_en": q.text_en,
                        "scale": q.scale,
                        "min": q.min_score,
                        "max": q.max_score,
                    }
                    for q in questions
                ],
            }
        )

    @extend_schema(request=ScoresSerializer, responses={201: None})
    def post(self, request, token):
        params = ScoresSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        try:
            services.survey_answer_public(
                token=token,
                scores=data["scores"],
                respondent=data.get("respondent", ""),
                comment=data.get("comment", ""),
            )
        except services.LinkError as exc:
            raise _gone(exc.reason) from None
        except ValidationError as exc:
            raise _refused(exc) from None
        return Response({"detail": _("感谢您的宝贵意见!")}, status=status.HTTP_201_CREATED)


class Gone(NotFound):
    status_code = status.HTTP_410_GONE


def _gone(reason: str):
    messages = {"used": _("本问卷已提交,每份问卷只能提交一次。"), "expired": _("本问卷链接已过期。")}
    if reason in messages:
        return Gone(messages[reason], code=reason)
    return NotFound(_("链接无效。"), code="invalid")
