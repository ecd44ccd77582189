from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from crm.admin_base import ReadOnlyAdmin, RestrictedAdmin
from crm.attachments.admin import AttachmentAdmin

from .models import (
    AccessGrant,
    AccessLog,
    AccessRequest,
    Client,
    Contact,
    ImportJob,
    Need,
    NeedAttachment,
    NeedConflict,
    Project,
    Tag,
    Visit,
    VisitAttachment,
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
    # R7: a grade changes only through the grading service (clients.services.client_set_grade:
    # who, when, from, to, why, the suggestion and its criteria). Here it is read-only, with a
    # link to the grading page; no list_editable and no bulk action touch it.
    readonly_fields = ["grade", "graded_at", "grading_page"]

    @admin.display(description=_("调整分级"))
    def grading_page(self, obj):
        if obj is None or not obj.pk:
            return _("建档后在客户页面由集团市场营销部或本单位经营部负责人定级")
        return format_html(
            '<a href="{}">{}</a>',
            reverse("clients:client-set-grade", kwargs={"pk": obj.pk}),
            _("到客户分级页面调整(记录理由与依据)"),
        )


for model, fields in (
    (Contact, ["name", "position", "phone", "client"]),
    (Project, ["name", "client", "branch", "phase", "contract_value"]),
    (Need, ["description", "client", "urgency", "status", "response_due_at"]),
    (NeedConflict, ["first", "second", "marked_by", "marked_at"]),
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


@admin.register(NeedAttachment, VisitAttachment)
class ArchiveAttachmentAdmin(AttachmentAdmin):
    pass
