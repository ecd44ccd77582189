"""The page side of attachments (R61-R64): the panel on a record's page, the upload form posted
from it, the download and the delete. One ``AttachmentPages`` per attachment model; the app's
views are one-line functions calling it, so the routes stay ordinary named views.

The download is the only way a file leaves the system (R64): ``Content-Disposition:
attachment`` with the name it was uploaded under, the type the content was recognised as,
``X-Content-Type-Options: nosniff``; never shown inline, never a link to the storage itself."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.access import can

from .files import ACCEPT, allowed_summary, attachment_storage, max_label, oversized, too_large_error
from .models import AttachmentBase
from .services import REASON_MAX, attachment_add, attachment_delete


class AttachmentForm(forms.Form):
    """The upload form of a record's page. Empty files pass the field (``allow_empty_file``) so
    that the service refuses them in its own words, as it does for the API."""

    file = forms.FileField(label=gettext_lazy("文件"), allow_empty_file=True)
    note = forms.CharField(label=gettext_lazy("说明"), max_length=200, required=False)

    def __init__(self, *args, oversized: bool = False, **kwargs):
        kwargs.setdefault("auto_id", "attachment_%s")  # the record's page has forms of its own
        super().__init__(*args, **kwargs)
        self.oversized = oversized
        self.fields["file"].required = not oversized
        self.fields["file"].widget.attrs.update({"accept": ACCEPT, "class": "form-control form-control-sm"})
        self.fields["note"].widget.attrs.update(
            {"class": "form-control form-control-sm", "placeholder": _("如:3月12日设计交底会议录音")}
        )

    def clean_file(self):
        if self.oversized:
            raise too_large_error()
        return self.cleaned_data.get("file")

    def add_refusal(self, exc: ValidationError) -> None:
        """A service's refusal: under the note when it is about the note, else under the file."""
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                self.add_error("note" if field == "note" else "file", errors)
        else:
            self.add_error("file", exc.messages)


def download_response(attachment: AttachmentBase) -> FileResponse:
    """The file as a download (R64), streamed from the storage."""
    try:
        handle = attachment_storage().open(attachment.stored_name, "rb")
    except OSError:
        raise Http404(_("附件文件已不存在,请联系系统管理员。")) from None
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def attachment_panel(
    user, model: type[AttachmentBase], parent, *, form: AttachmentForm | None = None
) -> dict:
    """What ``crm/_attachments.html`` shows for ``parent``: its attachments in the reader's scope
    (one query), the deleted ones apart with who, when and why (R63), and the upload form for
    those who may change the record (R62)."""
    rows = list(
        model.objects.restrict(user, "view")
        .filter(**{model.parent_field: parent})
        .select_related("uploaded_by", "deleted_by")
        .order_by("-created_at", "-pk")
    )
    return {
        "live": [r for r in rows if r.deleted_at is None],
        "deleted": [r for r in rows if r.deleted_at is not None],
        "may_attach": model.may_attach(user, parent),
        "form": form or AttachmentForm(),
        "add_url": model.add_url(parent),
        "max_size": max_label(),
        "allowed": allowed_summary(),
        "reason_max": REASON_MAX,
    }


class AttachmentPages:
    """Upload, download and delete for one attachment model.

    parent_queryset(user): the records the user may read (``restrict(user, "view")``), with what
        their page needs;
    parent_url(parent): the record's page;
    render_parent(request, parent, form): the record's page again with the upload form's errors
        (nothing typed is lost but the file, which no browser lets a page keep);
    on_read(request, rows): the access log of the reads (R4), given by the app that keeps it.
    """

    def __init__(
        self,
        model: type[AttachmentBase],
        *,
        parent_queryset: Callable,
        parent_url: Callable,
        render_parent: Callable,
        on_read: Callable,
    ):
        self.model = model
        self.parent_queryset = parent_queryset
        self.parent_url = parent_url
        self.render_parent = render_parent
        self.on_read = on_read

    def _require(self, user, model) -> None:
        if not can(user, "view", model):
            raise PermissionDenied(_("您的角色无权查阅该记录的附件。"))

    def _row(self, request, pk):
        self._require(request.user, self.model)
        qs = self.model.objects.restrict(request.user, "view").live()
        if self.model.scope.client:
            qs = qs.select_related(self.model.scope.client)
        return get_object_or_404(qs, pk=pk)

    def upload(self, request, pk):
        parent_model = self.model._meta.get_field(self.model.parent_field).related_model
        self._require(request.user, parent_model)
        parent = get_object_or_404(self.parent_queryset(request.user), pk=pk)
        form = AttachmentForm(request.POST, request.FILES, oversized=oversized(request))
        if form.is_valid():
            try:
                row = attachment_add(
                    model=self.model,
                    parent=parent,
                    upload=form.cleaned_data["file"],
                    by=request.user,
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                form.add_refusal(exc)
            else:
                messages.success(request, _("附件“%(name)s”已上传。") % {"name": row.name})
                return redirect(f"{self.parent_url(parent)}#attachments")
        return self.render_parent(request, parent, form)

    def download(self, request, pk):
        row = self._row(request, pk)
        self.on_read(request, [row])
        return download_response(row)

    def delete(self, request, pk):
        row = self._row(request, pk)
        try:
            attachment_delete(attachment=row, by=request.user, reason=request.POST.get("reason", ""))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("附件“%(name)s”已删除,删除记录已保留。") % {"name": row.name})
        return redirect(f"{self.parent_url(row.parent)}#attachments")
