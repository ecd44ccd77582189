"""The managers' dashboards (R35): the group's (group marketing, leaders, auditors) and a branch's
(its manager). Every figure is read through ``restrict(user, ...)`` and carries the URL of the list
behind it, whose count is the figure. The figures of a period come from crm.figures (defined once,
shared with the monthly report and the assessment).

Where the figures count: every branch the user may see is a column, the group HQ (集团总部)
included when it owns clients of the user's scope, and the group's totals are the sum of the
columns. So a total, the sum of its row and the list behind it (the archive list, which shows the
HQ's clients too) always agree (design.md, "Figures"). The HQ does not report monthly (R26): the
report status and the ratings list the reporting branches only.

What is expensive is cached in the cache every process shares, keyed by everything the answer
depends on (the reader's scope, the branch, the period and the language), and dropped when the
records it counts change (``bump``, connected to their saves and deletes)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from clients.figures import GradeTimeline
from clients.models import Client, Grade, Stage
from clients.selectors import visit_overdue_q
from crm import figures as fig
from crm.models import Branch

from ..models import TIMELINESS, Assessment, MonthlyReport

logger = logging.getLogger(__name__)
CACHE_SECONDS = 600
GENERATION_KEY = "dashboard:generation"


def bump(**kwargs) -> None:
    """Invalidate every cached dashboard (the records they count changed), and have the worker
    compute again the ones read lately."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 1, None)
    refresh_soon()


def _generation() -> int:
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, 1, None)
        value = cache.get(GENERATION_KEY, 1)
    return value


def branches_of(user):
    """The reporting branches the user may see (restrict on Branch): the monthly reports'
    status and the ratings."""
    return (
        Branch.objects.restrict(user, "view")
        .filter(is_active=True)
        .exclude(kind=Branch.Kind.HQ)
        .order_by("sort_order", "code")
    )


def columns_of(user) -> list[Branch]:
    """The dashboard's columns: every active branch the user may see, the group HQ last (its
    clients count in a column of their own, on every surface, never only in the totals)."""
    branches = list(
        Branch.objects.restrict(user, "view").filter(is_active=True).order_by("sort_order", "code")
    )
    return [b for b in branches if b.kind != Branch.Kind.HQ] + [
        b for b in branches if b.kind == Branch.Kind.HQ
    ]


def _url(name: str, **params) -> str:
    params = {k: v for k, v in params.items() if v not in (None, "")}
    return reverse(name) + (f"?{urlencode(params)}" if params else "")


def figure_url(key: str, period: fig.Period, branch_id: int | None) -> str:
    return (
        reverse("assessments:dashboard-figure", kwargs={"key": key})
        + "?"
        + urlencode({k: v for k, v in {"period": period.label, "branch": branch_id}.items() if v})
    )


def _month_ends(period: fig.Period, n: int = 12) -> list[tuple[str, dt.datetime]]:
    out = []
    p = period
    for _i in range(n):
        out.append((p.label, min(p.end, timezone.now())))
        p = p.previous()
    return list(reversed(out))


def _view_key(user, period: fig.Period, branch_id, since) -> str:
    from django.utils import translation

    from crm.access import scope_key

    return ":".join(
        [
            scope_key(user, Client),
            translation.get_language() or "",
            period.label,
            str(branch_id or ""),
            str(since or ""),
        ]
    )


def dashboard(
    user, *, period: fig.Period, branch_id: int | None = None, since: dt.date | None = None
) -> dict:
    """Everything the dashboard shows, cached. ``since``: the start of the transition matrix
    (default: half a year before the period's end, the span the re-grading reviews).

    Computed ahead of its readers (issue 29): each view read is remembered, and after a change of
    what it counts the worker computes it again (``refresh_soon``, debounced), so the next reader
    finds it ready. A reader who comes before the worker has finished gets the previous answer,
    marked with the time it was computed (``stale_since``), when computing it took longer than
    ``DASHBOARD_WAIT_SECONDS`` (at 1M clients the group's takes seconds); a quick one is computed
    at once, so a small archive always reads fresh figures."""
    view = _view_key(user, period, branch_id, since)
    key = f"dashboard:{_generation()}:{view}"
    data = cache.get(key)
    if data is not None:
        return data
    last = cache.get(f"dashboard:last:{view}")
    wait = getattr(settings, "DASHBOARD_WAIT_SECONDS", 1.0)
    if last is not None and wait is not None and last["seconds"] > wait:
        _remember(user, period, branch_id, since)
        refresh_soon()
        return {**last["data"], "stale_since": last["data"]["computed_at"]}
    return _compute_and_keep(user, period=period, branch_id=branch_id, since=since, key=key, view=view)


