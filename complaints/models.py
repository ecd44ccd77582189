"""Complaints (投诉, domain.md section 3, R14-R19): the complaint itself, its owners (首问负责制),
its timeline, its return visits and the deadline policy that times it.

Writes go through ``complaints.services``; these models only hold the data and the derived
read-only properties the pages need."""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clients.models import Client, Project
from crm.access import RestrictedQuerySet, Scope
from crm.fields import LimitedTextField, NameField
from crm.models import BusinessModel, ProjectDepartment, Versioned


class Kind(models.TextChoices):
    """R14: from the client itself, or passed on by a construction contractor."""

    DIRECT = "direct", _("直接投诉")
    INDIRECT = "indirect", _("间接投诉")


class Channel(models.TextChoices):
    PHONE = "phone", _("电话")
    ONSITE = "onsite", _("现场反映")
    VISIT = "visit", _("来访")
    LETTER = "letter", _("信函/书面")
    EMAIL = "email", _("电子邮件")
    WEBSITE = "website", _("集团网站")
    MEETING = "meeting", _("会议/座谈")
    OTHER = "other", _("其他")


class Category(models.TextChoices):
    DESIGN_QUALITY = "design_quality", _("设计质量")
    ENGINEERING_QUALITY = "engineering_quality", _("工程质量")
    SERVICE_ATTITUDE = "service_attitude", _("服务态度")
    RESPONSE_TIMELINESS = "response_timeliness", _("响应及时性")
    BILLING = "billing", _("结算收费")
    OTHER = "other", _("其他")


class Severity(models.TextChoices):
    URGENT = "urgent", _("紧急")
    HIGH = "high", _("严重")
    NORMAL = "normal", _("一般")
    LOW = "low", _("轻微")


class Motive(models.TextChoices):
    """R14: an economic complainant wants compensation, a psychological one wants respect."""

    ECONOMIC = "economic", _("经济型(要求补偿)")
    PSYCHOLOGICAL = "psychological", _("心理型(要求尊重)")
    UNKNOWN = "unknown", _("尚不明确")


class Status(models.TextChoices):
    """R16: received -> acknowledged -> investigating -> resolved -> return_visit -> closed."""

    RECEIVED = "received", _("已受理")
    ACKNOWLEDGED = "acknowledged", _("已确认")
    INVESTIGATING = "investigating", _("调查处理中")
    RESOLVED = "resolved", _("已处理")
    RETURN_VISIT = "return_visit", _("已回访")
    CLOSED = "closed", _("已关闭")


OPEN_STATUSES = (Status.RECEIVED, Status.ACKNOWLEDGED, Status.INVESTIGATING)


class Finding(models.TextChoices):
    """R17: our fault (admit, correct, follow up) or the client's own error (explain politely)."""

    OUR_FAULT = "our_fault", _("我方责任")
    CLIENT_ERROR = "client_error", _("客户自身原因")


class Satisfaction(models.TextChoices):
    """The client's satisfaction with the handling, asked at the return visit (R18)."""

    VERY_SATISFIED = "very_satisfied", _("非常满意")
    SATISFIED = "satisfied", _("满意")
    NEUTRAL = "neutral", _("一般")
    UNSATISFIED = "unsatisfied", _("不满意")
    VERY_UNSATISFIED = "very_unsatisfied", _("非常不满意")


UNSATISFIED = (Satisfaction.UNSATISFIED, Satisfaction.VERY_UNSATISFIED)


