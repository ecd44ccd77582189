"""/api/analysis-reports/, /api/assessments/ and /api/work-summaries/ (R30-R34): reads through
``restrict``; steps as actions answered with the services' refusals (403 role, 400 step, 404
out of scope)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.response import Response

from crm.api.base import RestrictedReadOnlyViewSet
from crm.figures import HalfYear

from ..models import AnalysisReport, Assessment, AssessmentRound, SpotCheck, WorkSummary
from ..review import services


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


class AnalysisReportViewSet(RestrictedReadOnlyViewSet):
    queryset = AnalysisReport.objects.select_related("branch").order_by("-half_year", "branch__sort_order")
    serializer_class = AnalysisReportSerializer
    filterset_fields = ["branch", "half_year", "status"]
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {"submit": "change"}

    @extend_schema(request=AnalysisWriteSerializer, responses=AnalysisReportSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        data = AnalysisWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.analysis_save(
            report=self.get_object(), by=request.user, data=data.validated_data, submit=True
        )
        return Response(AnalysisReportSerializer(report).data)


class SpotCheckSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)

    class Meta:
        model = SpotCheck
        fields = ["id", "client", "client_name", "accurate", "note", "checked_at"]
        read_only_fields = fields


class AssessmentSerializer(serializers.ModelSerializer):
    branch_name = serializers.CharField(source="branch.__str__", read_only=True)
    rating_label = serializers.CharField(source="get_rating_display", read_only=True)
    spot_checks = SpotCheckSerializer(many=True, read_only=True)

    class Meta:
        model = Assessment
        fields = [
            "id", "branch", "branch_name", "half_year", "indicators", "computed_at", "sample_seed",
            "spot_checks", "rating", "rating_label", "reason", "rated_at",
        ]  # fmt: skip
        read_only_fields = fields


class RateSerializer(serializers.Serializer):
    rating = serializers.ChoiceField(choices=Assessment.Rating.choices)
    reason = serializers.CharField(max_length=2000)


class OpenSerializer(serializers.Serializer):
    half_year = serializers.CharField(max_length=6, help_text="YYYYH1 / YYYYH2")

    def validate_half_year(self, value):
        try:
            return HalfYear.parse(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None


class RoundSerializer(serializers.ModelSerializer):
    class Meta:
        model = AssessmentRound
        fields = ["id", "half_year", "state", "total", "done", "opened_at"]
        read_only_fields = fields


class AssessmentViewSet(RestrictedReadOnlyViewSet):
    queryset = (
        Assessment.objects.select_related("branch")
        .prefetch_related("spot_checks__client")
        .order_by("-half_year", "branch__sort_order")
    )
    serializer_class = AssessmentSerializer
    filterset_fields = ["branch", "half_year", "rating"]
    http_method_names = ["get", "post", "head", "options"]
    # Auditors hold read rights only; the service checks their role (403 for anyone else).
    action_scopes = {"rate": "view", "open": "view"}

    @extend_schema(request=RateSerializer, responses=AssessmentSerializer)
    @action(detail=True, methods=["post"])
    def rate(self, request, pk=None):
        assessment = self.get_object()
        if not services.is_auditor(request.user):
            raise PermissionDenied(_("只有考核人员可以抽查和评定。"))
        data = RateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assessment = services.assessment_rate(assessment=assessment, by=request.user, **data.validated_data)
        return Response(AssessmentSerializer(assessment).data)

    @extend_schema(request=OpenSerializer, responses={202: RoundSerializer})
    @action(detail=False, methods=["post"])
    def open(self, request):
        """R34 by hand: open the assessment of an ended half year (idempotent); answers at once."""
        from ..review.views import may_open
        from ..tasks import dispatch_assessment

        if not may_open(request.user):
            raise PermissionDenied(_("只有系统管理员和集团市场营销部可以开始考核。"))
        data = OpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rnd = dispatch_assessment(data.validated_data["half_year"], by=request.user)
        rnd.refresh_from_db()
        return Response(RoundSerializer(rnd).data, status=status.HTTP_202_ACCEPTED)


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
    reporting = serializers.CharField(max_length=5000)
    complaints = serializers.CharField(max_length=5000)
    satisfaction = serializers.CharField(max_length=5000)
    analysis = serializers.CharField(max_length=5000)
    accuracy = serializers.CharField(max_length=5000)


class WorkSummaryViewSet(RestrictedReadOnlyViewSet):
    queryset = WorkSummary.objects.select_related("assessment").order_by("-due_at")
    serializer_class = WorkSummarySerializer
    filterset_fields = ["branch"]
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {"submit": "change"}

    @extend_schema(request=SummaryWriteSerializer, responses=WorkSummarySerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        summary = self.get_object()
        data = SummaryWriteSerializer(data=request.data)
        if not data.is_valid():
            raise APIValidationError(data.errors)
        summary = services.work_summary_submit(summary=summary, by=request.user, parts=data.validated_data)
        return Response(WorkSummarySerializer(summary).data)
