"""The attachment of a complaint (R61-R64). Imported by complaints.models, whose model it is."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.access import Scope
from crm.attachments.models import AttachmentBase

# complaints.models imports this module at its end: Complaint and Event are defined by then.
from ..models import Complaint, Event, Status


class ComplaintAttachment(AttachmentBase):
    """A file of a complaint (投诉附件)."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="attachments", verbose_name=gettext_lazy("投诉")
    )

    parent_field = "complaint"
    route_prefix = "complaints:complaint-attachment"
    scope = Scope(branch="complaint__client__branch", client="complaint__client", owner="complaint__owner")

    class Meta(AttachmentBase.Meta):
        verbose_name = gettext_lazy("投诉附件")
        verbose_name_plural = gettext_lazy("投诉附件")

    @classmethod
    def may_attach(cls, user, parent) -> bool:
        return cls.refusal(parent) is None and cls.may_change_parent(user, parent)

    @classmethod
    def may_change_parent(cls, user, parent) -> bool:
        """R15 (as every step of the complaint): its owner, the branch manager, group marketing."""
        from ..services import may_work

        return may_work(user, parent)

    @classmethod
    def refusal(cls, parent) -> str | None:
        if parent.status == Status.CLOSED:
            return _("投诉已关闭,不能再增删附件;如需补充,请先重新处理。")
        return None

    def recorded(self, *, by, action: str) -> None:
        """R19: the upload or delete is a step of the complaint's timeline."""
        from ..services import _event

        if action == "added":
            _event(self.complaint, Event.Kind.ATTACHED, by=by, note=self.name)
        else:
            note = f"{self.name}:{self.delete_reason}" if self.delete_reason else self.name
            _event(self.complaint, Event.Kind.ATTACHMENT_DELETED, by=by, note=note)
