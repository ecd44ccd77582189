"""/api/department-reports/ and /api/department-survey-reports/ (R80-R86): every step the pages
take, through the same services (assessments.deptreports.services).

``POST /api/department-reports/`` ``{"period"}`` opens (or finds) the user's department's part
of a period (the current one if left out; 201 when made, 200 when it was there); the steps are
POST actions: ``submit/`` ``{"remarks"}`` (the department's people), ``return/`` ``{"reason"}``
(the branch manager), and ``POST /api/department-reports/deadline/`` ``{"day"}`` sets the day of
the month the branch's departments are due (the branch manager). A part's detail carries its
figures (live while a draft, frozen once submitted) and its history.
``POST /api/department-survey-reports/`` ``{"campaign"}`` opens the user's department's survey
report of a campaign whose deadline passed; ``PATCH`` saves its texts (If-Match or ``version``:
409 when stale); ``submit/`` submits it. Who may act is decided by the services (403 for a
missing role, 400 with a message for a refused step); nothing is deleted."""

from __future__ import annotations

import django_filters
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.response import Response

from crm import figures as fig
from crm.api.base import RestrictedViewSet
from crm.api.schema import answers
from surveys.models import Campaign

from ..api.common import ScopedField
from . import services
from .models import DepartmentDeadline, DepartmentEvent, DepartmentReport, DepartmentSurveyReport

NOT_FOUND = "No such report in the user's scope."


class DepartmentEventSerializer(serializers.ModelSerializer):
    by_name = serializers.CharField(source="by.display_name", read_only=True, default="")

    class Meta:
        model = DepartmentEvent
        fields = ["id", "action", "by", "by_name", "at", "note", "values"]
        read_only_fields = fields


