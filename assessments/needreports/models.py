"""The quarterly client need analysis report (客户需求分析报告) and the need analysis meeting
(需求分析会议) that reviews it (seed 003, 精准客户需求管理办法, 三(四); R65-R69).

Seed 003: «根据需求分类、评估和整合结果,撰写客户需求分析报告。报告内容应包括需求概述、需求详细分析、
需求价值评估、需求可行性分析、需求整合情况等。定期召开需求分析会议,对需求分析报告进行讨论和审核,
确保报告的准确性和实用性。»

Imported by assessments.models at its end (these are the assessments app's models, kept in a
module of their own so that the reporting models file stays readable)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.access import Scope
from crm.fields import LimitedTextField
from crm.figures import Quarter
from crm.models import Branch, BusinessModel, Versioned

from ..meetings import MeetingDecision

# The five parts of the report (seed 003), in its order: field name and heading.
PARTS = (
    ("overview", _("一、需求概述")),
    ("analysis", _("二、需求详细分析")),
    ("value", _("三、需求价值评估")),
    ("feasibility", _("四、需求可行性分析")),
    ("integration", _("五、需求整合情况")),
)
PART_NAMES = tuple(name for name, _label in PARTS)


class NeedAnalysisReport(Versioned, BusinessModel):
    """A branch's client need analysis report of one calendar quarter (R65): five parts of
    text, offered pre-filled from the quarter's need figures; the figures are live while it is
    written and frozen (with the records behind them) when it is submitted to the need analysis
    meeting, which accepts it or returns it with a reason (R67)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("编写中")
        SUBMITTED = "submitted", _("待会议审核")
        ACCEPTED = "accepted", _("审核通过")
        RETURNED = "returned", _("退回修改")

    # R67: the states in which the branch still writes the report.
    EDITABLE = (Status.DRAFT, Status.RETURNED)

    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="need_reports", verbose_name=_("分子公司")
    )
    quarter = models.CharField(_("季度"), max_length=6, db_index=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    overview = LimitedTextField(_("需求概述"), blank=True, limit=5000)
    analysis = LimitedTextField(_("需求详细分析"), blank=True, limit=5000)
    value = LimitedTextField(_("需求价值评估"), blank=True, limit=5000)
    feasibility = LimitedTextField(_("需求可行性分析"), blank=True, limit=5000)
    integration = LimitedTextField(_("需求整合情况"), blank=True, limit=5000)
    # Frozen on submission (R65): the figures, the lists behind them; ``values`` alone for lists.
    snapshot = models.JSONField(_("提交时的数据"), null=True, blank=True, editable=False)
    values = models.JSONField(_("提交时的数值"), null=True, blank=True, editable=False)
    frozen_at = models.DateTimeField(_("数据冻结时间"), null=True, blank=True, editable=False)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("提交人"),
        editable=False,
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True, editable=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审核记录人"),
        editable=False,
    )
    review_meeting = models.ForeignKey(
        "assessments.NeedAnalysisMeeting",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审核会议"),
        editable=False,
    )
    returned_reason = LimitedTextField(_("退回原因"), blank=True, editable=False)

    scope = Scope(branch="branch")

    class Meta:
        verbose_name = _("客户需求分析报告")
        verbose_name_plural = _("客户需求分析报告")
        ordering = ["-quarter", "branch__sort_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "quarter"],
                name="need_report_once_per_quarter",
                violation_error_message=_("本单位该季度的客户需求分析报告已存在。"),
            )
        ]

    def __str__(self):
        return f"{self.branch} {self.quarter}"

    @property
    def quarter_obj(self) -> Quarter:
        return Quarter.parse(self.quarter)

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    @property
    def is_frozen(self) -> bool:
        return self.snapshot is not None

    def parts(self) -> list[tuple[str, str, str]]:
        """(field, heading, text) of the five parts, in the report's order."""
        return [(name, str(label), getattr(self, name)) for name, label in PARTS]


class NeedAnalysisMeeting(BusinessModel):
    """A need analysis meeting (需求分析会议, R68) held on a branch's quarterly report: when,
    where, who attended, what was discussed; its decisions are tracked to done. The meeting on
    or after the report's submission reviews it (R67)."""

    report = models.ForeignKey(
        NeedAnalysisReport, on_delete=models.CASCADE, related_name="meetings", verbose_name=_("需求分析报告")
    )
    held_on = models.DateField(_("会议日期"))
    place = models.CharField(_("会议地点"), max_length=100, blank=True)
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", verbose_name=_("参会人员"))
    minutes = LimitedTextField(_("讨论情况"), limit=5000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("记录人")
    )
    recorded_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    scope = Scope(branch="report__branch")

    class Meta:
        verbose_name = _("需求分析会议")
        verbose_name_plural = _("需求分析会议")
        ordering = ["held_on", "pk"]

    def __str__(self):
        return f"{self.report} · {self.held_on:%Y-%m-%d}"


class NeedMeetingDecision(MeetingDecision):
    """A decision of a need analysis meeting (会议决定事项, R68): what is to be done, by whom (a
    person of the branch), by when; marked done with what was done, by its owner or the branch
    manager. Open past its due date it is overdue (assessments.meetings)."""

    meeting = models.ForeignKey(
        NeedAnalysisMeeting,
        on_delete=models.CASCADE,
        related_name="decisions",
        verbose_name=_("需求分析会议"),
    )

    scope = Scope(branch="meeting__report__branch")

    class Meta:
        verbose_name = _("会议决定事项")
        verbose_name_plural = _("会议决定事项")
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["owner", "done_at"])]
