"""B→A cultivation and the half-year evaluation of B clients (seed 001, R42-R47).

Seed 001, on B clients: «定期对客户进行评价、评测 ... 维护目标:将B类客户培养成A类客户,对不合格的B类
客户打回到C类客户行列». A B client may have a cultivation plan (培养计划): a goal, measures (措施)
each with a due date and an owner, review dates, and reviews (评审) that record progress. Each half
year every B client is evaluated (B类客户评价): promoted to A, kept as B, or sent back to C, the
grade changes going through the one grading service (R7).

Imported by clients.models (these are the clients app's models; kept in their own module so
that the archive's models file stays readable)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.access import Scope
from crm.fields import LimitedTextField
from crm.models import BusinessModel, Versioned

# clients.models imports this module at its end: Client and GradeChange are defined by then.
from ..models import Client, GradeChange

_PLAN_SCOPE = Scope(branch="plan__client__branch", client="plan__client", owner="plan__client__owner")


class CultivationPlan(Versioned, BusinessModel):
    """A plan to cultivate a B client into an A client (培养计划, R42-R45): proposed by the
    client's branch, with a goal, measures and review dates; open until the client is promoted
    to A or sent back to C (the grading service closes it, R45) or the branch closes it."""

    class Status(models.TextChoices):
        OPEN = "open", _("培养中")
        PROMOTED = "promoted", _("已培养为A类客户")
        DEMOTED = "demoted", _("已打回C类客户")
        CLOSED = "closed", _("已终止")

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="cultivation_plans", verbose_name=_("客户")
    )
    goal = LimitedTextField(_("培养目标"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("提出人")
    )
    proposed_at = models.DateTimeField(_("提出时间"), default=timezone.now, db_index=True)
    next_review_on = models.DateField(_("下次评审日期"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("结束人"),
    )
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True, db_index=True)
    close_reason = LimitedTextField(_("结束理由"), blank=True)

    scope = Scope(branch="client__branch", client="client", owner="client__owner")

    class Meta:
        verbose_name = _("培养计划")
        verbose_name_plural = _("培养计划")
        ordering = ["-proposed_at"]
        constraints = [
            # R42: one open plan per client (two parallel proposals: one wins).
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(status="open"),
                name="cultivation_one_open_per_client",
                violation_error_message=_("该客户已有进行中的培养计划。"),
            )
        ]
        indexes = [models.Index(fields=["status", "proposed_at"])]

    def __str__(self):
        return f"{self.client} · {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class CultivationMeasure(Versioned, BusinessModel):
    """A measure of a plan (培养措施, R43): what is done, by when, by whom (a person of the
    client's branch); marked done by a review."""

    plan = models.ForeignKey(
        CultivationPlan, on_delete=models.CASCADE, related_name="measures", verbose_name=_("培养计划")
    )
    description = LimitedTextField(_("措施"))
    due_on = models.DateField(_("完成期限"))
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

    scope = _PLAN_SCOPE

    class Meta:
        verbose_name = _("培养措施")
        verbose_name_plural = _("培养措施")
        ordering = ["due_on", "pk"]

    def __str__(self):
        return self.description[:40]

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class CultivationReview(BusinessModel):
    """A review of a plan's progress (评审, R44): the date, the progress, who reviewed, the
    measures it found done and the next review date."""

    plan = models.ForeignKey(
        CultivationPlan, on_delete=models.CASCADE, related_name="reviews", verbose_name=_("培养计划")
    )
    reviewed_on = models.DateField(_("评审日期"))
    note = LimitedTextField(_("进展情况"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("评审人")
    )
    measures_done = models.ManyToManyField(
        CultivationMeasure, blank=True, related_name="+", verbose_name=_("本次完成的措施")
    )
    next_review_on = models.DateField(_("下次评审日期"), null=True, blank=True)

    scope = _PLAN_SCOPE

    class Meta:
        verbose_name = _("培养计划评审")
        verbose_name_plural = _("培养计划评审")
        ordering = ["-reviewed_on", "-pk"]

    def __str__(self):
        return f"{self.plan} · {self.reviewed_on}"


class BEvaluation(BusinessModel):
    """The half-year evaluation of a B client (B类客户评价, R46): promoted to A, kept as B, or
    sent back to C, with its reason; a promotion or a demotion is the grade change it names
    (the grading trail, R7). ``half_year`` is the half year it counts for (``2026H2``)."""

    class Outcome(models.TextChoices):
        PROMOTE = "promote", _("培养为A类客户")
        KEEP = "keep", _("保持B类客户")
        DEMOTE = "demote", _("打回C类客户")

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="b_evaluations", verbose_name=_("客户")
    )
    half_year = models.CharField(_("半年度"), max_length=6, db_index=True)
    outcome = models.CharField(_("评价结果"), max_length=10, choices=Outcome.choices)
    reason = LimitedTextField(_("理由"))
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("评价人")
    )
    evaluated_at = models.DateTimeField(_("评价时间"), default=timezone.now, db_index=True)
    grade_change = models.OneToOneField(
        GradeChange,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="b_evaluation",
        verbose_name=_("分级变更"),
    )
    plan = models.ForeignKey(
        CultivationPlan,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="evaluations",
        verbose_name=_("培养计划"),
    )

    scope = Scope(branch="client__branch", client="client", owner="client__owner")

    class Meta:
        verbose_name = _("B类客户评价")
        verbose_name_plural = _("B类客户评价")
        ordering = ["-evaluated_at"]
        constraints = [
            # R46: a B client is kept at most once a half year (a promotion or demotion later in
            # the same half year is a grade change of its own, recorded as such).
            models.UniqueConstraint(
                fields=["client", "half_year"],
                condition=models.Q(outcome="keep"),
                name="bevaluation_one_keep_per_half",
                violation_error_message=_("该客户本半年度已评价。"),
            )
        ]

    def __str__(self):
        return f"{self.client} · {self.half_year} · {self.get_outcome_display()}"
