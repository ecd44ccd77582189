"""The figures of the improvement plans (R108; design.md "Figures"): defined once here, read by
the monthly report, the dashboards and the assessment through crm.figures. Each reads through
``restrict(user, "view")`` and returns the rows behind its count. Both are standing figures: the
plans open, and the measures overdue, at the end of the window."""

from __future__ import annotations

from django.db.models import IntegerField, Q, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.figures import Column, Figure, Window, detail_url, narrow, register, rows_of, section

from .models import ImprovementMeasure, ImprovementPlan

section("improvements", _("满意度改进计划"))


def _plan_url(row) -> str:
    return detail_url("surveys:improvement-detail")(row["id"])


def _measure_url(row) -> str:
    return detail_url("surveys:improvement-detail")(row["plan_id"])


def improvement_plans_open(user, window: Window) -> list[dict]:
    """R108: plans open at the end of the window (made before it ended, not closed by then). A
    plan is the branch's, of no project department: it counts in the branch's "no department"
    part of a report."""
    qs = ImprovementPlan.objects.restrict(user, "view").annotate(
        no_department=Value(None, output_field=IntegerField())
    )
    qs = narrow(qs, window, department="no_department")
    qs = qs.filter(created_at__lt=window.end).filter(Q(closed_at__isnull=True) | Q(closed_at__gte=window.end))
    return rows_of(
        qs.order_by("created_at", "pk"),
        url=_plan_url,
        department="no_department",
        dimension="dimension__name",
        quadrant="quadrant",
        before="before_rate",
        target="target",
        by="created_by__full_name",
        at="created_at",
    )


def improvement_measures_overdue(user, window: Window) -> list[dict]:
    """R105, R108: measures not done by the end of the window (now, if it has not ended) whose
    date had passed by then, of plans open then; a measure counts for its person's project department."""
    qs = narrow(ImprovementMeasure.objects.restrict(user, "view"), window, department="owner__department_id")
    # At the end of the window, or now for a window still running (the dashboards' live period).
    cut = min(window.end, timezone.now())
    qs = (
        qs.filter(due_on__lt=timezone.localdate(cut), created_at__lt=window.end)
        .filter(Q(done_at__isnull=True) | Q(done_at__gte=window.end))
        .filter(Q(plan__closed_at__isnull=True) | Q(plan__closed_at__gte=window.end))
    )
    return rows_of(
        qs.order_by("due_on", "pk"),
        url=_measure_url,
        department="owner__department_id",
        plan_id="plan_id",
        dimension="plan__dimension__name",
        measure="description",
        department_name="department",
        owner="owner__full_name",
        due="due_on",
    )


_dimension = Column("dimension", _("维度"))

register(
    Figure(
        "improvement_plans_open",
        _("进行中的改进计划"),
        "improvements",
        430,
        improvement_plans_open,
        (
            _dimension,
            Column(
                "quadrant", _("象限"), choices={"priority": _("优先改进区"), "secondary": _("次要改进区")}
            ),
            Column("before", _("改进前满意率")),
            Column("target", _("目标值")),
            Column("by", _("制定人")),
            Column("at", _("制定时间"), "datetime"),
        ),
        help=_("期间末进行中的满意度改进计划。"),
        flow=False,
        model=ImprovementPlan,
    )
)
register(
    Figure(
        "improvement_measures_overdue",
        _("逾期未完成的改进措施"),
        "improvements",
        432,
        improvement_measures_overdue,
        (
            _dimension,
            Column("measure", _("措施")),
            Column("department_name", _("部门")),
            Column("owner", _("负责人")),
            Column("due", _("时间点"), "date"),
        ),
        help=_("期间末已过时间点仍未完成的改进措施(进行中的改进计划)。"),
        flow=False,
        model=ImprovementMeasure,
    )
)
