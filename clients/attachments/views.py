"""Pages of the attachments of needs and visits (R61-R64): the upload posted from the need's and
the visit's page, the download, the delete. Thin: crm.attachments.pages does the work; here are
the records' querysets (through ``restrict``), their pages and the access log of R4."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.urls import reverse
from django.views.decorators.http import require_POST

from crm.attachments.pages import AttachmentPages

from ..access.log import log_reads
from ..models import AccessLog, Need, Visit
from .models import NeedAttachment, VisitAttachment


def _log(request, rows) -> None:
    log_reads(request, rows, via=AccessLog.Via.PAGE)  # R4: a download of another branch's record


def _need_page(request, need, form):
    from ..needcare.views import _detail

    return _detail(request, need, attachment_form=form)


def _visit_page(request, visit, form):
    from ..views import visit_page

    return visit_page(request, visit, attachment_form=form)


NEEDS = AttachmentPages(
    NeedAttachment,
    parent_queryset=lambda user: Need.objects.restrict(user, "view").select_related(
        "client", "client__branch", "owner", "project", "rated_by", "assessed_by", "merged_into", "merged_by"
    ),
    parent_url=lambda need: reverse("clients:need-detail", args=[need.pk]),
    render_parent=_need_page,
    on_read=_log,
)
VISITS = AttachmentPages(
    VisitAttachment,
    parent_queryset=lambda user: Visit.objects.restrict(user, "view").select_related(
        "client", "client__branch", "recorded_by", "plan"
    ),
    parent_url=lambda visit: reverse("clients:visit-detail", args=[visit.pk]),
    render_parent=_visit_page,
    on_read=_log,
)


@login_required
@require_POST
def need_attachment_add(request, pk):
    """Upload a file to a need (multipart ``file``, ``note``)."""
    return NEEDS.upload(request, pk)


@login_required
def need_attachment_download(request, pk):
    return NEEDS.download(request, pk)


@login_required
@require_POST
def need_attachment_delete(request, pk):
    """Delete an attachment of a need (softly, R63), with an optional ``reason``."""
    return NEEDS.delete(request, pk)


@login_required
@require_POST
def visit_attachment_add(request, pk):
    """Upload a file to a visit (multipart ``file``, ``note``)."""
    return VISITS.upload(request, pk)


@login_required
def visit_attachment_download(request, pk):
    return VISITS.download(request, pk)


@login_required
@require_POST
def visit_attachment_delete(request, pk):
    """Delete an attachment of a visit (softly, R63), with an optional ``reason``."""
    return VISITS.delete(request, pk)
