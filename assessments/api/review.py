"""/api/analysis-reports/, /api/client-analyses/, /api/assessments/, /api/spot-checks/ and
/api/work-summaries/ (R30-R34): every step the review pages take, through the same services
(assessments.review.services). Reads go through ``restrict``; a step answers 404 out of scope,
403 for a missing role (the service's or the role check's message) and 400 with the service's
message when it refuses the step."""

from __future__ import annotations

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.response import Response

from clients.models import Client
from crm.api.base import NoCollectionPost, RestrictedReadOnlyViewSet
from crm.api.fields import BlankChoices
from crm.api.schema import answers, refusals
from crm.figures import HalfYear
from crm.models import Branch, StaleVersion
from crm.validators import validate_finite

from ..models import AnalysisReport, Assessment, AssessmentRound, ClientAnalysis, SpotCheck, WorkSummary
from ..review import services
from .common import FailedPartSerializer, ScopedField, retry_round


class AnalysisReportSerializer(serializers.ModelSerializer):
    branch_name = serializers.CharField(source="branch.__str__", read_only=True)

    class Meta:
        model = AnalysisReport
        fields = [
            "id", "branch", "branch_name", "half_year", "status", "loyalty", "profit", "future",
            "capability", "product", "common_traits", "figures", "submitted_at", "on_time",
            "meets_requirements",
        ]  # fmt: skip
        read_only_fields = fields


class AnalysisWriteSerializer(serializers.Serializer):
    loyalty = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    profit = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    future = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    capability = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    product = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    common_traits = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class HalfYearField(serializers.CharField):
    """A half year as ``YYYYH1`` / ``YYYYH2``, read as a ``crm.figures.HalfYear``."""

    def __init__(self, **kwargs):
        super().__init__(max_length=6, help_text="YYYYH1 / YYYYH2", **kwargs)

    def run_validation(self, data=serializers.empty):
        value = super().run_validation(data)  # the text, its length checked
        try:
            return HalfYear.parse(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None


class CurrentAnalysisSerializer(serializers.Serializer):
    half_year = HalfYearField(required=False)


class JudgeSerializer(serializers.Serializer):
    meets_requirements = serializers.BooleanField(help_text="true: the report meets the requirements")


class ClientAnalysisSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)

    class Meta:
        model = ClientAnalysis
        fields = ["id", "report", "client", "client_name", "department", "text", "written_by", "updated_at"]
        read_only_fields = fields


class ClientAnalysisWriteSerializer(serializers.Serializer):
    client = ScopedField(Client, help_text="a client of the report's branch")
    text = serializers.CharField(allow_blank=True, max_length=5000)


