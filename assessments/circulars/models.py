"""The half-year review meeting (客户关系管理工作研讨会) and what the group sends back from it (seed
001, 三(二)Ⅱ4; R87-R93): the meeting of a round and its decisions, its circular (通报) to every
branch and project department with read receipts, and what group marketing reports to the
group's leaders (the commendation of an 优良 branch, the work summaries it forwards).

Seed 001: «集团公司市场营销部每半年组织各分子公司召开一次“客户关系管理工作研讨会”通报半年来客户关系维护
成果»; «对于考核结果优良的部门,由集团公司市场营销部撰文上报集团领导»; «总结上交集团公司市场营销部后报于
集团公司领导».

Imported by assessments.models at its end (these are the assessments app's models)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.access import RestrictedManager, RestrictedQuerySet, Scope, has_global
from crm.fields import LimitedTextField
from crm.models import Branch, BusinessModel, ProjectDepartment, Versioned

from ..meetings import MeetingDecision


class ReviewMeetingQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view"):
        """R87: group roles read every meeting (group marketing writes); a branch person reads
        the meetings they attended or own a decision of."""
        if has_global(user, self.model, action):
            return self
        if action == "view" and user and user.is_authenticated and user.is_active:
            return self.filter(models.Q(attendees=user) | models.Q(decisions__owner=user)).distinct()
        return self.none()


class ReviewMeeting(BusinessModel):
    """The half-year review meeting of an assessment round (客户关系管理工作研讨会, R87): when,
    where, who attended, what was discussed; the round's results and rankings it presented are
    read from the round; its decisions are tracked to done. One per round."""

    round = models.OneToOneField(
        "assessments.AssessmentRound",
        on_delete=models.PROTECT,
        related_name="review_meeting",
        verbose_name=_("半年考核"),
    )
    held_on = models.DateField(_("会议日期"))
    place = models.CharField(_("会议地点"), max_length=100, blank=True)
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", verbose_name=_("参会人员"))
    minutes = LimitedTextField(_("会议纪要"), limit=5000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("记录人")
    )
    recorded_at = models.DateTimeField(_("记录时间"))

    objects = RestrictedManager.from_queryset(ReviewMeetingQuerySet)()
    scope = Scope(branch=None)  # the group's; its people read what they attended

    class Meta:
        verbose_name = _("客户关系管理工作研讨会")
        verbose_name_plural = _("客户关系管理工作研讨会")
        ordering = ["-held_on", "pk"]

    def __str__(self):
        return f"{self.round.half_year} {_('客户关系管理工作研讨会')}"


class ReviewDecisionQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view"):
        """R87: group roles read every decision (group marketing writes them); a branch person
        owns some and reads and marks done those."""
        if has_global(user, self.model, action):
            return self
        if action in ("view", "change") and user and user.is_authenticated and user.is_active:
            return self.filter(owner=user)
        return self.none()


class ReviewDecision(MeetingDecision):
    """A decision of the half-year review meeting (R87): owned by group marketing or a person of
    a branch, marked done by its owner or group marketing."""

    meeting = models.ForeignKey(
        ReviewMeeting, on_delete=models.CASCADE, related_name="decisions", verbose_name=_("研讨会")
    )

    objects = RestrictedManager.from_queryset(ReviewDecisionQuerySet)()
    scope = Scope(branch=None)

    class Meta:
        verbose_name = _("研讨会决定事项")
        verbose_name_plural = _("研讨会决定事项")
        ordering = ["due_on", "pk"]


class CircularQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view"):
        """R89: an issued circular is read by every person with a role (it goes to every branch
        and department); drafts and every write are group marketing's (model-level rights)."""
        if has_global(user, self.model, action):
            return self
        if action == "view" and user and user.is_authenticated and user.is_active and user.role:
            return self.filter(status=Circular.Status.ISSUED)
        return self.none()


