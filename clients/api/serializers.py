"""API serializers of the archive (design.md "The API"). Writes go through services.py; every
foreign key in a payload is validated against the user's ``restrict`` scope (out of scope:
400, as if it did not exist)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.api.fields import BlankChoices
from crm.models import Branch, ProjectDepartment

from .. import grading, services
from ..forms import branch_choices
from ..models import Client, Contact, FeeSettlement, Need, NeedConflict, Project, Tag, Visit, VisitPlan
from ..projects import services as project_fees


def _django_errors(error: DjangoValidationError):
    if hasattr(error, "message_dict"):
        return serializers.ValidationError(error.message_dict)
    return serializers.ValidationError({"detail": error.messages})


class ScopedMixin:
    """Restrict the querysets of related fields to what the requesting user may use."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        for name, field in self.fields.items():
            scoper = getattr(self, f"scope_{name}", None)
            if scoper is not None and isinstance(field, serializers.RelatedField) and user is not None:
                field.queryset = scoper(user)
            elif scoper is not None and isinstance(field, serializers.ManyRelatedField) and user is not None:
                field.child_relation.queryset = scoper(user)

    @property
    def user(self):
        return self.context["request"].user


def _users_of(branches):
    return get_user_model().objects.filter(branch__in=branches, is_active=True)


class ClientSerializer(ScopedMixin, serializers.ModelSerializer):
    branch = serializers.PrimaryKeyRelatedField(queryset=Branch.objects.none())
    owner = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.none(), required=False)
    department = serializers.PrimaryKeyRelatedField(
        queryset=ProjectDepartment.objects.none(), required=False, allow_null=True
    )
    tags = serializers.SlugRelatedField(
        slug_field="name", many=True, queryset=Tag.objects.all(), required=False
    )
    branch_name = serializers.CharField(source="branch.name", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    suggested_grade = serializers.SerializerMethodField()
    # R10: "save anyway" for a similar name: the ``similar_token`` of the 400 that warned.
    similar_token = serializers.CharField(write_only=True, required=False, allow_blank=True, default="")

    class Meta:
        model = Client
        fields = [
            "id",
            "name",
            "credit_code",
            "branch",
            "branch_name",
            "department",
            "grade",
            "suggested_grade",
            "graded_at",
            "stage",
            "owner",
            "owner_name",
            "org_type",
            "industry",
            "address",
            "phone",
            "email",
            "parent_company",
            "tags",
            "integrity_good",
            "integrity_bad",
            "credit_good",
            "social_value",
            "near_term_need",
            "demanding",
            "low_profit_complex",
            "poor_reputation",
            "company_problems",
            "under_observation",
            "tracking",
            "design_value",
            "time_value",
            "service_value",
            "evaluation_of_us",
            "our_evaluation",
            "assessment_result",
            "needs_collected_on",
            "remarks",
            "created_at",
            "updated_at",
            "similar_token",
        ]
        read_only_fields = [
            "grade",
            "graded_at",
            "needs_collected_on",
            "tracking",
            "created_at",
            "updated_at",
        ]
        # Duplicates are checked by the service (R10) with a proper message and link.
        validators = []
        extra_kwargs = {"credit_code": {"validators": Client._meta.get_field("credit_code").validators}}

    def scope_branch(self, user):
        return branch_choices(user, "change" if self.instance is not None else "add")

    def scope_owner(self, user):
        return _users_of(self.scope_branch(user))

    def scope_department(self, user):
        return ProjectDepartment.objects.filter(branch__in=self.scope_branch(user))

    def get_suggested_grade(self, obj) -> str:
        return grading.suggest_grade(obj)[0]

    def _save(self, fn, **kwargs):
        try:
            return fn(**kwargs)
        except services.DuplicateCreditCode as error:
            detail = {"credit_code": error.messages}
            if error.duplicate.url:
                detail["duplicate"] = {"id": error.duplicate.client.pk, "url": error.duplicate.url}
            else:
                detail["duplicate"] = {"branch": error.duplicate.branch_name}
            raise serializers.ValidationError(detail) from error
        except services.SimilarNameWarning as warning:
            raise serializers.ValidationError(
                {
                    "name": [
                        _("%(warning)s 如确认不是同一客户,请带上 similar_token 重新提交。")
                        % {"warning": warning}
                    ],
                    "similar": [
                        {"id": d.client.pk if d.url else None, "name": d.client.name, "branch": d.branch_name}
                        for d in warning.duplicates
                    ],
                    "similar_token": warning.token,
                }
            ) from warning
        except DjangoValidationError as error:
            raise _django_errors(error) from error

    def create(self, validated_data):
        tags = validated_data.pop("tags", ())
        token = validated_data.pop("similar_token", "")
        return self._save(
            services.client_create, by=self.user, data=validated_data, tags=tags, similar_token=token
        )

    def update(self, instance, validated_data):
        tags = validated_data.pop("tags", None)
        token = validated_data.pop("similar_token", "")
        return self._save(
            services.client_update,
            client=instance,
            by=self.user,
            data=validated_data,
            tags=tags,
            similar_token=token,
        )


class SetGradeSerializer(serializers.Serializer):
    grade = serializers.ChoiceField(choices=["A", "B", "C"])
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class _ClientChild(ScopedMixin, serializers.ModelSerializer):
    """A row that belongs to a client: the client must be one the user may change."""

    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.none())

    def scope_client(self, user):
        return Client.objects.restrict(user, "change")

    def _call(self, fn, **kwargs):
        try:
            return fn(**kwargs)
        except DjangoValidationError as error:
            raise _django_errors(error) from error


