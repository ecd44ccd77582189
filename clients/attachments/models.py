"""Attachments of a need and of a visit (R61-R64). Imported by clients.models, whose models
they are; the fields and rules are crm.attachments.models.AttachmentBase's."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.access import Scope
from crm.attachments.models import AttachmentBase

# clients.models imports this module at its end: Need and Visit are defined by then.
from ..models import Need, Visit


class NeedAttachment(AttachmentBase):
    """A file of a need: the client's written request, a recording of the call in which it was
    raised, a photo of the site (seed 003, 收集记录)."""

    need = models.ForeignKey(
        Need, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("客户需求")
    )

    parent_field = "need"
    route_prefix = "clients:need-attachment"
    scope = Scope(branch="need__client__branch", client="need__client", owner="need__client__owner")

    class Meta(AttachmentBase.Meta):
        verbose_name = _("需求附件")
        verbose_name_plural = _("需求附件")


class VisitAttachment(AttachmentBase):
    """A file of a visit or contact: the minutes of the meeting, its recording or video, photos."""

    visit = models.ForeignKey(
        Visit, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("拜访记录")
    )

    parent_field = "visit"
    route_prefix = "clients:visit-attachment"
    scope = Scope(branch="visit__client__branch", client="visit__client", owner="visit__client__owner")

    class Meta(AttachmentBase.Meta):
        verbose_name = _("拜访附件")
        verbose_name_plural = _("拜访附件")
