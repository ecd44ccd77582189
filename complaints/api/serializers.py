"""Serializers of /api/complaints/ (design.md "The API"): stable English choice codes, the
workflow fields read-only (they change only through the step actions)."""

from __future__ import annotations

from rest_framework import serializers

from clients.models import Client, Project
from crm.api.fields import BlankChoices
from crm.models import ProjectDepartment

from ..models import Complaint, Event, Finding, HandOver, ReturnVisit, Satisfaction, Status

READ_ONLY = [
    "id",
    "code",
    "client_name",
    "branch",
    "received_by",
    "owner",
    "owner_name",
    "status",
    "status_label",
    "acknowledge_due_at",
    "resolve_due_at",
    "due_provisional",
    "acknowledged_at",
    "investigating_at",
    "resolved_at",
    "closed_at",
    "finding",
    "resolution",
    "is_unreasonable",
    "is_overdue",
    "acknowledge_breached_at",
    "resolve_breached_at",
    "return_visits",
    "created_at",
    "updated_at",
]


class ReturnVisitSerializer(BlankChoices, serializers.ModelSerializer):
    class Meta:
        model = ReturnVisit
        fields = [
            "id",
            "sequence",
            "due_at",
            "visited_at",
            "visited_by",
            "method",
            "contact_name",
            "satisfaction",
            "effect_confirmed",
            "notes",
        ]
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    # "" where there is none (the first event has no from_status, a note none at all); said so in
    # the schema (the enum has "").
    from_status = serializers.ChoiceField(choices=Status.choices, allow_blank=True, read_only=True)
    to_status = serializers.ChoiceField(choices=Status.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Event
        fields = ["id", "kind", "by", "at", "from_status", "to_status", "note"]
        read_only_fields = fields


class HandOverSerializer(serializers.ModelSerializer):
    class Meta:
        model = HandOver
        fields = ["id", "from_user", "to_user", "by", "at", "reason"]
        read_only_fields = fields


class ComplaintSerializer(serializers.ModelSerializer):
    code = serializers.CharField(read_only=True)
    client_name = serializers.CharField(source="client.name", read_only=True)
    branch = serializers.IntegerField(source="client.branch_id", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)
    title = serializers.CharField(max_length=120, required=False, allow_blank=True)
    return_visits = ReturnVisitSerializer(many=True, read_only=True)
    # R17: "" until the complaint is resolved; said so in the schema (the enum has "").
    finding = serializers.ChoiceField(choices=Finding.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Complaint
        fields = [
            "id",
            "code",
            "client",
            "client_name",
            "branch",
            "project",
            "department",
            "kind",
            "contractor",
            "channel",
            "category",
            "severity",
            "motive",
            "complainant",
            "complainant_phone",
            "title",
            "content",
            "received_at",
            *[f for f in READ_ONLY if f not in ("id", "code", "client_name", "branch")],
        ]
        read_only_fields = READ_ONLY

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = request.user if request else None
        # Choices only from the user's scope (restrict), never the whole table.
        self.fields["client"].queryset = Client.objects.restrict(user, "view")
        self.fields["project"].queryset = Project.objects.restrict(user, "view")
        self.fields["department"].queryset = ProjectDepartment.objects.restrict(user, "view")
        if (
            self.instance is not None
            and not isinstance(self.instance, list | tuple)
            and getattr(self.instance, "pk", None)
        ):
            self.fields["client"].read_only = True
            self.fields["received_at"].read_only = True

    def create(self, validated_data):
        from ..services import complaint_receive

        return complaint_receive(by=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        from ..services import complaint_update

        return complaint_update(complaint=instance, by=self.context["request"].user, **validated_data)


class ComplaintDetailSerializer(ComplaintSerializer):
    events = EventSerializer(many=True, read_only=True)
    handovers = HandOverSerializer(many=True, read_only=True)

    class Meta(ComplaintSerializer.Meta):
        fields = [*ComplaintSerializer.Meta.fields, "events", "handovers"]
        read_only_fields = [*READ_ONLY, "events", "handovers"]


# -- inputs of the workflow actions ----------------------------------------------------------


class NoteInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class HandOverInput(serializers.Serializer):
    to = serializers.IntegerField(help_text="user id of the new owner")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ResolveInput(serializers.Serializer):
    finding = serializers.ChoiceField(choices=Finding.choices, required=False, allow_blank=True, default="")
    resolution = serializers.CharField(required=False, allow_blank=True, default="")
    is_unreasonable = serializers.BooleanField(required=False, default=False)


class ReturnVisitInput(serializers.Serializer):
    satisfaction = serializers.ChoiceField(
        choices=Satisfaction.choices, required=False, allow_blank=True, default=""
    )
    method = serializers.ChoiceField(choices=ReturnVisit.Method.choices, required=False, default="phone")
    contact_name = serializers.CharField(required=False, allow_blank=True, default="")
    effect_confirmed = serializers.BooleanField(required=False, default=False)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class ReopenInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")
