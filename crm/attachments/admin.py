"""The admin of attachments: read only (files come and go through the pages and the API, whose
checks R61-R64 are), deleted ones included, so an administrator can find one that was deleted."""

from crm.admin_base import ReadOnlyAdmin


class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "size", "uploaded_by", "created_at", "deleted_at"]
    list_filter = ["kind"]
    search_fields = ["name", "stored_name", "sha256"]
    list_select_related = ["uploaded_by"]
