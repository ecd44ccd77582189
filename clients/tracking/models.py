"""The weekly tracking check of client needs (seed 003, R71-R73).

Seed 003, 五、客户需求跟踪与监控: «建立客户需求跟踪台账,详细记录需求处理的各个环节、时间节点、责任人等
信息。定期对需求处理进度进行跟踪检查,及时发现问题并协调解决。» and «每周对需求处理进度进行一次跟踪检查,
及时更新跟踪台账。» A check (跟踪检查) is made for each branch and ISO week; its findings (发现的问题)
are the needs that were open and past a checkpoint at the week's check moment, each with the
branch manager's 协调解决 remark.

Imported by clients.models (these are the clients app's models, kept in their own module)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.access import Scope
from crm.fields import LimitedTextField
from crm.models import Branch, BusinessModel, Versioned

# clients.models imports this module at its end: Need is defined by then.
from ..models import Need


class NeedCheck(BusinessModel):
    """The weekly tracking check of one branch's needs for one ISO week (每周跟踪检查, R71): made
    by the weekly job as of the week's checkpoint (``as_of``), once; its findings are frozen.
    The branch's paper: its people and the group roles read it."""

    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="need_checks", verbose_name=_("分子公司")
    )
    week = models.CharField(_("周次"), max_length=8)
    week_start = models.DateField(_("周一"))
    as_of = models.DateTimeField(_("检查时点"))
    made_at = models.DateTimeField(_("检查时间"), default=timezone.now)
    # R71: made after a later week's check was due (the job was down): recorded, not notified.
    caught_up = models.BooleanField(_("补做"), default=False)
    open_count = models.PositiveIntegerField(_("在办需求数"), default=0)
    open_days = models.PositiveSmallIntegerField(_("办理超期天数标准(工作日)"))
    notified_at = models.DateTimeField(_("通知时间"), null=True, blank=True)

    scope = Scope(branch="branch")

    class Meta:
        verbose_name = _("需求跟踪检查")
        verbose_name_plural = _("需求跟踪检查")
        ordering = ["-week_start", "branch__sort_order", "branch__code"]
        constraints = [
            # R71: one check per branch and week (two runs of the job at once: one wins).
            models.UniqueConstraint(
                fields=["branch", "week_start"],
                name="needcheck_one_per_branch_week",
                violation_error_message=_("该分公司本周的需求跟踪检查已存在。"),
            )
        ]
        indexes = [models.Index(fields=["week_start"])]

    def __str__(self):
        return f"{self.branch} · {self.week}"

    @property
    def week_end(self):
        """The week's Sunday (for the page: 12月7日-12月13日)."""
        import datetime as dt

        return self.week_start + dt.timedelta(days=6)


class NeedCheckFinding(Versioned, BusinessModel):
    """A need found by a check (R71): open at the check moment and past a checkpoint (its
    response overdue, or open longer than the standard number of working days), as it stood
    then: its owner, status, dates; with the 协调解决 remark the branch manager records (R73).
    The need's words are read through ``restrict`` when shown; the snapshot of the client's name
    and the need's text stays for a need deleted since."""

    need_check = models.ForeignKey(
        NeedCheck, on_delete=models.CASCADE, related_name="findings", verbose_name=_("跟踪检查")
    )
    need = models.ForeignKey(
        Need,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="check_findings",
        verbose_name=_("客户需求"),
    )
    client_name = models.CharField(_("客户"), max_length=200)
    description = models.CharField(_("需求内容"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("负责人")
    )
    urgency = models.CharField(_("紧急程度"), max_length=20, choices=Need.Urgency.choices)
    status = models.CharField(_("检查时状态"), max_length=20, choices=Need.Status.choices)
    received_at = models.DateTimeField(_("接收时间"))
    response_due_at = models.DateTimeField(_("响应期限"))
    responded_at = models.DateTimeField(_("响应时间"), null=True, blank=True)
    response_overdue = models.BooleanField(_("响应逾期"), default=False)
    open_too_long = models.BooleanField(_("办理超期"), default=False)
    working_days_open = models.PositiveIntegerField(_("已办理工作日"), default=0)
    remark = LimitedTextField(_("协调解决情况"), blank=True)
    remarked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("记录人"),
        editable=False,
    )
    remarked_at = models.DateTimeField(_("记录时间"), null=True, blank=True, editable=False)

    scope = Scope(branch="need_check__branch")

    class Meta:
        verbose_name = _("跟踪检查发现的问题")
        verbose_name_plural = _("跟踪检查发现的问题")
        ordering = ["owner__username", "received_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["need_check", "need"],
                name="needcheckfinding_one_per_need",
                condition=models.Q(need__isnull=False),
            )
        ]

    def __str__(self):
        return f"{self.need_check} · {self.description[:30]}"

    @property
    def reasons(self) -> list[str]:
        out = []
        if self.response_overdue:
            out.append(str(_("响应逾期")))
        if self.open_too_long:
            out.append(str(_("办理超期")))
        return out
