"""/api/improvement-plans/ (R102-R108): improvement plans per priority dimension.

``POST /api/improvement-plans/`` ``{"template", "year", "dimension", "branch" (empty: the group's
plan), "goal", "new_measures": [{"description", "client_group", "due_on", "department",
"owner"}]}`` makes a plan from the matrix; the steps are POST actions: ``measures/``
``{"description", "client_group", "due_on", "department", "owner"}``, ``complete/``
``{"measure", "evidence"}``, ``close/`` ``{"note"}``. Each plan carries its ``effect`` (before,
after, target, result). Who may act is decided by the services (403 for a missing role, 400
with a message for a refused step); plans are never deleted or edited in place."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api.base import RestrictedViewSet
from crm.models import Branch

from ..models import Dimension, SurveyTemplate
from . import services
from .forms import PlanFilter
from .models import ClientGroup, ImprovementMeasure, ImprovementPlan

ID = {"min_value": 1, "max_value": 2**31 - 1}


class ImprovementMeasureSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = ImprovementMeasure
        fields = ["id", "description", "client_group", "due_on", "department", "owner", "owner_name",
                  "done_at", "done_by", "evidence", "overdue"]  # fmt: skip
        read_only_fields = fields

    def get_overdue(self, measure) -> bool:
        from django.utils import timezone

        return measure.plan.is_open and not measure.is_done and measure.due_on < timezone.localdate()


class ImprovementMeasureInputSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=2000)
    client_group = serializers.ChoiceField(
        choices=ClientGroup.choices, required=False, default=ClientGroup.ALL
    )
    due_on = serializers.DateField()
    department = serializers.CharField(max_length=50)
    owner = serializers.IntegerField(**ID)


class ImprovementCompleteInputSerializer(serializers.Serializer):
    measure = serializers.IntegerField(**ID)
    evidence = serializers.CharField(max_length=2000)


class ImprovementCloseInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ImprovementEffectSerializer(serializers.Serializer):
    campaign = serializers.IntegerField(source="campaign.pk", allow_null=True, default=None)
    before = serializers.FloatField()
    before_answers = serializers.IntegerField()
    after = serializers.FloatField(allow_null=True)
    after_answers = serializers.IntegerField()
    target = serializers.FloatField()
    final = serializers.BooleanField()
    result = serializers.CharField()


class ImprovementPlanSerializer(serializers.ModelSerializer):
    template = serializers.PrimaryKeyRelatedField(queryset=SurveyTemplate.objects.none())
    dimension = serializers.PrimaryKeyRelatedField(queryset=Dimension.objects.none())
    branch = serializers.PrimaryKeyRelatedField(
        queryset=Branch.objects.none(), required=False, allow_null=True
    )
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    dimension_name = serializers.CharField(source="dimension.name", read_only=True)
    measures = ImprovementMeasureSerializer(many=True, read_only=True)
    new_measures = ImprovementMeasureInputSerializer(
        many=True, write_only=True, required=False, max_length=50
    )
    effect = serializers.SerializerMethodField()
    # R107: "" while the plan is open, else the result it closed with.
    result = serializers.ChoiceField(
        choices=[("", gettext_lazy("未关闭")), *ImprovementPlan.Result.choices],
        read_only=True,
        allow_blank=True,
    )

    class Meta:
        model = ImprovementPlan
        fields = [
            "id", "branch", "template", "year", "dimension", "dimension_name", "quadrant", "goal", "before_rate",
            "before_answers", "target", "status", "created_by", "created_at", "after_campaign", "after_rate",
            "after_answers", "result", "close_note", "closed_by", "closed_at", "measures", "new_measures", "effect",
        ]  # fmt: skip
        # One open plan per dimension is the service's rule (R102), checked after the role.
        validators = []
        read_only_fields = [
            "quadrant", "before_rate", "before_answers", "target", "status", "created_by", "created_at",
            "after_campaign", "after_rate", "after_answers", "result", "close_note", "closed_by", "closed_at",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # Out of the user's scope: refused as if it did not exist (400).
            self.fields["template"].queryset = SurveyTemplate.objects.restrict(request.user, "view")
            self.fields["dimension"].queryset = Dimension.objects.restrict(request.user, "view")
            self.fields["branch"].queryset = Branch.objects.restrict(request.user, "view")

    @extend_schema_field(ImprovementEffectSerializer)
    def get_effect(self, plan) -> dict:
        known = self.context.get("effects") or {}
        return ImprovementEffectSerializer(known.get(plan.pk) or services.effect(plan)).data


def _refused(exc: ValidationError) -> Response:
    if hasattr(exc, "error_dict"):
        return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
    return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST)


class ImprovementPlanViewSet(RestrictedViewSet):
    """Plans of the user's scope: a branch's people their branch's, the group roles every plan
    (the group's plans too). Filters: ``status``, ``branch``, ``group``, ``dimension`` (code),
    ``year``, ``overdue``, ``q``."""

    queryset = (
        ImprovementPlan.objects.select_related("branch", "dimension", "template", "after_campaign")
        .prefetch_related("measures__owner", "measures__plan")
        .order_by("-created_at", "-pk")
    )
    serializer_class = ImprovementPlanSerializer
    filterset_class = PlanFilter
    ordering_fields = ["created_at", "before_rate"]
    http_method_names = ["get", "post", "head", "options"]
    # The steps are open to whoever may see the plan; the services check the role (R102-R107).
    action_scopes = {"create": "view", "measures": "view", "complete": "view", "close": "view"}

    def paginate_queryset(self, queryset):
        """A page's effects in a few queries (R106), not two per plan."""
        page = super().paginate_queryset(queryset)
        self._effects = services.effects(page if page is not None else queryset)
        return page

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "effects": getattr(self, "_effects", None)}

    def _plan(self, pk):
        return self.queryset.model.objects.restrict(self.request.user, "view").get(pk=pk)

    def create(self, request, *args, **kwargs):
        serializer = ImprovementPlanSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            plan = services.improvement_plan_create(
                by=request.user,
                template=data["template"],
                year=data["year"],
                dimension=data["dimension"],
                branch=data.get("branch"),
                goal=data.get("goal", ""),
                measures=[dict(m) for m in data.get("new_measures", [])],
            )
        except ValidationError as exc:
            return _refused(exc)
        return self.answer(
            self._plan(plan.pk), ImprovementPlanSerializer, status_code=status.HTTP_201_CREATED
        )

    def _step(self, request, input_class, call):
        plan = self.get_object()
        data = input_class(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            call(plan, request.user, dict(data.validated_data))
        except ValidationError as exc:
            return _refused(exc)
        return self.answer(self._plan(plan.pk), ImprovementPlanSerializer)

    @extend_schema(request=ImprovementMeasureInputSerializer, responses=ImprovementPlanSerializer)
    @action(detail=True, methods=["post"])
    def measures(self, request, pk=None):
        """A further measure: ``description``, ``client_group``, ``due_on``, ``department``, ``owner``."""
        return self._step(
            request,
            ImprovementMeasureInputSerializer,
            lambda p, u, d: services.improvement_measure_add(plan=p, by=u, **d),
        )

    @extend_schema(request=ImprovementCompleteInputSerializer, responses=ImprovementPlanSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """A measure done: ``measure`` (its id) and ``evidence`` (what was done)."""
        return self._step(
            request,
            ImprovementCompleteInputSerializer,
            lambda p, u, d: services.improvement_measure_complete(plan=p, by=u, **d),
        )

    @extend_schema(request=ImprovementCloseInputSerializer, responses=ImprovementPlanSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close the plan with the next campaign's result, and a ``note``."""
        return self._step(
            request,
            ImprovementCloseInputSerializer,
            lambda p, u, d: services.improvement_plan_close(plan=p, by=u, **d),
        )