def _compute_and_keep(user, *, period, branch_id, since, key, view) -> dict:
    started = time.monotonic()
    data = compute(user, period=period, branch_id=branch_id, since=since)
    seconds = time.monotonic() - started
    cache.set(key, data, CACHE_SECONDS)
    cache.set(f"dashboard:last:{view}", {"data": data, "seconds": seconds}, LAST_SECONDS)
    _remember(user, period, branch_id, since)
    return data


# The views read lately, computed again by the worker after a change: (user id, language,
# period, branch, since) -> when last read. At most READERS_KEPT, for READERS_SECONDS.
READERS_KEY = "dashboard:readers"
READERS_KEPT = 200
READERS_SECONDS = 24 * 3600
LAST_SECONDS = 7 * 24 * 3600
REFRESH_KEY = "dashboard:refresh-scheduled"
REFRESH_DELAY = 5  # seconds: the changes of one save, an import or a job refresh once


def _remember(user, period, branch_id, since) -> None:
    from django.utils import translation

    readers = cache.get(READERS_KEY) or {}
    view = (
        user.pk,
        translation.get_language() or "",
        period.label,
        branch_id,
        since.isoformat() if since else "",
    )
    now = time.time()
    if now - readers.get(view, 0) < 60:
        return  # remembered a minute ago: no write on every read
    readers[view] = now
    fresh = {v: t for v, t in readers.items() if now - t < READERS_SECONDS}
    cache.set(READERS_KEY, dict(sorted(fresh.items(), key=lambda kv: kv[1])[-READERS_KEPT:]), READERS_SECONDS)


