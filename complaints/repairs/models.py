"""Warranty repairs (报修, seed 002; R94-R101): a repair request on a project, its steps from
the front desk's receipt to the closing, its return visits and its timeline.

Seed 002: «建立一种对客户唯一的接入端口前台,负责接报修及投诉 ... 规定前台在接报后10分钟之内填写有关
报修表格同步转至维修组 ... 在维修关闭后的24小时内必须进行第一次回访,并运用有关表格记录客户对于维修的
满意度 ... 对于重点工程规定前台在维修结束后的2个月内进行第二次回访工作»; what the clients judge: «维修的
及时性、维修一次成功率、保修的便利性»; the parts of a building where most problems appear: «墙体/梁、
铝合金/塑钢门窗、楼地面/屋面/顶棚».

Imported by complaints.models (the complaints app owns return visits and service quality).
Writes go through ``complaints.repairs.services``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clients.models import Project
from crm.access import Scope
from crm.fields import LimitedTextField, NameField
from crm.models import BusinessModel, Versioned

# complaints.models imports this module at its end: these are defined by then.
from ..models import (
    UNSATISFIED,
    Channel,
    Complaint,
    ReturnVisit,
    Satisfaction,
    effect_visit_opens_at,
    is_effect_visit,
)


class BuildingPart(models.TextChoices):
    """Where the problem is (R95), after seed 002's list of the parts with most quality problems
    (墙体/梁、铝合金/塑钢门窗、楼地面/屋面/顶棚) and the other parts a repair form names."""

    WALLS_BEAMS = "walls_beams", _("墙体/梁")
    DOORS_WINDOWS = "doors_windows", _("铝合金/塑钢门窗")
    FLOORS_ROOFS = "floors_roofs", _("楼地面/屋面/顶棚")
    WATERPROOFING = "waterproofing", _("防水/渗漏")
    INSTALLATIONS = "installations", _("水电暖通安装")
    FINISHES = "finishes", _("装饰装修")
    OUTDOOR = "outdoor", _("室外及配套设施")
    OTHER = "other", _("其他")


class RepairStatus(models.TextChoices):
    """R96: received -> registered -> dispatched -> repaired -> closed; reopened to dispatched."""

    RECEIVED = "received", _("已接报")
    REGISTERED = "registered", _("已登记")
    DISPATCHED = "dispatched", _("已转维修组")
    REPAIRED = "repaired", _("已维修")
    CLOSED = "closed", _("已关闭")


OPEN_REPAIR_STATUSES = (RepairStatus.RECEIVED, RepairStatus.REGISTERED, RepairStatus.DISPATCHED)

_SCOPE = Scope(branch="project__branch", client="project__client", owner="project__client__owner")
_CHILD_SCOPE = Scope(
    branch="repair__project__branch", client="repair__project__client", owner="repair__project__client__owner"
)


class RepairRequest(Versioned, BusinessModel):
    """A repair request (报修单) on a project (R94-R98): who reported what and where, when the
    front desk received it and when it registered the form (measured against 10 minutes, R95),
    the repair team it went to, the repair, the closing, the reopenings when the same problem
    came back (R97), whether it was under warranty or paid service (R94), and the complaint
    opened from it (R101)."""

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="repairs", verbose_name=_("工程项目")
    )
    reporter = models.CharField(_("报修人"), max_length=50)
    reporter_phone = models.CharField(_("报修人电话"), max_length=40, blank=True)
    channel = models.CharField(_("报修渠道"), max_length=20, choices=Channel.choices, default=Channel.PHONE)
    part = models.CharField(_("报修部位"), max_length=20, choices=BuildingPart.choices)
    location = models.CharField(_("具体位置"), max_length=200, help_text=_("楼栋、单元、房号或区域。"))
    title = NameField(_("报修事项"), max_length=120)
    description = LimitedTextField(_("问题描述"), limit=5000)

    status = models.CharField(
        _("状态"), max_length=20, choices=RepairStatus.choices, default=RepairStatus.RECEIVED
    )
    received_at = models.DateTimeField(_("接报时间"), default=timezone.now)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("接报人")
    )
    register_due_at = models.DateTimeField(_("登记期限"), editable=False)
    registered_at = models.DateTimeField(_("登记转单时间"), null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("登记人"),
    )
    team = models.CharField(_("维修组"), max_length=100, blank=True)
    dispatched_at = models.DateTimeField(_("转维修组时间"), null=True, blank=True)
    repaired_at = models.DateTimeField(_("维修完成时间"), null=True, blank=True)
    repair_note = LimitedTextField(_("维修情况"), blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("关闭人"),
    )
    reopen_count = models.PositiveIntegerField(_("返修次数"), default=0)
    is_paid = models.BooleanField(
        _("有偿维修"), default=False, editable=False, help_text=_("接报时不在项目保修期内。")
    )
    complaint = models.OneToOneField(
        Complaint,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="repair",
        verbose_name=_("转为投诉"),
    )

    scope = _SCOPE

    class Meta:
        verbose_name = _("报修单")
        verbose_name_plural = _("报修单")
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(fields=["project", "received_at"]),
            models.Index(fields=["status", "received_at"]),
            models.Index(fields=["closed_at"]),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def code(self) -> str:
        return f"BX{self.pk or 0:06d}"

    @property
    def client(self):
        return self.project.client

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REPAIR_STATUSES

    @property
    def registered_on_time(self) -> bool | None:
        """R95: the form registered within 10 minutes of the receipt (None: not yet)."""
        if not self.registered_at:
            return None
        return self.registered_at <= self.register_due_at

    @property
    def register_overdue(self) -> bool:
        return self.registered_at is None and self.register_due_at < timezone.now()

    @property
    def needs_second_visit(self) -> bool:
        """R98 (as R18): key projects get a second return visit within two months."""
        return self.project.is_key


class RepairEvent(BusinessModel):
    """One step of a repair's timeline (R96): every workflow step is recorded."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("接报")
        UPDATED = "updated", _("修改信息")
        REGISTERED = "registered", _("登记转单")
        DISPATCHED = "dispatched", _("转维修组")
        REPAIRED = "repaired", _("维修完成")
        CLOSED = "closed", _("关闭")
        RETURN_VISIT = "return_visit", _("回访")
        REOPENED = "reopened", _("返修")
        COMPLAINT = "complaint", _("转为投诉")

    repair = models.ForeignKey(
        RepairRequest, on_delete=models.CASCADE, related_name="events", verbose_name=_("报修单")
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
    from_status = models.CharField(_("原状态"), max_length=20, choices=RepairStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, choices=RepairStatus.choices, blank=True)
    note = LimitedTextField(_("说明"), blank=True)

    scope = _CHILD_SCOPE

    class Meta:
        verbose_name = _("报修处理记录")
        verbose_name_plural = _("报修处理记录")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class RepairVisit(BusinessModel):
    """A return visit of a closed repair (维修回访, R98): the first within 24 hours of the
    closing records the client's satisfaction with the repair; a key project's second, within
    two months, confirms the effect. Due dates and window are R18's (DeadlinePolicy)."""

    repair = models.ForeignKey(
        RepairRequest, on_delete=models.CASCADE, related_name="visits", verbose_name=_("报修单")
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
    method = models.CharField(_("回访方式"), max_length=20, choices=ReturnVisit.Method.choices, blank=True)
    contact_name = models.CharField(_("受访人"), max_length=50, blank=True)
    satisfaction = models.CharField(
        _("客户对维修的满意度"), max_length=20, choices=Satisfaction.choices, blank=True
    )
    effect_confirmed = models.BooleanField(_("确认维修效果"), default=False)
    notes = LimitedTextField(_("回访记录"), blank=True)

    scope = _CHILD_SCOPE

    class Meta:
        verbose_name = _("维修回访")
        verbose_name_plural = _("维修回访")
        ordering = ["repair", "sequence", "pk"]
        indexes = [models.Index(fields=["visited_at", "due_at"])]

    def __str__(self):
        return gettext("%(code)s 第%(n)s次回访") % {"code": self.repair.code, "n": self.sequence}

    @property
    def is_done(self) -> bool:
        return self.visited_at is not None

    @property
    def is_overdue(self) -> bool:
        return self.visited_at is None and self.due_at < timezone.now()

    @property
    def on_time(self) -> bool | None:
        return None if self.visited_at is None else self.visited_at <= self.due_at

    @property
    def is_unsatisfied(self) -> bool:
        return self.satisfaction in UNSATISFIED

    @property
    def opens_at(self):
        """R98 as R18: the second (effect) visit opens only shortly before it is due."""
        if self.visited_at is not None or not is_effect_visit(
            self, self.repair.visits.all(), self.repair.closed_at
        ):
            return None
        return effect_visit_opens_at(self.due_at)

    @property
    def is_open(self) -> bool:
        opens = self.opens_at
        return opens is None or opens <= timezone.now()
