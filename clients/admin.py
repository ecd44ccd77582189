from django.contrib import admin

from crm.admin_base import ReadOnlyAdmin, RestrictedAdmin

from .models import (
    AccessGrant,
    AccessLog,
    AccessRequest,
    Client,
    Contact,
    ImportJob,
    Need,
    Project,
    Tag,
    Visit,
    VisitPlan,
)


@admin.register(Client)
class ClientAdmin(RestrictedAdmin):
    list_display = ["name", "credit_code", "branch", "grade", "stage", "owner"]
    list_filter = ["grade", "stage", "org_type", "branch"]
    search_fields = ["name", "credit_code"]
    list_select_related = ["branch", "owner"]
    autocomplete_fields = ["owner"]
    filter_horizontal = ["tags"]


for model, fields in (
    (Contact, ["name", "position", "phone", "client"]),
    (Project, ["name", "client", "branch", "phase", "contract_value"]),
    (Need, ["description", "client", "urgency", "status", "response_due_at"]),
    (Visit, ["client", "visited_at", "channel"]),
    (VisitPlan, ["client", "frequency", "visitor_level", "next_due_on"]),
    (AccessRequest, ["pk", "requester", "branch", "status", "ends_on"]),
    (AccessGrant, ["user", "starts_at", "ends_at", "revoked_at"]),
):
    admin.site.register(model, type(f"{model.__name__}Admin", (RestrictedAdmin,), {"list_display": fields}))

admin.site.register(Tag)


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "user_branch", "client", "grant", "via"]
    list_filter = ["via", "user_branch"]
    search_fields = ["user__username", "client__name"]


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    """Import jobs are written by their workflow only; administrators look them up here."""

    list_display = ["created_at", "filename", "created_by", "state", "phase", "done", "total", "finished_at"]
    list_filter = ["state", "phase"]
    search_fields = ["filename", "created_by__username"]
    exclude = ["report"]
