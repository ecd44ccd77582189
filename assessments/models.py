"""Monthly reporting (R26-R29): branch reports, the closing of a period by the 25th job, and the
rankings. Figures are defined by the apps that own their records (crm.figures); a report holds
them live while it is a draft and frozen once submitted."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.access import RestrictedManager, RestrictedQuerySet, Scope, has_global
from crm.fields import LimitedTextField
from crm.figures import Period
from crm.models import Branch, BusinessModel, Versioned


class MonthlyReport(Versioned, BusinessModel):
    """A branch's monthly client information report (客户信息统计表, R26, R27): one per (branch,
    period). A draft is computed live from the records; submitting freezes ``snapshot`` (the
    figures, the lists behind them and the department parts), which later edits of the records
    do not change. The 25th job (R28) freezes a report never submitted as 未上报."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("待上报")
        SUBMITTED = "submitted", _("已上报")
        RETURNED = "returned", _("已退回")
        ACCEPTED = "accepted", _("已确认")
        MISSING = "missing", _("未上报")

    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="monthly_reports", verbose_name=_("分子公司")
    )
    period = models.CharField(_("期间"), max_length=7, db_index=True)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    remarks = LimitedTextField(_("说明"), blank=True)
    snapshot = models.JSONField(_("上报数据"), null=True, blank=True, editable=False)
    frozen_at = models.DateTimeField(_("冻结时间"), null=True, blank=True, editable=False)
    no_change = models.BooleanField(_("无变化"), default=False, editable=False)
    submitted_at = models.DateTimeField(_("上报时间"), null=True, blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("上报人"),
    )
    # Decided by the first submission against the deadline (R28): None while nothing was
    # submitted; a report frozen as missing stays None until it is submitted (then late).
    on_time = models.BooleanField(_("按时上报"), null=True, blank=True, editable=False)
    returned_reason = LimitedTextField(_("退回原因"), blank=True, editable=False)
    accepted_at = models.DateTimeField(_("确认时间"), null=True, blank=True, editable=False)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("确认人"),
    )
    closed_at = models.DateTimeField(_("期间关闭时间"), null=True, blank=True, editable=False)

    scope = Scope(branch="branch")

    class Meta:
        verbose_name = _("月度客户信息报表")
        verbose_name_plural = _("月度客户信息报表")
        ordering = ["-period", "branch__sort_order"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "period"], name="monthly_report_once_per_period")
        ]
        indexes = [models.Index(fields=["period", "status"])]

    def __str__(self):
        return f"{self.branch} {self.period}"

    @property
    def period_obj(self) -> Period:
        return Period.parse(self.period)

    @property
    def is_frozen(self) -> bool:
        return self.snapshot is not None

    @property
    def timeliness(self) -> str:
        """How the report stands against its deadline, as the roll-up marks it: on_time, late,
        missing, returned or pending (a draft before the deadline)."""
        if self.status == self.Status.RETURNED:
            return "returned"
        if self.status == self.Status.MISSING:
            return "missing"
        if self.on_time is True:
            return "on_time"
        if self.on_time is False:
            return "late"
        return "missing" if timezone.now() > self.period_obj.deadline else "pending"


TIMELINESS = {
    "on_time": _("按时上报"),
    "late": _("逾期上报"),
    "missing": _("未上报"),
    "returned": _("已退回"),
    "pending": _("待上报"),
}


class ReportEvent(BusinessModel):
    """A step of a report's workflow (R27): who, when, what, why. A submission keeps the
    snapshot it froze, so a report returned and submitted again keeps both versions."""

    class Action(models.TextChoices):
        REMARKS = "remarks", _("填写说明")
        SUBMITTED = "submitted", _("上报")
        RETURNED = "returned", _("退回")
        ACCEPTED = "accepted", _("确认")
        MISSING = "missing", _("到期未上报,系统冻结")
        CLOSED = "closed", _("期间关闭")

    report = models.ForeignKey(
        MonthlyReport, on_delete=models.CASCADE, related_name="events", verbose_name=_("报表")
    )
    action = models.CharField(_("操作"), max_length=12, choices=Action.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    note = LimitedTextField(_("说明"), blank=True)
    snapshot = models.JSONField(null=True, blank=True, editable=False)

    scope = Scope(branch="report__branch")

    class Meta:
        verbose_name = _("报表记录")
        verbose_name_plural = _("报表记录")
        ordering = ["at", "pk"]


class MonthlyClose(BusinessModel):
    """The closing of a period by the 25th job (R28), run by the schedule or by hand: one row per
    period. It fans out one part per branch; the last part to finish builds the group roll-up.
    The count of finished parts is kept here, in the database, so that the fan-out knows when
    all are done on every shape the product runs in (no result backend needed)."""

    class State(models.TextChoices):
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")

    period = models.CharField(_("期间"), max_length=7, unique=True)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.RUNNING)
    total = models.PositiveIntegerField(_("分子公司数"), default=0)
    done = models.PositiveIntegerField(_("已完成"), default=0)
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("发起人"),
    )
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    rollup = models.JSONField(_("集团汇总"), null=True, blank=True, editable=False)

    scope = Scope(branch=None)  # the group's: model-level holders only

    class Meta:
        verbose_name = _("月度关账")
        verbose_name_plural = _("月度关账")
        ordering = ["-period"]

    def __str__(self):
        return self.period

    @property
    def progress(self) -> int:
        return round(100 * self.done / self.total) if self.total else (100 if self.state == "done" else 0)


class ClosePart(models.Model):
    """One branch's part of a closing; ``done_at`` is set once, by the task that did it."""

    close = models.ForeignKey(MonthlyClose, on_delete=models.CASCADE, related_name="parts")
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+")
    done_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["close", "branch"], name="close_part_once")]

    def __str__(self):
        return f"{self.close} {self.branch_id}"


class RankingQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view"):
        """R29: rankings go to group leaders and to the branches, so every person with a role
        reads them; only group marketing (model-level change) writes the evaluation."""
        if action == "view":
            if user and user.is_authenticated and user.is_active and (user.role or user.is_superuser):
                return self
            return self.none()
        return self if has_global(user, self.model, action) else self.none()


class Ranking(BusinessModel):
    """The branches ranked by their numbers of A, B and C clients (R29) at the end of a quarter,
    half year or year, with the change since the previous ranking of the same kind, and group
    marketing's evaluation."""

    class Kind(models.TextChoices):
        QUARTER = "quarter", _("季度")
        HALF = "half", _("半年")
        YEAR = "year", _("年度")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    label = models.CharField(_("期间"), max_length=10)
    as_of = models.DateTimeField(_("统计截至"))
    rows = models.JSONField(_("排名"), default=list, editable=False)
    remarks = LimitedTextField(_("市场营销部评价"), blank=True)
    remarks_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("评价人"),
    )
    remarks_at = models.DateTimeField(_("评价时间"), null=True, blank=True)

    objects = RestrictedManager.from_queryset(RankingQuerySet)()
    scope = Scope(branch=None)

    class Meta:
        verbose_name = _("分子公司排名")
        verbose_name_plural = _("分子公司排名")
        ordering = ["-as_of", "kind"]
        constraints = [models.UniqueConstraint(fields=["kind", "label"], name="ranking_once_per_period")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.label}"
