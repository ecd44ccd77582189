"""The complaints' figures (R16-R19, R26; design.md "Figures"): defined once here, read by the
monthly report, the dashboards and the assessment through crm.figures."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.figures import Column, Figure, Window, narrow, register, rows_of, section

from .models import Category, Complaint, Kind, Severity, Status

section("complaints", _("客户投诉"))

KINDS = dict(Kind.choices)
CATEGORIES = dict(Category.choices)
SEVERITIES = dict(Severity.choices)
STATUSES = dict(Status.choices)


def _url(row) -> str:
    return reverse("complaints:complaint-detail", kwargs={"pk": row["id"]})


def _rows(qs, *, order="received_at"):
    return rows_of(
        qs.order_by(order, "pk"),
        url=_url,
        department="department_id",
        client="client__name",
        kind="kind",
        category="category",
        severity="severity",
        status="status",
        owner="owner__full_name",
        received="received_at",
    )


def _qs(user, window: Window, **kw):
    return narrow(Complaint.objects.restrict(user, "view"), window, department="department_id", **kw)


def complaints_received(user, window: Window) -> list[dict]:
    return _rows(_qs(user, window, at="received_at"))


def complaints_resolved(user, window: Window) -> list[dict]:
    return _rows(_qs(user, window, at="resolved_at"), order="resolved_at")


def complaints_overdue(user, window: Window) -> list[dict]:
    """R16: complaints that missed a deadline (acknowledgement or resolution) in the window."""
    in_window = {"gte": window.start, "lt": window.end}
    breached = Q(
        acknowledge_breached_at__gte=in_window["gte"], acknowledge_breached_at__lt=in_window["lt"]
    ) | Q(resolve_breached_at__gte=in_window["gte"], resolve_breached_at__lt=in_window["lt"])
    return _rows(_qs(user, window).filter(breached))


def complaints_closed(user, window: Window) -> list[dict]:
    return _rows(_qs(user, window, at="closed_at"), order="closed_at")


_columns = (
    Column("client", _("客户")),
    Column("kind", _("投诉类型"), choices=KINDS),
    Column("category", _("投诉类别"), choices=CATEGORIES),
    Column("severity", _("严重程度"), choices=SEVERITIES),
    Column("status", _("状态"), choices=STATUSES),
    Column("owner", _("当前负责人")),
    Column("received", _("受理时间"), "datetime"),
)

register(
    Figure(
        "complaints_received",
        _("受理投诉"),
        "complaints",
        210,
        complaints_received,
        _columns,
        breakdown=("kind", "category"),
    )
)
register(Figure("complaints_resolved", _("处理完成投诉"), "complaints", 220, complaints_resolved, _columns))
register(
    Figure(
        "complaints_overdue",
        _("超期投诉"),
        "complaints",
        230,
        complaints_overdue,
        _columns,
        help=_("期间内超过确认或处理期限的投诉(R16)。"),
    )
)
register(Figure("complaints_closed", _("已关闭投诉"), "complaints", 240, complaints_closed, _columns))
