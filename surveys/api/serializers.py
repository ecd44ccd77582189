"""Serializers of the surveys API. Choice values are stable English codes; related choices are
restricted to what the user may act on (style.md 1)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from clients.models import Client, Project
from crm.api import fields as api_fields

from ..models import (
    Answer,
    Campaign,
    CampaignBranchReport,
    Dimension,
    FollowUp,
    Question,
    Survey,
    SurveyTemplate,
    Target,
)


class ScopedField(serializers.PrimaryKeyRelatedField):
    """An id in a request body naming a row the user may read (``restrict(user, "view")``, as
    the page's choices are); an id out of scope is refused like an absent one (400)."""

    def __init__(self, model, *, active_only: bool = False, **kwargs):
        self.model = model
        self.active_only = active_only
        super().__init__(queryset=model.objects.none(), **kwargs)

    def get_queryset(self):
        qs = self.model.objects.restrict(self.context["request"].user, "view")
        return qs.filter(is_active=True) if self.active_only else qs


class QuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Question
        fields = ["id", "text", "text_en", "scale", "order"]


class DimensionSerializer(serializers.ModelSerializer):
    questions = QuestionSerializer(many=True, read_only=True)

    class Meta:
        model = Dimension
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "description",
            "importance",
            "is_summary",
            "order",
            "questions",
        ]


class SurveyTemplateSerializer(serializers.ModelSerializer):
    dimensions = DimensionSerializer(many=True, read_only=True)

    class Meta:
        model = SurveyTemplate
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "intro",
            "intro_en",
            "is_active",
            "is_default",
            "dimensions",
        ]


class AnswerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Answer
        fields = ["id", "survey", "question", "dimension", "score", "positive", "unsatisfied"]


class SurveySerializer(serializers.ModelSerializer):
    answers = AnswerSerializer(many=True, read_only=True)
    # Read-only codes, typed as strings so the schema's enum names stay those of other apps.
    status = serializers.CharField(read_only=True, help_text="draft, sent, answered, expired")
    channel = serializers.CharField(read_only=True, help_text="link, email, paper (empty before sending)")

    class Meta:
        model = Survey
        fields = [
            "id",
            "client",
            "template",
            "project",
            "campaign",
            "branch",
            "department",
            "status",
            "channel",
            "recipient_name",
            "recipient_email",
            "sent_at",
            "expires_at",
            "answered_at",
            "respondent",
            "comment",
            "unsatisfied_count",
            "satisfaction_rate",
            "answers",
            "created_at",
        ]
        read_only_fields = [
            "campaign",
            "branch",
            "department",
            "status",
            "channel",
            "sent_at",
            "expires_at",
            "answered_at",
            "respondent",
            "comment",
            "unsatisfied_count",
            "satisfaction_rate",
            "created_at",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None:
            return
        self.fields["client"].queryset = Client.objects.restrict(user, "change")
        self.fields["project"].queryset = Project.objects.restrict(user, "view")
        self.fields["template"].queryset = SurveyTemplate.objects.restrict(user, "view").filter(
            is_active=True
        )
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            # What a survey is about is fixed once it exists; only the addressee changes.
            for name in ("client", "template", "project"):
                self.fields[name].read_only = True


class SendSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=True)
    days = serializers.IntegerField(required=False, min_value=1, max_value=90, default=30)


class SendResultSerializer(serializers.Serializer):
    answer_url = serializers.URLField()
    expires_at = api_fields.DateTimeField()
    status = serializers.CharField()


class ScoresSerializer(serializers.Serializer):
    scores = serializers.DictField(child=serializers.IntegerField(), help_text="question id -> score")
    respondent = serializers.CharField(required=False, allow_blank=True, max_length=50, default="")
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class PaperSerializer(ScoresSerializer):
    respondent = serializers.CharField(max_length=50)
    answered_on = api_fields.DateField(required=False)


class FollowUpSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="open, done")

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "survey",
            "client",
            "branch",
            "owner",
            "items",
            "status",
            "note",
            "done_at",
            "created_at",
        ]
        read_only_fields = fields


class CloseSerializer(serializers.Serializer):
    note = serializers.CharField()


class CampaignSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="open, closed")

    class Meta:
        model = Campaign
        fields = [
            "id",
            "code",
            "name",
            "template",
            "grades",
            "project_within_days",
            "opens_on",
            "deadline",
            "status",
            "closed_at",
        ]
        read_only_fields = fields


class CampaignOpenSerializer(serializers.Serializer):
    """What group marketing gives when opening a campaign (R25a), as on the page's form."""

    name = serializers.CharField(max_length=100)
    template = ScopedField(SurveyTemplate, active_only=True)
    grades = serializers.CharField(
        max_length=10, default="AB", help_text="the client grades in scope, e.g. AB (letters of A, B, C)"
    )
    project_within_days = serializers.IntegerField(
        min_value=0,
        max_value=3650,
        default=365,
        help_text="clients with a project signed, started or completed within this many days",
    )
    deadline = api_fields.DateField()

    def validate_deadline(self, deadline):
        if deadline < timezone.localdate():
            raise serializers.ValidationError(_("截止日期不能早于今天。"))
        return deadline


class CampaignSendSerializer(serializers.Serializer):
    branch = serializers.IntegerField(help_text="the branch whose draft surveys of the campaign are sent")


class CampaignSendResultSerializer(serializers.Serializer):
    sent = serializers.IntegerField(help_text="how many surveys got their personal link")


class TargetSerializer(serializers.ModelSerializer):
    """A dimension's base and target satisfaction rate for a year (R23), as shares 0..1."""

    template = serializers.IntegerField(source="dimension.template_id", read_only=True)
    dimension_name = serializers.CharField(source="dimension.name", read_only=True)

    class Meta:
        model = Target
        fields = ["id", "template", "dimension", "dimension_name", "year", "base", "target"]
        read_only_fields = fields


class TargetValueSerializer(serializers.Serializer):
    dimension = ScopedField(Dimension)
    base = serializers.DecimalField(
        max_digits=4, decimal_places=3, min_value=0, max_value=1, help_text="base value (基本值), 0..1"
    )
    target = serializers.DecimalField(
        max_digits=4, decimal_places=3, min_value=0, max_value=1, help_text="target value (目标值), 0..1"
    )


class TargetSetSerializer(serializers.Serializer):
    """Base and target values of a year for one or more dimensions, saved all or none (R23)."""

    year = serializers.IntegerField(min_value=2000, max_value=2100)
    targets = TargetValueSerializer(many=True, allow_empty=False)

    def validate_targets(self, targets):
        dimensions = [t["dimension"].pk for t in targets]
        if len(set(dimensions)) != len(dimensions):
            raise serializers.ValidationError(_("每个维度只能填写一次。"))
        return targets


class CampaignReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = CampaignBranchReport
        fields = ["id", "campaign", "branch", "summary", "created_at"]
        read_only_fields = fields


class PublicQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    dimension = serializers.CharField()
    text = serializers.CharField()
    text_en = serializers.CharField()
    scale = serializers.CharField()
    min = serializers.IntegerField()
    max = serializers.IntegerField()


class PublicSurveySerializer(serializers.Serializer):
    """What the public endpoint shows: the group's name and the questions, nothing else (R22)."""

    group = serializers.CharField()
    title = serializers.CharField()
    title_en = serializers.CharField()
    expires_at = api_fields.DateTimeField()
    questions = PublicQuestionSerializer(many=True)
