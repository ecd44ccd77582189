"""Satisfaction surveys (客户满意度调查, domain.md section 4, R20-R25a).

Templates, their dimensions and questions, targets and campaigns are the group's: every
person with a role reads them, only group marketing changes them. Surveys, their answers and
the follow-ups of unsatisfied items belong to the branch the survey is attributed to (the
project's branch, else the client's: R21, R32 indicator 3).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import Client, Project
from crm import navigation
from crm.access import RestrictedManager, RestrictedQuerySet, Scope, has_global
from crm.models import Branch, BusinessModel, ProjectDepartment, Versioned


class GroupConfigQuerySet(RestrictedQuerySet):
    """Group-wide configuration: every person with a role (or a grant of the model-level
    permission) reads it; only model-level holders (group marketing, R3) change it."""

    def restrict(self, user, action: str = "view"):
        if action == "view" and user and user.is_authenticated and user.is_active:
            if getattr(user, "role", "") or has_global(user, self.model, "view"):
                return self
        return super().restrict(user, action)


def config_can(user, action: str, model) -> bool:
    """The role check of the group's configuration (templates, targets, campaigns): every
    person with a role reads it; changing it needs the model-level permission (R3)."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if action == "view" and getattr(user, "role", ""):
        return True
    return has_global(user, model, action)


@navigation.register("survey_templates")
def may_browse_templates(user) -> bool:
    """The template pages (调查模板): group configuration for those who set up or run surveys:
    group roles, administrators and the branch managers who send a campaign's surveys (R25a).
    Staff fill surveys in from the survey form, which shows the template's questions, so the
    pages (and their nav entry) are not theirs; the API still serves the templates their forms
    need."""
    return config_can(user, "view", SurveyTemplate) and (user.is_superuser or user.role != "staff")


class GroupConfigManager(models.Manager.from_queryset(GroupConfigQuerySet)):
    pass


class Scale(models.TextChoices):
    FIVE = "five", _("1-5分")
    TEN = "ten", _("0-10分(推荐意愿)")


def is_positive(score: int, scale: str) -> bool:
    """A satisfied answer (R23): 4-5 on the 1-5 scale; on the 0-10 recommend question 9-10
    (the promoters of a net-promoter reading; the benchmark's loyalty of 30% is such a share)."""
    return score >= (9 if scale == Scale.TEN else 4)


def is_unsatisfied(score: int, scale: str) -> bool:
    """An unsatisfied item (不满意项, R21): 1-2 on the 1-5 scale; 0-4 on the 0-10 scale."""
    return score <= (4 if scale == Scale.TEN else 2)


