"""The abstract attachment (R61-R64). Each app that has records to attach to makes it concrete
with a foreign key to its record, named by ``parent_field``, and a ``Scope`` that reaches the
branch and the client through it, so ``restrict()`` scopes attachments exactly as their record:

    class NeedAttachment(AttachmentBase):
        need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="attachments")
        parent_field = "need"
        route_prefix = "clients:need-attachment"
        scope = Scope(branch="need__client__branch", client="need__client", owner="need__client__owner")
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.access import RestrictedQuerySet, check_in_scope, in_scope
from crm.models import BusinessModel

from .files import Kind


class AttachmentQuerySet(RestrictedQuerySet):
    def live(self):
        """The attachments not deleted (R63): what the lists show and what may be downloaded."""
        return self.filter(deleted_at__isnull=True)

    def deleted(self):
        return self.filter(deleted_at__isnull=False)


class AttachmentBase(BusinessModel):
    """A file attached to a record (附件: 录音、录像、照片、文字记录, seed 003): the name it had
    (shown, and given back on download), the generated name it is stored under, what it is, who
    uploaded it and when (``created_at``). Never edited; deleting it is a soft delete (R63):
    ``deleted_at``, ``deleted_by`` and ``delete_reason`` are set, the row leaves the lists, the
    file stays in storage and every step stays in the history."""

    Kind = Kind

    name = models.CharField(_("文件名"), max_length=255)
    stored_name = models.CharField(_("存储名"), max_length=200, unique=True, editable=False)
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小(字节)"))
    sha256 = models.CharField(_("SHA-256 校验值"), max_length=64)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("上传人")
    )
    deleted_at = models.DateTimeField(_("删除时间"), null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("删除人"),
        editable=False,
    )
    delete_reason = models.CharField(_("删除原因"), max_length=200, blank=True)

    objects = models.Manager.from_queryset(AttachmentQuerySet)()

    # The foreign key to the record (set by each concrete model) and the prefix of its page
    # routes (``<prefix>-add`` on the record, ``<prefix>-download`` and ``<prefix>-delete``).
    parent_field: ClassVar[str] = ""
    route_prefix: ClassVar[str] = ""

    class Meta:
        abstract = True
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(size__gt=0), name="%(app_label)s_%(class)s_not_empty"),
        ]

    def __str__(self):
        return self.name

    @property
    def parent(self):
        return getattr(self, self.parent_field)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def get_download_url(self) -> str:
        return reverse(f"{self.route_prefix}-download", args=[self.pk])

    def get_delete_url(self) -> str:
        return reverse(f"{self.route_prefix}-delete", args=[self.pk])

    @classmethod
    def add_url(cls, parent) -> str:
        return reverse(f"{cls.route_prefix}-add", args=[parent.pk])

    # -- who may (R62); each concrete model may narrow these ---------------------------------

    @classmethod
    def may_attach(cls, user, parent) -> bool:
        """Whether the page offers the upload and delete buttons (no query: the scope snapshot)."""
        return in_scope(user, "change", parent) and cls.refusal(parent) is None

    @classmethod
    def may_change_parent(cls, user, parent) -> bool:
        """The check the services make inside their transaction, against the database: whoever
        may change the record may add and delete its attachments."""
        return check_in_scope(user, "change", parent)

    @classmethod
    def refusal(cls, parent) -> str | None:
        """Why the record takes no attachment changes in its present state, or None."""
        return None

    def recorded(self, *, by, action: str) -> None:
        """Called inside the service's transaction after an upload (``action="added"``) or a
        delete (``"deleted"``): a record with a timeline of its own writes the step there."""
