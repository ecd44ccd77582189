"""The base viewset every API resource uses (style.md 2): HTTP methods map to actions once,
and the queryset is restricted in ``initial()``; 403 for a missing role, 404 out of scope."""

from django.db import transaction
from rest_framework import permissions, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied

from crm.access import can, check_in_scope

METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


class RoleRequired(permissions.BasePermission):
    """The user must hold the role for the request's action on the model at all (else 403)."""

    def has_permission(self, request, view):
        model = view.queryset.model
        return can(request.user, view.get_restrict_action(), model)


class RestrictedViewSet(viewsets.ModelViewSet):
    permission_classes = [permissions.IsAuthenticated, RoleRequired]
    # Extra actions (@action) that write: the scope they need.
    action_scopes: dict[str, str] = {}

    def get_restrict_action(self) -> str:
        if self.action in self.action_scopes:
            return self.action_scopes[self.action]
        return METHOD_ACTIONS.get(self.request.method, "view")

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        action = self.get_restrict_action()
        # For a create, the list scope is "view"; the new row is checked against "add".
        self.queryset = self.queryset.restrict(request.user, "view" if action == "add" else action)

    def get_queryset(self):
        return self.queryset.all()

    def perform_create(self, serializer):
        with transaction.atomic():
            obj = serializer.save()
            if not check_in_scope(self.request.user, "add", obj):
                transaction.set_rollback(True)
                raise PermissionDenied("无权在该分子公司下创建记录。")

    def perform_update(self, serializer):
        with transaction.atomic():
            obj = serializer.save()
            if not check_in_scope(self.request.user, "change", obj):
                transaction.set_rollback(True)
                raise NotFound()


class RestrictedReadOnlyViewSet(RestrictedViewSet):
    http_method_names = ["get", "head", "options"]