class DepartmentReportSerializer(serializers.ModelSerializer):
    """A department's part in a list: its figures' values (frozen once submitted; null while a
    draft: read the detail for the live ones)."""

    department_name = serializers.CharField(source="department.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    timeliness = serializers.CharField(read_only=True)

    class Meta:
        model = DepartmentReport
        fields = [
            "id", "branch", "department", "department_name", "period", "status", "status_label",
            "timeliness", "deadline", "remarks", "values", "window_start", "frozen_at", "submitted_at",
            "submitted_by", "on_time", "returned_reason", "version",
        ]  # fmt: skip
        read_only_fields = fields


class DepartmentReportDetailSerializer(DepartmentReportSerializer):
    """A part with its figures (live while a draft, frozen once submitted) and its history."""

    figures = serializers.SerializerMethodField()
    events = DepartmentEventSerializer(many=True, read_only=True)

    class Meta(DepartmentReportSerializer.Meta):
        fields = [*DepartmentReportSerializer.Meta.fields, "figures", "events"]
        read_only_fields = fields

    def get_figures(self, part) -> dict:
        """The figure key -> value (rates as shares, None when nothing was due)."""
        return services.part_values(part, self.context["request"].user)


class DepartmentReportOpenSerializer(serializers.Serializer):
    period = serializers.CharField(
        required=False, max_length=7, help_text="YYYY-MM; the current one if left out"
    )


class DepartmentReportSubmitSerializer(serializers.Serializer):
    remarks = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class DepartmentReportReturnSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class DepartmentDeadlineSerializer(serializers.ModelSerializer):
    day = serializers.IntegerField(min_value=1, max_value=24)

    class Meta:
        model = DepartmentDeadline
        fields = ["branch", "day"]
        read_only_fields = ["branch"]


class DepartmentReportFilter(django_filters.FilterSet):
    period = django_filters.CharFilter(method="filter_period", help_text="YYYY-MM")
    status = django_filters.ChoiceFilter(choices=DepartmentReport.Status.choices)

    class Meta:
        model = DepartmentReport
        fields = ["branch", "department", "period", "status"]

    def filter_period(self, queryset, name, value):
        try:
            return queryset.filter(period=fig.Period.parse(value).label)
        except ValueError as error:
            raise APIValidationError({"period": [str(error)]}) from None


class DepartmentReportViewSet(RestrictedViewSet):
    """The project departments' parts of the branches' monthly reports (R80-R83): a branch's
    people read their branch's, the group roles every branch's. Filters: ``branch``,
    ``department``, ``period``, ``status``."""

    queryset = DepartmentReport.objects.select_related("department", "branch").order_by(
        "-period", "branch__sort_order", "department__name", "pk"
    )
    serializer_class = DepartmentReportSerializer
    filterset_class = DepartmentReportFilter
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {"submit": "change", "return_": "change", "deadline": "view"}

    def get_serializer_class(self):
        return DepartmentReportSerializer if self.action == "list" else DepartmentReportDetailSerializer

    def get_queryset(self):
        qs = super().get_queryset()
        return qs.defer("snapshot") if self.action == "list" else qs.prefetch_related("events__by")

    def _answer(self, part, status_code=status.HTTP_200_OK):
        part = self.get_queryset().get(pk=part.pk)
        return self.answer(part, DepartmentReportDetailSerializer, status_code=status_code)

    @extend_schema(
        request=DepartmentReportOpenSerializer,
        responses={
            **answers(
                DepartmentReportDetailSerializer,
                status=201,
                refused="Not a period (YYYY-MM), or the user's department does not report to a branch.",
                forbidden="Only a project department's people open its part.",
            ),
            200: OpenApiResponse(DepartmentReportDetailSerializer, description="The part was there already."),
        },
    )
    def create(self, request, *args, **kwargs):
        """R80: open (or find) the user's department's part of a period."""
        data = DepartmentReportOpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        raw = data.validated_data.get("period")
        try:
            period = fig.Period.parse(raw) if raw else fig.Period.containing()
        except ValueError as error:
            raise APIValidationError({"period": [str(error)]}) from None
        department = request.user.department
        if department is None or department.branch_id != request.user.branch_id:
            raise PermissionDenied(_("只有项目经理部人员可以上报本部的月度客户信息。"))
        existed = DepartmentReport.objects.filter(department=department, period=period.label).exists()
        part = services.part_open(department=department, period=period)
        if not services.may_submit_part(request.user, part):
            raise PermissionDenied(_("只有项目经理部人员可以上报本部的月度客户信息。"))
        return self._answer(part, status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(
        request=DepartmentReportSubmitSerializer,
        responses=answers(
            DepartmentReportDetailSerializer,
            refused="Already submitted, or the period has not begun.",
            forbidden="Only the department's own people submit its part.",
            not_found=NOT_FOUND,
        ),
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """R80, R81: freeze the department's figures and submit the part to the branch."""
        part = self.get_object()
        data = DepartmentReportSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(
            services.part_submit(part=part, by=request.user, remarks=data.validated_data.get("remarks"))
        )

    @extend_schema(
        request=DepartmentReportReturnSerializer,
        responses=answers(
            DepartmentReportDetailSerializer,
            refused="Not submitted, no reason, or the branch's report has gone to the group.",
            forbidden="Only the branch manager returns a department's part.",
            not_found=NOT_FOUND,
        ),
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        """R83: the branch manager returns a submitted part with a reason."""
        part = self.get_object()
        data = DepartmentReportReturnSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(
            services.part_return(part=part, by=request.user, reason=data.validated_data["reason"])
        )

    @extend_schema(
        request=DepartmentDeadlineSerializer,
        responses=answers(
            DepartmentDeadlineSerializer,
            refused="A day outside 1 to 24.",
            forbidden="Only a branch manager sets the day for the branch's departments.",
        ),
    )
    @action(detail=False, methods=["post"])
    def deadline(self, request):
        """R80: the day of the month the user's branch's departments submit their parts by."""
        data = DepartmentDeadlineSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        branch = request.user.branch
        if branch is None or branch.kind == "hq":
            raise PermissionDenied(_("只有分公司经营部负责人可以设置项目经理部上报截止日。"))
        row = services.deadline_set(branch=branch, by=request.user, day=data.validated_data["day"])
        return Response(DepartmentDeadlineSerializer(row).data)


class DepartmentSurveyReportSerializer(serializers.ModelSerializer):
    department_name = serializers.CharField(source="department.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    timeliness = serializers.CharField(read_only=True)

    class Meta:
        model = DepartmentSurveyReport
        fields = [
            "id", "campaign", "branch", "department", "department_name", "status", "status_label",
            "timeliness", "due_at", "results", "unsatisfied", "follow_ups", "summary", "submitted_at",
            "submitted_by", "on_time", "version",
        ]  # fmt: skip
        read_only_fields = fields


class DepartmentSurveyOpenSerializer(serializers.Serializer):
    campaign = ScopedField(Campaign, help_text="a campaign whose deadline has passed")


class DepartmentSurveyTextsSerializer(serializers.Serializer):
    results = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    unsatisfied = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    follow_ups = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class DepartmentSurveyReportViewSet(RestrictedViewSet):
    """The project departments' satisfaction survey reports (R85, R86). Filters: ``campaign``,
    ``branch``, ``department``."""

    queryset = DepartmentSurveyReport.objects.select_related("department", "branch", "campaign").order_by(
        "-campaign__deadline", "branch__sort_order", "department__name", "pk"
    )
    serializer_class = DepartmentSurveyReportSerializer
    filterset_fields = ["campaign", "branch", "department", "status"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_scopes = {"submit": "change"}

    def _answer(self, report, status_code=status.HTTP_200_OK):
        return self.answer(
            self.get_queryset().get(pk=report.pk), DepartmentSurveyReportSerializer, status_code=status_code
        )

    @extend_schema(
        request=DepartmentSurveyOpenSerializer,
        responses={
            **answers(
                DepartmentSurveyReportSerializer,
                status=201,
                refused="The campaign has not ended, or the user's department does not report to a branch.",
                forbidden="Only a project department's people write its survey report.",
            ),
            200: OpenApiResponse(
                DepartmentSurveyReportSerializer, description="The report was there already."
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        """R85: open (or find) the user's department's survey report of a campaign."""
        data = DepartmentSurveyOpenSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        department = request.user.department
        if department is None or department.branch_id != request.user.branch_id:
            raise PermissionDenied(_("只有项目经理部人员可以编写本部的满意度调查报告。"))
        report, created = services.survey_report_open(
            campaign=data.validated_data["campaign"], department=department
        )
        if not services.may_submit_part(request.user, report):
            raise PermissionDenied(_("只有项目经理部人员可以编写本部的满意度调查报告。"))
        return self._answer(report, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        request=DepartmentSurveyTextsSerializer,
        responses=answers(
            DepartmentSurveyReportSerializer,
            refused="The report is submitted, or a text is too long.",
            forbidden="Only the department's own people write its report.",
            not_found=NOT_FOUND,
        ),
    )
    def partial_update(self, request, *args, **kwargs):
        """R85: save the texts given (If-Match honoured: 409 when someone saved in between)."""
        report = self.get_object()
        data = DepartmentSurveyTextsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.survey_report_save(
            report=report,
            by=request.user,
            texts=data.validated_data,
            expected_version=self.expected_version(),
        )
        return self._answer(report)

    @extend_schema(
        request=DepartmentSurveyTextsSerializer,
        responses=answers(
            DepartmentSurveyReportSerializer,
            refused="Already submitted, or a text is too long.",
            forbidden="Only the department's own people submit its report.",
            not_found=NOT_FOUND,
        ),
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """R85: submit the report to the branch (the drafts fill the texts left empty)."""
        report = self.get_object()
        data = DepartmentSurveyTextsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.survey_report_submit(
            report=report,
            by=request.user,
            texts=data.validated_data,
            expected_version=self.expected_version(),
        )
        return self._answer(report)