class AnalysisReportViewSet(NoCollectionPost, RestrictedReadOnlyViewSet):
    """The branches' half-year client analysis reports (R30, R31), as the analysis pages show
    them: the branch manager saves the texts (PATCH) and submits; a project department adds
    single-client analyses while the report is a draft; an auditor judges a submitted one."""

    queryset = AnalysisReport.objects.select_related("branch").order_by("-half_year", "branch__sort_order")
    serializer_class = AnalysisReportSerializer
    filterset_fields = ["branch", "half_year", "status"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    # Auditors and project departments hold no change right on the report: the services decide.
    action_scopes = {"submit": "change", "judge": "view", "client_analyses": "view", "current": "view"}

    def _answer(self, report):
        return Response(self.get_serializer(report).data)

    @extend_schema(
        request=AnalysisWriteSerializer,
        responses=answers(
            AnalysisReportSerializer,
            refused="The report is already submitted, or a text is too long.",
            forbidden="Only the branch manager (or an administrator) writes the report.",
            not_found="No such report in the user's scope.",
        ),
    )
    def partial_update(self, request, *args, **kwargs):
        """Save the texts of a draft without submitting it (the page's 保存). Honours If-Match
        like every PATCH (409 when someone saved in between)."""
        report = self.get_object()
        expected = self.expected_version()
        if expected is not None and expected != report.version:
            return self.conflict_response(report.pk)
        data = AnalysisWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                self._check_version(report)
                report = services.analysis_save(report=report, by=request.user, data=data.validated_data)
        except StaleVersion:
            return self.conflict_response(report.pk)
        return self._answer(report)

    @extend_schema(
        request=AnalysisWriteSerializer,
        responses=answers(
            AnalysisReportSerializer,
            refused="Already submitted, an aspect left empty, or the branch is held for what it owes past its due date.",
            forbidden="Only the branch manager (or an administrator) submits the report.",
            not_found="No such report in the user's scope.",
        ),
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Save the texts given, freeze the figures and hand the report in (R31)."""
        data = AnalysisWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.analysis_save(
            report=self.get_object(), by=request.user, data=data.validated_data, submit=True
        )
        return self._answer(report)

    @extend_schema(
        request=JudgeSerializer,
        responses=answers(
            AnalysisReportSerializer,
            refused="The report is not submitted yet.",
            forbidden="Only auditors judge analysis reports.",
            not_found="No such report in the user's scope.",
        ),
    )
    @action(detail=True, methods=["post"])
    def judge(self, request, pk=None):
        """R32.4: the auditor's judgement whether the submitted report meets the requirements."""
        report = self.get_object()
        if not services.is_auditor(request.user):
            raise PermissionDenied(_("只有考核人员可以抽查和评定。"))
        data = JudgeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.analysis_judge(
            report=report, by=request.user, meets=data.validated_data["meets_requirements"]
        )
        return self._answer(report)

    @extend_schema(
        request=ClientAnalysisWriteSerializer,
        responses=answers(
            ClientAnalysisSerializer,
            refused="The report is submitted, the client is not one of the branch's, or the text is empty.",
            forbidden="Only the report's own branch writes single-client analyses.",
            not_found="No such report in the user's scope.",
        ),
    )
    @action(detail=True, methods=["post"], url_path="client-analyses", url_name="client-analyses")
    def client_analyses(self, request, pk=None):
        """R30: a project department's analysis of one client of the branch, listed in the
        report (one per client: posting again replaces the text)."""
        report = self.get_object()
        data = ClientAnalysisWriteSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        analysis = services.client_analysis_save(
            report=report,
            by=request.user,
            client=data.validated_data["client"],
            text=data.validated_data["text"],
        )
        return Response(ClientAnalysisSerializer(analysis).data)

    @extend_schema(
        request=CurrentAnalysisSerializer,
        responses=answers(
            AnalysisReportSerializer,
            refused="The user belongs to no branch that writes a report, or a bad half year.",
            forbidden="The user's role reads no analysis reports.",
        ),
    )
    @action(detail=False, methods=["post"])
    def current(self, request):
        """The user's branch's report of a half year (the current one unless ``half_year`` is
        given), assembled on first opening as the page does; idempotent."""
        data = CurrentAnalysisSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        branch = request.user.branch
        if branch is None or branch.kind == Branch.Kind.HQ:
            raise APIValidationError({"detail": [_("只有分子公司编写客户分析报告。")]})
        half = data.validated_data.get("half_year") or HalfYear.containing()
        report = services.analysis_open(branch=branch, half=half)
        return self._answer(get_object_or_404(self.get_queryset(), pk=report.pk))


class ClientAnalysisViewSet(RestrictedReadOnlyViewSet):
    """Single-client analyses (R30), filtered by ``report`` or ``client``; written through
    ``POST /api/analysis-reports/{id}/client-analyses/``."""

    queryset = ClientAnalysis.objects.select_related("client").order_by("report", "pk")
    serializer_class = ClientAnalysisSerializer
    filterset_fields = ["report", "client"]


class SpotCheckSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)

    class Meta:
        model = SpotCheck
        fields = ["id", "assessment", "client", "client_name", "accurate", "note", "checked_at", "checked_by"]
        read_only_fields = fields


class SpotCheckWriteSerializer(serializers.Serializer):
    accurate = serializers.BooleanField(help_text="true: the archive record matches reality")
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class AssessmentSerializer(BlankChoices, serializers.ModelSerializer):
    branch_name = serializers.CharField(source="branch.__str__", read_only=True)
    rating_label = serializers.CharField(source="get_rating_display", read_only=True)
    spot_checks = SpotCheckSerializer(many=True, read_only=True)

    class Meta:
        model = Assessment
        fields = [
            "id", "branch", "branch_name", "half_year", "indicators", "computed_at", "sample_seed",
            "spot_checks", "rating", "rating_label", "reason", "rated_at", "compute_error",
            "compute_failed_at",
        ]  # fmt: skip
        read_only_fields = fields


class RateSerializer(serializers.Serializer):
    rating = serializers.ChoiceField(choices=Assessment.Rating.choices)
    reason = serializers.CharField(max_length=2000)


class OpenSerializer(serializers.Serializer):
    half_year = HalfYearField()
    growth_standard = serializers.FloatField(
        required=False,
        allow_null=True,
        validators=[validate_finite],
        help_text="The standard of client-count growth as a share (0.03 for 3%); on a round "
        "already open it replaces the standard of the assessments not yet rated",
    )


class RoundSerializer(serializers.ModelSerializer):
    failed_parts = FailedPartSerializer(many=True, read_only=True)

    class Meta:
        model = AssessmentRound
        fields = [
            "id", "half_year", "state", "total", "done", "growth_standard", "opened_at", "failed_at",
            "retries", "failed_parts",
        ]  # fmt: skip
        read_only_fields = fields


class RetrySerializer(serializers.Serializer):
    half_year = HalfYearField()


class AssessmentViewSet(NoCollectionPost, RestrictedReadOnlyViewSet):
    queryset = (
        Assessment.objects.select_related("branch")
        .prefetch_related("spot_checks__client")
        .order_by("-half_year", "branch__sort_order")
    )
    serializer_class = AssessmentSerializer
    filterset_fields = ["branch", "half_year", "rating"]
    http_method_names = ["get", "post", "head", "options"]
    # Auditors hold read rights only; the service checks their role (403 for anyone else).
    action_scopes = {"rate": "view", "open": "view", "retry": "view"}

    @extend_schema(
        request=RateSerializer,
        responses=answers(
            AssessmentSerializer,
            refused="Already rated, indicators still computing, spot checks unfinished, or no reason.",
            forbidden="Only auditors rate.",
            not_found="No such assessment in the user's scope.",
        ),
    )
    @action(detail=True, methods=["post"])
    def rate(self, request, pk=None):
        """R32, R33: the rating and its reason; the consequences follow (commendation, work
        summary owed, archive suspension)."""
        assessment = self.get_object()
        if not services.is_auditor(request.user):
            raise PermissionDenied(_("只有考核人员可以抽查和评定。"))
        data = RateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assessment = services.assessment_rate(assessment=assessment, by=request.user, **data.validated_data)
        return Response(AssessmentSerializer(assessment).data)

    @extend_schema(
        request=OpenSerializer,
        responses={
            202: RoundSerializer,
            200: OpenApiResponse(
                RoundSerializer, description="The growth standard of an open round was set."
            ),
            **refusals(
                refused="A bad or unfinished half year, or a growth standard out of range.",
                forbidden="Only administrators and group marketing open an assessment.",
            ),
        },
    )
    @action(detail=False, methods=["post"])
    def open(self, request):
        """R34 by hand: open the assessment of an ended half year (idempotent); answers at once
        (202). With ``growth_standard`` on a round already opened, sets its standard instead
        (200), as the page does."""
        from ..review.views import may_open
        from ..tasks import dispatch_assessment

        if not may_open(request.user):
            raise PermissionDenied(_("只有系统管理员和集团市场营销部可以开始考核。"))
        data = OpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        half, standard = data.validated_data["half_year"], data.validated_data.get("growth_standard")
        existing = AssessmentRound.objects.restrict(request.user, "view").filter(half_year=half.label).first()
        if existing is not None and standard is not None:
            rnd = services.round_set_standard(rnd=existing, by=request.user, standard=standard)
            return Response(RoundSerializer(rnd).data)
        rnd = dispatch_assessment(half, by=request.user, standard=standard)
        rnd.refresh_from_db()
        return Response(RoundSerializer(rnd).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=RetrySerializer,
        responses={
            202: RoundSerializer,
            409: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="The round has not failed (running or open): nothing to retry; "
                "``current`` is the round as it is.",
            ),
            **refusals(
                refused="Not a half year (YYYYH1 / YYYYH2).",
                forbidden="Only administrators and group marketing retry a round.",
                not_found="No round of that half year.",
            ),
        },
    )
    @action(detail=False, methods=["post"])
    def retry(self, request):
        """R55, the page's 重新计算: queue again the branches whose indicators failed for good
        (their reasons are in ``failed_parts``); the round is running again (202)."""
        from ..review.views import may_open
        from ..rounds.services import ASSESSMENT

        if not may_open(request.user):
            raise PermissionDenied(str(ASSESSMENT.retry_denied))
        data = RetrySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return retry_round(request, ASSESSMENT, data.validated_data["half_year"].label, RoundSerializer)