class ContactSerializer(_ClientChild):
    class Meta:
        model = Contact
        fields = [
            "id",
            "client",
            "name",
            "position",
            "phone",
            "email",
            "social_relations",
            "is_primary",
            "notes",
        ]

    def create(self, validated_data):
        return self._call(services.contact_save, contact=Contact(**validated_data), by=self.user)

    def update(self, instance, validated_data):
        for k, v in validated_data.items():
            setattr(instance, k, v)
        return self._call(services.contact_save, contact=instance, by=self.user)


class ProjectSerializer(_ClientChild):
    branch = serializers.PrimaryKeyRelatedField(queryset=Branch.objects.none())
    fee_collected = serializers.SerializerMethodField()
    fee_outstanding = serializers.SerializerMethodField()
    # R56, R58: "" while not settled, else how it was settled.
    fee_settlement = serializers.ChoiceField(
        choices=[("", gettext_lazy("未结清")), *FeeSettlement.choices], read_only=True, allow_blank=True
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "client",
            "branch",
            "department",
            "name",
            "code",
            "project_type",
            "phase",
            "manager_name",
            "contract_value",
            "cost",
            "profit",
            "signed_on",
            "started_on",
            "completed_on",
            "warranty_ends_on",
            "is_key",
            "design_fee",
            "fee_collected",
            "fee_outstanding",
            "fee_settled_on",
            "fee_settlement",
            "fee_settlement_note",
            "fee_settled_by",
        ]
        read_only_fields = ["fee_settled_on", "fee_settlement", "fee_settlement_note", "fee_settled_by"]

    @extend_schema_field(serializers.DecimalField(max_digits=16, decimal_places=2))
    def get_fee_collected(self, obj) -> str:
        """R56: the sum of the project's collections."""
        value = getattr(obj, "fee_collected", None)
        if value is None:
            value = project_fees.collected(obj)
        return f"{value:.2f}"

    @extend_schema_field(serializers.DecimalField(max_digits=16, decimal_places=2))
    def get_fee_outstanding(self, obj) -> str:
        """R56: the fee less what was collected (0 once settled)."""
        if obj.fee_settlement:
            return "0.00"
        value = getattr(obj, "fee_outstanding", None)
        if value is None:
            value = project_fees.outstanding(obj)
        return f"{max(value, 0):.2f}"

    def scope_branch(self, user):
        return branch_choices(user, "change" if self.instance is not None else "add")

    def create(self, validated_data):
        return self._call(services.project_save, project=Project(**validated_data), by=self.user)

    def update(self, instance, validated_data):
        for k, v in validated_data.items():
            setattr(instance, k, v)
        return self._call(services.project_save, project=instance, by=self.user)


class NeedSerializer(BlankChoices, _ClientChild):
    owner = serializers.PrimaryKeyRelatedField(read_only=True)
    # R48: blank until the client rates (set by the rate step, never by an edit).
    rating = serializers.ChoiceField(choices=Need.Rating.choices, read_only=True, allow_blank=True)
    rating_channel = serializers.ChoiceField(
        choices=Need.RatingChannel.choices, read_only=True, allow_blank=True
    )
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Need
        fields = [
            "id",
            "client",
            "project",
            "category",
            "origin",
            "urgency",
            "is_functional",
            "source_channel",
            "description",
            "feasibility",
            "value_assessment",
            "owner",
            "status",
            "received_at",
            "response_due_at",
            "due_provisional",
            "responded_at",
            "closed_at",
            "response_note",
            "is_overdue",
            "rating",
            "rating_comment",
            "rating_respondent",
            "rating_channel",
            "rated_at",
            "assessment_note",
            "assessed_by",
            "assessed_at",
            "merged_into",
            "merged_at",
        ]
        read_only_fields = [
            "status",
            "response_due_at",
            "due_provisional",
            "responded_at",
            "closed_at",
            "rating",
            "rating_comment",
            "rating_respondent",
            "rating_channel",
            "rated_at",
            "assessed_by",
            "assessed_at",
            "merged_into",
            "merged_at",
        ]

    def scope_project(self, user):
        return Project.objects.restrict(user, "view")

    def validate(self, attrs):
        project, client = attrs.get("project"), attrs.get("client") or getattr(self.instance, "client", None)
        if project and client and project.client_id != client.pk:
            raise serializers.ValidationError({"project": [_("该项目不属于所选客户。")]})
        return attrs

    def create(self, validated_data):
        return self._call(services.need_create, need=Need(**validated_data), by=self.user)

    def update(self, instance, validated_data):
        for k, v in validated_data.items():
            setattr(instance, k, v)
        return self._call(services.need_update, need=instance, by=self.user)


