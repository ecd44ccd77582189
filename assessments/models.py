"""Monthly reporting (R26-R29): branch reports, the closing of a period by the 25th job, and the
rankings. Figures are defined by the apps that own their records (crm.figures); a report holds
them live while it is a draft and frozen once submitted."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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
        ACCEPTED = "accepted", pgettext_lazy("monthly report status", "已确认")
        MISSING = "missing", _("未上报")
        # R26 "若无变化,则不用重复上报": nothing happened in the window, and the 25th job
        # recorded that by itself, on time, with nothing owed.
        NO_CHANGE = "no_change", _("无变化")

    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="monthly_reports", verbose_name=_("分子公司")
    )
    period = models.CharField(_("期间"), max_length=7, db_index=True)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    remarks = LimitedTextField(pgettext_lazy("monthly report", "说明"), blank=True)
    snapshot = models.JSONField(_("上报数据"), null=True, blank=True, editable=False)
    # The frozen figures alone (a few hundred bytes), read by the roll-up and the assessment
    # without the lists behind them (the snapshot of a large branch runs to megabytes).
    values = models.JSONField(_("上报数值"), null=True, blank=True, editable=False)
    frozen_at = models.DateTimeField(_("冻结时间"), null=True, blank=True, editable=False)
    # The report's window (R26, R27) runs from the previous report's freeze to its own
    # (``frozen_at``), so every record lands in exactly one report: kept with the snapshot.
    window_start = models.DateTimeField(_("统计起始时间"), null=True, blank=True, editable=False)
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
        if self.status == self.Status.NO_CHANGE:
            return "on_time"
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
        NO_CHANGE = "no_change", _("本期无变化,系统按时记录")
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
    note = LimitedTextField(pgettext_lazy("monthly report", "说明"), blank=True)
    snapshot = models.JSONField(null=True, blank=True, editable=False)

    scope = Scope(branch="report__branch")

    class Meta:
        verbose_name = _("报表记录")
        verbose_name_plural = _("报表记录")
        ordering = ["at", "pk"]


class FanOutRound(models.Model):
    """What a job fanned out over the branches keeps about its failures (R55): the closing of a
    period and the half-year round. A part whose task failed for good (its retries used up)
    leaves the round failed, with the time; group marketing retries it, counted in ``retries``
    (assessments.rounds)."""

    failed_at = models.DateTimeField(_("失败时间"), null=True, blank=True, editable=False)
    retries = models.PositiveIntegerField(_("重新计算次数"), default=0, editable=False)

    # The name of the relation from the round to its parts (one per branch).
    PARTS = ""

    class Meta:
        abstract = True

    @property
    def is_failed(self) -> bool:
        return self.state == "failed"

    def failed_parts(self):
        return (
            getattr(self, self.PARTS)
            .filter(compute_failed_at__isnull=False)
            .select_related("branch")
            .order_by("branch__sort_order", "branch__code")
        )


class FanOutPart(models.Model):
    """One branch's part of a fanned-out job that can fail for good (R55): why and when. The
    reason is the exception's class and the first line of its message, never the records."""

    compute_error = models.CharField(_("计算失败原因"), max_length=500, blank=True, editable=False)
    compute_failed_at = models.DateTimeField(_("计算失败时间"), null=True, blank=True, editable=False)

    class Meta:
        abstract = True


class MonthlyClose(FanOutRound, BusinessModel):
    """The closing of a period by the 25th job (R28), run by the schedule or by hand: one row per
    period. It fans out one part per branch; the last part to finish builds the group roll-up.
    The count of finished parts is kept here, in the database, so that the fan-out knows when
    all are done on every shape the product runs in (no result backend needed)."""

    class State(models.TextChoices):
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("执行失败")

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
    PARTS = "parts"

    class Meta:
        verbose_name = _("月度关账")
        verbose_name_plural = _("月度关账")
        ordering = ["-period"]

    def __str__(self):
        return self.period

    @property
    def progress(self) -> int:
        return round(100 * self.done / self.total) if self.total else (100 if self.state == "done" else 0)


class ClosePart(FanOutPart):
    """One branch's part of a closing; ``done_at`` is set once, by the task that did it; a
    failure for good is kept with its reason until group marketing retries it (R55)."""

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


# ---------------------------------------------------------------------- half year (R30-R34)


ASPECTS = (
    ("loyalty", _("忠诚度")),
    ("profit", _("利润")),
    ("future", _("未来")),
    ("capability", _("性能")),
    ("product", _("产品")),
)