class SurveyTemplate(Versioned, BusinessModel):
    """A questionnaire (调查表): dimensions with importance weights and their questions (R20)."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    intro = models.TextField(_("卷首语"), blank=True)
    intro_en = models.TextField(_("卷首语(英文)"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    is_default = models.BooleanField(_("季度调查默认模板"), default=False)

    objects = GroupConfigManager()
    scope = Scope(branch=None)

    class Meta:
        verbose_name = _("调查模板")
        verbose_name_plural = _("调查模板")
        ordering = ["-is_default", "name"]

    def __str__(self):
        return self.name


class Dimension(BusinessModel):
    """A dimension of satisfaction (满意度维度) with its importance weight (重要性系数, R21, R24)."""

    template = models.ForeignKey(
        SurveyTemplate, on_delete=models.CASCADE, related_name="dimensions", verbose_name=_("模板")
    )
    code = models.SlugField(_("代码"), max_length=40)
    name = models.CharField(_("名称"), max_length=50)
    name_en = models.CharField(_("英文名称"), max_length=80, blank=True)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    importance = models.DecimalField(
        _("重要性系数"),
        max_digits=4,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
    )
    is_summary = models.BooleanField(
        _("总体评价"), default=False, help_text=_("总体满意度、忠诚度等总体题,不参与行动重点矩阵。")
    )
    order = models.PositiveIntegerField(_("顺序"), default=10)

    objects = GroupConfigManager()
    scope = Scope(branch=None)

    class Meta:
        verbose_name = _("满意度维度")
        verbose_name_plural = _("满意度维度")
        ordering = ["template", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["template", "code"], name="dimension_code_unique")]

    def __str__(self):
        return self.name


class Question(BusinessModel):
    """A question of a dimension, in Chinese and English, on a 1-5 or 0-10 scale (R21)."""

    dimension = models.ForeignKey(
        Dimension, on_delete=models.CASCADE, related_name="questions", verbose_name=_("维度")
    )
    text = models.CharField(_("题目"), max_length=300)
    text_en = models.CharField(_("题目(英文)"), max_length=300, blank=True)
    scale = models.CharField(_("评分方式"), max_length=10, choices=Scale.choices, default=Scale.FIVE)
    order = models.PositiveIntegerField(_("顺序"), default=10)

    objects = GroupConfigManager()
    scope = Scope(branch=None)

    class Meta:
        verbose_name = _("题目")
        verbose_name_plural = _("题目")
        ordering = ["dimension__order", "order", "pk"]

    def __str__(self):
        return self.text

    @property
    def min_score(self):
        return 0 if self.scale == Scale.TEN else 1

    @property
    def max_score(self):
        return 10 if self.scale == Scale.TEN else 5

    @property
    def choices(self):
        return list(range(self.min_score, self.max_score + 1))


class Target(BusinessModel):
    """Base value (基本值) and target value (目标值) of a dimension's satisfaction rate for a
    year (R23), as shares 0..1."""

    dimension = models.ForeignKey(
        Dimension, on_delete=models.CASCADE, related_name="targets", verbose_name=_("维度")
    )
    year = models.PositiveIntegerField(
        _("年度"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    base = models.DecimalField(
        _("基本值"), max_digits=4, decimal_places=3, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    target = models.DecimalField(
        _("目标值"), max_digits=4, decimal_places=3, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )

    objects = GroupConfigManager()
    scope = Scope(branch=None)

    class Meta:
        verbose_name = _("满意度目标")
        verbose_name_plural = _("满意度目标")
        ordering = ["-year", "dimension__order"]
        constraints = [models.UniqueConstraint(fields=["dimension", "year"], name="target_unique_per_year")]

    def __str__(self):
        return f"{self.year} {self.dimension}"

    def clean(self):
        if self.base is not None and self.target is not None and self.target < self.base:
            raise ValidationError({"target": _("目标值不能低于基本值。")})


class Campaign(BusinessModel):
    """A survey campaign (R25a): group marketing opens it with a template, the clients in scope
    and a deadline; branches send; at the deadline branch reports and the group's summary."""

    class Status(models.TextChoices):
        OPEN = "open", _("进行中")
        CLOSED = "closed", _("已截止")

    code = models.SlugField(_("编号"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    template = models.ForeignKey(
        SurveyTemplate, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("调查模板")
    )
    grades = models.CharField(_("客户分级范围"), max_length=10, default="AB")
    project_within_days = models.PositiveIntegerField(_("近N天内有项目"), default=365)
    opens_on = models.DateField(_("开始日期"), default=timezone.localdate)
    deadline = models.DateField(_("截止日期"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("发起人"),
    )
    closed_at = models.DateTimeField(_("汇总时间"), null=True, blank=True)
    summary = models.JSONField(_("集团汇总"), default=dict, blank=True)

    objects = GroupConfigManager()
    scope = Scope(branch=None)

    class Meta:
        verbose_name = _("调查活动")
        verbose_name_plural = _("调查活动")
        ordering = ["-opens_on", "-pk"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.deadline and self.opens_on and self.deadline < self.opens_on:
            raise ValidationError({"deadline": _("截止日期不能早于开始日期。")})
        if not self.grades or set(self.grades) - set("ABC"):
            raise ValidationError({"grades": _("客户分级范围只能由 A、B、C 组成。")})


class CampaignBranchReport(BusinessModel):
    """A branch's satisfaction report of a campaign (客户满意度调查报告, R25a), summarised from
    its answers at the deadline and sent up to group marketing."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="branch_reports", verbose_name=_("调查活动")
    )
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="survey_reports", verbose_name=_("分子公司")
    )
    summary = models.JSONField(_("汇总"), default=dict)

    scope = Scope(branch="branch")

    class Meta:
        verbose_name = _("客户满意度调查报告")
        verbose_name_plural = _("客户满意度调查报告")
        ordering = ["campaign", "branch__sort_order"]
        constraints = [models.UniqueConstraint(fields=["campaign", "branch"], name="campaign_report_unique")]

    def __str__(self):
        return f"{self.campaign} · {self.branch}"


class Survey(Versioned, BusinessModel):
    """A survey of one client, about a project or the relationship (R20). The personal answer
    link (R22) is a signed random token of which only the hash is kept."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("待发送")
        SENT = "sent", _("已发送")
        ANSWERED = "answered", _("已回收")
        EXPIRED = "expired", _("已过期")

    class Channel(models.TextChoices):
        LINK = "link", _("链接")
        EMAIL = "email", _("电子邮件")
        PAPER = "paper", _("纸质问卷")

    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="surveys", verbose_name=_("客户")
    )
    project = models.ForeignKey(
        Project,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="surveys",
        verbose_name=_("项目"),
    )
    template = models.ForeignKey(
        SurveyTemplate, on_delete=models.PROTECT, related_name="surveys", verbose_name=_("调查模板")
    )
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="surveys",
        verbose_name=_("调查活动"),
    )
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="surveys", verbose_name=_("责任单位")
    )
    department = models.ForeignKey(
        ProjectDepartment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="surveys",
        verbose_name=_("项目经理部"),
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    channel = models.CharField(_("方式"), max_length=10, choices=Channel.choices, blank=True)
    recipient_name = models.CharField(_("受访人"), max_length=50, blank=True)
    recipient_email = models.EmailField(_("受访人邮箱"), blank=True)
    token_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    expires_at = models.DateTimeField(_("链接有效期至"), null=True, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("发送人"),
    )
    answered_at = models.DateTimeField(_("回收时间"), null=True, blank=True)
    respondent = models.CharField(_("填写人"), max_length=50, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("录入人"),
    )
    comment = models.TextField(_("客户意见"), blank=True)
    unsatisfied_count = models.PositiveIntegerField(_("不满意项"), default=0)
    satisfaction_rate = models.DecimalField(
        _("满意率"), max_digits=4, decimal_places=3, null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("创建人")
    )

    scope = Scope(branch="branch", client="client", owner="client__owner")

    class Meta:
        verbose_name = _("满意度调查")
        verbose_name_plural = _("满意度调查")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["branch", "status"]),
            models.Index(fields=["client", "answered_at"]),
            models.Index(fields=["campaign", "branch"]),
        ]

    def __str__(self):
        return f"{self.client} · {self.template}"

    def clean(self):
        if self.project_id and self.client_id and self.project.client_id != self.client_id:
            raise ValidationError({"project": _("项目不属于该客户。")})

    @property
    def link_usable(self) -> bool:
        return (
            self.status == self.Status.SENT
            and bool(self.token_hash)
            and self.expires_at is not None
            and self.expires_at > timezone.now()
        )


