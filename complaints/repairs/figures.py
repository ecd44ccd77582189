"""The figures of warranty repairs (R99; design.md "Figures"): defined once here, read by the
monthly report, the dashboards, the half-year analysis's product aspect and the assessment
through crm.figures. Each reads through ``restrict(user, "view")`` and returns the rows behind
its count. Seed 002 names what clients judge repairs by: «维修的及时性、维修一次成功率、保修的便利性»."""

from __future__ import annotations

from django.db.models import F
from django.utils.translation import gettext_lazy as _

from crm.figures import Column, Figure, Rate, Window, detail_url, narrow, register, rows_of, section

from ..models import UNSATISFIED, Satisfaction
from .models import BuildingPart, RepairRequest, RepairStatus, RepairVisit

section("repairs", _("保修维修"))

PARTS = dict(BuildingPart.choices)
STATUSES = dict(RepairStatus.choices)
SATISFACTION = dict(Satisfaction.choices)
SATISFIED = [s for s in Satisfaction.values if s not in UNSATISFIED and s != Satisfaction.NEUTRAL]

_repair_url = detail_url("complaints:repair-detail")


def _repairs(user, window: Window, **kw):
    return narrow(
        RepairRequest.objects.restrict(user, "view"), window, department="project__department_id", **kw
    )


def _repair_rows(qs, order: str):
    return rows_of(
        qs.order_by(order, "pk"),
        url=lambda row: _repair_url(row["id"]),
        department="project__department_id",
        client="project__client__name",
        project="project__name",
        part="part",
        title="title",
        status="status",
        received="received_at",
    )


def repairs_received(user, window: Window) -> list[dict]:
    """R99: repair requests received in the window."""
    return _repair_rows(_repairs(user, window, at="received_at"), "received_at")


def repairs_registered_on_time(user, window: Window) -> list[dict]:
    """R95, R99: of the repairs received in the window, those whose form was registered within
    10 minutes of the receipt."""
    qs = _repairs(user, window, at="received_at").filter(registered_at__lte=F("register_due_at"))
    return _repair_rows(qs, "received_at")


def repairs_paid(user, window: Window) -> list[dict]:
    """R94: repairs received in the window outside the project's warranty (paid service)."""
    return _repair_rows(_repairs(user, window, at="received_at").filter(is_paid=True), "received_at")


def repairs_closed(user, window: Window) -> list[dict]:
    """R99: repairs closed in the window (and closed still: a reopened one is open again)."""
    qs = _repairs(user, window, at="closed_at").filter(status=RepairStatus.CLOSED)
    return _repair_rows(qs, "closed_at")


def repairs_fixed_first_time(user, window: Window) -> list[dict]:
    """R97, R99: of the repairs closed in the window, those never reopened (一次成功)."""
    qs = _repairs(user, window, at="closed_at").filter(status=RepairStatus.CLOSED, reopen_count=0)
    return _repair_rows(qs, "closed_at")


def _visits(user, window: Window, **kw):
    return narrow(
        RepairVisit.objects.restrict(user, "view"), window, department="repair__project__department_id", **kw
    )


def _visit_rows(qs, order: str):
    return rows_of(
        qs.order_by(order, "pk"),
        url=lambda row: _repair_url(row["repair_id"]),
        department="repair__project__department_id",
        repair_id="repair_id",
        client="repair__project__client__name",
        title="repair__title",
        sequence="sequence",
        due="due_at",
        visited="visited_at",
        satisfaction="satisfaction",
    )


def repair_visits_due(user, window: Window) -> list[dict]:
    """R98, R99: return visits of repairs due in the window (made or not)."""
    return _visit_rows(_visits(user, window, at="due_at"), "due_at")


def repair_visits_on_time(user, window: Window) -> list[dict]:
    """R98, R99: of the visits due in the window, those made by their due time."""
    qs = _visits(user, window, at="due_at").filter(visited_at__isnull=False, visited_at__lte=F("due_at"))
    return _visit_rows(qs, "due_at")