class NeedAssessSerializer(serializers.Serializer):
    """R50: the classification and assessment; what is left out stays as it is. Send the version
    it is based on as ``If-Match`` (or ``version``): a stale one answers 409."""

    urgency = serializers.ChoiceField(choices=Need.Urgency.choices, required=False)
    is_functional = serializers.BooleanField(required=False)
    feasibility = serializers.ChoiceField(choices=Need.Level.choices, required=False)
    value_assessment = serializers.ChoiceField(choices=Need.Level.choices, required=False)
    assessment_note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    version = serializers.IntegerField(required=False, min_value=1)


class NeedMergeSerializer(ScopedMixin, serializers.Serializer):
    """R51: the need this one (a duplicate) is merged into."""

    into = serializers.PrimaryKeyRelatedField(queryset=Need.objects.none())
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    def scope_into(self, user):
        return Need.objects.restrict(user, "view")


class NeedConflictSerializer(ScopedMixin, serializers.ModelSerializer):
    """R52: two needs of one client that contradict each other."""

    other = serializers.PrimaryKeyRelatedField(queryset=Need.objects.none(), write_only=True)
    marked_by = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = NeedConflict
        fields = ["id", "first", "second", "other", "note", "marked_by", "marked_at"]
        read_only_fields = ["first", "second", "marked_at"]

    def scope_other(self, user):
        return Need.objects.restrict(user, "view")


class SimilarNeedSerializer(serializers.Serializer):
    """R53: another need of the same client with similar content."""

    id = serializers.IntegerField()
    description = serializers.CharField()
    status = serializers.CharField()
    similarity = serializers.FloatField()


class SimilarNeedsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = SimilarNeedSerializer(many=True)


class NeedRateSerializer(serializers.Serializer):
    """R48: the client's evaluation of how a done need was handled."""

    rating = serializers.ChoiceField(choices=Need.Rating.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    respondent = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)


class NeedRatingLinkSerializer(serializers.Serializer):
    days = serializers.IntegerField(required=False, default=30, min_value=1, max_value=90)


class NeedRatingLinkResultSerializer(serializers.Serializer):
    rating_url = serializers.CharField()
    expires_at = serializers.DateTimeField()
    version = serializers.IntegerField()


class PublicNeedRatingSerializer(serializers.Serializer):
    """What the public rating endpoint shows: the group's name and the need as the client stated
    it (R48), nothing else of the archive."""

    group = serializers.CharField()
    description = serializers.CharField()
    response_note = serializers.CharField()
    expires_at = serializers.DateTimeField()
    ratings = serializers.DictField(child=serializers.CharField())


class NeedActionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")
    done = serializers.BooleanField(required=False, default=True)


class VisitSerializer(_ClientChild):
    recorded_by = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Visit
        fields = [
            "id",
            "client",
            "plan",
            "visited_at",
            "channel",
            "our_people",
            "our_level",
            "client_people",
            "notes",
            "outcome",
            "next_step",
            "recorded_by",
        ]
        read_only_fields = ["plan"]

    def create(self, validated_data):
        return self._call(services.visit_record, visit=Visit(**validated_data), by=self.user)

    def update(self, instance, validated_data):
        for k, v in validated_data.items():
            setattr(instance, k, v)
        return self._call(services.visit_update, visit=instance, by=self.user)


class VisitPlanSerializer(_ClientChild):
    responsible = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.none(), required=False)

    class Meta:
        model = VisitPlan
        fields = [
            "id",
            "client",
            "frequency",
            "interval_days",
            "visitor_level",
            "responsible",
            "next_due_on",
            "is_active",
            "extra_effort",
            "notes",
        ]
        extra_kwargs = {"visitor_level": {"required": False}, "next_due_on": {"required": False}}
        validators = []

    def scope_responsible(self, user):
        return _users_of(branch_choices(user, "change"))

    def create(self, validated_data):
        return self._call(services.visit_plan_save, plan=VisitPlan(**validated_data), by=self.user)

    def update(self, instance, validated_data):
        for k, v in validated_data.items():
            setattr(instance, k, v)
        return self._call(services.visit_plan_save, plan=instance, by=self.user)
