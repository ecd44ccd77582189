"""Project departments report to their branch (seed 001, 客户关系管理办法; R80-R86).

Seed 001: «各项目经理部...按照《集团公司客户信息统计表》填写...上报于所属区域分公司»;
«形成客户满意度调查报告,上报于所属分子公司».

A department's part of the branch's monthly report (DepartmentReport, R80-R84), the branch's
deadline for the parts (DepartmentDeadline, R80), the department's satisfaction survey report of
a campaign (DepartmentSurveyReport, R85, R86) and the history of every step (DepartmentEvent).
Imported by assessments.models at its end (these are the assessments app's models)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.access import Scope
from crm.fields import LimitedTextField
from crm.figures import Period
from crm.models import Branch, BusinessModel, ProjectDepartment, Versioned

# R80: the parts are due on this day of the period's month unless the branch chose another.
DEFAULT_DAY = 22
LAST_DAY = 24  # before the branch's own deadline on the 25th


class DepartmentDeadline(BusinessModel):
    """The day of the month by which a branch's project departments submit their parts of the
    monthly report (R80): before the branch's own deadline on the 25th; the 22nd unless the
    branch manager sets another."""

    branch = models.OneToOneField(
        Branch, on_delete=models.CASCADE, related_name="department_deadline", verbose_name=_("分子公司")
    )
    day = models.PositiveSmallIntegerField(
        _("项目经理部上报日"),
        default=DEFAULT_DAY,
        validators=[MinValueValidator(1), MaxValueValidator(LAST_DAY)],
    )

    scope = Scope(branch="branch")

    class Meta:
        verbose_name = _("项目经理部上报截止日")
        verbose_name_plural = _("项目经理部上报截止日")

    def __str__(self):
        return f"{self.branch} {self.day}"


def part_deadline(branch_id: int, period: Period, day: int | None = None) -> dt.datetime:
    """R80: the end (exclusive) of the day the branch's departments' parts of ``period`` are
    due: that day of the period's month, at midnight after it, Asia/Shanghai."""
    if day is None:
        day = (
            DepartmentDeadline.objects.filter(branch_id=branch_id).values_list("day", flat=True).first()
            or DEFAULT_DAY
        )
    return dt.datetime.combine(
        dt.date(period.year, period.month, day) + dt.timedelta(days=1),
        dt.time.min,
        tzinfo=timezone.get_default_timezone(),
    )


class DepartmentReport(Versioned, BusinessModel):
    """A project department's part of its branch's monthly report (R80-R83): the figures of the
    registry counted over the department's records in the part's window (from its previous
    part's freeze, R81), live while a draft, frozen with the ids behind them when the department
    submits it to the branch; the branch manager may return it with a reason."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("待上报")
        SUBMITTED = "submitted", _("已上报")
        RETURNED = "returned", _("已退回")

    department = models.ForeignKey(
        ProjectDepartment,
        on_delete=models.PROTECT,
        related_name="monthly_parts",
        verbose_name=_("项目经理部"),
    )
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="department_reports", verbose_name=_("分子公司")
    )
    period = models.CharField(_("期间"), max_length=7, db_index=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    remarks = LimitedTextField(_("说明"), blank=True)
    deadline = models.DateTimeField(_("上报截止时间"), editable=False)
    snapshot = models.JSONField(_("上报数据"), null=True, blank=True, editable=False)
    values = models.JSONField(_("上报数值"), null=True, blank=True, editable=False)
    window_start = models.DateTimeField(_("统计起始时间"), null=True, blank=True, editable=False)
    frozen_at = models.DateTimeField(_("冻结时间"), null=True, blank=True, editable=False)
    submitted_at = models.DateTimeField(_("上报时间"), null=True, blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("上报人"),
        editable=False,
    )
    # Decided by the first submission against the branch's deadline (R80).
    on_time = models.BooleanField(_("按时上报"), null=True, blank=True, editable=False)
    returned_reason = LimitedTextField(_("退回原因"), blank=True, editable=False)

    scope = Scope(branch="branch")

    class Meta:
        verbose_name = _("项目经理部月度上报")
        verbose_name_plural = _("项目经理部月度上报")
        ordering = ["-period", "branch__sort_order", "department__name"]
        constraints = [
            models.UniqueConstraint(fields=["department", "period"], name="department_report_once_per_period")
        ]

    def __str__(self):
        return f"{self.department.name} {self.period}"

    @property
    def period_obj(self) -> Period:
        return Period.parse(self.period)

    @property
    def is_frozen(self) -> bool:
        return self.snapshot is not None

    @property
    def timeliness(self) -> str:
        """R82: on_time, late, returned, missing (the deadline passed, nothing submitted) or
        pending, as the branch's report marks the part."""
        if self.status == self.Status.RETURNED:
            return "returned"
        if self.on_time is True and self.status == self.Status.SUBMITTED:
            return "on_time"
        if self.on_time is False and self.status == self.Status.SUBMITTED:
            return "late"
        return "missing" if timezone.now() >= self.deadline else "pending"


