"""/api/cultivation-plans/ and /api/b-evaluations/ (R42-R47): B→A cultivation.

``POST /api/cultivation-plans/`` ``{"client", "goal", "next_review_on", "measures": [{"description",
"due_on", "owner"}]}`` proposes a plan; ``PUT/PATCH`` edits its ``goal`` and ``next_review_on``
(If-Match or ``version``: 409 when stale); the steps are POST actions: ``review/``
``{"reviewed_on", "note", "done": [measure ids], "next_review_on"}``, ``measures/``
``{"description", "due_on", "owner"}``, ``close/`` ``{"reason"}``. ``POST /api/b-evaluations/``
``{"client", "outcome", "reason"}`` evaluates a B client for the current half year (promote and
demote go through the grading service, R7). Who may act is decided by the services (403 for a
missing role, 400 with a message for a refused step); plans and evaluations are never deleted."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.response import Response

from crm.api.base import RestrictedViewSet

from ..access.api.serializers import ReasonSerializer
from ..models import Client
from . import services
from .forms import EvaluationFilter, PlanFilter
from .models import BEvaluation, CultivationMeasure, CultivationPlan, CultivationReview

ID = {"min_value": 1, "max_value": 2**31 - 1}


class MeasureSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)

    class Meta:
        model = CultivationMeasure
        fields = ["id", "description", "due_on", "owner", "owner_name", "done_at", "done_by"]
        read_only_fields = fields


class MeasureInputSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=2000)
    due_on = serializers.DateField()
    owner = serializers.IntegerField(**ID)


class ReviewSerializer(serializers.ModelSerializer):
    reviewed_by_name = serializers.CharField(source="reviewed_by.display_name", read_only=True)

    class Meta:
        model = CultivationReview
        fields = [
            "id",
            "reviewed_on",
            "note",
            "reviewed_by",
            "reviewed_by_name",
            "measures_done",
            "next_review_on",
        ]
        read_only_fields = fields


class ReviewInputSerializer(serializers.Serializer):
    reviewed_on = serializers.DateField()
    note = serializers.CharField(max_length=2000)
    done = serializers.ListField(
        child=serializers.IntegerField(**ID), required=False, default=list, max_length=100
    )
    next_review_on = serializers.DateField(required=False, allow_null=True, default=None)


class PlanSerializer(serializers.ModelSerializer):
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.none())
    client_name = serializers.CharField(source="client.name", read_only=True)
    branch = serializers.IntegerField(source="client.branch_id", read_only=True)
    grade = serializers.CharField(source="client.grade", read_only=True)
    proposed_by_name = serializers.CharField(source="proposed_by.display_name", read_only=True)
    closed_by_name = serializers.CharField(source="closed_by.display_name", read_only=True, default="")
    measures = MeasureSerializer(many=True, read_only=True)
    reviews = ReviewSerializer(many=True, read_only=True)
    new_measures = MeasureInputSerializer(many=True, write_only=True, required=False, max_length=50)

    class Meta:
        model = CultivationPlan
        fields = [
            "id", "client", "client_name", "branch", "grade", "goal", "status", "proposed_by",
            "proposed_by_name", "proposed_at", "next_review_on", "closed_by", "closed_by_name", "closed_at",
            "close_reason", "measures", "reviews", "new_measures", "version",
        ]  # fmt: skip
        read_only_fields = [
            "status",
            "proposed_by",
            "proposed_at",
            "closed_by",
            "closed_at",
            "close_reason",
            "version",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # A client out of the user's scope is refused as if it did not exist (400).
            self.fields["client"].queryset = Client.objects.restrict(request.user, "view")


class PlanUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = CultivationPlan
        fields = ["goal", "next_review_on", "version"]
        read_only_fields = ["version"]


class EvaluationSerializer(serializers.ModelSerializer):
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.none())
    client_name = serializers.CharField(source="client.name", read_only=True)
    branch = serializers.IntegerField(source="client.branch_id", read_only=True)
    evaluated_by_name = serializers.CharField(source="evaluated_by.display_name", read_only=True)

    class Meta:
        model = BEvaluation
        fields = [
            "id", "client", "client_name", "branch", "half_year", "outcome", "reason", "evaluated_by",
            "evaluated_by_name", "evaluated_at", "grade_change", "plan",
        ]  # fmt: skip
        read_only_fields = ["half_year", "evaluated_by", "evaluated_at", "grade_change", "plan"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["client"].queryset = Client.objects.restrict(request.user, "view")


def _refused(exc: ValidationError) -> Response:
    if hasattr(exc, "error_dict"):
        return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
    return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST)


class CultivationPlanViewSet(RestrictedViewSet):
    """Plans of the user's scope: a branch's people their branch's, the group roles every
    branch's (R3). Filters: ``status``, ``branch``, ``client``, ``q``."""

    queryset = (
        CultivationPlan.objects.select_related("client__branch", "proposed_by", "closed_by")
        .prefetch_related("measures__owner", "reviews__reviewed_by", "reviews__measures_done")
        .order_by("-proposed_at", "-pk")
    )
    serializer_class = PlanSerializer
    filterset_class = PlanFilter
    ordering_fields = ["proposed_at", "next_review_on"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    # The steps and edits are open to whoever may see the row; the services check the role.
    action_scopes = {"review": "view", "measures": "view", "close": "view", "update": "view",
                     "partial_update": "view"}  # fmt: skip

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return PlanUpdateSerializer
        return PlanSerializer

    def _plan(self, pk):
        return (
            CultivationPlan.objects.restrict(self.request.user, "view")
            .select_related("client__branch")
            .get(pk=pk)
        )

    def create(self, request, *args, **kwargs):
        serializer = PlanSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            plan = services.cultivation_propose(
                client=data["client"],
                by=request.user,
                goal=data["goal"],
                next_review_on=data.get("next_review_on"),
                measures=[dict(m) for m in data.get("new_measures", [])],
            )
        except ValidationError as exc:
            return _refused(exc)
        return self.answer(self._plan(plan.pk), PlanSerializer, status_code=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        """R44: the edit goes through the service (the branch's people, an open plan)."""
        plan = serializer.instance
        self._check_version(plan)
        data = serializer.validated_data
        try:
            services.cultivation_update(
                plan=plan,
                by=self.request.user,
                goal=data.get("goal", plan.goal),
                next_review_on=data.get("next_review_on", plan.next_review_on),
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                raise APIValidationError(exc.message_dict) from exc
            raise APIValidationError({"detail": exc.messages}) from exc

    def _step(self, request, input_class, call):
        plan = self.get_object()
        expected = self.expected_version()
        if expected is not None and expected != plan.version:
            return self.conflict_response(plan.pk)  # If-Match: based on a version no longer there
        data = input_class(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            call(plan, request.user, dict(data.validated_data))
        except ValidationError as exc:
            return _refused(exc)
        return self.answer(self._plan(plan.pk), PlanSerializer)

    @extend_schema(request=ReviewInputSerializer, responses=PlanSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """A review: ``reviewed_on``, ``note``, the measures found ``done``, ``next_review_on``."""
        return self._step(
            request, ReviewInputSerializer, lambda p, u, d: services.cultivation_review(plan=p, by=u, **d)
        )

    @extend_schema(request=MeasureInputSerializer, responses=PlanSerializer)
    @action(detail=True, methods=["post"])
    def measures(self, request, pk=None):
        """A further measure: ``description``, ``due_on``, ``owner`` (a person of the branch)."""
        return self._step(
            request,
            MeasureInputSerializer,
            lambda p, u, d: services.cultivation_measure_add(plan=p, by=u, **d),
        )

    @extend_schema(request=ReasonSerializer, responses=PlanSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """The branch manager ends the plan without a grade change, with a ``reason``."""
        return self._step(
            request, ReasonSerializer, lambda p, u, d: services.cultivation_close(plan=p, by=u, **d)
        )


class BEvaluationViewSet(RestrictedViewSet):
    """Half-year evaluations of B clients in the user's scope. Filters: ``half_year``,
    ``outcome``, ``branch``, ``client``, ``q``."""

    queryset = BEvaluation.objects.select_related("client__branch", "evaluated_by").order_by(
        "-evaluated_at", "-pk"
    )
    serializer_class = EvaluationSerializer
    filterset_class = EvaluationFilter
    http_method_names = ["get", "post", "head", "options"]
    # Whoever may see a client may ask; the service decides who may evaluate (R46).
    action_scopes = {"create": "view"}

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            evaluation = services.b_evaluation_record(
                client=data["client"], by=request.user, outcome=data["outcome"], reason=data["reason"]
            )
        except ValidationError as exc:
            return _refused(exc)
        row = BEvaluation.objects.restrict(request.user, "view").get(pk=evaluation.pk)
        return self.answer(row, status_code=status.HTTP_201_CREATED)
