"""Improvement plans per priority dimension (改进计划, seed 002, R102-R108).

Seed 002 goes on from the priority matrix (行动重点, R24) to plans: «针对度满意度调查反映的缺陷产品及
服务,进一步分析有关要素,拟定行动重点,提出有针对性的改善措施», tables of 措施 / 时间点 / 部门 / 负责人
per 业主类型. A plan is made for one dimension of a matrix (a branch's or the group's) in the
优先改进区 or 次要改进区; it keeps the dimension's satisfaction when it was made (the before) and
its target value (R23); its measures are tracked to done with evidence; the next campaign's
result (the after) closes it.

Imported by surveys.models (these are the surveys app's models, kept in their own module)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.access import Scope
from crm.fields import LimitedTextField
from crm.models import Branch, BusinessModel

# surveys.models imports this module at its end: the survey models are defined by then.
from ..models import Campaign, Dimension, SurveyTemplate


class Quadrant(models.TextChoices):
    """The matrix's improvement quadrants a plan may be made for (R102)."""

    PRIORITY = "priority", _("优先改进区")
    SECONDARY = "secondary", _("次要改进区")


class ClientGroup(models.TextChoices):
    """Whom a measure is for (seed 002's 业主类型 column, in the group's terms: the grades)."""

    ALL = "all", _("全体客户")
    A = "A", _("A类客户")
    B = "B", _("B类客户")
    C = "C", _("C类客户")


class ImprovementPlan(BusinessModel):
    """A plan to improve one dimension of satisfaction (改进计划, R102-R107): for a branch, or for
    the group (``branch`` empty: group marketing's, from the group's matrix)."""

    class Status(models.TextChoices):
        OPEN = "open", _("进行中")
        CLOSED = "closed", _("已关闭")

    class Result(models.TextChoices):
        MET = "met", _("达到目标值")
        IMPROVED = "improved", _("有改善,未达目标")
        NOT_IMPROVED = "not_improved", _("未改善")

    branch = models.ForeignKey(
        Branch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="improvement_plans",
        verbose_name=_("责任单位"),
        help_text=_("空表示集团的改进计划。"),
    )
    template = models.ForeignKey(
        SurveyTemplate, on_delete=models.PROTECT, related_name="improvement_plans", verbose_name=_("调查模板")
    )
    dimension = models.ForeignKey(
        Dimension, on_delete=models.PROTECT, related_name="improvement_plans", verbose_name=_("维度")
    )
    year = models.PositiveIntegerField(_("年度"))
    quadrant = models.CharField(_("象限"), max_length=10, choices=Quadrant.choices)
    goal = LimitedTextField(_("改进说明"), blank=True)
    before_rate = models.DecimalField(_("改进前满意率"), max_digits=4, decimal_places=3)
    before_answers = models.PositiveIntegerField(_("改进前样本数"), default=0)
    target = models.DecimalField(_("目标值"), max_digits=4, decimal_places=3)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("制定人")
    )
    after_campaign = models.ForeignKey(
        Campaign,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="improvement_plans",
        verbose_name=_("效果调查活动"),
    )
    after_rate = models.DecimalField(_("改进后满意率"), max_digits=4, decimal_places=3, null=True, blank=True)
    after_answers = models.PositiveIntegerField(_("改进后样本数"), null=True, blank=True)
    result = models.CharField(_("改进效果"), max_length=15, choices=Result.choices, blank=True)
    close_note = LimitedTextField(_("关闭说明"), blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("关闭人"),
    )
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)

    scope = Scope(branch="branch")

    class Meta:
        verbose_name = _("改进计划")
        verbose_name_plural = _("改进计划")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # R102: one open plan per branch and dimension (the group's: checked by the service).
            models.UniqueConstraint(
                fields=["branch", "dimension"],
                condition=models.Q(status="open"),
                name="improvement_one_open_per_dimension",
                violation_error_message=_("该维度已有进行中的改进计划。"),
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"{self.scope_label} · {self.dimension}"

    @property
    def scope_label(self) -> str:
        return str(self.branch) if self.branch_id else str(_("集团"))

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class ImprovementMeasure(BusinessModel):
    """A measure of a plan (措施, R103): what is done, for which clients, by when (时间点), by
    which department (部门) and person (负责人); done with its evidence (R104)."""

    plan = models.ForeignKey(
        ImprovementPlan, on_delete=models.CASCADE, related_name="measures", verbose_name=_("改进计划")
    )
    description = LimitedTextField(_("措施"))
    client_group = models.CharField(
        _("客户类型"), max_length=5, choices=ClientGroup.choices, default=ClientGroup.ALL
    )
    due_on = models.DateField(_("时间点"))
    department = models.CharField(_("部门"), max_length=50)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("负责人")
    )
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("确认完成人"),
    )
    evidence = LimitedTextField(_("完成情况"), blank=True)

    scope = Scope(branch="plan__branch")

    class Meta:
        verbose_name = _("改进措施")
        verbose_name_plural = _("改进措施")
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["done_at", "due_on"])]

    def __str__(self):
        return self.description[:40]

    @property
    def is_done(self) -> bool:
        return self.done_at is not None