class DepartmentSurveyReport(Versioned, BusinessModel):
    """A project department's satisfaction survey report of a campaign (客户满意度调查报告, R85):
    its surveys' results, unsatisfied items and their follow-ups, offered pre-filled from the
    records, submitted to the branch; the branch's campaign report lists them (R86)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("待上报")
        SUBMITTED = "submitted", _("已上报")

    campaign = models.ForeignKey(
        "surveys.Campaign",
        on_delete=models.CASCADE,
        related_name="department_reports",
        verbose_name=_("调查活动"),
    )
    department = models.ForeignKey(
        ProjectDepartment,
        on_delete=models.PROTECT,
        related_name="survey_reports",
        verbose_name=_("项目经理部"),
    )
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="department_survey_reports", verbose_name=_("分子公司")
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    due_at = models.DateTimeField(_("应上报时间"), editable=False)
    results = LimitedTextField(_("一、调查结果"), blank=True, limit=5000)
    unsatisfied = LimitedTextField(_("二、不满意项"), blank=True, limit=5000)
    follow_ups = LimitedTextField(_("三、跟进改进情况"), blank=True, limit=5000)
    summary = models.JSONField(_("调查数据"), null=True, blank=True, editable=False)
    submitted_at = models.DateTimeField(_("上报时间"), null=True, blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("上报人"),
        editable=False,
    )
    on_time = models.BooleanField(_("按时上报"), null=True, blank=True, editable=False)

    scope = Scope(branch="branch")

    TEXTS = ("results", "unsatisfied", "follow_ups")

    class Meta:
        verbose_name = _("项目经理部满意度调查报告")
        verbose_name_plural = _("项目经理部满意度调查报告")
        ordering = ["-campaign__opens_on", "branch__sort_order", "department__name"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "department"], name="department_survey_report_once")
        ]

    def __str__(self):
        return f"{self.campaign} · {self.department.name}"

    @property
    def timeliness(self) -> str:
        if self.status == self.Status.SUBMITTED:
            return "on_time" if self.on_time else "late"
        return "missing" if timezone.now() >= self.due_at else "pending"


class DepartmentEvent(BusinessModel):
    """A step of a department's report (R83): who, when, what, why. A submission keeps the
    figures it froze, so a part returned and submitted again keeps both versions."""

    class Action(models.TextChoices):
        SUBMITTED = "submitted", _("上报")
        RETURNED = "returned", _("退回")
        SAVED = "saved", _("保存")

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+", verbose_name=_("分子公司"))
    report = models.ForeignKey(
        DepartmentReport, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    survey_report = models.ForeignKey(
        DepartmentSurveyReport, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    action = models.CharField(_("操作"), max_length=10, choices=Action.choices)
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
    values = models.JSONField(null=True, blank=True, editable=False)

    scope = Scope(branch="branch")

    class Meta:
        verbose_name = _("项目经理部上报记录")
        verbose_name_plural = _("项目经理部上报记录")
        ordering = ["at", "pk"]
