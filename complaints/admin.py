"""Admin of the complaints app: the deadline policy (R16, R18) is edited here; complaints are
listed through restrict() and worked on their own pages (the workflow lives in the services)."""

from django.contrib import admin

from crm.admin_base import RestrictedAdmin
from crm.attachments.admin import AttachmentAdmin

from .models import Complaint, ComplaintAttachment, DeadlinePolicy, Event, HandOver, ReturnVisit


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "acknowledge_urgent_minutes",
        "acknowledge_working_hours",
        "resolve_days_urgent",
        "resolve_days_high",
        "resolve_days_normal",
        "resolve_days_low",
        "first_visit_hours",
        "second_visit_months",
        "repair_register_minutes",
    )

    def has_add_permission(self, request):
        return not DeadlinePolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = Event
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "by", "at", "from_status", "to_status", "note")

    def has_add_permission(self, request, obj=None):
        return False


class HandOverInline(admin.TabularInline):
    model = HandOver
    extra = 0
    can_delete = False
    readonly_fields = ("from_user", "to_user", "by", "at", "reason")

    def has_add_permission(self, request, obj=None):
        return False


class ReturnVisitInline(admin.TabularInline):
    model = ReturnVisit
    extra = 0
    can_delete = False
    readonly_fields = ("sequence", "due_at", "visited_at", "visited_by", "satisfaction", "notes")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Complaint)
class ComplaintAdmin(RestrictedAdmin):
    list_display = ("code", "title", "client", "severity", "status", "owner", "received_at", "resolve_due_at")
    list_filter = ("status", "severity", "kind", "category", "finding", "is_unreasonable")
    search_fields = ("title", "content", "client__name")
    list_select_related = ("client", "owner")
    readonly_fields = (
        "status",
        "owner",
        "received_by",
        "acknowledge_due_at",
        "resolve_due_at",
        "acknowledged_at",
        "resolved_at",
        "closed_at",
        "acknowledge_breached_at",
        "resolve_breached_at",
        "finding",
        "resolution",
        "is_unreasonable",
    )
    raw_id_fields = ("client", "project", "department")
    inlines = (HandOverInline, EventInline, ReturnVisitInline)


@admin.register(ComplaintAttachment)
class ComplaintAttachmentAdmin(AttachmentAdmin):
    pass
