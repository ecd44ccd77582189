"""API of the surveys (design.md "The API"): viewsets restricted in ``initial()``; workflow
steps are actions answering 400 with a message when refused. The public answer endpoint is
outside the API's authentication (R22) and throttled."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from clients.access.log import AccessLoggedMixin
from crm.access import can
from crm.api.base import NoCollectionPost, RestrictedReadOnlyViewSet, RestrictedViewSet
from crm.api.schema import answers
from crm.models import Branch

from .. import services
from ..models import (
    Answer,
    Campaign,
    CampaignBranchReport,
    FollowUp,
    Question,
    Survey,
    SurveyTemplate,
    Target,
    config_can,
)
from .serializers import (
    AnswerSerializer,
    CampaignOpenSerializer,
    CampaignReportSerializer,
    CampaignSendResultSerializer,
    CampaignSendSerializer,
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
    TargetSerializer,
    TargetSetSerializer,
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
        return self.answer(survey, SurveySerializer)


class AnswerViewSet(RestrictedReadOnlyViewSet):
    """Ratings, readable by those who may see their survey."""

    queryset = Answer.objects.select_related("survey")
    serializer_class = AnswerSerializer
    filterset_fields = ["survey", "dimension", "unsatisfied"]


class FollowUpViewSet(NoCollectionPost, RestrictedReadOnlyViewSet):
    """Follow-ups of unsatisfied items (R21), opened by an answered survey, never by a POST on
    the collection (405); ``close`` records how they were followed up."""

    http_method_names = ["get", "head", "options", "post"]
    queryset = FollowUp.objects.all()
    serializer_class = FollowUpSerializer
    filterset_fields = ["status", "client", "owner", "branch"]
    action_scopes = {"close": "change"}

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
        return self.answer(follow_up, FollowUpSerializer)


MARKETING_ONLY = "Only group marketing (or an administrator) may do this."


class TargetFilter(filters.FilterSet):
    template = filters.NumberFilter(field_name="dimension__template", help_text="a survey template id")

    class Meta:
        model = Target
        fields = ["template", "dimension", "year"]


class TargetViewSet(NoCollectionPost, RestrictedReadOnlyViewSet):
    """Base and target values per dimension and year (R23), as shares 0..1: every role reads
    them; group marketing sets them with ``set``, as on the targets page."""

    permission_classes = CONFIG_PERMISSIONS
    http_method_names = ["get", "head", "options", "post"]
    queryset = Target.objects.select_related("dimension").order_by("-year", "dimension__order", "pk")
    serializer_class = TargetSerializer
    filterset_class = TargetFilter
    ordering_fields = ["year"]
    action_scopes = {"set_values": "change"}

    @extend_schema(
        request=TargetSetSerializer,
        responses=answers(
            TargetSerializer(many=True),
            forbidden=MARKETING_ONLY,
            refused="A value is refused (a target below its base, a dimension twice, an unknown "
            "dimension); nothing is saved: ``targets`` lists the messages item by item.",
        ),
    )
    @action(detail=False, methods=["post"], url_path="set", url_name="set")
    def set_values(self, request):
        """R23: set the base and target values of a year for the dimensions given (each row is
        created or replaced); all are saved or none, as on the page."""
        params = TargetSetSerializer(data=request.data, context=self.get_serializer_context())
        params.is_valid(raise_exception=True)
        year = params.validated_data["year"]
        rows, errors = [], []
        with transaction.atomic():
            for item in params.validated_data["targets"]:
                try:
                    rows.append(
                        services.target_set(
                            dimension=item["dimension"],
                            year=year,
                            base=item["base"],
                            target=item["target"],
                            by=request.user,
                        )
                    )
                    errors.append({})
                except ValidationError as exc:
                    errors.append(
                        exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
                    )
            if any(errors):
                raise DRFValidationError({"targets": errors})  # leaves the block: nothing is saved
        return Response(TargetSerializer(rows, many=True).data)


class CampaignViewSet(RestrictedViewSet):
    """Survey campaigns (R25a); every role reads them, progress is in the surveys' scope.
    Group marketing opens one (POST on the collection) and closes it; a branch's people send
    their branch's surveys of it (``send``), as on the campaign pages."""

    permission_classes = CONFIG_PERMISSIONS
    http_method_names = ["get", "head", "options", "post"]
    queryset = Campaign.objects.all()
    serializer_class = CampaignSerializer
    filterset_fields = ["status", "template"]
    # Sending is the branch's step on the surveys (checked in ``send``), not a change of the
    # campaign, which is group configuration.
    action_scopes = {"send": "view", "close": "change"}

    @extend_schema(
        request=CampaignOpenSerializer,
        responses=answers(
            CampaignSerializer,
            status.HTTP_201_CREATED,
            forbidden=MARKETING_ONLY,
            refused="The input is refused (a deadline before today, grades other than A, B, C, "
            "a template that is not active).",
        ),
    )
    def create(self, request, *args, **kwargs):
        """R25a: open a campaign: a draft survey for every client in scope, for the client's
        branch to send; each branch's managers are notified."""
        params = CampaignOpenSerializer(data=request.data, context=self.get_serializer_context())
        params.is_valid(raise_exception=True)
        try:
            campaign = services.campaign_open(by=request.user, **params.validated_data)
        except ValidationError as exc:
            raise _refused(exc) from None
        return self.answer(campaign, CampaignSerializer, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=CampaignSendSerializer,
        responses=answers(
            CampaignSendResultSerializer,
            forbidden="Only those who may change the branch's surveys (its staff and managers, "
            "group marketing) send them.",
            refused="The campaign is closed.",
            not_found="No such campaign, or the branch is outside the user's scope.",
        ),
    )
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """R25a: the branch sends its draft surveys of the campaign, each with its personal link
        (e-mailed to the client's primary contact where there is an address)."""
        if not can(request.user, "change", Survey):
            raise PermissionDenied
        campaign = self.get_object()
        params = CampaignSendSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        branch = get_object_or_404(
            Branch.objects.restrict(request.user, "change"), pk=params.validated_data["branch"]
        )
        try:
            sent = services.campaign_send_branch(campaign=campaign, branch=branch, by=request.user)
        except ValidationError as exc:
            raise _refused(exc) from None
        return Response({"sent": sent})

    @extend_schema(
        request=None,
        responses=answers(
            CampaignSerializer,
            forbidden=MARKETING_ONLY,
            refused="The campaign is already closed.",
            not_found="No such campaign.",
        ),
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """R25a: close the campaign now: unanswered surveys expire, each branch's satisfaction
        report is summarised and group marketing get the group's summary."""
        campaign = self.get_object()
        if campaign.status == Campaign.Status.CLOSED:
            # The service is idempotent (the job may run twice); a person closing a closed
            # campaign is told so, as the page offers the step only while it is open.
            raise DRFValidationError({"detail": [_("调查活动已截止。")]})
        campaign = services.campaign_close(campaign=campaign)
        return self.answer(campaign, CampaignSerializer)


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