def repair_visits_made(user, window: Window) -> list[dict]:
    """R98, R99: return visits of repairs made in the window (each asks the satisfaction)."""
    return _visit_rows(_visits(user, window, at="visited_at"), "visited_at")


def repair_visits_satisfied(user, window: Window) -> list[dict]:
    """R98, R99: of the visits made in the window, those where the client was satisfied or very
    satisfied with the repair."""
    qs = _visits(user, window, at="visited_at").filter(satisfaction__in=SATISFIED)
    return _visit_rows(qs, "visited_at")


_repair_columns = (
    Column("client", _("客户")),
    Column("project", _("工程项目")),
    Column("part", _("报修部位"), choices=PARTS),
    Column("title", _("报修事项")),
    Column("status", _("状态"), choices=STATUSES),
    Column("received", _("接报时间"), "datetime"),
)
_visit_columns = (
    Column("client", _("客户")),
    Column("title", _("报修事项")),
    Column("sequence", _("回访次序")),
    Column("due", _("回访期限"), "datetime"),
    Column("visited", _("回访时间"), "datetime"),
    Column("satisfaction", _("满意度"), choices=SATISFACTION),
)

for key, label, order, collect, columns, help_text, model, breakdown in (
    ("repairs_received", _("接报维修"), 310, repairs_received, _repair_columns,
     _("期间内前台接报的报修。"), RepairRequest, ("part",)),
    ("repairs_registered_on_time", _("10分钟内登记转单"), 312, repairs_registered_on_time, _repair_columns,
     _("期间内接报、且在接报后10分钟内填写报修表格转至维修组的报修。"), RepairRequest, ()),
    ("repairs_paid", _("有偿维修"), 314, repairs_paid, _repair_columns,
     _("期间内接报、不在项目保修期内的报修。"), RepairRequest, ()),
    ("repairs_closed", _("维修关闭"), 320, repairs_closed, _repair_columns,
     _("期间内关闭(且未再返修)的报修。"), RepairRequest, ("part",)),
    ("repairs_fixed_first_time", _("一次修复"), 322, repairs_fixed_first_time, _repair_columns,
     _("期间内关闭、从未返修的报修。"), RepairRequest, ()),
    ("repair_visits_due", _("到期维修回访"), 330, repair_visits_due, _visit_columns,
     _("期间内到期的维修回访(首次24小时内,重点工程2个月内二次)。"), RepairVisit, ()),
    ("repair_visits_on_time", _("按期维修回访"), 332, repair_visits_on_time, _visit_columns,
     _("期间内到期、且在期限前完成的维修回访。"), RepairVisit, ()),
    ("repair_visits_made", _("完成维修回访"), 334, repair_visits_made, _visit_columns,
     _("期间内完成的维修回访。"), RepairVisit, ()),
    ("repair_visits_satisfied", _("回访满意"), 336, repair_visits_satisfied, _visit_columns,
     _("期间内完成、客户对维修满意或非常满意的回访。"), RepairVisit, ()),
):  # fmt: skip
    register(
        Figure(
            key, label, "repairs", order, collect, columns, help=help_text, model=model, breakdown=breakdown
        )
    )

for key, label, order, numerator, denominator, help_text in (
    ("repair_registration_rate", _("10分钟登记率"), 340, "repairs_registered_on_time", "repairs_received",
     _("10分钟内登记转单 ÷ 接报维修。")),
    ("repair_first_time_fix_rate", _("维修一次成功率"), 342, "repairs_fixed_first_time", "repairs_closed",
     _("一次修复 ÷ 维修关闭。")),
    ("repair_visit_on_time_rate", _("维修回访及时率"), 344, "repair_visits_on_time", "repair_visits_due",
     _("按期维修回访 ÷ 到期维修回访。")),
    ("repair_satisfaction_rate", _("维修满意率"), 346, "repair_visits_satisfied", "repair_visits_made",
     _("回访满意 ÷ 完成维修回访。")),
):  # fmt: skip
    register(Rate(key, label, "repairs", order, numerator, denominator, help=help_text))
