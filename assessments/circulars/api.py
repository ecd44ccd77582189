"""/api/review-meetings/, /api/review-decisions/, /api/circulars/ and /api/leader-reports/
(R87-R93): every step the pages take, through the same services (assessments.circulars.services).

``POST /api/review-meetings/`` ``{"half_year", "held_on", "place", "attendees": [user ids],
"minutes", "decisions": [{"text", "owner", "due_on"}]}`` records the round's meeting (201);
``POST /api/review-meetings/{id}/decisions/`` ``{"text", "owner", "due_on"}`` adds a decision;
``POST /api/review-meetings/{id}/circular/`` generates (again) its circular from the round (201).
``POST /api/review-decisions/{id}/done/`` ``{"note"}`` marks a decision done.
``PATCH /api/circulars/{id}/`` ``{"title", "body"}`` edits a draft (If-Match or ``version``: 409 when
stale); ``POST /api/circulars/{id}/issue/`` issues it; reading one (``GET /api/circulars/{id}/``) is
the reader's opening of it (R90); ``GET /api/circulars/{id}/receipts/`` lists the receipts the user
may see (group roles: every one; a branch manager: his branch's).
``POST /api/leader-reports/`` ``{"kind": "commendation", "assessment"}`` drafts a commendation
from the assessment's indicators, ``{"kind": "summary", "work_summary", "remark"}`` takes a work
summary to forward (201 when made, 200 when it was there); ``PATCH`` edits its ``title`` and
``text``; ``POST .../send/`` sends it to the leaders; a leader's reading of it marks it read.
Who may act is decided by the services (403 for a missing role, 400 with a message for a refused
step)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api.base import NoCollectionPost, RestrictedViewSet
from crm.api.schema import answers

from ..api.common import ScopedField
from ..api.views import AnyRole
from ..models import Assessment, AssessmentRound, WorkSummary
from . import services
from .models import Circular, CircularReceipt, LeaderReport, ReviewDecision, ReviewMeeting

ID = {"min_value": 1, "max_value": 2**31 - 1}


class ReviewDecisionSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    done_by_name = serializers.CharField(source="done_by.display_name", read_only=True, default="")
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = ReviewDecision
        fields = [
            "id", "meeting", "text", "owner", "owner_name", "due_on", "is_overdue", "done_at", "done_by",
            "done_by_name", "done_note", "version",
        ]  # fmt: skip
        read_only_fields = fields


class ReviewMeetingSerializer(serializers.ModelSerializer):
    half_year = serializers.CharField(source="round.half_year", read_only=True)
    attendee_names = serializers.SerializerMethodField()
    decisions = serializers.SerializerMethodField()
    circular = serializers.SerializerMethodField()

    class Meta:
        model = ReviewMeeting
        fields = [
            "id", "round", "half_year", "held_on", "place", "attendees", "attendee_names", "minutes",
            "recorded_by", "recorded_at", "decisions", "circular",
        ]  # fmt: skip
        read_only_fields = fields

    def get_attendee_names(self, meeting) -> list[str]:
        return [u.display_name for u in meeting.attendees.all()]

    def get_decisions(self, meeting) -> list[dict]:
        """The meeting's decisions the reader may see."""
        user = self.context["request"].user
        rows = (
            ReviewDecision.objects.restrict(user, "view")
            .filter(meeting=meeting)
            .select_related("owner", "done_by")
        )
        return ReviewDecisionSerializer(rows, many=True).data

    def get_circular(self, meeting) -> int | None:
        """The id of the meeting's circular the reader may read, if any."""
        user = self.context["request"].user
        return (
            Circular.objects.restrict(user, "view")
            .filter(meeting=meeting)
            .values_list("pk", flat=True)
            .first()
        )


class ReviewDecisionInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)
    owner = serializers.IntegerField(**ID)
    due_on = serializers.DateField()