class DeadlinePolicy(models.Model):
    """The deadlines of R16 and R18, editable in the admin. One row (pk 1) is in force;
    ``current()`` creates it with the domain's defaults when missing."""

    acknowledge_urgent_minutes = models.PositiveIntegerField(_("紧急投诉确认时限(分钟)"), default=10)
    acknowledge_working_hours = models.PositiveIntegerField(_("其他投诉确认时限(工作小时)"), default=4)
    resolve_days_urgent = models.PositiveIntegerField(_("紧急投诉处理时限(工作日)"), default=1)
    resolve_days_high = models.PositiveIntegerField(_("严重投诉处理时限(工作日)"), default=3)
    resolve_days_normal = models.PositiveIntegerField(_("一般投诉处理时限(工作日)"), default=5)
    resolve_days_low = models.PositiveIntegerField(_("轻微投诉处理时限(工作日)"), default=10)
    first_visit_hours = models.PositiveIntegerField(_("首次回访时限(小时)"), default=24)
    second_visit_months = models.PositiveIntegerField(_("重点项目二次回访时限(月)"), default=2)
    visit_reminder_days = models.PositiveIntegerField(_("回访提前提醒(天)"), default=3)
    repair_register_minutes = models.PositiveIntegerField(_("报修登记转单时限(分钟)"), default=10)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("投诉处理时限")
        verbose_name_plural = _("投诉处理时限")

    def __str__(self):
        return str(_("投诉处理时限"))

    @classmethod
    def current(cls) -> DeadlinePolicy:
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy

    def return_visit_dues(self, done_at: dt.datetime, *, key_project: bool) -> list[dt.datetime]:
        """R18, the one rule of return visits (回访) for complaints and warranty repairs alike:
        the first within ``first_visit_hours`` (24) of clock time after the complaint is
        resolved or the repair closed, weekends and holidays included (the client is asked
        while the work is fresh); for a key project a second within ``second_visit_months``
        (2) to confirm the effect. Seed 002: «在维修关闭后的24小时内必须进行第一次回访 ...
        对于重点工程规定前台在维修结束后的2个月内进行第二次回访»."""
        dues = [done_at + dt.timedelta(hours=self.first_visit_hours)]
        if key_project:
            dues.append(done_at + relativedelta(months=self.second_visit_months))
        return dues

    def resolve_days(self, severity: str) -> int:
        return {
            Severity.URGENT: self.resolve_days_urgent,
            Severity.HIGH: self.resolve_days_high,
            Severity.NORMAL: self.resolve_days_normal,
            Severity.LOW: self.resolve_days_low,
        }[severity]


def effect_visit_opens_at(due_at: dt.datetime) -> dt.datetime:
    """R18: the second, effect-confirming visit of a key project (a complaint's or a repair's)
    may be recorded only CRM_SECOND_RETURN_VISIT_WINDOW_DAYS before it is due: recorded minutes
    after the first it would confirm nothing."""
    return due_at - dt.timedelta(days=settings.CRM_SECOND_RETURN_VISIT_WINDOW_DAYS)


def is_effect_visit(visit, siblings, done_at: dt.datetime | None) -> bool:
    """R18, for complaints' and repairs' visits alike: the effect-confirming visit is one that
    another visit of the same resolution (or closing, ``done_at``) precedes, pending or made
    since then (visits of an earlier resolution were made before it). ``siblings``: the visits
    of the same complaint or repair (prefetched on the pages)."""
    return any(
        v.sequence < visit.sequence and (v.visited_at is None or (done_at and v.visited_at >= done_at))
        for v in siblings
    )


