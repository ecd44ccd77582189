"""/api/access-requests/, /api/access-logs/ and /api/client-transfers/ (R4, R5).

The workflow steps are POST actions (forward/, approve/, reject/, withdraw/); who may take a
step is decided by the services, which answer 400 with a message when a step is refused.
The access log is read-only for everybody, the group roles included (R4)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from crm.access import has_global
from crm.api.base import RestrictedReadOnlyViewSet, RestrictedViewSet

from ...models import AccessLog, AccessRequest, Client
from .. import services
from ..forms import AccessLogFilter, AccessRequestFilter
from . import serializers as s


def _refused(exc: ValidationError) -> Response:
    if hasattr(exc, "error_dict"):
        return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
    return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST)


class AccessRequestViewSet(RestrictedViewSet):
    """Access requests: a branch user lists their own; group marketing, leaders and auditors
    list all. POST files one; requests are never edited or deleted, only moved by steps."""

    queryset = (
        AccessRequest.objects.select_related("requester", "branch", "grant")
        .prefetch_related("clients__branch")
        .order_by("-created_at", "-pk")
    )
    serializer_class = s.AccessRequestSerializer
    filterset_class = AccessRequestFilter
    ordering_fields = ["created_at", "ends_on", "status"]
    # A request is a record of what was asked and decided, moved only by its steps: never
    # edited or deleted (405, and the schema offers neither).
    http_method_names = ["get", "post", "head", "options"]
    # The steps are open to whoever may see the request; the services check the role (R5).
    action_scopes = {"forward": "view", "approve": "view", "reject": "view", "withdraw": "view"}

    def get_queryset(self):
        qs = super().get_queryset()
        user = self.request.user
        if self.action == "list" and not has_global(user, AccessRequest, "view"):
            qs = qs.filter(requester=user)  # a branch user's list: their own requests
        return qs

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            obj = services.access_request_create(
                requester=request.user,
                clients=data["clients"],
                reason=data["reason"],
                ends_on=data["ends_on"],
            )
        except ValidationError as exc:
            return _refused(exc)
        obj = AccessRequest.objects.restrict(request.user, "view").get(pk=obj.pk)
        return self.answer(obj, status_code=status.HTTP_201_CREATED)

    def _step(self, request, input_class, call):
        obj = self.get_object()
        data = input_class(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            call(obj, request.user, dict(data.validated_data))
        except ValidationError as exc:
            return _refused(exc)
        obj = AccessRequest.objects.restrict(request.user, "view").get(pk=obj.pk)
        return self.answer(obj)

    @extend_schema(request=s.NoteSerializer, responses=s.AccessRequestSerializer)
    @action(detail=True, methods=["post"])
    def forward(self, request, pk=None):
        """Group marketing: reviewed, pass to the group leaders (optional ``note``)."""
        return self._step(
            request,
            s.NoteSerializer,
            lambda o, u, d: services.access_request_forward(access_request=o, by=u, **d),
        )

    @extend_schema(request=s.NoteSerializer, responses=s.AccessRequestSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """A group leader: approve (optional ``note``); writes the grant."""
        return self._step(
            request,
            s.NoteSerializer,
            lambda o, u, d: services.access_request_approve(access_request=o, by=u, **d),
        )

    @extend_schema(request=s.ReasonSerializer, responses=s.AccessRequestSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Group marketing (at review) or a group leader (at approval): reject with ``reason``."""
        return self._step(
            request,
            s.ReasonSerializer,
            lambda o, u, d: services.access_request_reject(access_request=o, by=u, **d),
        )

    @extend_schema(request=None, responses=s.AccessRequestSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """The requester takes back an open request."""
        return self._step(
            request,
            s.NoteSerializer,
            lambda o, u, d: services.access_request_withdraw(access_request=o, by=u),
        )


class AccessLogViewSet(RestrictedReadOnlyViewSet):
    """The access log (R4): read-only, for group marketing and auditors (view_accesslog)."""

    queryset = AccessLog.objects.select_related("user", "user_branch", "client__branch").order_by(
        "-at", "-pk"
    )
    serializer_class = s.AccessLogSerializer
    filterset_class = AccessLogFilter
    ordering_fields = ["at"]


class ClientTransferViewSet(RestrictedViewSet):
    """POST /api/client-transfers/ ``{"client", "to_branch", "reason", "owner"?}``: group
    marketing moves a client to another branch; access follows the branch (no permission rows
    are rewritten). Answers the client's id and its old and new branch."""

    queryset = Client.objects.order_by("pk")  # restricted in initial(); the row is re-read for "change"
    serializer_class = s.ClientTransferSerializer
    http_method_names = ["post", "options"]
    action_scopes = {"create": "change"}

    def create(self, request, *args, **kwargs):
        if not services.is_marketing(request.user):
            raise PermissionDenied(_("只有集团市场营销部可以转移客户。"))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        from_branch = data["client"].branch_id
        try:
            client = services.client_transfer(
                client=data["client"], to_branch=data["to_branch"], by=request.user, reason=data["reason"],
                owner=data.get("owner"),
            )  # fmt: skip
        except ValidationError as exc:
            return _refused(exc)
        return Response(
            {
                "client": client.pk,
                "from_branch": from_branch,
                "to_branch": client.branch_id,
                "owner": client.owner_id,
            },
            status=status.HTTP_201_CREATED,
        )