class ReviewMeetingInputSerializer(serializers.Serializer):
    half_year = serializers.CharField(max_length=6, help_text="the round's half year, YYYYH1 or YYYYH2")
    held_on = serializers.DateField()
    place = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    attendees = serializers.ListField(child=serializers.IntegerField(**ID), max_length=500)
    minutes = serializers.CharField(max_length=5000)
    decisions = ReviewDecisionInputSerializer(many=True, required=False, max_length=services.MAX_DECISIONS)


class ReviewDecisionDoneSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000)


class CircularSerializer(serializers.ModelSerializer):
    half_year = serializers.CharField(source="meeting.round.half_year", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Circular
        fields = [
            "id", "meeting", "half_year", "title", "body", "facts", "status", "status_label", "generated_at",
            "generated_by", "issued_at", "issued_by", "version",
        ]  # fmt: skip
        read_only_fields = fields


class ReviewMeetingViewSet(RestrictedViewSet):
    """The half-year review meetings of the user's scope (R87): group roles read every one, a
    branch person those attended or owning a decision of."""

    queryset = (
        ReviewMeeting.objects.select_related("round").prefetch_related("attendees").order_by("-held_on", "pk")
    )
    serializer_class = ReviewMeetingSerializer
    permission_classes = [permissions.IsAuthenticated, AnyRole]
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {"decisions": "view", "circular": "view"}

    @extend_schema(
        request=ReviewMeetingInputSerializer,
        responses=answers(
            ReviewMeetingSerializer,
            status=201,
            refused="No open round of that half year, a meeting already recorded, or a date, attendee, owner or decision refused.",
            forbidden="Only group marketing records the meeting.",
        ),
    )
    def create(self, request, *args, **kwargs):
        """R87: record the round's 客户关系管理工作研讨会 with its attendees and decisions."""
        data = ReviewMeetingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not services.is_marketing(request.user):
            raise PermissionDenied(_("只有集团市场营销部可以记录研讨会。"))
        rnd = (
            AssessmentRound.objects.restrict(request.user, "view")
            .filter(half_year=data.validated_data["half_year"])
            .first()
        )
        if rnd is None:
            raise serializers.ValidationError({"half_year": [_("没有该半年度的考核。")]})
        meeting = services.review_meeting_record(
            rnd=rnd,
            by=request.user,
            held_on=data.validated_data["held_on"],
            place=data.validated_data["place"],
            minutes=data.validated_data["minutes"],
            attendees=data.validated_data["attendees"],
            decisions=[dict(d) for d in data.validated_data.get("decisions", [])],
        )
        return Response(
            ReviewMeetingSerializer(meeting, context=self.get_serializer_context()).data, status=201
        )

    @extend_schema(
        request=ReviewDecisionInputSerializer,
        responses=answers(
            ReviewMeetingSerializer,
            status=201,
            refused="The owner or due date is refused.",
            forbidden="Only group marketing records decisions.",
            not_found="No such meeting in the user's scope.",
        ),
    )
    @action(detail=True, methods=["post"])
    def decisions(self, request, pk=None):
        """R87: a further decision of the meeting."""
        meeting = self.get_object()
        data = ReviewDecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.review_decision_add(meeting=meeting, by=request.user, **data.validated_data)
        return Response(
            ReviewMeetingSerializer(meeting, context=self.get_serializer_context()).data, status=201
        )

    @extend_schema(
        request=None,
        responses=answers(
            OpenApiResponse(CircularSerializer, description="The circular, drafted from the round."),
            status=201,
            refused="A branch is not rated yet, or the circular is issued already.",
            forbidden="Only group marketing writes the circular.",
            not_found="No such meeting in the user's scope.",
        ),
    )
    @action(detail=True, methods=["post"])
    def circular(self, request, pk=None):
        """R88: generate (again) the meeting's circular from the round."""
        meeting = self.get_object()
        circular = services.circular_generate(meeting=meeting, by=request.user)
        return Response(CircularSerializer(circular, context=self.get_serializer_context()).data, status=201)


class ReviewDecisionViewSet(NoCollectionPost, RestrictedViewSet):
    """The review meetings' decisions of the user's scope (R87): group roles every one, a person
    their own. Filters: ``meeting``, ``open`` (true: not done yet)."""

    queryset = ReviewDecision.objects.select_related("owner", "done_by").order_by("due_on", "pk")
    serializer_class = ReviewDecisionSerializer
    permission_classes = [permissions.IsAuthenticated, AnyRole]
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {"done": "view"}

    def get_queryset(self):
        qs = super().get_queryset()
        params = self.request.query_params
        meeting = params.get("meeting", "")
        if meeting.isdigit():
            qs = qs.filter(meeting_id=int(meeting))
        if params.get("open") in ("true", "1"):
            qs = qs.filter(done_at__isnull=True)
        elif params.get("open") in ("false", "0"):
            qs = qs.filter(done_at__isnull=False)
        return qs

    @extend_schema(
        request=ReviewDecisionDoneSerializer,
        responses=answers(
            ReviewDecisionSerializer,
            refused="Already done, or no note of what was done.",
            forbidden="Only the decision's owner or group marketing marks it done.",
            not_found="No such decision in the user's scope.",
        ),
    )
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        """R87: mark the decision done with what was done."""
        decision = self.get_object()
        data = ReviewDecisionDoneSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decision = services.review_decision_done(
            decision=decision, by=request.user, note=data.validated_data["note"]
        )
        return self.answer(self.get_queryset().get(pk=decision.pk), ReviewDecisionSerializer)


class CircularEditSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=20000)


