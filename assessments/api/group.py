"""/api/group-summaries/ and /api/regradings/ (R31, R7): group marketing's summary of the
branches' half-year analyses and the re-grading it proposes and applies, as the summary page
(assessments:summary-group) does, through the same services. A summary is addressed by its half
year (``/api/group-summaries/2026H1/``) and, like the page, opened on first use."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from clients.models import Client
from crm.api.base import NoCollectionPost, RestrictedReadOnlyViewSet
from crm.api.schema import answers, refusals
from crm.figures import HalfYear

from ..models import GroupSummary, Regrading
from ..review import services
from .common import ScopedField

HALF_YEAR = OpenApiParameter(
    "half_year",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="YYYYH1 / YYYYH2",
    pattern=r"^\d{4}H[12]$",
)


class RegradingSerializer(serializers.ModelSerializer):
    half_year = serializers.CharField(source="summary.half_year", read_only=True)
    client_name = serializers.CharField(source="client.name", read_only=True)
    branch = serializers.IntegerField(source="client.branch_id", read_only=True)

    class Meta:
        model = Regrading
        fields = [
            "id", "half_year", "client", "client_name", "branch", "from_grade", "to_grade", "reason",
            "proposed_by", "applied_at",
        ]  # fmt: skip
        read_only_fields = fields


class GroupSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = GroupSummary
        fields = ["id", "half_year", "text", "submitted_at", "submitted_by", "regraded_at"]
        read_only_fields = fields


class ListSentSerializer(serializers.Serializer):
    branch = serializers.IntegerField(source="branch.pk")
    branch_name = serializers.CharField(source="branch")
    recipients = serializers.IntegerField(source="total", help_text="people the branch's list was sent to")
    read = serializers.IntegerField(help_text="of them, those who have read it")


class GroupSummaryDetailSerializer(GroupSummarySerializer):
    """With the summary's due date (R31: 30 days after the last branch submitted; null until all
    are in), the re-grading proposals the reader may see, and, once re-graded, each branch's
    notice of its new A/B/C list (R75: to how many of its people, read by how many)."""

    due_at = serializers.SerializerMethodField()
    proposals = serializers.SerializerMethodField()
    lists_sent = serializers.SerializerMethodField()

    class Meta(GroupSummarySerializer.Meta):
        fields = [*GroupSummarySerializer.Meta.fields, "due_at", "proposals", "lists_sent"]
        read_only_fields = fields

    @extend_schema_field(ListSentSerializer(many=True))
    def get_lists_sent(self, obj) -> list:
        if not obj.regraded_at:
            return []
        return ListSentSerializer(services.regrading_lists_sent(obj), many=True).data

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_due_at(self, obj):
        return services.summary_due(HalfYear.parse(obj.half_year))

    @extend_schema_field(RegradingSerializer(many=True))
    def get_proposals(self, obj) -> list:
        rows = (
            Regrading.objects.restrict(self.context["request"].user, "view")
            .filter(summary=obj)
            .select_related("client", "summary")
        )
        return RegradingSerializer(rows, many=True).data


class SummaryTextSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, max_length=10000, default="")


class ProposeSerializer(serializers.Serializer):
    client = ScopedField(Client)
    to_grade = serializers.CharField(max_length=1, help_text="A, B or C")
    reason = serializers.CharField(allow_blank=True, max_length=2000)


class ApplySerializer(serializers.Serializer):
    applied = serializers.IntegerField(help_text="the number of clients re-graded")
    summary = GroupSummaryDetailSerializer()


class CandidateSerializer(serializers.Serializer):
    client = serializers.IntegerField()
    client_name = serializers.CharField()
    branch = serializers.IntegerField()
    from_grade = serializers.CharField()
    to_grade = serializers.CharField()
    why = serializers.CharField(help_text="the grading criteria behind the suggestion")


ONLY_MARKETING = "Only group marketing writes the summary and re-grades."
NO_HALF = "Not a half year (YYYYH1 / YYYYH2)."


@extend_schema_view(retrieve=extend_schema(parameters=[HALF_YEAR], responses=GroupSummaryDetailSerializer))
class GroupSummaryViewSet(NoCollectionPost, RestrictedReadOnlyViewSet):
    """Group marketing's half-year summaries; group leaders and auditors read them."""

    queryset = GroupSummary.objects.select_related("submitted_by").order_by("-half_year")
    serializer_class = GroupSummarySerializer
    filterset_fields = ["half_year"]
    lookup_field = "half_year"
    lookup_value_regex = r"\d{4}H[12]"
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {"save": "change", "submit": "change", "regradings": "change", "apply": "change"}

    def get_object(self):
        """The summary of the half year in the path, opened on first use (as the page does)."""
        try:
            half = HalfYear.parse(self.kwargs["half_year"])
        except ValueError:
            raise Http404 from None
        summary = services.summary_open(half)
        obj = self.get_queryset().filter(pk=summary.pk).first()
        if obj is None:
            raise Http404
        self.check_object_permissions(self.request, obj)
        return obj

    def get_serializer_class(self):
        return GroupSummarySerializer if self.action == "list" else GroupSummaryDetailSerializer

    def _answer(self, summary):
        return Response(self.get_serializer(GroupSummary.objects.get(pk=summary.pk)).data)

    def _save(self, request, *, submit: bool):
        summary = self.get_object()
        data = SummaryTextSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        summary = services.summary_save(
            summary=summary, by=request.user, text=data.validated_data["text"], submit=submit
        )
        return self._answer(summary)

    @extend_schema(
        parameters=[HALF_YEAR],
        request=SummaryTextSerializer,
        responses=answers(
            GroupSummaryDetailSerializer,
            refused="The text is too long.",
            forbidden=ONLY_MARKETING,
            not_found=NO_HALF,
        ),
    )
    @action(detail=True, methods=["post"])
    def save(self, request, half_year=None):
        """Save the summary's text (the page's 保存)."""
        return self._save(request, submit=False)

    @extend_schema(
        parameters=[HALF_YEAR],
        request=SummaryTextSerializer,
        responses=answers(
            GroupSummaryDetailSerializer,
            refused="The summary's text is empty.",
            forbidden=ONLY_MARKETING,
            not_found=NO_HALF,
        ),
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, half_year=None):
        """Complete the summary (R31: due 30 days after the last branch submitted)."""
        return self._save(request, submit=True)

    @extend_schema(
        parameters=[HALF_YEAR],
        request=ProposeSerializer,
        responses=answers(
            RegradingSerializer,
            refused="Already re-graded this half year, no such grade, the client's grade unchanged, "
            "no reason, or a client out of the user's scope.",
            forbidden=ONLY_MARKETING,
            not_found=NO_HALF,
        ),
    )
    @action(detail=True, methods=["post"])
    def regradings(self, request, half_year=None):
        """Propose a client's new grade with the reason (R7, R31); proposing again for the same
        client replaces the proposal."""
        summary = self.get_object()
        data = ProposeSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        proposal = services.regrading_propose(summary=summary, by=request.user, **data.validated_data)
        return Response(RegradingSerializer(proposal).data)

    @extend_schema(
        parameters=[HALF_YEAR],
        request=None,
        responses=answers(
            ApplySerializer,
            refused="Already re-graded this half year.",
            forbidden=ONLY_MARKETING,
            not_found=NO_HALF,
        ),
    )
    @action(detail=True, methods=["post"])
    def apply(self, request, half_year=None):
        """Apply every proposal through the one grading service (R7 keeps who, when, from, to
        and why), then tell leaders and the branches (R31)."""
        summary = self.get_object()
        applied = services.regrading_apply(summary=summary, by=request.user)
        summary = GroupSummary.objects.get(pk=summary.pk)
        return Response(
            {
                "applied": applied,
                "summary": GroupSummaryDetailSerializer(summary, context=self.get_serializer_context()).data,
            }
        )

    @extend_schema(
        parameters=[HALF_YEAR],
        responses={
            200: CandidateSerializer(many=True),
            **refusals(forbidden=ONLY_MARKETING, not_found=NO_HALF),
        },
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def candidates(self, request, half_year=None):
        """R7, R31: the clients whose suggested grade differs from their grade, with the criteria
        behind each suggestion (empty once the half year is re-graded), as the page lists them."""
        summary = self.get_object()
        if not services.is_marketing(request.user):
            raise PermissionDenied(_("只有集团市场营销部可以编写汇总和重新分级。"))
        if summary.regraded_at:
            return Response([])
        rows = [
            {
                "client": c["client"].pk,
                "client_name": c["client"].name,
                "branch": c["client"].branch_id,
                "from_grade": c["from"],
                "to_grade": c["to"],
                "why": str(c["why"]),
            }
            for c in services.regrading_candidates(HalfYear.parse(summary.half_year))
        ]
        return Response(CandidateSerializer(rows, many=True).data)


class RegradingViewSet(RestrictedReadOnlyViewSet):
    """Re-grading proposals of the half-year summaries (R31), filtered by ``summary`` or
    ``client``; ``applied_at`` is set when the half year's re-grading is applied."""

    queryset = Regrading.objects.select_related("client", "summary").order_by("summary", "pk")
    serializer_class = RegradingSerializer
    filterset_fields = ["summary", "client"]
