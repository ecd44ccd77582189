"""The complaints' figures (R16-R19, R26; design.md "Figures"): defined once here, read by the
monthly report, the dashboards and the assessment through crm.figures."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.figures import Column, Figure, Rate, Window, detail_url, narrow, register, rows_of, section

from .models import Category, Complaint, Event, Kind, Severity, Status

section("complaints", _("客户投诉"))

KINDS = dict(Kind.choices)
CATEGORIES = dict(Category.choices)
SEVERITIES = dict(Severity.choices)
STATUSES = dict(Status.choices)


def _url(row) -> str:
    return detail_url("complaints:complaint-detail")(row["id"])


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


def complaints_resolved_on_time(user, window: Window) -> list[dict]:
    """R16, R32 indicator 2: of the complaints resolved in the window, those by their deadline."""
    return _rows(
        _qs(user, window, at="resolved_at").filter(resolved_at__lte=F("resolve_due_at")), order="resolved_at"
    )


def complaints_reopened(user, window: Window) -> list[dict]:
    """R32 indicator 2: complaints reopened in the window (the relationship did not improve)."""
    reopened = Event.objects.filter(
        complaint=OuterRef("pk"), kind=Event.Kind.REOPENED, at__gte=window.start, at__lt=window.end
    )
    return _rows(_qs(user, window).filter(Exists(reopened)))


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
        pgettext_lazy("figure", "受理投诉"),
        "complaints",
        210,
        complaints_received,
        _columns,
        breakdown=("kind", "category"),
        model=Complaint,
    )
)
register(
    Figure(
        "complaints_resolved",
        _("处理完成投诉"),
        "complaints",
        220,
        complaints_resolved,
        _columns,
        model=Complaint,
    )
)
register(
    Figure(
        "complaints_overdue",
        _("超期投诉"),
        "complaints",
        230,
        complaints_overdue,
        _columns,
        help=_("期间内超过确认或处理期限的投诉。"),
        model=Complaint,
    )
)
register(
    Figure(
        "complaints_closed", _("已关闭投诉"), "complaints", 240, complaints_closed, _columns, model=Complaint
    )
)
register(
    Figure(
        "complaints_resolved_on_time",
        _("按期处理投诉"),
        "complaints",
        225,
        complaints_resolved_on_time,
        _columns,
        help=_("期间内处理完成且未超过处理期限的投诉。"),
        model=Complaint,
    )
)
register(
    Figure(
        "complaints_reopened",
        _("重新处理的投诉"),
        "complaints",
        245,
        complaints_reopened,
        _columns,
        help=_("期间内被重新处理的投诉:处理结果未获认可。"),
        model=Complaint,
    )
)
register(
    Rate(
        "complaints_on_time_rate",
        _("投诉按期处理率"),
        "complaints",
        250,
        "complaints_resolved_on_time",
        "complaints_resolved",
        help=_("按期处理投诉 ÷ 处理完成投诉。"),
    )
)
