"""/api/repairs/: warranty repairs and their workflow steps as actions (R94-R101). A refused
step answers 400 with the service's message and changes nothing; a step or an edit based on a
state that changed in between answers 409 with the current repair (crm.api.base)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from clients.models import Project
from crm.access import can
from crm.api.base import RestrictedViewSet
from crm.api.fields import BlankChoices
from crm.api.schema import answers

from ..api.serializers import NoteInput, ReopenInput, ReturnVisitInput
from ..models import Complaint, Motive, Severity
from . import services
from .filters import RepairFilter
from .models import RepairEvent, RepairRequest, RepairStatus, RepairVisit

READ_ONLY = [
    "id", "code", "client", "client_name", "branch", "project_name", "status", "status_label",
    "received_by", "register_due_at", "registered_at", "registered_by", "registered_on_time", "team",
    "dispatched_at", "repaired_at", "repair_note", "closed_at", "closed_by", "reopen_count", "is_paid",
    "complaint", "visits", "created_at", "updated_at",
]  # fmt: skip


class RepairVisitSerializer(BlankChoices, serializers.ModelSerializer):
    class Meta:
        model = RepairVisit
        fields = ["id", "sequence", "due_at", "visited_at", "visited_by", "method", "contact_name",
                  "satisfaction", "effect_confirmed", "notes"]  # fmt: skip
        read_only_fields = fields


class RepairEventSerializer(serializers.ModelSerializer):
    from_status = serializers.ChoiceField(choices=RepairStatus.choices, allow_blank=True, read_only=True)
    to_status = serializers.ChoiceField(choices=RepairStatus.choices, allow_blank=True, read_only=True)

    class Meta:
        model = RepairEvent
        fields = ["id", "kind", "by", "at", "from_status", "to_status", "note"]
        read_only_fields = fields


class RepairSerializer(serializers.ModelSerializer):
    code = serializers.CharField(read_only=True)
    client = serializers.IntegerField(source="project.client_id", read_only=True)
    client_name = serializers.CharField(source="project.client.name", read_only=True)
    branch = serializers.IntegerField(source="project.branch_id", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    registered_on_time = serializers.BooleanField(read_only=True, allow_null=True)
    title = serializers.CharField(max_length=120, required=False, allow_blank=True)
    visits = RepairVisitSerializer(many=True, read_only=True)

    class Meta:
        model = RepairRequest
        fields = [
            *READ_ONLY[:6], "project", "reporter", "reporter_phone", "channel", "part", "location", "title",
            "description", "received_at", *READ_ONLY[6:],
        ]  # fmt: skip
        read_only_fields = READ_ONLY

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = request.user if request else None
        self.fields["project"].queryset = Project.objects.restrict(user, "view")
        if getattr(self.instance, "pk", None):
            self.fields["project"].read_only = True
            self.fields["received_at"].read_only = True

    def create(self, validated_data):
        return services.repair_receive(by=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return services.repair_update(repair=instance, by=self.context["request"].user, **validated_data)


class RepairDetailSerializer(RepairSerializer):
    events = RepairEventSerializer(many=True, read_only=True)

    class Meta(RepairSerializer.Meta):
        fields = [*RepairSerializer.Meta.fields, "events"]
        read_only_fields = [*READ_ONLY, "events"]


class DispatchInput(serializers.Serializer):
    team = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class RepairCompleteInput(serializers.Serializer):
    repair_note = serializers.CharField(required=False, allow_blank=True, default="")


class ComplaintInput(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)
    content = serializers.CharField(required=False, allow_blank=True, default="")
    severity = serializers.ChoiceField(choices=Severity.choices, required=False, default=Severity.NORMAL)
    motive = serializers.ChoiceField(choices=Motive.choices, required=False, default=Motive.UNKNOWN)


class ComplaintCreated(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()


STEP_ACTIONS = ("register", "dispatch_team", "complete", "close", "return_visit", "reopen")


class RepairViewSet(RestrictedViewSet):
    """Repairs of the projects in the user's scope (restrict). POST receives one (the caller is
    the front desk who received it); PATCH corrects its facts; steps are POST actions."""

    queryset = (
        RepairRequest.objects.select_related("project__client")
        .prefetch_related(Prefetch("visits", queryset=RepairVisit.objects.order_by("sequence")))
        .order_by("-received_at", "-pk")
    )
    serializer_class = RepairSerializer
    filterset_class = RepairFilter
    ordering_fields = ["received_at", "status", "part", "closed_at"]
    # A repair is part of the project's record: never deleted.
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_scopes = {**{name: "change" for name in STEP_ACTIONS}, "complaint": "change"}

    def get_serializer_class(self):
        if self.action == "retrieve":
            return RepairDetailSerializer
        return super().get_serializer_class()

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action == "retrieve":
            qs = qs.prefetch_related(Prefetch("events", queryset=RepairEvent.objects.order_by("at", "pk")))
        return qs

    @extend_schema(
        responses=answers(
            RepairSerializer,
            201,
            forbidden="The user lacks the role to receive repairs.",
            refused="The repair was refused (field -> messages).",
            not_found="The project does not exist or is outside the user's scope.",
        )
    )
    def create(self, request, *args, **kwargs):
        # A project outside the user's scope: 404, as for the page.
        raw = request.data.get("project") if isinstance(request.data, dict) else None
        if raw not in (None, ""):
            try:
                pk = int(raw)
            except (TypeError, ValueError):
                pk = None
            if pk is not None and not Project.objects.restrict(request.user, "view").filter(pk=pk).exists():
                raise NotFound(_("工程项目不存在或不在您的权限范围内。"))
        return super().create(request, *args, **kwargs)

    def _step(self, request, input_class, call):
        repair = self.get_object()
        data = input_class(data=request.data)
        data.is_valid(raise_exception=True)
        call(repair, dict(data.validated_data))
        return self.answer(self.get_queryset().get(pk=repair.pk), RepairSerializer)

    @extend_schema(request=NoteInput, responses=RepairSerializer)
    @action(detail=True, methods=["post"])
    def register(self, request, pk=None):
        return self._step(
            request, NoteInput, lambda r, d: services.repair_register(repair=r, by=request.user, **d)
        )

    @extend_schema(request=DispatchInput, responses=RepairSerializer)
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def dispatch_team(self, request, pk=None):
        return self._step(
            request, DispatchInput, lambda r, d: services.repair_dispatch(repair=r, by=request.user, **d)
        )

    @extend_schema(request=RepairCompleteInput, responses=RepairSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._step(
            request,
            RepairCompleteInput,
            lambda r, d: services.repair_complete(repair=r, by=request.user, **d),
        )

    @extend_schema(request=NoteInput, responses=RepairSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._step(
            request, NoteInput, lambda r, d: services.repair_close(repair=r, by=request.user, **d)
        )

    @extend_schema(request=ReturnVisitInput, responses=RepairSerializer)
    @action(detail=True, methods=["post"], url_path="return-visit")
    def return_visit(self, request, pk=None):
        return self._step(
            request,
            ReturnVisitInput,
            lambda r, d: services.repair_return_visit(repair=r, by=request.user, **d),
        )

    @extend_schema(request=ReopenInput, responses=RepairSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._step(
            request, ReopenInput, lambda r, d: services.repair_reopen(repair=r, by=request.user, **d)
        )

    @extend_schema(request=ComplaintInput, responses={201: ComplaintCreated})
    @action(detail=True, methods=["post"])
    def complaint(self, request, pk=None):
        """R101: open a complaint linked to this repair (a repeated repair or an unsatisfied visit)."""
        if not can(request.user, "add", Complaint):
            raise PermissionDenied()
        repair = self.get_object()
        data = ComplaintInput(data=request.data)
        data.is_valid(raise_exception=True)
        complaint = services.repair_open_complaint(repair=repair, by=request.user, **data.validated_data)
        return Response({"id": complaint.pk, "code": complaint.code}, status=201)
