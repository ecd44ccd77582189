from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin

from .models import Branch, HolidayOverride, Notification, ProjectDepartment, Suspension, User
from .services import user_set_role


class DepartmentInline(admin.TabularInline):
    model = ProjectDepartment
    extra = 0


@admin.register(Branch)
class BranchAdmin(GuardedModelAdmin):
    list_display = ["code", "name", "kind", "region", "is_active", "sort_order"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    inlines = [DepartmentInline]


@admin.register(ProjectDepartment)
class ProjectDepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "branch", "code", "is_business_dept", "is_active"]
    list_filter = ["branch", "is_business_dept"]
    search_fields = ["name", "code"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "full_name", "branch", "department", "role", "is_active", "last_login"]
    list_filter = ["role", "branch", "is_active"]
    search_fields = ["username", "full_name", "email", "phone"]
    fieldsets = BaseUserAdmin.fieldsets + (
        (_("组织与角色"), {"fields": ("full_name", "phone", "title", "branch", "department", "role")}),
    )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if obj.role:
            user_set_role(user=obj, role=obj.role, branch=obj.branch, department=obj.department)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "verb", "created_at", "read_at"]
    list_filter = ["verb"]
    search_fields = ["title", "recipient__username"]


@admin.register(HolidayOverride)
class HolidayOverrideAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "name"]
    list_filter = ["is_workday"]


@admin.register(Suspension)
class SuspensionAdmin(admin.ModelAdmin):
    list_display = ["branch", "kind", "starts_at", "ends_at", "lifted_at", "reason"]
    list_filter = ["kind", "branch"]
