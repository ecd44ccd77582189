"""The client page's 分析与评价 tab (seed 001, R54): what the group has written and learned
about one client, filed in its archive with dates.

«客户满意度调查、客户分析报告、客户投诉的信息应在客户档案中做相应归档»;
«我方对客户的评价,主要由客户分析报告构成».

The tab lists the single-client analyses (R30) of the client, the branch analysis reports that
name it (those holding its analysis, and those whose text names it), and its returned survey
results (R20), newest first; above them, the client's 我方对客户的评价 with where it came from.
Every row is read through ``restrict(request.user, "view")``. Registered from
AssessmentsConfig.ready() (clients imports nothing of assessments)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from clients.panels import register_tab
from surveys.models import Survey

from .models import AnalysisReport, ClientAnalysis
from .review.filing import evaluation_from

# The analysis reports' texts searched for the client's name.
REPORT_TEXTS = ("loyalty", "profit", "future", "capability", "product", "common_traits")
SURVEYS_SHOWN = 20


@dataclass(frozen=True)
class Entry:
    """One row of the tab's timeline."""

    at: datetime | None
    kind: str
    title: str
    text: str
    url: str
    by: str = ""


def tab_rows(user):
    """The single-client analyses the tab's badge counts: those the user may view."""
    return ClientAnalysis.objects.restrict(user, "view")


def evaluation_source(client, analyses: list[ClientAnalysis]) -> dict:
    """Where the client's 我方对客户的评价 comes from: the latest submitted analysis when it
    reads the same, an edit of it otherwise (or no analysis yet)."""
    filed = [a for a in analyses if a.report.status == AnalysisReport.Status.SUBMITTED]
    latest = filed[0] if filed else None
    if latest is None:
        return {"latest": None, "state": "none"}
    if client.our_evaluation == evaluation_from(latest):
        return {"latest": latest, "state": "drawn"}
    return {"latest": latest, "state": "edited"}


def tab_context(request, client) -> dict:
    user = request.user
    analyses = list(
        tab_rows(user)
        .filter(client=client)
        .select_related("report", "report__branch", "department", "written_by")
        .order_by("-report__half_year", "-updated_at")
    )
    analysed = {a.report_id for a in analyses}
    naming = Q()
    for name in REPORT_TEXTS:
        naming |= Q(**{f"{name}__contains": client.name})
    reports = list(
        AnalysisReport.objects.restrict(user, "view")
        .filter(branch_id=client.branch_id)
        .filter(Q(pk__in=analysed) | naming)
        .select_related("branch")
        .order_by("-half_year")
    )
    surveys = list(
        Survey.objects.restrict(user, "view")
        .filter(client=client, status=Survey.Status.ANSWERED)
        .select_related("template", "project")
        .order_by("-answered_at")[:SURVEYS_SHOWN]
    )
    entries = [
        Entry(
            at=a.report.submitted_at or a.updated_at,
            kind=str(_("单个客户分析")),
            title=f"{a.report.half_year} {a.department or a.report.branch}",
            text=a.text,
            url=reverse("assessments:analysis-detail", kwargs={"pk": a.report_id}),
            by=a.written_by.display_name,
        )
        for a in analyses
    ]
    entries += [
        Entry(
            at=r.submitted_at or r.updated_at,
            kind=str(_("客户分析报告")),
            title=f"{r.branch} {r.half_year} · {r.get_status_display()}",
            text=str(_("含本客户的单个客户分析")) if r.pk in analysed else str(_("报告正文提及本客户")),
            url=reverse("assessments:analysis-detail", kwargs={"pk": r.pk}),
        )
        for r in reports
    ]
    entries += [
        Entry(
            at=s.answered_at,
            kind=str(_("满意度调查")),
            title=f"{s.template.name}{' · ' + s.project.name if s.project else ''}",
            text=(
                str(_("满意率 %(rate)s%%,不满意项 %(n)s 项"))
                % {"rate": round(float(s.satisfaction_rate) * 100), "n": s.unsatisfied_count}
                if s.satisfaction_rate is not None
                else ""
            ),
            url=reverse("surveys:survey-detail", kwargs={"pk": s.pk}),
        )
        for s in surveys
    ]
    entries.sort(key=lambda e: (e.at is not None, e.at), reverse=True)
    return {"entries": entries, "evaluation": evaluation_source(client, analyses)}


register_tab(
    "analyses", _("分析与评价"), "assessments/_client_tab.html", tab_context, order=55, count=tab_rows
)