class AnalysisReport(Versioned, BusinessModel):
    """A branch's half-year client analysis report (客户分析报告, R30, R31): the five aspects, each
    with figures pre-filled from the records and the branch's own text; common traits of
    clients sharing a parent company. Submitting freezes the figures."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("待提交")
        SUBMITTED = "submitted", _("已提交")

    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="analysis_reports", verbose_name=_("分子公司")
    )
    half_year = models.CharField(_("半年度"), max_length=6, db_index=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    loyalty = LimitedTextField(_("忠诚度分析"), blank=True, limit=5000)
    profit = LimitedTextField(_("利润分析"), blank=True, limit=5000)
    future = LimitedTextField(_("未来分析"), blank=True, limit=5000)
    capability = LimitedTextField(_("性能分析"), blank=True, limit=5000)
    product = LimitedTextField(_("产品分析"), blank=True, limit=5000)
    common_traits = LimitedTextField(_("同一母公司客户的共性"), blank=True, limit=5000)
    figures = models.JSONField(_("数据"), null=True, blank=True, editable=False)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("提交人"),
    )
    on_time = models.BooleanField(_("按时提交"), null=True, blank=True, editable=False)
    # The auditor's judgement (R32 indicator 4): None until judged.
    meets_requirements = models.BooleanField(_("符合要求"), null=True, blank=True)

    scope = Scope(branch="branch")

    class Meta:
        verbose_name = _("客户分析报告")
        verbose_name_plural = _("客户分析报告")
        ordering = ["-half_year", "branch__sort_order"]
        constraints = [models.UniqueConstraint(fields=["branch", "half_year"], name="analysis_once_per_half")]

    def __str__(self):
        return f"{self.branch} {self.half_year}"


class AssessmentRound(FanOutRound, BusinessModel):
    """The opening of a half year's branch assessment by the job (R34) or by hand: one per half
    year; one part per branch, counted in the database like the monthly close."""

    class State(models.TextChoices):
        RUNNING = "running", _("计算中")
        OPEN = "open", _("考核中")
        FAILED = "failed", _("计算失败")

    half_year = models.CharField(_("半年度"), max_length=6, unique=True)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.RUNNING)
    total = models.PositiveIntegerField(_("分子公司数"), default=0)
    done = models.PositiveIntegerField(_("已计算"), default=0)
    growth_standard = models.FloatField(_("客户数增长标准"), default=0.03)
    opened_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("发起人"),
    )

    scope = Scope(branch=None)
    PARTS = "assessments"

    class Meta:
        verbose_name = _("半年考核")
        verbose_name_plural = _("半年考核")
        ordering = ["-half_year"]

    def __str__(self):
        return self.half_year

    @property
    def progress(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


class Assessment(FanOutPart, Versioned, BusinessModel):
    """A branch's half-year assessment (客户关系维护成效考核, R32): the indicators the system
    computes (frozen when the round opens, with the records behind them), the accuracy spot check,
    and the auditor's rating; the consequences (R33) follow the rating."""

    class Rating(models.TextChoices):
        EXCELLENT = "excellent", _("优良")
        QUALIFIED = "qualified", _("合格")
        POOR = "poor", _("差")

    round = models.ForeignKey(AssessmentRound, on_delete=models.CASCADE, related_name="assessments")
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="assessments", verbose_name=_("分子公司")
    )
    half_year = models.CharField(_("半年度"), max_length=6, db_index=True)
    indicators = models.JSONField(_("考核指标"), null=True, blank=True, editable=False)
    computed_at = models.DateTimeField(_("计算时间"), null=True, blank=True, editable=False)
    sample_seed = models.BigIntegerField(_("抽查随机种子"), null=True, blank=True, editable=False)
    rating = models.CharField(_("考核结果"), max_length=10, choices=Rating.choices, blank=True)
    reason = LimitedTextField(_("评定理由"), blank=True)
    rated_at = models.DateTimeField(_("评定时间"), null=True, blank=True, editable=False)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("考核人员"),
    )
    commended_at = models.DateTimeField(_("通报表扬时间"), null=True, blank=True, editable=False)

    scope = Scope(branch="branch")

    class Meta:
        verbose_name = _("分子公司考核")
        verbose_name_plural = _("分子公司考核")
        ordering = ["-half_year", "branch__sort_order"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "half_year"], name="assessment_once_per_half")
        ]

    def __str__(self):
        return f"{self.branch} {self.half_year}"


