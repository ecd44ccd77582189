"""The figures of B→A cultivation (R47; design.md "Figures"): defined once here, read by the
monthly report, the dashboards and the half-year assessment through crm.figures. Each reads
through ``restrict(user, "view")`` and returns the rows behind its count."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.figures import Column, Figure, HalfYear, Window, detail_url, narrow, register, rows_of, section

from ..models import Client
from .models import BEvaluation, CultivationPlan
from .services import b_not_evaluated

section("cultivation", _("B类客户培养"))

_client = Column("client", _("客户"))


def _plan_url(row) -> str:
    return detail_url("clients:cultivation-detail")(row["id"])


def _client_url(row) -> str:
    return detail_url("clients:client-detail")(row["client_id"])


def _own_url(row) -> str:
    return detail_url("clients:client-detail")(row["id"])


def b_under_cultivation(user, window: Window) -> list[dict]:
    """R47: plans open at the end of the window (made before it ended, not closed by then)."""
    qs = narrow(CultivationPlan.objects.restrict(user, "view"), window, department="client__department_id")
    qs = qs.filter(proposed_at__lt=window.end).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=window.end)
    )
    return rows_of(
        qs.order_by("proposed_at", "pk"),
        url=_plan_url,
        department="client__department_id",
        client_id="client_id",
        client="client__name",
        goal="goal",
        proposed_by="proposed_by__full_name",
        at="proposed_at",
        next_review="next_review_on",
    )


def _evaluations(outcome: str):
    def collect(user, window: Window) -> list[dict]:
        qs = narrow(
            BEvaluation.objects.restrict(user, "view").filter(outcome=outcome),
            window,
            department="client__department_id",
            at="evaluated_at",
        )
        return rows_of(
            qs.order_by("evaluated_at", "pk"),
            url=_client_url,
            department="client__department_id",
            client_id="client_id",
            client="client__name",
            reason="reason",
            by="evaluated_by__full_name",
            at="evaluated_at",
        )

    return collect


b_promoted_to_a = _evaluations(BEvaluation.Outcome.PROMOTE)
b_sent_back_to_c = _evaluations(BEvaluation.Outcome.DEMOTE)


def b_not_evaluated_figure(user, window: Window) -> list[dict]:
    """R47: B clients not yet evaluated for the half year of the window's last day, as of now."""
    half = HalfYear.containing(window.last_day)
    qs = narrow(Client.objects.restrict(user, "view"), window, department="department_id")
    return rows_of(
        b_not_evaluated(qs, half).order_by("name", "pk"),
        url=_own_url,
        department="department_id",
        client="name",
        owner="owner__full_name",
    )


_evaluation_columns = (
    _client,
    Column("reason", _("理由")),
    Column("by", _("评价人")),
    Column("at", _("评价时间"), "datetime"),
)

register(
    Figure(
        "b_under_cultivation",
        _("培养中的B类客户"),
        "cultivation",
        60,
        b_under_cultivation,
        (
            _client,
            Column("goal", _("培养目标")),
            Column("proposed_by", _("提出人")),
            Column("at", _("提出时间"), "datetime"),
            Column("next_review", _("下次评审日期"), "date"),
        ),
        help=_("期间末进行中的培养计划。"),
        flow=False,
        model=CultivationPlan,
    )
)
register(
    Figure(
        "b_promoted_to_a",
        _("培养为A类的客户"),
        "cultivation",
        62,
        b_promoted_to_a,
        _evaluation_columns,
        help=_("期间内由B类调整为A类的客户(半年度评价或分级调整)。"),
        model=BEvaluation,
    )
)
register(
    Figure(
        "b_sent_back_to_c",
        _("打回C类的客户"),
        "cultivation",
        64,
        b_sent_back_to_c,
        _evaluation_columns,
        help=_("期间内由B类打回C类的客户(半年度评价或分级调整)。"),
        model=BEvaluation,
    )
)
register(
    Figure(
        "b_not_evaluated",
        _("本半年度未评价的B类客户"),
        "cultivation",
        66,
        b_not_evaluated_figure,
        (_client, Column("owner", _("客户经理"))),
        help=_("期间末所在半年度尚未评价的B类客户。"),
        flow=False,
        model=Client,
    )
)
