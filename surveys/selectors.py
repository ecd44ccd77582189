"""Reads of the surveys: results against targets (R23), the priority matrix (R24), unsatisfied
items by branch, department and dimension (R21) and a client's satisfaction (R8, R25).
Every function takes the user and reads through ``restrict``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.models import Branch

from .models import Answer, Dimension, Survey, SurveyTemplate, Target


def answers_in_scope(user, *, template: SurveyTemplate, year: int, branch: Branch | None = None):
    qs = Answer.objects.restrict(user, "view").filter(
        survey__template=template, survey__answered_at__year=year, survey__status=Survey.Status.ANSWERED
    )
    if branch is not None:
        qs = qs.filter(survey__branch=branch)
    return qs


def _rates(answers) -> dict[int, dict]:
    rows = answers.values("dimension_id").annotate(
        n=Count("pk"),
        positive=Count("pk", filter=Q(positive=True)),
        unsatisfied=Count("pk", filter=Q(unsatisfied=True)),
    )
    return {
        r["dimension_id"]: {
            "answers": r["n"],
            "rate": r["positive"] / r["n"] if r["n"] else None,
            "unsatisfied": r["unsatisfied"],
        }
        for r in rows
    }


def results(user, *, template: SurveyTemplate, year: int, branches, branch: Branch | None = None) -> dict:
    """Actual satisfaction rate (share of 4-5 answers, R23) against base and target, per
    dimension, for the group (what the user may see; one branch's answers with ``branch``) and
    for each branch of ``branches``."""
    dims = list(Dimension.objects.filter(template=template).order_by("order"))
    targets = {t.dimension_id: t for t in Target.objects.filter(dimension__template=template, year=year)}
    answers = answers_in_scope(user, template=template, year=year, branch=branch)
    group = _rates(answers)
    per_branch = {}
    by_branch_rows = answers.values("survey__branch_id", "dimension_id").annotate(
        n=Count("pk"),
        positive=Count("pk", filter=Q(positive=True)),
        unsatisfied=Count("pk", filter=Q(unsatisfied=True)),
    )
    for r in by_branch_rows:
        per_branch.setdefault(r["survey__branch_id"], {})[r["dimension_id"]] = {
            "answers": r["n"],
            "rate": r["positive"] / r["n"] if r["n"] else None,
            "unsatisfied": r["unsatisfied"],
        }
    rows = []
    for d in dims:
        t = targets.get(d.pk)
        g = group.get(d.pk, {})
        rows.append(
            {
                "dimension": d,
                "base": float(t.base) if t else None,
                "target": float(t.target) if t else None,
                "actual": g.get("rate"),
                "answers": g.get("answers", 0),
                "unsatisfied": g.get("unsatisfied", 0),
                "status": _status(g.get("rate"), t),
                "branches": [
                    {
                        "branch": b,
                        **per_branch.get(b.pk, {}).get(d.pk, {"answers": 0, "rate": None, "unsatisfied": 0}),
                    }
                    for b in branches
                ],
            }
        )
    return {"rows": rows, "has_targets": bool(targets)}


def _status(rate, target: Target | None) -> str:
    if rate is None or target is None:
        return "none"
    if rate >= float(target.target):
        return "met"
    if rate >= float(target.base):
        return "base"
    return "below"


QUADRANTS = {
    "priority": gettext_lazy("优先改进区"),
    "strength": gettext_lazy("优势保持区"),
    "secondary": gettext_lazy("次要改进区"),
    "maintain": gettext_lazy("维持观察区"),
}


def priority_matrix(user, *, template: SurveyTemplate, year: int, branch: Branch | None = None) -> dict:
    """Satisfaction against importance per dimension (行动重点, R24). The axes cross at the mean
    importance and the mean satisfaction of the dimensions; low satisfaction with high
    importance (优先改进区) comes first in the list."""
    dims = list(Dimension.objects.filter(template=template, is_summary=False).order_by("order"))
    rates = _rates(answers_in_scope(user, template=template, year=year, branch=branch))
    points = [
        {
            "dimension": d,
            "importance": float(d.importance),
            "rate": rates[d.pk]["rate"],
            "answers": rates[d.pk]["answers"],
        }
        for d in dims
        if d.pk in rates and rates[d.pk]["rate"] is not None
    ]
    if not points:
        return {"points": [], "x_mid": None, "y_mid": None}
    x_mid = sum(p["importance"] for p in points) / len(points)
    y_mid = sum(p["rate"] for p in points) / len(points)
    for p in points:
        high = p["importance"] >= x_mid
        low = p["rate"] < y_mid
        p["quadrant"] = (
            "priority" if high and low else "strength" if high else "secondary" if low else "maintain"
        )
        p["quadrant_label"] = str(QUADRANTS[p["quadrant"]])
    order = {"priority": 0, "secondary": 1, "strength": 2, "maintain": 3}
    points.sort(key=lambda p: (order[p["quadrant"]], p["rate"] - p["importance"]))
    return {"points": points, "x_mid": x_mid, "y_mid": y_mid}


def unsatisfied_by(user, *, year: int, template: SurveyTemplate | None = None) -> list[dict]:
    """Unsatisfied items (R21) counted by branch, project department and dimension."""
    qs = Answer.objects.restrict(user, "view").filter(unsatisfied=True, survey__answered_at__year=year)
    if template is not None:
        qs = qs.filter(survey__template=template)
    return list(
        qs.values("survey__branch__name", "survey__department__name", "dimension__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "survey__branch__name")
    )


def client_satisfaction(client, *, now: dt.datetime | None = None) -> dict | None:
    """The client's satisfaction over the last 12 months (R8, R25): the share of positive
    answers of their answered surveys. None when nothing was answered."""
    now = now or timezone.now()
    answers = Answer.objects.filter(
        survey__client=client,
        survey__status=Survey.Status.ANSWERED,
        survey__answered_at__gte=now - dt.timedelta(days=365),
    ).aggregate(
        n=Count("pk"), positive=Count("pk", filter=Q(positive=True)), surveys=Count("survey", distinct=True)
    )
    if not answers["n"]:
        return None
    rate = answers["positive"] / answers["n"]
    return {
        "rate": rate,
        "answers": answers["n"],
        "basis": _("近12个月%(n)d份问卷,满意率%(rate)d%%")
        % {"n": answers["surveys"], "rate": round(rate * 100)},
    }


def pct(value) -> str:
    if value is None:
        return "-"
    return f"{Decimal(str(value)) * 100:.0f}%"