class Answer(BusinessModel):
    """One rating of a survey (R21). ``dimension`` and ``unsatisfied`` are copied at answer time
    so the results read one table and stay put when a template is edited later."""

    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="answers", verbose_name=_("调查")
    )
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="answers", verbose_name=_("题目")
    )
    dimension = models.ForeignKey(
        Dimension, on_delete=models.PROTECT, related_name="answers", verbose_name=_("维度")
    )
    score = models.PositiveSmallIntegerField(_("评分"), validators=[MaxValueValidator(10)])
    positive = models.BooleanField(_("满意"), default=False)
    unsatisfied = models.BooleanField(_("不满意项"), default=False)

    objects = RestrictedManager()
    scope = Scope(branch="survey__branch", client="survey__client", owner="survey__client__owner")

    class Meta:
        verbose_name = _("评分")
        verbose_name_plural = _("评分")
        ordering = ["survey", "question__dimension__order", "question__order"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "question"], name="answer_once_per_question")
        ]

    def __str__(self):
        return f"{self.question}: {self.score}"


class FollowUp(BusinessModel):
    """The follow-up of a survey with unsatisfied items (R21), for the client's account owner.
    It can become a complaint in one click (the complaints app's create page, prefilled)."""

    class Status(models.TextChoices):
        OPEN = "open", _("待跟进")
        DONE = "done", _("已跟进")

    survey = models.OneToOneField(
        Survey, on_delete=models.CASCADE, related_name="follow_up", verbose_name=_("调查")
    )
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="survey_follow_ups", verbose_name=_("客户")
    )
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+", verbose_name=_("责任单位"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="survey_follow_ups",
        verbose_name=_("负责人"),
    )
    items = models.TextField(_("不满意项"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    note = models.TextField(_("跟进情况"), blank=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("跟进人"),
    )

    scope = Scope(branch="branch", client="client", owner="owner")

    class Meta:
        verbose_name = _("不满意项跟进")
        verbose_name_plural = _("不满意项跟进")
        ordering = ["status", "-created_at"]

    def __str__(self):
        return f"{self.client} · {self.get_status_display()}"


# Improvement plans per priority dimension (R102-R108): the surveys app's models, in their own module.
from .improvements.models import ImprovementMeasure, ImprovementPlan  # noqa: E402, F401
