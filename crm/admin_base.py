"""The admin goes through ``restrict`` too (design.md): changelists, edits and bulk actions."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .access import check_in_scope


class RestrictedAdmin(SimpleHistoryAdmin):
    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, "view")

    def has_change_permission(self, request, obj=None):
        ok = super().has_change_permission(request, obj)
        return ok and (obj is None or check_in_scope(request.user, "change", obj))

    def has_delete_permission(self, request, obj=None):
        ok = super().has_delete_permission(request, obj)
        return ok and (obj is None or check_in_scope(request.user, "delete", obj))


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records nobody may edit (the access log, R4)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, "view")
