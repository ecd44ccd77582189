"""/api/complaints/: the complaint resource and its workflow steps as actions (R16).
A refused step answers 400 with the service's message; nothing changes."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound

from clients.access.log import AccessLoggedMixin
from clients.models import Client
from crm.api.base import RestrictedViewSet

from .. import services
from ..filters import ComplaintFilter
from ..models import Complaint, Event, HandOver, ReturnVisit
from . import serializers as s

STEP_ACTIONS = ("acknowledge", "hand_over", "investigate", "resolve", "return_visit", "close", "reopen")


class ComplaintViewSet(AccessLoggedMixin, RestrictedViewSet):
    """Complaints in the user's scope (restrict). POST logs one (the caller becomes its
    first-receiver owner, R15); PATCH corrects its facts; steps are POST actions."""

    queryset = (
        Complaint.objects.select_related("client", "owner")
        .prefetch_related(Prefetch("return_visits", queryset=ReturnVisit.objects.order_by("sequence")))
        .order_by("-received_at", "-pk")
    )
    serializer_class = s.ComplaintSerializer
    filterset_class = ComplaintFilter
    ordering_fields = ["received_at", "acknowledge_due_at", "resolve_due_at", "severity", "status"]
    # A complaint is part of the client's archive (R19): it is never deleted (no DELETE: 405,
    # and the schema does not offer one).
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_scopes = {name: "change" for name in STEP_ACTIONS}

    def get_serializer_class(self):
        if self.action == "retrieve":
            return s.ComplaintDetailSerializer
        return super().get_serializer_class()

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action == "retrieve":
            qs = qs.prefetch_related(
                Prefetch("events", queryset=Event.objects.order_by("at", "pk")),
                Prefetch("handovers", queryset=HandOver.objects.order_by("at", "pk")),
            )
        return qs

    @extend_schema(
        responses={
            201: s.ComplaintSerializer,
            404: OpenApiResponse(
                OpenApiTypes.OBJECT, description="The client is absent or outside the user's scope."
            ),
        }
    )
    def create(self, request, *args, **kwargs):
        # A complaint for a client outside the user's scope: 404, as for the page.
        # (A body that is not an object, JSON ``false`` say, is the serializer's 400.)
        client_id = request.data.get("client") if isinstance(request.data, dict) else None
        if client_id not in (None, ""):
            try:
                client_id = int(client_id)
            except (TypeError, ValueError):
                client_id = None
            if (
                client_id is not None
                and not Client.objects.restrict(request.user, "view").filter(pk=client_id).exists()
            ):
                raise NotFound(_("客户不存在或不在您的权限范围内。"))
        return super().create(request, *args, **kwargs)

    def _step(self, request, input_class, call):
        complaint = self.get_object()
        data = input_class(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            call(complaint, dict(data.validated_data))
        except ValidationError:
            raise
        complaint = self.get_queryset().get(pk=complaint.pk)
        return self.answer(complaint, s.ComplaintSerializer)

    @extend_schema(request=s.NoteInput, responses=s.ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._step(
            request,
            s.NoteInput,
            lambda c, d: services.complaint_acknowledge(complaint=c, by=request.user, **d),
        )

    @extend_schema(request=s.HandOverInput, responses=s.ComplaintSerializer)
    @action(detail=True, methods=["post"], url_path="hand-over")
    def hand_over(self, request, pk=None):
        def call(c, d):
            to = services.hand_over_candidates(c).filter(pk=d["to"]).first()
            if to is None:
                raise ValidationError(
                    {"to": _("只能移交给本分公司的在职人员或集团市场营销部(不能是当前负责人)。")}
                )
            services.complaint_hand_over(complaint=c, by=request.user, to=to, reason=d["reason"])

        return self._step(request, s.HandOverInput, call)

    @extend_schema(request=s.NoteInput, responses=s.ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def investigate(self, request, pk=None):
        return self._step(
            request,
            s.NoteInput,
            lambda c, d: services.complaint_investigate(complaint=c, by=request.user, **d),
        )

    @extend_schema(request=s.ResolveInput, responses=s.ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._step(
            request,
            s.ResolveInput,
            lambda c, d: services.complaint_resolve(complaint=c, by=request.user, **d),
        )

    @extend_schema(request=s.ReturnVisitInput, responses=s.ComplaintSerializer)
    @action(detail=True, methods=["post"], url_path="return-visit")
    def return_visit(self, request, pk=None):
        return self._step(
            request,
            s.ReturnVisitInput,
            lambda c, d: services.complaint_return_visit(complaint=c, by=request.user, **d),
        )

    @extend_schema(request=s.NoteInput, responses=s.ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._step(
            request, s.NoteInput, lambda c, d: services.complaint_close(complaint=c, by=request.user, **d)
        )

    @extend_schema(request=s.ReopenInput, responses=s.ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._step(
            request, s.ReopenInput, lambda c, d: services.complaint_reopen(complaint=c, by=request.user, **d)
        )