def refresh_soon(**kwargs) -> None:
    """Ask the worker to compute the remembered views again in ``REFRESH_DELAY`` seconds, once
    for every change in that time; after the change is committed (once per transaction: an
    import saves thousands of counted rows)."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        entry[1] is _schedule_refresh for entry in connection.run_on_commit
    ):
        return
    transaction.on_commit(_schedule_refresh)


def _schedule_refresh() -> None:
    if not getattr(settings, "DASHBOARD_PRECOMPUTE", True):
        return
    delay = getattr(settings, "DASHBOARD_REFRESH_DELAY", REFRESH_DELAY)
    if not cache.add(REFRESH_KEY, 1, delay + 120):
        return  # one is already on its way
    from assessments.tasks import dashboards_refresh

    try:
        dashboards_refresh.apply_async(countdown=delay)
    except Exception:  # the broker is away: readers compute as before, nothing is lost
        cache.delete(REFRESH_KEY)
        logger.warning("could not queue the dashboards' refresh", exc_info=True)


def refresh() -> int:
    """The worker's part: compute again every view read lately that is not cached for the
    current generation; returns how many were computed."""
    from django.utils import translation

    from crm.models import User

    cache.delete(REFRESH_KEY)  # changes from now on ask for another run
    done = 0
    for (user_id, language, label, branch_id, since), _read in (cache.get(READERS_KEY) or {}).items():
        user = User.objects.filter(pk=user_id, is_active=True).first()
        if user is None or not may_view(user):
            continue
        try:
            period = fig.Period.parse(label)
        except ValueError:
            continue
        since_day = dt.date.fromisoformat(since) if since else None
        with translation.override(language or settings.LANGUAGE_CODE):
            view = _view_key(user, period, branch_id, since_day)
            key = f"dashboard:{_generation()}:{view}"
            if cache.get(key) is None:
                _compute_and_keep(
                    user, period=period, branch_id=branch_id, since=since_day, key=key, view=view
                )
                done += 1
    return done


def compute(user, *, period: fig.Period, branch_id: int | None = None, since: dt.date | None = None) -> dict:
    branches = columns_of(user)
    if branch_id is not None:
        branches = [b for b in branches if b.pk == branch_id]
    ids = [b.pk for b in branches]
    names = {b.pk: str(b) for b in branches}
    reporting = set(branches_of(user).filter(pk__in=ids).values_list("pk", flat=True))
    clients = Client.objects.restrict(user, "view").filter(branch_id__in=ids)

    # Grades now, by branch: each cell is the archive list filtered the same way.
    grades = {b: {g: 0 for g in Grade.values} for b in ids}
    for row in clients.order_by().values("branch_id", "grade").annotate(n=Count("pk")):
        grades[row["branch_id"]][row["grade"]] = row["n"]
    grade_rows = [
        {
            "branch_id": b,
            "branch": names[b],
            "cells": [
                {"grade": g, "value": grades[b][g], "url": _url("clients:client-list", branch=b, grade=g)}
                for g in Grade.values
            ],
            "total": sum(grades[b].values()),
            "url": _url("clients:client-list", branch=b),
        }
        for b in ids
    ]
    grade_totals = [
        {
            "grade": g,
            "value": sum(grades[b][g] for b in ids),
            "url": _url("clients:client-list", grade=g, branch=branch_id),
        }
        for g in Grade.values
    ]

    # Month by month: the grades as they stood at each period's end (the grading trail).
    timeline = GradeTimeline(clients)
    ends = _month_ends(period)
    history = [
        {
            "period": label,
            **counts,
            "urls": {
                g: _url("assessments:dashboard-grades-at", period=label, grade=g, branch=branch_id)
                for g in Grade.values
            },
        }
        for (label, _moment), counts in zip(ends, timeline.counts_many([m for _l, m in ends]), strict=True)
    ]

    # The transition matrix between two dates.
    end = min(period.end, timezone.now())
    start_day = since or (timezone.localtime(end).date() - dt.timedelta(days=182))
    start = dt.datetime.combine(start_day, dt.time.min, tzinfo=timezone.get_default_timezone())
    moves = timeline.transitions(start, end)
    matrix = [
        {
            "from": a,
            "cells": [
                {
                    "to": b,
                    "value": len(moves.get((a, b), [])),
                    "url": _url(
                        "assessments:dashboard-transitions",
                        start=start_day.isoformat(),
                        end=timezone.localtime(end).date().isoformat(),
                        **{"from": a, "to": b},
                        branch=branch_id,
                    ),
                }
                for b in Grade.values
            ],
        }
        for a in Grade.values
    ]

    # The stage funnel.
    stages = dict(clients.order_by().values_list("stage").annotate(n=Count("pk")))
    funnel = [
        {
            "stage": code,
            "label": str(label),
            "value": stages.get(code, 0),
            "url": _url("clients:client-list", stage=code, branch=branch_id),
        }
        for code, label in Stage.choices
    ]

    # The period's figures (complaints, needs, visits, surveys), as in the monthly report: the
    # nominal period (26th to 25th), live; the reports themselves freeze their own windows.
    with fig.counting():
        result = fig.evaluate(user, period.window(branch_id=branch_id))
    # Only the columns' branches count (a branch manager's grants reach other branches' rows).
    for f in fig.figures():
        counted = result.branches.get(f.key, {})
        result.values[f.key] = sum(counted.get(str(b), 0) for b in ids)
    for r in fig.rates():
        result.values[r.key] = fig.rate_of(result.values, r)
    figures = []
    for f in fig.figures():
        by_branch = [
            {"branch_id": b, "branch": names[b], "value": result.branches.get(f.key, {}).get(str(b), 0)}
            for b in ids
        ]
        figures.append(
            {
                "key": f.key,
                "label": str(f.label),
                "section": f.section,
                "value": result.values.get(f.key, 0),
                "url": figure_url(f.key, period, branch_id),
                "branches": by_branch,
            }
        )
    rates = [
        {"key": r.key, "label": str(r.label), "section": r.section, "value": result.values.get(r.key)}
        for r in fig.rates()
    ]

    overdue_visits = clients.filter(visit_overdue_q()).count()

    reports = {
        r.branch_id: r
        for r in MonthlyReport.objects.restrict(user, "view")
        .filter(period=period.label, branch_id__in=ids)
        .defer("snapshot")
    }
    report_status = []
    for b in ids:
        if b not in reporting:
            continue
        r = reports.get(b)
        t = r.timeliness if r else ("missing" if timezone.now() > period.deadline else "pending")
        report_status.append(
            {
                "branch": names[b],
                "timeliness": t,
                "label": str(TIMELINESS[t]),
                "url": reverse("assessments:report-detail", kwargs={"pk": r.pk}) if r else "",
            }
        )
    last_half = fig.HalfYear.last_ended()
    ratings = [
        {
            "branch": names.get(a.branch_id, str(a.branch_id)),
            "half_year": a.half_year,
            "rating": a.rating,
            "label": a.get_rating_display() if a.rating else "",
            "url": reverse("assessments:assessment-detail", kwargs={"pk": a.pk}),
        }
        for a in Assessment.objects.restrict(user, "view")
        .filter(branch_id__in=ids, half_year__in=[last_half.label, last_half.previous().label])
        .order_by("-half_year", "branch__sort_order")
    ]
    return {
        "computed_at": timezone.now().isoformat(),
        "satisfaction": _satisfaction(user, period, branch_id),
        "period": period.label,
        "branch": branch_id,
        "branches": [{"id": b, "name": names[b]} for b in ids],
        "grades": {
            "rows": grade_rows,
            "totals": grade_totals,
            "total": sum(r["total"] for r in grade_rows),
            "url": _url("clients:client-list", branch=branch_id),
        },
        "grade_history": history,
        "transitions": {
            "start": start_day.isoformat(),
            "end": timezone.localtime(end).date().isoformat(),
            "matrix": matrix,
        },
        "funnel": funnel,
        "figures": figures,
        "rates": rates,
        "overdue_visits": {
            "value": overdue_visits,
            "url": _url("clients:client-list", overdue="visit", branch=branch_id),
        },
        "report_status": report_status,
        "ratings": ratings,
    }


def _satisfaction(user, period: fig.Period, branch_id: int | None) -> dict | None:
    """R23, R24: satisfaction against base and target per dimension, and the priority matrix,
    for the default survey template and the period's year (the survey analysis, summarised)."""
    from surveys import selectors as surveys
    from surveys.improvements import services as improvements
    from surveys.models import SurveyTemplate

    templates = list(SurveyTemplate.objects.restrict(user, "view"))
    template = next((t for t in templates if t.is_default), templates[0] if templates else None)
    if template is None:
        return None
    branch = Branch.objects.restrict(user, "view").filter(pk=branch_id).first() if branch_id else None
    data = surveys.results(user, template=template, year=period.year, branches=[], branch=branch)
    matrix = surveys.priority_matrix(user, template=template, year=period.year, branch=branch)
    params = {"template": template.pk, "year": period.year, "branch": branch_id}
    # R108: each dimension links to its improvement plan (the branch's, or the group's).
    plans = improvements.plan_links(user, template=template, branch_id=branch.pk if branch else None)
    return {
        "template": template.name,
        "year": period.year,
        "url": _url("surveys:results", **params),
        "rows": [
            {
                "dimension": r["dimension"].name,
                "base": r["base"],
                "target": r["target"],
                "actual": r["actual"],
                "answers": r["answers"],
                "status": r["status"],
                "plan": _plan_link(plans.get(r["dimension"].pk)),
            }
            for r in data["rows"]
        ],
        "priorities": [
            {
                "dimension": p["dimension"].name,
                "quadrant": p["quadrant"],
                "label": p["quadrant_label"],
                "rate": p["rate"],
            }
            for p in matrix["points"]
        ],
    }


