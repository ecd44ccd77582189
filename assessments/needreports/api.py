"""/api/need-analysis-reports/ and /api/need-meeting-decisions/ (R65-R69): every step the pages
take, through the same services (assessments.needreports.services).

``POST /api/need-analysis-reports/`` ``{"quarter": "2026Q3"}`` opens (or finds) the user's
branch's report of a quarter (201 when made, 200 when it was there); ``PATCH`` saves its parts
(``overview``, ``analysis``, ``value``, ``feasibility``, ``integration``; If-Match or ``version``:
409 when stale); the steps are POST actions: ``submit/`` (the parts, optionally), ``review/``
``{"meeting", "outcome": "accept"|"return", "reason"}``, ``meetings/`` ``{"held_on", "place",
"attendees": [user ids], "minutes", "decisions": [{"text", "owner", "due_on"}]}`` and
``decisions/`` ``{"meeting", "text", "owner", "due_on"}``. A report's detail carries its figures
(live while it is written, frozen once submitted), the drafts of its parts while it is written,
its meetings and their decisions. ``POST /api/need-meeting-decisions/{id}/done/`` ``{"note"}``
marks a decision done. Who may act is decided by the services (403 for a missing role, 400 with
a message for a refused step); nothing is deleted."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action

from crm.api.base import NoCollectionPost, RestrictedViewSet
from crm.api.schema import answers

from ..api.common import ScopedField
from . import services
from .forms import ReportFilter
from .models import PARTS, NeedAnalysisMeeting, NeedAnalysisReport, NeedMeetingDecision

ID = {"min_value": 1, "max_value": 2**31 - 1}
NOT_FOUND = "No such report in the user's scope."


class DecisionSerializer(serializers.ModelSerializer):
    report = serializers.IntegerField(source="meeting.report_id", read_only=True)
    branch = serializers.IntegerField(source="meeting.report.branch_id", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    done_by_name = serializers.CharField(source="done_by.display_name", read_only=True, default="")
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = NeedMeetingDecision
        fields = [
            "id", "meeting", "report", "branch", "text", "owner", "owner_name", "due_on", "is_overdue",
            "done_at", "done_by", "done_by_name", "done_note", "version",
        ]  # fmt: skip
        read_only_fields = fields


class MeetingSerializer(serializers.ModelSerializer):
    attendee_names = serializers.SerializerMethodField()
    decisions = DecisionSerializer(many=True, read_only=True)

    class Meta:
        model = NeedAnalysisMeeting
        fields = [
            "id", "held_on", "place", "attendees", "attendee_names", "minutes", "recorded_by",
            "recorded_at", "decisions",
        ]  # fmt: skip
        read_only_fields = fields

    def get_attendee_names(self, meeting) -> list[str]:
        return [u.display_name for u in meeting.attendees.all()]


class ReportSerializer(serializers.ModelSerializer):
    """A report in a list: without its figures."""

    branch_name = serializers.CharField(source="branch.__str__", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = NeedAnalysisReport
        fields = [
            "id", "branch", "branch_name", "quarter", "status", "status_label", "overview", "analysis",
            "value", "feasibility", "integration", "submitted_at", "submitted_by", "frozen_at",
            "reviewed_at", "reviewed_by", "review_meeting", "returned_reason", "version",
        ]  # fmt: skip
        read_only_fields = fields


class ReportDetailSerializer(ReportSerializer):
    """A report with its figures (live while written, frozen once submitted), the drafts of its
    parts while it is written (R65), its meetings and decisions."""

    figures = serializers.SerializerMethodField()
    drafts = serializers.SerializerMethodField()
    meetings = MeetingSerializer(many=True, read_only=True)

    class Meta(ReportSerializer.Meta):
        fields = [*ReportSerializer.Meta.fields, "figures", "drafts", "meetings"]
        read_only_fields = fields

    def _result(self, report):
        cache = self.context.setdefault("_results", {})
        if report.pk not in cache:
            cache[report.pk] = services.report_figures(report, self.context["request"].user)
        return cache[report.pk]

    def get_figures(self, report) -> dict:
        """The figures' values (rates as shares, None when nothing was due) and the counts of the
        needs received by urgency, category, nature, origin, value and feasibility."""
        result = self._result(report)
        out = {"values": {key: result.values.get(key) for key in services.FIGURES}, "counts": {}}
        for section in services.sections(report, result):
            for breakdown in section["breakdowns"]:
                out["counts"][breakdown["key"]] = {
                    i["code"] or "none": i["count"] for i in breakdown["items"]
                }
        return out

    def get_drafts(self, report) -> dict:
        """The drafts offered for the parts while the report is written (empty otherwise)."""
        if not report.is_editable:
            return {}
        return services.drafts(report, self._result(report))


def _part_fields():
    return {
        name: serializers.CharField(required=False, allow_blank=True, max_length=5000) for name, _l in PARTS
    }


PartsSerializer = type("NeedReportPartsSerializer", (serializers.Serializer,), _part_fields())


class NeedReportOpenSerializer(serializers.Serializer):
    quarter = serializers.CharField(
        required=False, max_length=6, help_text="YYYYQ1-Q4; the current one if left out"
    )


class ReviewSerializer(serializers.Serializer):
    meeting = ScopedField(NeedAnalysisMeeting, help_text="a meeting of this report")
    outcome = serializers.ChoiceField(choices=(("accept", "accept"), ("return", "return")))
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class DecisionInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)
    owner = serializers.IntegerField(**ID)
    due_on = serializers.DateField()


class MeetingInputSerializer(serializers.Serializer):
    held_on = serializers.DateField()
    place = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    attendees = serializers.ListField(child=serializers.IntegerField(**ID), max_length=200)
    minutes = serializers.CharField(max_length=5000)
    decisions = DecisionInputSerializer(many=True, required=False, max_length=services.MAX_DECISIONS)


class AddDecisionSerializer(DecisionInputSerializer):
    meeting = ScopedField(NeedAnalysisMeeting, help_text="a meeting of this report")


class DoneSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000)


class NeedAnalysisReportViewSet(RestrictedViewSet):
    """The branches' quarterly client need analysis reports (R65-R69): a branch's people read
    their own, group marketing, leaders and auditors every branch's. Filters: ``quarter``,
    ``branch``, ``status``, ``q``."""

    queryset = (
        NeedAnalysisReport.objects.select_related("branch")
        .prefetch_related("meetings__attendees", "meetings__decisions__owner", "meetings__decisions__done_by")
        .order_by("-quarter", "branch__sort_order", "pk")
    )
    serializer_class = ReportSerializer
    filterset_class = ReportFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_class(self):
        return ReportSerializer if self.action == "list" else ReportDetailSerializer

    def get_queryset(self):
        qs = super().get_queryset()
        return qs.prefetch_related(None).defer("snapshot") if self.action == "list" else qs

    def _answer(self, report, status_code=status.HTTP_200_OK):
        report = self.get_queryset().get(pk=report.pk)
        return self.answer(report, ReportDetailSerializer, status_code=status_code)

    @extend_schema(
        request=NeedReportOpenSerializer,
        responses={
            **answers(
                ReportDetailSerializer,
                status=201,
                refused="A quarter other than the current one or one of the four before it.",
                forbidden="Only a branch's staff and manager write its report.",
            ),
            200: OpenApiResponse(ReportDetailSerializer, description="The report was there already."),
        },
    )
    def create(self, request, *args, **kwargs):
        """R65: open (or find) the user's branch's report of a quarter."""
        data = NeedReportOpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        raw = data.validated_data.get("quarter")
        quarter = services.parse_quarter(raw) if raw else services.quarters_open()[0]
        if request.user.branch is None:
            raise PermissionDenied(_("只有本单位人员可以编写客户需求分析报告。"))
        report, created = services.need_report_open(
            branch=request.user.branch, quarter=quarter, by=request.user
        )
        return self._answer(report, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        request=PartsSerializer,
        responses=answers(
            ReportDetailSerializer,
            refused="The report is submitted or accepted, or a part is too long.",
            forbidden="Only the branch's staff and manager write the report.",
            not_found=NOT_FOUND,
        ),
    )
    def partial_update(self, request, *args, **kwargs):
        """R65: save the parts given (If-Match honoured: 409 when someone saved in between)."""
        report = self.get_object()
        data = PartsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.need_report_save(
            report=report,
            by=request.user,
            parts=data.validated_data,
            expected_version=self.expected_version(),
        )
        return self._answer(report)

    @extend_schema(
        request=PartsSerializer,
        responses=answers(
            ReportDetailSerializer,
            refused="Not being written, the quarter not ended, or a part left empty.",
            forbidden="Only the branch manager submits the report.",
            not_found=NOT_FOUND,
        ),
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """R67: save the parts given, freeze the figures and submit the report to the need
        analysis meeting."""
        report = self.get_object()
        data = PartsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.need_report_submit(
            report=report,
            by=request.user,
            parts=data.validated_data,
            expected_version=self.expected_version(),
        )
        return self._answer(report)

    @extend_schema(
        request=ReviewSerializer,
        responses=answers(
            ReportDetailSerializer,
            refused="Not submitted, the meeting does not qualify, or a return without a reason.",
            forbidden="Only the branch manager records the meeting's conclusion.",
            not_found=NOT_FOUND,
        ),
    )
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """R67: the need analysis meeting's conclusion: accept, or return with a reason."""
        report = self.get_object()
        data = ReviewSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        report = services.need_report_review(
            report=report,
            by=request.user,
            meeting=data.validated_data["meeting"],
            accept=data.validated_data["outcome"] == "accept",
            reason=data.validated_data["reason"],
        )
        return self._answer(report)

    @extend_schema(
        request=MeetingInputSerializer,
        responses=answers(
            ReportDetailSerializer,
            status=201,
            refused="The report is accepted, or a date, attendee, owner or decision is refused.",
            forbidden="Only the branch's staff and manager record meetings.",
            not_found=NOT_FOUND,
        ),
    )
    @action(detail=True, methods=["post"])
    def meetings(self, request, pk=None):
        """R68: record a need analysis meeting with its attendees and decisions."""
        report = self.get_object()
        data = MeetingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.need_meeting_record(
            report=report,
            by=request.user,
            held_on=data.validated_data["held_on"],
            place=data.validated_data["place"],
            minutes=data.validated_data["minutes"],
            attendees=data.validated_data["attendees"],
            decisions=[dict(d) for d in data.validated_data.get("decisions", [])],
        )
        return self._answer(report, status.HTTP_201_CREATED)

    @extend_schema(
        request=AddDecisionSerializer,
        responses=answers(
            ReportDetailSerializer,
            status=201,
            refused="The meeting is not this report's, or the owner or due date is refused.",
            forbidden="Only the branch's staff and manager record decisions.",
            not_found=NOT_FOUND,
        ),
    )
    @action(detail=True, methods=["post"])
    def decisions(self, request, pk=None):
        """R68: a further decision of one of the report's meetings."""
        report = self.get_object()
        data = AddDecisionSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        meeting = data.validated_data.pop("meeting")
        if meeting.report_id != report.pk:
            raise serializers.ValidationError({"meeting": [_("所选会议不是本报告的需求分析会议。")]})
        services.need_decision_add(meeting=meeting, by=request.user, **data.validated_data)
        return self._answer(report, status.HTTP_201_CREATED)