class Circular(Versioned, BusinessModel):
    """The meeting's circular (通报, R88, R89): generated from the round (ratings, rankings,
    commendations, suspensions, re-grading), edited by group marketing, then issued to every
    branch and project department; an issued circular no longer changes."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("待印发")
        ISSUED = "issued", _("已印发")

    meeting = models.OneToOneField(
        ReviewMeeting, on_delete=models.PROTECT, related_name="circular", verbose_name=_("研讨会")
    )
    title = models.CharField(_("标题"), max_length=200)
    body = LimitedTextField(_("正文"), limit=20000)
    # The round's facts the circular was generated from (R88): ratings, rankings, suspensions,
    # re-grading; shown beside the text, each linked to its page.
    facts = models.JSONField(_("通报数据"), default=dict, editable=False)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    generated_at = models.DateTimeField(_("生成时间"), editable=False)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("生成人"),
        editable=False,
    )
    issued_at = models.DateTimeField(_("印发时间"), null=True, blank=True, editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("印发人"),
        editable=False,
    )

    objects = RestrictedManager.from_queryset(CircularQuerySet)()
    scope = Scope(branch=None)

    class Meta:
        verbose_name = _("研讨会通报")
        verbose_name_plural = _("研讨会通报")
        ordering = ["-generated_at", "pk"]

    def __str__(self):
        return self.title

    @property
    def is_issued(self) -> bool:
        return self.status == self.Status.ISSUED


class CircularReceipt(BusinessModel):
    """Who a circular was sent to and when they opened it (R89): one per person, with the branch
    and project department they were in when it was issued."""

    circular = models.ForeignKey(Circular, on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("接收人")
    )
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+", verbose_name=_("分子公司"))
    department = models.ForeignKey(
        ProjectDepartment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("项目经理部"),
    )
    sent_at = models.DateTimeField(_("送达时间"))
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    scope = Scope(branch="branch")

    class Meta:
        verbose_name = _("通报阅读回执")
        verbose_name_plural = _("通报阅读回执")
        ordering = ["branch__sort_order", "department__name", "user__username"]
        constraints = [models.UniqueConstraint(fields=["circular", "user"], name="circular_receipt_once")]

    def __str__(self):
        return f"{self.circular_id} · {self.user_id}"


class LeaderReportQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view"):
        """R91, R92: group marketing writes and reads every report to the leaders; leaders and
        auditors read those sent; nobody else."""
        if has_global(user, self.model, "change"):
            return self
        if action == "view" and has_global(user, self.model, "view"):
            return self.filter(status=LeaderReport.Status.SENT)
        return self.none()


class LeaderReport(Versioned, BusinessModel):
    """What group marketing reports to the group's leaders about a branch's assessment (R91,
    R92): the commendation of an 优良 branch (a write-up drafted from its indicators), or a
    branch's work summary forwarded with a remark. Drafted, edited, then sent; each leader's
    reading is kept (``LeaderReceipt``)."""

    class Kind(models.TextChoices):
        COMMENDATION = "commendation", _("表扬材料")
        SUMMARY = "summary", _("工作总结")

    class Status(models.TextChoices):
        DRAFT = "draft", _("待上报")
        SENT = "sent", _("已上报")

    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    assessment = models.ForeignKey(
        "assessments.Assessment",
        on_delete=models.PROTECT,
        related_name="leader_reports",
        verbose_name=_("考核"),
    )
    work_summary = models.OneToOneField(
        "assessments.WorkSummary",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leader_report",
        verbose_name=_("工作总结"),
    )
    title = models.CharField(_("标题"), max_length=200)
    text = LimitedTextField(_("正文"), limit=10000)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("撰写人"),
        editable=False,
    )
    sent_at = models.DateTimeField(_("上报时间"), null=True, blank=True, editable=False)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("上报人"),
        editable=False,
    )

    objects = RestrictedManager.from_queryset(LeaderReportQuerySet)()
    scope = Scope(branch=None)

    class Meta:
        verbose_name = _("上报集团领导材料")
        verbose_name_plural = _("上报集团领导材料")
        ordering = ["-created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "kind"], name="leader_report_once_per_assessment")
        ]

    def __str__(self):
        return self.title

    @property
    def is_sent(self) -> bool:
        return self.status == self.Status.SENT


class LeaderReceipt(models.Model):
    """A leader's reading of a report sent to the leaders (R93): made when it is sent, read when
    the leader opens it; what is unread shows on the leader's home page."""

    report = models.ForeignKey(LeaderReport, on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "user"], name="leader_receipt_once")]

    def __str__(self):
        return f"{self.report_id} · {self.user_id}"