class CircularReceiptSerializer(serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.display_name", read_only=True)
    branch_name = serializers.CharField(source="branch.__str__", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True, default="")

    class Meta:
        model = CircularReceipt
        fields = [
            "id",
            "user",
            "user_name",
            "branch",
            "branch_name",
            "department",
            "department_name",
            "sent_at",
            "read_at",
        ]
        read_only_fields = fields


class CircularViewSet(NoCollectionPost, RestrictedViewSet):
    """The circulars the user reads (R89): issued ones for every person with a role, drafts for
    group marketing. Reading one is the reader's opening of it (R90)."""

    queryset = Circular.objects.select_related("meeting__round").order_by("-generated_at", "pk")
    serializer_class = CircularSerializer
    permission_classes = [permissions.IsAuthenticated, AnyRole]
    http_method_names = ["get", "post", "patch", "head", "options"]
    # The service decides who writes (403): the rows are found among those the user reads.
    action_scopes = {"partial_update": "view", "issue": "view", "receipts": "view"}

    def retrieve(self, request, *args, **kwargs):
        """R90: the circular; the reader's first reading of an issued one is kept on their receipt."""
        circular = self.get_object()
        services.circular_open(circular=circular, user=request.user)
        return self.answer(circular, CircularSerializer)

    @extend_schema(
        request=CircularEditSerializer,
        responses=answers(
            CircularSerializer,
            refused="The circular is issued, or the title or text is empty.",
            forbidden="Only group marketing edits the circular.",
            not_found="No such circular for the user.",
        ),
    )
    def partial_update(self, request, *args, **kwargs):
        """R88: edit the draft's title and text (If-Match honoured: 409 when stale)."""
        circular = self.get_object()
        data = CircularEditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        circular = services.circular_save(
            circular=circular, by=request.user, version=self.expected_version(), **data.validated_data
        )
        return self.answer(circular, CircularSerializer)

    @extend_schema(
        request=None,
        responses=answers(
            CircularSerializer,
            refused="The circular is issued already.",
            forbidden="Only group marketing issues the circular.",
            not_found="No such circular for the user.",
        ),
    )
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        """R89: issue the circular to every branch and project department."""
        circular = services.circular_issue(circular=self.get_object(), by=request.user)
        return self.answer(circular, CircularSerializer)

    @extend_schema(
        responses=answers(
            CircularReceiptSerializer(many=True),
            forbidden="Only the group roles and branch managers see the receipts.",
            not_found="No such circular for the user.",
        ),
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def receipts(self, request, pk=None):
        """R90: the receipts the user may see: who was sent the circular, who has read it when."""
        from .views import may_see_receipts

        circular = self.get_object()
        if not may_see_receipts(request.user):
            raise PermissionDenied(_("只有集团市场营销部和分公司经营部负责人可以查看阅读回执。"))
        rows = (
            CircularReceipt.objects.restrict(request.user, "view")
            .filter(circular=circular)
            .select_related("user", "branch", "department")
            .order_by("branch__sort_order", "department__name", "user__username")
        )
        return Response(CircularReceiptSerializer(rows, many=True).data)


class LeaderReportSerializer(serializers.ModelSerializer):
    branch = serializers.IntegerField(source="assessment.branch_id", read_only=True)
    half_year = serializers.CharField(source="assessment.half_year", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = LeaderReport
        fields = [
            "id", "kind", "assessment", "work_summary", "branch", "half_year", "title", "text", "status",
            "status_label", "drafted_by", "sent_at", "sent_by", "version",
        ]  # fmt: skip
        read_only_fields = fields


class LeaderReportCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LeaderReport.Kind.choices)
    assessment = ScopedField(Assessment, required=False, help_text="for a commendation: an 优良 assessment")
    work_summary = ScopedField(
        WorkSummary, required=False, help_text="for a summary: a submitted work summary"
    )
    remark = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class LeaderReportEditSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    text = serializers.CharField(max_length=10000)


class LeaderReportViewSet(RestrictedViewSet):
    """What group marketing reports to the leaders (R92, R93): drafts and sent ones for group
    marketing, the sent ones for leaders and auditors. A leader's reading marks it read."""

    queryset = LeaderReport.objects.select_related("assessment").order_by("-created_at", "pk")
    serializer_class = LeaderReportSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def retrieve(self, request, *args, **kwargs):
        """R93: the report; a leader's first reading marks it read."""
        report = self.get_object()
        services.leader_report_open(report=report, user=request.user)
        return self.answer(report, LeaderReportSerializer)

    @extend_schema(
        request=LeaderReportCreateSerializer,
        responses={
            **answers(
                LeaderReportSerializer,
                status=201,
                refused="Not an 优良 assessment, a work summary not submitted, or the one it needs left out.",
                forbidden="Only group marketing reports to the leaders.",
            ),
            200: OpenApiResponse(LeaderReportSerializer, description="It was there already."),
        },
    )
    def create(self, request, *args, **kwargs):
        """R92: draft a commendation from an assessment's indicators, or take a work summary to
        forward with a remark."""
        data = LeaderReportCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        kind = data.validated_data["kind"]
        before = LeaderReport.objects.count()
        if kind == LeaderReport.Kind.COMMENDATION:
            assessment = data.validated_data.get("assessment")
            if assessment is None:
                raise serializers.ValidationError({"assessment": [_("请选择考核。")]})
            report = services.commendation_draft(assessment=assessment, by=request.user)
        else:
            summary = data.validated_data.get("work_summary")
            if summary is None:
                raise serializers.ValidationError({"work_summary": [_("请选择工作总结。")]})
            report = services.summary_forward_draft(
                summary=summary, by=request.user, remark=data.validated_data["remark"]
            )
        made = LeaderReport.objects.count() > before
        return self.answer(report, LeaderReportSerializer, status_code=201 if made else 200)

    @extend_schema(
        request=LeaderReportEditSerializer,
        responses=answers(
            LeaderReportSerializer,
            refused="Sent already, or the title or text is empty.",
            forbidden="Only group marketing edits it.",
            not_found="No such report for the user.",
        ),
    )
    def partial_update(self, request, *args, **kwargs):
        """R92: edit the write-up or the remark (If-Match honoured: 409 when stale)."""
        report = self.get_object()
        data = LeaderReportEditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.leader_report_save(
            report=report, by=request.user, version=self.expected_version(), **data.validated_data
        )
        return self.answer(report, LeaderReportSerializer)

    @extend_schema(
        request=None,
        responses=answers(
            LeaderReportSerializer,
            refused="Sent already.",
            forbidden="Only group marketing sends to the leaders.",
            not_found="No such report for the user.",
        ),
    )
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """R92, R93: send it to every leader."""
        report = services.leader_report_send(report=self.get_object(), by=request.user)
        return self.answer(report, LeaderReportSerializer)