class SpotCheckViewSet(NoCollectionPost, RestrictedReadOnlyViewSet):
    """The accuracy sample of each assessment (R32.5), filtered by ``assessment``; an auditor
    records each finding with ``record``."""

    queryset = SpotCheck.objects.select_related("client").order_by("assessment", "pk")
    serializer_class = SpotCheckSerializer
    filterset_fields = ["assessment", "accurate"]
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {"record": "view"}

    @extend_schema(
        request=SpotCheckWriteSerializer,
        responses=answers(
            SpotCheckSerializer,
            refused="The assessment is already rated: its spot checks are final.",
            forbidden="Only auditors record spot checks.",
            not_found="No such spot check in the user's scope.",
        ),
    )
    @action(detail=True, methods=["post"])
    def record(self, request, pk=None):
        """R32.5: whether the sampled archive record matches reality, with a note; may be
        recorded again until the assessment is rated."""
        check = self.get_object()
        if not services.is_auditor(request.user):
            raise PermissionDenied(_("只有考核人员可以抽查和评定。"))
        data = SpotCheckWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        check = services.spot_check_record(check=check, by=request.user, **data.validated_data)
        return Response(SpotCheckSerializer(check).data)


class WorkSummarySerializer(serializers.ModelSerializer):
    half_year = serializers.CharField(source="assessment.half_year", read_only=True)

    class Meta:
        model = WorkSummary
        fields = [
            "id", "branch", "half_year", "due_at", "reporting", "complaints", "satisfaction",
            "analysis", "accuracy", "submitted_at",
        ]  # fmt: skip
        read_only_fields = fields


class SummaryWriteSerializer(serializers.Serializer):
    """A part per indicator (R33); the service refuses an empty one, with a message per part."""

    reporting = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    complaints = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    satisfaction = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    analysis = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    accuracy = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class WorkSummaryViewSet(NoCollectionPost, RestrictedReadOnlyViewSet):
    """The work summaries a qualified or poor branch owes (R33). The page has no draft: the
    summary is written and submitted at once, here as there."""

    queryset = WorkSummary.objects.select_related("assessment").order_by("-due_at")
    serializer_class = WorkSummarySerializer
    filterset_fields = ["branch"]
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {"submit": "change"}

    @extend_schema(
        request=SummaryWriteSerializer,
        responses=answers(
            WorkSummarySerializer,
            refused="Already submitted, or a part left empty (field -> message).",
            forbidden="Only the branch manager (or an administrator) submits the summary.",
            not_found="No such work summary in the user's scope.",
        ),
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Submit the summary with its five parts; lifts the hold it caused (R33)."""
        summary = self.get_object()
        data = SummaryWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        summary = services.work_summary_submit(summary=summary, by=request.user, parts=data.validated_data)
        return Response(self.get_serializer(summary).data)
