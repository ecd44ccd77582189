"""Pages of the attachments of complaints (R61-R64): the upload posted from the complaint page,
the download, the delete. Thin: crm.attachments.pages does the work."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.urls import reverse
from django.views.decorators.http import require_POST

from clients.access.log import log_reads
from crm.attachments.pages import AttachmentPages

from .. import selectors
from .models import ComplaintAttachment


def _log(request, rows) -> None:
    log_reads(request, rows, via="page")  # R4: a download of another branch's complaint


def _complaint_page(request, complaint, form):
    from ..views import complaint_page

    return complaint_page(request, complaint, attachment_form=form)


COMPLAINTS = AttachmentPages(
    ComplaintAttachment,
    parent_queryset=selectors.complaint_detail_qs,
    parent_url=lambda complaint: reverse("complaints:complaint-detail", args=[complaint.pk]),
    render_parent=_complaint_page,
    on_read=_log,
)


@login_required
@require_POST
def complaint_attachment_add(request, pk):
    """Upload a file to a complaint (multipart ``file``, ``note``)."""
    return COMPLAINTS.upload(request, pk)


@login_required
def complaint_attachment_download(request, pk):
    return COMPLAINTS.download(request, pk)


@login_required
@require_POST
def complaint_attachment_delete(request, pk):
    """Delete an attachment of a complaint (softly, R63), with an optional ``reason``."""
    return COMPLAINTS.delete(request, pk)