class NeedMeetingDecisionViewSet(NoCollectionPost, RestrictedViewSet):
    """The need analysis meetings' decisions of the user's scope (R68). Filters: ``owner``,
    ``open`` (true: not done yet), ``report``."""

    queryset = NeedMeetingDecision.objects.select_related("meeting__report", "owner", "done_by").order_by(
        "due_on", "pk"
    )
    serializer_class = DecisionSerializer
    http_method_names = ["get", "post", "head", "options"]
    # Marking done is open to whoever may read the decision; the service checks the role.
    action_scopes = {"done": "view"}

    def get_queryset(self):
        qs = super().get_queryset()
        params = self.request.query_params
        owner = params.get("owner", "")
        if owner.isdigit():
            qs = qs.filter(owner_id=int(owner))
        report = params.get("report", "")
        if report.isdigit():
            qs = qs.filter(meeting__report_id=int(report))
        if params.get("open") in ("true", "1"):
            qs = qs.filter(done_at__isnull=True)
        elif params.get("open") in ("false", "0"):
            qs = qs.filter(done_at__isnull=False)
        return qs

    @extend_schema(
        request=DoneSerializer,
        responses=answers(
            DecisionSerializer,
            refused="Already done, or no note of what was done.",
            forbidden="Only the decision's owner or the branch manager marks it done.",
            not_found="No such decision in the user's scope.",
        ),
    )
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        """R68: mark the decision done with what was done."""
        decision = self.get_object()
        data = DoneSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decision = services.need_decision_done(
            decision=decision, by=request.user, note=data.validated_data["note"]
        )
        return self.answer(self.get_queryset().get(pk=decision.pk), DecisionSerializer)
