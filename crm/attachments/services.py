"""Writes of attachments (R61-R64), the same for every record they attach to.

``attachment_add`` checks the upload (R61) and the person's right (R62) before anything is
stored, stores the file under a generated name, then saves the row in one transaction that
re-reads the record under a row lock and checks the right again. If the row cannot be saved
(the record was deleted or changed hands meanwhile, a refusal, a database error) the stored
file is removed again: a file without its row, or a row without its file, is never left (R64).

``attachment_delete`` is a soft delete (R63): the row is marked deleted with who, when and why,
leaves the lists and the downloads, and keeps its file and its history, so nothing is lost.

A refusal raises ValidationError (400 in the API, the form's error on the page); a record out of
the person's scope Http404; one they may read but not change PermissionDenied (403).
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import check_in_scope

from .files import attachment_storage, discard, inspect_upload, new_stored_name
from .models import AttachmentBase

REASON_MAX = 200


def _require(model: type[AttachmentBase], user, parent) -> None:
    if not check_in_scope(user, "view", parent):
        raise Http404
    if not model.may_change_parent(user, parent):
        raise PermissionDenied(_("您无权上传或删除该记录的附件。"))
    refusal = model.refusal(parent)
    if refusal:
        raise ValidationError(refusal, code="refused")


def _lock(parent):
    """The record re-read under a row lock: a change of its owner or state, or its deletion,
    waits for this transaction or is seen by it."""
    try:
        return type(parent)._base_manager.select_for_update().get(pk=parent.pk)
    except ObjectDoesNotExist:
        raise Http404 from None


def attachment_add(*, model: type[AttachmentBase], parent, upload, by, note: str = "") -> AttachmentBase:
    """Attach ``upload`` (a Django File: an uploaded file, or ContentFile with a ``name``) to
    ``parent`` as a row of ``model`` (R61, R62, R64)."""
    inspected = inspect_upload(upload)
    _require(model, by, parent)
    row = model(
        name=inspected.name,
        kind=inspected.kind,
        content_type=inspected.content_type,
        size=inspected.size,
        sha256=inspected.sha256,
        note=(note or "").strip(),
        uploaded_by=by,
        **{model.parent_field: parent},
    )
    row.full_clean(exclude=["stored_name"])  # the note, before anything is stored
    storage = attachment_storage()
    stored = storage.save(new_stored_name(model, inspected.ext), upload)
    try:
        with transaction.atomic():
            locked = _lock(parent)
            _require(model, by, locked)
            setattr(row, model.parent_field, locked)
            row.stored_name = stored
            row._history_user = by
            row._change_reason = _("上传附件")
            row.full_clean()
            row.save()
            row.recorded(by=by, action="added")
    except BaseException:
        discard(storage, stored)
        raise
    return row


def attachment_delete(*, attachment: AttachmentBase, by, reason: str = "") -> AttachmentBase:
    """Delete an attachment softly (R63) with an optional ``reason``: whoever may change its
    record (R62). Its file is kept; the row stays in the history with who, when and why."""
    model = type(attachment)
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ValidationError(
            {"reason": _("删除原因最多 %(max)d 个字符。") % {"max": REASON_MAX}}, code="max_length"
        )
    with transaction.atomic():
        try:
            row = model._base_manager.select_for_update().get(pk=attachment.pk)
        except model.DoesNotExist:
            raise Http404 from None
        _require(model, by, row.parent)
        if row.deleted_at is not None:
            raise ValidationError(_("该附件已被删除。"), code="deleted")
        row.deleted_at = timezone.now()
        row.deleted_by = by
        row.delete_reason = reason
        row._history_user = by
        row._change_reason = (_("删除附件:%(reason)s") % {"reason": reason} if reason else _("删除附件"))[
            :100
        ]
        row.full_clean()
        row.save()
        row.recorded(by=by, action="deleted")
    return row
