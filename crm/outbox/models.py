"""The outbox's rows (R109-R112): one ``Notice`` per event, however many people it reaches;
the in-app ``Notification`` rows point at it; one ``Delivery`` row per channel and target,
which the worker sends, retries and finally marks failed; each person's ``NoticePreference``
per kind of notice. Imported by ``crm.models`` (the models belong to the ``crm`` app)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.access import RestrictedQuerySet


class Notice(models.Model):
    """One event told to people (R109): written in the transaction of the change that causes it,
    idempotent by ``key`` (a job that runs twice makes no second notice). ``title`` and ``body``
    are in the default language; ``texts`` holds each language's rendering
    (``{"en": {"title": ..., "body": ...}}``) so that each recipient reads it in their own (R113)."""

    verb = models.CharField(_("类别"), max_length=40, db_index=True)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    key = models.CharField(max_length=200, blank=True)
    texts = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("通知事件")
        verbose_name_plural = _("通知事件")
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["verb", "key"])]

    def __str__(self):
        return self.title

    def text(self, language: str | None = None) -> tuple[str, str]:
        """The title and body in ``language`` (the active one by default); the default
        language's where it has none."""
        language = language or get_language() or settings.LANGUAGE_CODE
        found = self.texts.get(language) or self.texts.get(language.split("-")[0]) or {}
        return found.get("title") or self.title, found.get("body", self.body)


class DeliveryQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view"):
        """Deliveries are the administrator's to watch and re-send (R114): every row for an
        administrator (the role, or a superuser), none for anyone else."""
        from crm.outbox.access import is_administrator

        return self if is_administrator(user) else self.none()

    def due(self, now=None):
        """Pending ones whose time has come, and ones left "sending" past their lease (a worker
        died or its message was lost): what the sweeper hands to the worker again (R110)."""
        now = now or timezone.now()
        return self.filter(
            state__in=[Delivery.State.PENDING, Delivery.State.SENDING], next_attempt_at__lte=now
        )


class Delivery(models.Model):
    """One notice to one target of one channel (R110): an e-mail address, a chat robot. The
    worker claims it (``sending``, with a lease in ``next_attempt_at``), sends it and marks it
    ``sent``; a failure puts it back to ``pending`` with a later ``next_attempt_at`` (exponential
    backoff, or the channel's ``retry_after``) until the attempts are spent or the failure is
    permanent, then ``failed`` with the error. An administrator may re-send a failed one (R114)."""

    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    notice = models.ForeignKey(
        Notice, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("通知")
    )
    channel = models.CharField(_("渠道"), max_length=30, db_index=True)
    target = models.CharField(_("发送对象"), max_length=300)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("接收人"),
    )
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = DeliveryQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("通知投递")
        verbose_name_plural = _("通知投递")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]
        constraints = [
            models.UniqueConstraint(fields=["notice", "channel", "target"], name="delivery_once_per_target")
        ]

    def __str__(self):
        return f"{self.channel} → {self.target}"

    @property
    def channel_label(self) -> str:
        from . import channels

        found = channels.get(self.channel)
        return str(found.label) if found else self.channel


class NoticePreference(models.Model):
    """How a person wants one kind of notice (R112): in the app only, by e-mail, or in the daily
    digest. A kind without a row is e-mailed (as before this setting existed). Mandatory notices
    ignore it (crm.outbox.kinds.MANDATORY_VERBS)."""

    class Mode(models.TextChoices):
        APP = "app", _("仅站内")
        EMAIL = "email", _("站内 + 邮件")
        DIGEST = "digest", _("站内 + 每日摘要")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_preferences"
    )
    kind = models.CharField(_("通知类别"), max_length=30)
    mode = models.CharField(_("接收方式"), max_length=10, choices=Mode.choices, default=Mode.EMAIL)

    class Meta:
        verbose_name = _("通知偏好")
        verbose_name_plural = _("通知偏好")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notice_preference_once")]

    def __str__(self):
        return f"{self.user} {self.kind} {self.mode}"