def _plan_link(plan) -> dict | None:
    """A dimension's improvement plan as the (cached) dashboard shows it: its page and state."""
    if plan is None:
        return None
    return {
        "url": reverse("surveys:improvement-detail", kwargs={"pk": plan.pk}),
        "open": plan.is_open,
        "label": str(plan.get_status_display() if plan.is_open else plan.get_result_display()),
    }


def transition_clients(user, *, start: dt.date, end: dt.date, from_grade: str, to_grade: str, branch_id=None):
    """The clients behind one cell of the transition matrix."""
    tz = timezone.get_default_timezone()
    start_at = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    end_at = min(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz), timezone.now())
    timeline = _timeline(user, branch_id)
    return _listed(timeline.transitions(start_at, end_at).get((from_grade, to_grade), []))


def grade_clients_at(user, *, period: fig.Period, grade: str, branch_id=None):
    """The clients behind one point of the month-by-month chart: graded ``grade`` at the end of
    ``period`` (now, for the current one), read back from the grading trail as the chart is."""
    return _listed(_timeline(user, branch_id).clients_at(min(period.end, timezone.now()), grade))


def _timeline(user, branch_id) -> GradeTimeline:
    """The grading trail of the clients the dashboard counts for ``user`` (one branch or all)."""
    qs = Client.objects.restrict(user, "view").filter(branch__in=[b.pk for b in columns_of(user)])
    return GradeTimeline(qs if branch_id is None else qs.filter(branch_id=branch_id))


def _listed(ids):
    """Clients ``ids`` (found through restrict by the caller), as the drill-down lists show them."""
    return Client.objects.filter(pk__in=ids).select_related("branch", "owner").order_by("name")


def may_view(user) -> bool:
    """Group roles see the group's dashboard; a branch manager their branch's."""
    from crm.access import has_global

    if not user.is_authenticated:
        return False
    return has_global(user, Client, "view") or user.role == "manager"


def has_group_view(user) -> bool:
    from crm.access import has_global

    return has_global(user, Client, "view")