class ComplaintQuerySet(RestrictedQuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def overdue_q(self, now=None) -> Q:
        """Past a deadline now (R16): not acknowledged in time, or not resolved in time."""
        now = now or timezone.now()
        return Q(status=Status.RECEIVED, acknowledge_due_at__lt=now) | Q(
            status__in=OPEN_STATUSES, resolve_due_at__lt=now
        )

    def overdue(self, now=None):
        return self.filter(self.overdue_q(now))

    def not_overdue(self, now=None):
        return self.exclude(self.overdue_q(now))


class Complaint(Versioned, BusinessModel):
    """A complaint (投诉) with everything R14 asks, its owner (R15), its place in the workflow
    and its deadlines (R16), the finding (R17) and the flags of breached deadlines."""

    kind = models.CharField(_("投诉类型"), max_length=20, choices=Kind.choices, default=Kind.DIRECT)
    contractor = models.CharField(
        _("转达投诉的施工单位"), max_length=200, blank=True, help_text=_("间接投诉必填。")
    )
    channel = models.CharField(_("投诉渠道"), max_length=20, choices=Channel.choices, default=Channel.PHONE)
    category = models.CharField(_("投诉类别"), max_length=30, choices=Category.choices)
    severity = models.CharField(
        _("严重程度"), max_length=20, choices=Severity.choices, default=Severity.NORMAL
    )
    motive = models.CharField(_("投诉动机"), max_length=20, choices=Motive.choices, default=Motive.UNKNOWN)

    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("客户")
    )
    project = models.ForeignKey(
        Project,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("项目"),
    )
    department = models.ForeignKey(
        ProjectDepartment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("项目经理部"),
    )
    complainant = models.CharField(_("投诉人"), max_length=50, blank=True)
    complainant_phone = models.CharField(_("投诉人电话"), max_length=40, blank=True)
    title = NameField(_("投诉事由"), max_length=120)
    content = LimitedTextField(_("投诉内容"), limit=5000)

    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="received_complaints",
        verbose_name=_("首问受理人"),
    )
    received_at = models.DateTimeField(_("受理时间"), default=timezone.now)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_complaints",
        verbose_name=_("当前负责人"),
    )
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.RECEIVED)

    acknowledge_due_at = models.DateTimeField(_("确认期限"), editable=False)
    resolve_due_at = models.DateTimeField(_("处理期限"), editable=False)
    due_provisional = models.BooleanField(_("期限为暂定(无节假日数据)"), default=False, editable=False)
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    investigating_at = models.DateTimeField(_("开始调查时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("处理完成时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)

    finding = models.CharField(_("调查结论"), max_length=20, choices=Finding.choices, blank=True)
    resolution = LimitedTextField(
        _("纠正措施/解释说明"),
        blank=True,
        help_text=_("我方责任:写明纠正措施;客户自身原因:写明向客户所作的解释。"),
    )
    is_unreasonable = models.BooleanField(_("无理投诉"), default=False)

    # Breach flags (R16): set once by the overdue job, so owner and managers hear of it once.
    acknowledge_breached_at = models.DateTimeField(_("确认超期时间"), null=True, blank=True)
    resolve_breached_at = models.DateTimeField(_("处理超期时间"), null=True, blank=True)
    reopen_count = models.PositiveIntegerField(_("重新处理次数"), default=0)

    objects = models.Manager.from_queryset(ComplaintQuerySet)()
    scope = Scope(branch="client__branch", client="client", owner="owner")

    class Meta:
        verbose_name = _("客户投诉")
        verbose_name_plural = _("客户投诉")
        ordering = ["-received_at"]
        indexes = [
            # A branch's complaints (restrict() joins the branch's clients) read from the index
            # alone: the queue's count, its page of ids by the newest, its owners to filter by.
            models.Index(
                fields=["client", "received_at", "id"], include=["owner"], name="complaint_client_queue_idx"
            ),
            models.Index(fields=["status", "acknowledge_due_at"]),
            models.Index(fields=["status", "resolve_due_at"]),
            models.Index(fields=["owner", "status"]),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def code(self) -> str:
        return f"TS{self.pk or 0:06d}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def acknowledge_overdue(self) -> bool:
        if self.status != Status.RECEIVED or not self.acknowledge_due_at:
            return False
        return self.acknowledge_due_at < timezone.now()

    @property
    def resolve_overdue(self) -> bool:
        if not self.is_open or not self.resolve_due_at:
            return False
        return self.resolve_due_at < timezone.now()

    @property
    def is_overdue(self) -> bool:
        return self.acknowledge_overdue or self.resolve_overdue

    @property
    def acknowledged_on_time(self) -> bool | None:
        if not self.acknowledged_at:
            return None
        return self.acknowledged_at <= self.acknowledge_due_at

    @property
    def resolved_on_time(self) -> bool | None:
        if not self.resolved_at:
            return None
        return self.resolved_at <= self.resolve_due_at

    @property
    def needs_second_visit(self) -> bool:
        """R18: key projects get a second return visit within two months."""
        return bool(self.project_id and self.project.is_key)


class HandOver(BusinessModel):
    """A formal hand-over of a complaint to a named person (首问负责制, R15)."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="handovers", verbose_name=_("投诉")
    )
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("移交人")
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("接收人")
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("操作人")
    )
    at = models.DateTimeField(_("移交时间"), default=timezone.now)
    reason = models.CharField(_("移交原因"), max_length=300)

    scope = Scope(branch="complaint__client__branch", client="complaint__client", owner="complaint__owner")

    class Meta:
        verbose_name = _("投诉移交")
        verbose_name_plural = _("投诉移交")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.from_user} → {self.to_user}"


class Event(BusinessModel):
    """One step of a complaint's timeline: every workflow step and every breach is recorded."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("受理投诉")
        ACKNOWLEDGED = "acknowledged", _("确认投诉")
        HANDED_OVER = "handed_over", _("移交")
        INVESTIGATING = "investigating", _("开始调查")
        RESOLVED = "resolved", _("处理完成")
        RETURN_VISIT = "return_visit", _("回访")
        CLOSED = "closed", _("关闭")
        REOPENED = "reopened", _("重新处理")
        UPDATED = "updated", _("修改信息")
        ACK_BREACH = "ack_breach", _("确认超期")
        RESOLVE_BREACH = "resolve_breach", _("处理超期")
        VISIT_BREACH = "visit_breach", _("回访超期")
        ATTACHED = "attached", _("上传附件")
        ATTACHMENT_DELETED = "attachment_deleted", _("删除附件")

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="events", verbose_name=_("投诉")
    )
    kind = models.CharField(_("事项"), max_length=20, choices=Kind.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    from_status = models.CharField(_("原状态"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, choices=Status.choices, blank=True)
    note = LimitedTextField(_("说明"), blank=True)

    scope = Scope(branch="complaint__client__branch", client="complaint__client", owner="complaint__owner")

    class Meta:
        verbose_name = _("投诉处理记录")
        verbose_name_plural = _("投诉处理记录")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class ReturnVisit(BusinessModel):
    """A return visit (回访, R18): the first within 24 hours of resolution asks the client's
    satisfaction with the handling; for key projects a second within two months confirms the
    effect. Created as due when the complaint is resolved, completed when recorded."""

    class Method(models.TextChoices):
        PHONE = "phone", _("电话回访")
        VISIT = "visit", _("上门回访")
        ONSITE = "onsite", _("现场回访")
        OTHER = "other", _("其他")

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="return_visits", verbose_name=_("投诉")
    )
    sequence = models.PositiveSmallIntegerField(_("回访次序"), default=1)
    due_at = models.DateTimeField(_("回访期限"))
    visited_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("回访人"),
    )
    method = models.CharField(_("回访方式"), max_length=20, choices=Method.choices, blank=True)
    contact_name = models.CharField(_("受访人"), max_length=50, blank=True)
    satisfaction = models.CharField(
        _("客户对处理的满意度"), max_length=20, choices=Satisfaction.choices, blank=True
    )
    effect_confirmed = models.BooleanField(_("确认整改效果"), default=False)
    notes = LimitedTextField(_("回访记录"), blank=True)
    breached_at = models.DateTimeField(_("超期时间"), null=True, blank=True)

    scope = Scope(branch="complaint__client__branch", client="complaint__client", owner="complaint__owner")

    class Meta:
        verbose_name = _("投诉回访")
        verbose_name_plural = _("投诉回访")
        ordering = ["complaint", "sequence", "pk"]
        indexes = [models.Index(fields=["visited_at", "due_at"])]

    def __str__(self):
        return gettext("%(code)s 第%(n)s次回访") % {"code": self.complaint.code, "n": self.sequence}

    @property
    def is_done(self) -> bool:
        return self.visited_at is not None

    @property
    def is_overdue(self) -> bool:
        return self.visited_at is None and self.due_at < timezone.now()

    @property
    def is_effect_visit(self) -> bool:
        """The effect-confirming visit of a key project (R18's second): another visit of the same
        resolution precedes it (pending, or made since the resolution; visits of an earlier
        resolution were made before it). Read from the prefetched visits on the page."""
        return is_effect_visit(self, self.complaint.return_visits.all(), self.complaint.resolved_at)

    @property
    def opens_at(self):
        """When this visit may be recorded (R18): the first at once; the second, which confirms
        the effect "within 2 months", only CRM_SECOND_RETURN_VISIT_WINDOW_DAYS before it is due,
        since recording it minutes after the resolution would confirm nothing. None: open now."""
        if self.visited_at is not None or not self.is_effect_visit:
            return None
        return effect_visit_opens_at(self.due_at)

    @property
    def is_open(self) -> bool:
        opens = self.opens_at
        return opens is None or opens <= timezone.now()


# Attachments of complaints (R61-R64): the complaints app's model, kept in its package.
from .attachments.models import ComplaintAttachment  # noqa: E402, F401

# Warranty repairs (报修) are the complaints app's too (they own return visits and service
# quality); kept in their own package. Imported last: they refer to the models above.
from .repairs.models import RepairEvent, RepairRequest, RepairVisit  # noqa: E402, F401
