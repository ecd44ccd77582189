"""API serializers of access requests, the access log and client transfers (R4, R5).
Writes go through clients.access services; a refused step is a 400 with its message."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from crm.models import Branch

from ...models import AccessGrant, AccessLog, AccessRequest, Client
from ..services import request_target_clients


class TargetClientSerializer(serializers.ModelSerializer):
    """What a requester may know of a requested client: id, unit name and branch only."""

    branch = serializers.IntegerField(source="branch_id", read_only=True)
    branch_name = serializers.CharField(source="branch.name", read_only=True)

    class Meta:
        model = Client
        fields = ["id", "name", "branch", "branch_name"]


class GrantSerializer(serializers.ModelSerializer):
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = AccessGrant
        fields = ["id", "starts_at", "ends_at", "revoked_at", "is_active"]


class AccessRequestSerializer(serializers.ModelSerializer):
    """POST ``{"clients": [ids], "reason", "ends_on"}``; the rest is read-only. ``clients``
    accepts ids of other branches' clients (request_target_clients)."""

    clients = serializers.PrimaryKeyRelatedField(many=True, queryset=Client.objects.none(), write_only=True)
    client_details = TargetClientSerializer(source="clients", many=True, read_only=True)
    status = serializers.ChoiceField(choices=AccessRequest.Status.choices, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    requester_name = serializers.CharField(source="requester.display_name", read_only=True)
    branch_name = serializers.CharField(source="branch.name", read_only=True)
    grant = serializers.SerializerMethodField()

    class Meta:
        model = AccessRequest
        fields = [
            "id", "requester", "requester_name", "branch", "branch_name", "clients", "client_details",
            "reason", "starts_on", "ends_on", "status", "status_display", "reviewed_by", "reviewed_at",
            "review_note", "decided_by", "decided_at", "decision_note", "grant", "created_at",
        ]  # fmt: skip
        read_only_fields = [
            "requester", "branch", "starts_on", "reviewed_by", "reviewed_at", "review_note", "decided_by",
            "decided_at", "decision_note", "created_at",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "clients" in self.fields:
            self.fields["clients"].child_relation.queryset = request_target_clients(request.user)

    def get_grant(self, obj) -> dict | None:
        try:
            grant = obj.grant
        except AccessGrant.DoesNotExist:
            return None
        return GrantSerializer(grant).data


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class AccessLogSerializer(serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.display_name", read_only=True)
    user_branch_name = serializers.CharField(source="user_branch.name", read_only=True, default="")
    client_name = serializers.CharField(source="client.name", read_only=True)
    client_branch_name = serializers.CharField(source="client.branch.name", read_only=True)
    via = serializers.ChoiceField(choices=AccessLog.Via.choices, read_only=True)

    class Meta:
        model = AccessLog
        fields = [
            "id", "at", "user", "user_name", "user_branch", "user_branch_name", "client", "client_name",
            "client_branch_name", "grant", "via", "path",
        ]  # fmt: skip
        read_only_fields = fields


class ClientTransferSerializer(serializers.Serializer):
    """POST ``{"client", "to_branch", "reason", "owner"?}`` (group marketing only)."""

    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.none())
    to_branch = serializers.PrimaryKeyRelatedField(queryset=Branch.objects.none())
    reason = serializers.CharField(max_length=500)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.none(), required=False, allow_null=True
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            user = request.user
            self.fields["client"].queryset = Client.objects.restrict(user, "change")
            branches = Branch.objects.restrict(user, "view")
            self.fields["to_branch"].queryset = branches
            self.fields["owner"].queryset = get_user_model().objects.filter(
                branch__in=branches, is_active=True
            )