class SpotCheck(BusinessModel):
    """One archive record of the accuracy sample (R32 indicator 5) and the auditor's finding."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="spot_checks")
    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="+", verbose_name=_("客户")
    )
    accurate = models.BooleanField(_("信息准确"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    checked_at = models.DateTimeField(_("抽查时间"), null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("抽查人"),
    )

    scope = Scope(branch="assessment__branch")

    class Meta:
        verbose_name = _("信息准确性抽查")
        verbose_name_plural = _("信息准确性抽查")
        ordering = ["assessment", "pk"]
        constraints = [models.UniqueConstraint(fields=["assessment", "client"], name="spot_check_once")]

    def __str__(self):
        return f"{self.assessment} · {self.client_id}"


class WorkSummary(Versioned, BusinessModel):
    """The work summary a qualified or poor branch owes within a week (客户关系维护工作总结, R33),
    with a part for each indicator."""

    assessment = models.OneToOneField(Assessment, on_delete=models.CASCADE, related_name="work_summary")
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="work_summaries", verbose_name=_("分子公司")
    )
    due_at = models.DateTimeField(_("应提交时间"))
    reporting = LimitedTextField(_("一、信息上报"), blank=True, limit=5000)
    complaints = LimitedTextField(_("二、客户投诉"), blank=True, limit=5000)
    satisfaction = LimitedTextField(_("三、客户满意度"), blank=True, limit=5000)
    analysis = LimitedTextField(_("四、客户分析报告"), blank=True, limit=5000)
    accuracy = LimitedTextField(_("五、信息准确性"), blank=True, limit=5000)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("提交人"),
    )

    scope = Scope(branch="branch")

    PARTS = ("reporting", "complaints", "satisfaction", "analysis", "accuracy")

    class Meta:
        verbose_name = _("客户关系维护工作总结")
        verbose_name_plural = _("客户关系维护工作总结")
        ordering = ["-due_at"]

    def __str__(self):
        return f"{self.branch} {self.assessment.half_year}"

    @property
    def overdue(self) -> bool:
        return self.submitted_at is None and timezone.now() > self.due_at


class ClientAnalysis(BusinessModel):
    """A project department's analysis of a single client (R30), listed in the branch's report."""

    report = models.ForeignKey(AnalysisReport, on_delete=models.CASCADE, related_name="client_analyses")
    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="+", verbose_name=_("客户")
    )
    department = models.ForeignKey(
        "crm.ProjectDepartment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("项目经理部"),
    )
    text = LimitedTextField(_("单个客户分析"), limit=5000)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("填写人")
    )

    scope = Scope(branch="report__branch", client="client")

    class Meta:
        verbose_name = _("单个客户分析")
        verbose_name_plural = _("单个客户分析")
        ordering = ["report", "pk"]
        constraints = [models.UniqueConstraint(fields=["report", "client"], name="client_analysis_once")]

    def __str__(self):
        return f"{self.report} · {self.client_id}"


class GroupSummary(Versioned, BusinessModel):
    """Group marketing's summary of every branch's analysis (R31), due 30 days after the last
    branch submitted, and the re-grading it proposes and applies."""

    half_year = models.CharField(_("半年度"), max_length=6, unique=True)
    text = LimitedTextField(_("汇总分析"), blank=True, limit=10000)
    submitted_at = models.DateTimeField(_("完成时间"), null=True, blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("完成人"),
    )
    regraded_at = models.DateTimeField(_("重新分级时间"), null=True, blank=True, editable=False)

    scope = Scope(branch=None)

    class Meta:
        verbose_name = _("集团客户分析汇总")
        verbose_name_plural = _("集团客户分析汇总")
        ordering = ["-half_year"]

    def __str__(self):
        return self.half_year


class Regrading(BusinessModel):
    """A re-grading proposed from the half-year summary (R31, R7): applied through the one
    grading service, which keeps who, when, from, to and why."""

    summary = models.ForeignKey(GroupSummary, on_delete=models.CASCADE, related_name="regradings")
    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="+", verbose_name=_("客户")
    )
    from_grade = models.CharField(_("原分级"), max_length=1)
    to_grade = models.CharField(_("新分级"), max_length=1)
    reason = LimitedTextField(_("理由"))
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("提议人")
    )
    applied_at = models.DateTimeField(_("执行时间"), null=True, blank=True, editable=False)

    scope = Scope(branch="client__branch", client="client")

    class Meta:
        verbose_name = _("重新分级")
        verbose_name_plural = _("重新分级")
        ordering = ["summary", "pk"]
        constraints = [models.UniqueConstraint(fields=["summary", "client"], name="regrading_once")]

    def __str__(self):
        return f"{self.client_id}: {self.from_grade} → {self.to_grade}"


# Models of this app kept in modules of their own: the half-year review meeting, its circular and
# the reports to the leaders (R87-R93); project departments' reports to their branch (R80-R86);
# the quarterly need analysis report and its meeting (R65-R69).
from .circulars.models import (  # noqa: E402, F401
    Circular,
    CircularReceipt,
    LeaderReceipt,
    LeaderReport,
    ReviewDecision,
    ReviewMeeting,
)
from .deptreports.models import (  # noqa: E402, F401
    DepartmentDeadline,
    DepartmentEvent,
    DepartmentReport,
    DepartmentSurveyReport,
)
from .needreports.models import NeedAnalysisMeeting, NeedAnalysisReport, NeedMeetingDecision  # noqa: E402, F401
