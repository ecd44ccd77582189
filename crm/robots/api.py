"""/api/chat-robots/ (R116): the group chat robots, administrators only.

``POST /api/chat-robots/`` ``{"name", "kind" (wecom, dingtalk, feishu), "unit" (group, branch,
department), "branch", "department", "webhook_url", "secret", "notice_kinds": ["reminders",
"overdue", "report_status", "ratings", "circulars"], "is_active"}`` registers a robot; ``PATCH``
edits it (``is_active: false`` deactivates it; ``secret`` replaces the stored one, ``clear_secret``
removes it); ``POST /api/chat-robots/{id}/test/`` sends a test message now and answers the robot
with the outcome (``last_test_ok``, ``last_test_error``). The webhook address and the secret are
write-only: reads show them masked. Robots are never deleted (deactivated instead: their
history stays)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action

from crm.api.base import RestrictedViewSet
from crm.api.schema import answers
from crm.models import Branch, ProjectDepartment

from . import services
from .kinds import NoticeKind
from .models import ChatRobot


class ChatRobotSerializer(serializers.ModelSerializer):
    webhook_url = serializers.CharField(max_length=500, write_only=True)
    webhook_url_masked = serializers.CharField(source="masked_url", read_only=True)
    secret = serializers.CharField(max_length=200, write_only=True, required=False, allow_blank=True)
    clear_secret = serializers.BooleanField(write_only=True, required=False, default=False)
    secret_masked = serializers.CharField(source="masked_secret", read_only=True)
    notice_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=NoticeKind.choices), required=False, max_length=10
    )
    scope_label = serializers.CharField(read_only=True)
    branch = serializers.PrimaryKeyRelatedField(
        queryset=Branch.objects.none(), required=False, allow_null=True
    )
    department = serializers.PrimaryKeyRelatedField(
        queryset=ProjectDepartment.objects.none(), required=False, allow_null=True
    )

    class Meta:
        model = ChatRobot
        fields = ["id", "name", "kind", "unit", "branch", "department", "scope_label", "webhook_url",
                  "webhook_url_masked", "secret", "clear_secret", "secret_masked", "notice_kinds", "is_active",
                  "last_test_at", "last_test_ok", "last_test_error", "created_at", "updated_at"]  # fmt: skip
        read_only_fields = ["last_test_at", "last_test_ok", "last_test_error", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None:
            fields["branch"].queryset = Branch.objects.restrict(user, "view")
            fields["department"].queryset = ProjectDepartment.objects.restrict(user, "view")
        return fields

    def _save(self, robot: ChatRobot, data: dict) -> ChatRobot:
        secret = data.pop("secret", None)
        clear = data.pop("clear_secret", False)
        for name, value in data.items():
            setattr(robot, name, value)
        try:
            return services.robot_save(
                robot=robot, by=self.context["request"].user, secret=secret or None, clear_secret=clear
            )
        except ValidationError as exc:
            raise serializers.ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
            ) from None

    def create(self, validated_data):
        return self._save(ChatRobot(is_active=True), dict(validated_data))

    def update(self, instance, validated_data):
        return self._save(instance, dict(validated_data))


class ChatRobotViewSet(RestrictedViewSet):
    """Every robot (administrators only: others 403). Filters: ``unit``, ``kind``, ``is_active``."""

    queryset = ChatRobot.objects.select_related("branch", "department__branch").order_by("pk")
    serializer_class = ChatRobotSerializer
    filterset_fields = ["unit", "kind", "is_active", "branch"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_scopes = {"test": "change"}

    @extend_schema(
        request=None,
        responses=answers(
            ChatRobotSerializer,
            forbidden="Only administrators test robots.",
            refused="The robot is deactivated.",
            not_found="No such robot.",
        ),
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Send a test message now; the answer is the robot with the outcome of the test."""
        robot = self.get_object()
        try:
            robot = services.robot_send_test(robot=robot, by=request.user)
        except ValidationError as exc:
            raise serializers.ValidationError({"detail": exc.messages}) from None
        return self.answer(robot, status_code=status.HTTP_200_OK)
