from rest_framework import serializers

from crm.models import Branch, Notification, ProjectDepartment, User


class BranchSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Branch
        fields = ["id", "code", "name", "short_name", "kind", "kind_label", "region", "is_active"]


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProjectDepartment
        fields = ["id", "branch", "code", "name", "is_business_dept"]


class MeSerializer(serializers.ModelSerializer):
    branch = BranchSerializer(read_only=True)
    department = DepartmentSerializer(read_only=True)
    role_label = serializers.CharField(source="get_role_display", read_only=True)
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "email", "role", "role_label", "branch", "department"]


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


class NotificationSerializer(serializers.ModelSerializer):
    unread = serializers.SerializerMethodField(help_text="true until the reader has read it")

    class Meta:
        model = Notification
        fields = ["id", "verb", "title", "body", "url", "created_at", "read_at", "unread"]
        read_only_fields = fields

    def get_unread(self, obj) -> bool:
        return obj.read_at is None


class ReadAllResultSerializer(serializers.Serializer):
    read = serializers.IntegerField(help_text="how many unread notifications were marked read")
