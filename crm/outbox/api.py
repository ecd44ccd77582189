"""The outbox's API (R114, R112, R113): deliveries (list, detail, re-send one, re-send the
selected) for administrators; each person's own preferences (language, channel per kind)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.errors import Conflict
from crm.api.schema import answers
from crm.models import Delivery

from . import services
from .access import is_administrator
from .filters import DeliveryFilter
from .kinds import KINDS

NOT_ADMIN = "Only administrators see deliveries."


class DeliverySerializer(serializers.ModelSerializer):
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    title = serializers.CharField(source="notice.title", read_only=True)
    verb = serializers.CharField(source="notice.verb", read_only=True)
    url = serializers.CharField(source="notice.url", read_only=True)

    class Meta:
        model = Delivery
        ref_name = "OutboxDelivery"
        fields = ["id", "notice", "verb", "title", "url", "channel", "target", "recipient", "state",
                  "state_label", "attempts", "last_error", "next_attempt_at", "sent_at", "created_at"]  # fmt: skip
        read_only_fields = fields


class ResendSelectedSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), max_length=200, allow_empty=False
    )

    class Meta:
        ref_name = "OutboxResendSelected"


class ResendSelectedResultSerializer(serializers.Serializer):
    resent = serializers.IntegerField(
        help_text="how many of the given deliveries were failed and are re-sent"
    )

    class Meta:
        ref_name = "OutboxResendSelectedResult"


class IsAdministrator(permissions.BasePermission):
    message = NOT_ADMIN

    def has_permission(self, request, view):
        return is_administrator(request.user)


class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Deliveries of notices, newest first, for administrators (``restrict``): filter by
    ``state`` (``failed``), ``channel``, ``recipient``, ``date_from``/``date_to``, ``search``;
    ``resend`` sends a failed one again (409 when it is not failed)."""

    permission_classes = [permissions.IsAuthenticated, IsAdministrator]
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter
    ordering_fields = ["created_at", "state", "channel"]
    queryset = Delivery.objects.none()  # for the schema; the rows come from get_queryset

    def get_queryset(self):
        return (
            Delivery.objects.restrict(self.request.user, "view")
            .select_related("notice")
            .order_by("-created_at", "-pk")
        )

    @extend_schema(
        request=None,
        responses={
            **answers(DeliverySerializer, forbidden=NOT_ADMIN, not_found="No such delivery."),
            409: OpenApiResponse(description="The delivery is not failed (sent, or re-sent already)."),
        },
    )
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        """Send a failed delivery again (fresh attempts; the worker sends it)."""
        try:
            row = services.delivery_resend(delivery=self.get_object(), by=request.user)
        except services.NotResendable as exc:
            raise Conflict(" ".join(exc.messages)) from exc
        return Response(self.get_serializer(row).data)

    @extend_schema(
        request=ResendSelectedSerializer,
        responses=answers(ResendSelectedResultSerializer, forbidden=NOT_ADMIN, refused="Bad ids."),
    )
    @action(detail=False, methods=["post"], url_path="resend-selected")
    def resend_selected(self, request):
        """Send the failed ones among the given deliveries again; the others are left alone."""
        data = ResendSelectedSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rows = list(self.get_queryset().filter(pk__in=data.validated_data["ids"]))
        return Response({"resent": services.deliveries_resend(deliveries=rows, by=request.user)})


class PreferencesSerializer(serializers.Serializer):
    language = serializers.ChoiceField(
        choices=["", "zh-hans", "en"],
        required=False,
        allow_blank=True,
        help_text="blank: the default (zh-hans)",
    )
    modes = serializers.DictField(
        child=serializers.ChoiceField(choices=["app", "email", "digest"]),
        required=False,
        help_text="kind of notice -> app (in the app only), email, digest; kinds: " + ", ".join(KINDS),
    )

    class Meta:
        ref_name = "OutboxPreferences"


class PreferencesView(APIView):
    """The signed-in person's own language and, per kind of notice, how it reaches them
    (mandatory notices always go in the app and by e-mail)."""

    permission_classes = [permissions.IsAuthenticated]

    def _answer(self, user):
        return Response({"language": user.language, "modes": services.preferences_of(user)})

    @extend_schema(responses={200: PreferencesSerializer})
    def get(self, request):
        return self._answer(request.user)

    @extend_schema(
        request=PreferencesSerializer,
        responses={
            200: PreferencesSerializer,
            400: OpenApiResponse(description="An unknown language, kind or mode."),
        },
    )
    def patch(self, request):
        data = PreferencesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.preferences_set(
            user=request.user,
            language=data.validated_data.get("language"),
            modes=data.validated_data.get("modes"),
        )
        return self._answer(request.user)
