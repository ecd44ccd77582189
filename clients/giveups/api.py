"""/api/give-ups/ (R37-R40): giving up on C clients.

``POST /api/give-ups/`` ``{"client", "reason", "note"}`` proposes; the steps are POST actions
(``confirm/`` ``{"note"}``, ``reject/`` ``{"reason"}``, ``resume/`` ``{"reason"}``); who may take
a step is decided by the services (403 for a missing role, 400 with a message for a refused
step). A step that loses a race with another manager's answers 409 with the current row (the
base viewset), and so does a step sent with an ``If-Match`` that is no longer the row's version.
Give-ups are never edited or deleted, only moved by their steps."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api.base import RestrictedViewSet

from ..access.api.serializers import NoteSerializer, ReasonSerializer
from ..models import Client, GiveUp
from . import services
from .forms import GiveUpFilter


class GiveUpSerializer(serializers.ModelSerializer):
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.none())
    client_name = serializers.CharField(source="client.name", read_only=True)
    branch = serializers.IntegerField(source="client.branch_id", read_only=True)
    branch_name = serializers.CharField(source="client.branch.name", read_only=True)
    grade = serializers.CharField(source="client.grade", read_only=True)
    proposed_by_name = serializers.CharField(source="proposed_by.display_name", read_only=True)
    decided_by_name = serializers.CharField(source="decided_by.display_name", read_only=True, default="")
    ended_by_name = serializers.CharField(source="ended_by.display_name", read_only=True, default="")

    class Meta:
        model = GiveUp
        fields = [
            "id",
            "client",
            "client_name",
            "branch",
            "branch_name",
            "grade",
            "reason",
            "note",
            "status",
            "proposed_by",
            "proposed_by_name",
            "proposed_at",
            "decided_by",
            "decided_by_name",
            "decided_at",
            "decision_note",
            "ended_by",
            "ended_by_name",
            "ended_at",
            "end_reason",
            "version",
        ]
        read_only_fields = [
            "status",
            "proposed_by",
            "proposed_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "ended_by",
            "ended_at",
            "end_reason",
            "version",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # A client out of the user's scope is refused as if it did not exist (400).
            self.fields["client"].queryset = Client.objects.restrict(request.user, "view")


def _refused(exc: ValidationError) -> Response:
    if hasattr(exc, "error_dict"):
        return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
    return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST)


class GiveUpViewSet(RestrictedViewSet):
    """Give-ups of the user's scope: a branch's people their branch's, the group roles every
    branch's (R3). Filters: ``status``, ``branch``, ``reason``, ``client``, ``q``."""

    queryset = GiveUp.objects.select_related(
        "client__branch", "proposed_by", "decided_by", "ended_by"
    ).order_by("-proposed_at", "-pk")
    serializer_class = GiveUpSerializer
    filterset_class = GiveUpFilter
    ordering_fields = ["proposed_at", "decided_at"]
    http_method_names = ["get", "post", "head", "options"]
    # The steps are open to whoever may see the row; the services check the role (R37, R39).
    action_scopes = {"confirm": "view", "reject": "view", "resume": "view"}

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            obj = services.giveup_propose(
                client=data["client"], by=request.user, reason=data["reason"], note=data.get("note", "")
            )
        except ValidationError as exc:
            return _refused(exc)
        obj = self.get_queryset().model.objects.restrict(request.user, "view").get(pk=obj.pk)
        return Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED)

    def _step(self, request, input_class, call):
        obj = self.get_object()
        expected = self.expected_version()
        if expected is not None and expected != obj.version:
            return self.conflict_response(obj.pk)  # If-Match: based on a version no longer there
        data = input_class(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            call(obj, request.user, dict(data.validated_data))
        except ValidationError as exc:
            return _refused(exc)
        obj = GiveUp.objects.restrict(request.user, "view").select_related("client__branch").get(pk=obj.pk)
        return Response(self.get_serializer(obj).data)

    @extend_schema(request=NoteSerializer, responses=GiveUpSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """The branch manager confirms the proposal (optional ``note``): the client is given up."""
        return self._step(
            request, NoteSerializer, lambda o, u, d: services.giveup_confirm(give_up=o, by=u, **d)
        )

    @extend_schema(request=ReasonSerializer, responses=GiveUpSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """The branch manager rejects the proposal with a ``reason``: the client stays tracked."""
        return self._step(
            request, ReasonSerializer, lambda o, u, d: services.giveup_reject(give_up=o, by=u, **d)
        )

    @extend_schema(request=ReasonSerializer, responses=GiveUpSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """The branch manager resumes tracking of a given-up client, with a ``reason``."""
        return self._step(
            request, ReasonSerializer, lambda o, u, d: services.giveup_resume(give_up=o, by=u, **d)
        )
