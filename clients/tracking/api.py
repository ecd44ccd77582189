"""/api/need-ledger-entries/, /api/need-checks/ and /api/need-check-findings/ (R70-R73).

The ledger is read-only: every need of the user's scope with its steps' times, its owner, its
state and its lateness at each checkpoint (``response_state``, ``handling_state``,
``working_days_open``), with the page's filters (``branch``, ``owner``, ``status``, ``overdue``
= response | handling | any, ``week`` = ``2026-W50``, ``q``). The checks and their findings
are read-only too (made by the weekly job); ``POST /api/need-check-findings/<id>/remark/``
``{"remark"}`` records the 协调解决 of a finding (the branch manager; If-Match or ``version``:
409 when stale)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api.base import NoCollectionPost, RestrictedReadOnlyViewSet, RestrictedViewSet
from crm.models import StaleVersion

from ..access.log import AccessLoggedMixin
from ..models import Need
from . import services
from .forms import CheckFilter, FindingFilter, LedgerFilter
from .models import NeedCheck, NeedCheckFinding
from .selectors import HANDLING_STATES, RESPONSE_STATES, Clock


class NeedLedgerEntrySerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)
    branch = serializers.IntegerField(source="client.branch_id", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    rating = serializers.ChoiceField(choices=Need.Rating.choices, read_only=True, allow_blank=True)
    response_state = serializers.ChoiceField(choices=list(RESPONSE_STATES.items()), read_only=True)
    handling_state = serializers.ChoiceField(choices=list(HANDLING_STATES.items()), read_only=True)
    working_days_open = serializers.IntegerField(read_only=True)

    class Meta:
        model = Need
        fields = [
            "id", "client", "client_name", "branch", "description", "urgency", "owner", "owner_name", "status",
            "received_at", "response_due_at", "responded_at", "response_state", "closed_at", "handling_state",
            "working_days_open", "rated_at", "rating",
        ]  # fmt: skip
        read_only_fields = fields


class NeedLedgerViewSet(AccessLoggedMixin, RestrictedReadOnlyViewSet):
    """R70: the tracking ledger (需求跟踪台账). Reads of another branch's needs (under a grant)
    are logged (R4)."""

    queryset = Need.objects.select_related("client", "client__branch", "owner")
    serializer_class = NeedLedgerEntrySerializer
    filterset_class = LedgerFilter
    ordering_fields = ["received_at", "response_due_at"]
    ordering = ["-received_at", "-pk"]

    @property
    def clock(self) -> Clock:
        if getattr(self, "_clock", None) is None:
            self._clock = Clock()
        return self._clock

    def get_serializer(self, *args, **kwargs):
        if args and isinstance(args[0], Need):
            self.clock.annotate([args[0]])
        elif args and kwargs.get("many"):
            args = (self.clock.annotate(args[0]), *args[1:])
        return super().get_serializer(*args, **kwargs)

    def get_queryset(self):
        return super().get_queryset().order_by(*self.ordering)

    def filter_queryset(self, queryset):
        # The filter's overdue choice reads the same moment as the rows' states.
        self.request.clock = self.clock
        return super().filter_queryset(queryset)


class NeedCheckFindingSerializer(serializers.ModelSerializer):
    week = serializers.CharField(source="need_check.week", read_only=True)
    branch = serializers.IntegerField(source="need_check.branch_id", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    remarked_by_name = serializers.CharField(source="remarked_by.display_name", read_only=True, default="")

    class Meta:
        model = NeedCheckFinding
        fields = [
            "id", "need_check", "week", "branch", "need", "client_name", "description", "owner", "owner_name",
            "urgency", "status", "received_at", "response_due_at", "responded_at", "response_overdue",
            "open_too_long", "working_days_open", "remark", "remarked_by", "remarked_by_name", "remarked_at",
        ]  # fmt: skip
        read_only_fields = fields


class NeedCheckSerializer(serializers.ModelSerializer):
    branch_name = serializers.CharField(source="branch.name", read_only=True)
    found = serializers.IntegerField(read_only=True)
    remarked = serializers.IntegerField(read_only=True)

    class Meta:
        model = NeedCheck
        fields = [
            "id", "branch", "branch_name", "week", "week_start", "as_of", "made_at", "caught_up", "open_count",
            "open_days", "found", "remarked", "notified_at",
        ]  # fmt: skip
        read_only_fields = fields


class NeedCheckViewSet(RestrictedReadOnlyViewSet):
    """R71: the weekly checks of the user's scope (a branch's people: their branch's; the group
    roles: every branch's), latest first; ``found`` and ``remarked`` count its findings.
    Filters: ``branch``, ``week``. The findings: ``/api/need-check-findings/?need_check=<id>``."""

    queryset = NeedCheck.objects.select_related("branch").annotate(
        found=Count("findings", distinct=True),
        remarked=Count("findings", filter=~Q(findings__remark=""), distinct=True),
    )
    serializer_class = NeedCheckSerializer
    filterset_class = CheckFilter
    ordering = ["-week_start", "branch__sort_order", "branch__code"]

    def get_queryset(self):
        return super().get_queryset().order_by(*self.ordering)


class NeedCheckRemarkSerializer(serializers.Serializer):
    remark = serializers.CharField(max_length=2000)


class NeedCheckFindingViewSet(NoCollectionPost, RestrictedViewSet):
    """R71, R73: the findings of the checks in the user's scope whose need the user may read
    (R4, R33). Filters: ``need_check``, ``branch``, ``owner``, ``reason`` (response | handling),
    ``remarked`` (yes | no). ``remark`` records the 协调解决 (the branch manager: 403 for anyone
    else; 400 for an empty one; 409 for a stale If-Match)."""

    queryset = NeedCheckFinding.objects.select_related("need_check", "owner", "remarked_by")
    serializer_class = NeedCheckFindingSerializer
    filterset_class = FindingFilter
    http_method_names = ["get", "post", "head", "options"]
    # Whoever may read the finding may ask; the service decides who may remark (R73).
    action_scopes = {"remark": "view"}
    ordering = ["-need_check__week_start", "owner__username", "received_at", "pk"]

    def get_queryset(self):
        visible = Need.objects.restrict(self.request.user, "view").values("pk")
        return (
            super().get_queryset().filter(Q(need__isnull=True) | Q(need__in=visible)).order_by(*self.ordering)
        )

    @extend_schema(request=NeedCheckRemarkSerializer, responses=NeedCheckFindingSerializer)
    @action(detail=True, methods=["post"])
    def remark(self, request, pk=None):
        finding = self.get_object()
        expected = self.expected_version()
        if expected is not None and expected != finding.version:
            return self.conflict_response(finding.pk)
        data = NeedCheckRemarkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.need_check_remark(
                finding=finding,
                by=request.user,
                remark=data.validated_data["remark"],
                expected_version=expected,
            )
        except StaleVersion:
            return self.conflict_response(finding.pk)
        except ValidationError as exc:
            body = exc.message_dict if hasattr(exc, "error_dict") else {"detail": " ".join(exc.messages)}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return self.answer(self.get_queryset().get(pk=finding.pk))
