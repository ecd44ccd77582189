"""The managers' dashboards (R35): pages, the lists behind their figures, Excel exports and
``/api/dashboard/``. A group role sees every branch (and may pick one); a branch manager sees
their branch only. Everything is read through ``restrict``."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from clients.models import Grade
from crm import figures as fig
from crm.exports import xlsx_response
from crm.navigation import register as register_nav
from crm.validators import validate_date_in_range

from . import selectors


@register_nav("dashboard")
def may_view(user) -> bool:
    return selectors.may_view(user)


def _require(user):
    if not may_view(user):
        raise PermissionDenied(_("看板供集团市场营销部、集团领导、考核人员和分公司经营部负责人查看。"))


def _filters(user, params, *, api=False):
    """period (YYYY-MM, default the current one) and branch (an id in the user's scope)."""
    error = APIValidationError if api else None
    raw = params.get("period")
    try:
        period = fig.Period.parse(raw) if raw else fig.Period.containing()
    except ValueError as exc:
        if error:
            raise error({"period": [str(exc)]}) from None
        period = fig.Period.containing()
    branch_id = None
    raw_branch = params.get("branch", "")
    allowed = {b.pk for b in selectors.columns_of(user)}
    if raw_branch:
        if not str(raw_branch).isdigit() or int(raw_branch) not in allowed:
            if error:
                raise error({"branch": [_("无此分子公司或无权查看。")]})
            raise Http404
        branch_id = int(raw_branch)
    elif not selectors.has_group_view(user) and len(allowed) == 1:
        branch_id = next(iter(allowed))
    return period, branch_id


@login_required
def dashboard(request):
    _require(request.user)
    period, branch_id = _filters(request.user, request.GET)
    data = selectors.dashboard(request.user, period=period, branch_id=branch_id)
    table = request.GET.get("export")
    if table:
        return _export(data, table)
    periods = []
    p = fig.Period.containing()
    for _i in range(13):
        periods.append(p)
        p = p.previous()
    sections = {}
    for f in data["figures"] + data["rates"]:
        sections.setdefault(f["section"], []).append(f)
    return render(
        request,
        "assessments/dashboards/dashboard.html",
        {
            "title": _("集团客户关系看板") if branch_id is None else _("分公司客户关系看板"),
            "data": data,
            "period": period,
            "periods": periods,
            "branch_id": branch_id,
            # Computed by the worker before this change was counted (selectors.dashboard).
            "stale_since": dt.datetime.fromisoformat(data["stale_since"])
            if data.get("stale_since")
            else None,
            "branches": selectors.columns_of(request.user) if selectors.has_group_view(request.user) else [],
            "sections": [(fig.SECTIONS.get(code, code), items) for code, items in sections.items()],
            "grades": Grade.values,
        },
    )


def _export(data, table):
    if table == "grades":
        headers = [_("分子公司"), "A", "B", "C", _("合计")]
        rows = [[r["branch"], *[c["value"] for c in r["cells"]], r["total"]] for r in data["grades"]["rows"]]
        rows.append([_("合计"), *[c["value"] for c in data["grades"]["totals"]], data["grades"]["total"]])
    elif table == "history":
        headers = [_("期间"), "A", "B", "C"]
        rows = [[h["period"], h["A"], h["B"], h["C"]] for h in data["grade_history"]]
    elif table == "transitions":
        headers = [_("原分级 \\ 新分级"), "A", "B", "C"]
        rows = [[m["from"], *[c["value"] for c in m["cells"]]] for m in data["transitions"]["matrix"]]
    elif table == "figures":
        headers = [_("指标"), _("合计"), *[b["name"] for b in data["branches"]]]
        rows = [[f["label"], f["value"], *[b["value"] for b in f["branches"]]] for f in data["figures"]]
        rows += [
            [r["label"], "" if r["value"] is None else round(r["value"] * 100, 1)] for r in data["rates"]
        ]
    elif table == "funnel":
        headers = [_("客户阶段"), _("客户数")]
        rows = [[s["label"], s["value"]] for s in data["funnel"]]
    else:
        raise Http404
    title = _("客户关系看板 %(period)s") % {"period": data["period"]}
    return xlsx_response(title, title, headers, rows)


@login_required
def dashboard_figure(request, key):
    """The records behind one figure of the dashboard: the same definition, the same count."""
    _require(request.user)
    f = fig.figure(key)
    if f is None:
        raise Http404
    period, branch_id = _filters(request.user, request.GET)
    columns = selectors.columns_of(request.user)
    names = {b.pk: str(b) for b in columns}
    branch_ids = list(names)
    rows = [
        r
        for r in fig.evaluate(request.user, period.window(branch_id=branch_id), only=[key]).lists[key]
        if branch_id is not None or r.get("branch_id") in branch_ids
    ]
    table = [
        {
            "url": r.get("url", ""),
            "branch": names.get(r.get("branch_id"), ""),
            "cells": [fig.display(c, r.get(c.key)) for c in f.columns],
        }
        for r in rows
    ]
    with_branch = branch_id is None and len(names) > 1  # the group's list: whose is each row
    if request.GET.get("export") == "xlsx":
        headers = ([_("分子公司")] if with_branch else []) + [str(c.label) for c in f.columns]
        return xlsx_response(
            str(f.label),
            str(f.label),
            headers,
            [([r["branch"]] if with_branch else []) + r["cells"] for r in table],
        )
    return render(
        request,
        "assessments/dashboards/figure.html",
        {
            "title": f"{f.label} · {period.label}",
            "figure": f,
            "rows": table,
            "count": len(table),
            "period": period,
            "with_branch": with_branch,
        },
    )


@login_required
def dashboard_transitions(request):
    """The clients behind one cell of the grade transition matrix."""
    _require(request.user)
    _period, branch_id = _filters(request.user, request.GET)
    try:
        start = dt.date.fromisoformat(request.GET.get("start", ""))
        end = dt.date.fromisoformat(request.GET.get("end", ""))
    except ValueError:
        raise Http404 from None
    try:
        validate_date_in_range(start)
        validate_date_in_range(end)
    except ValidationError as error:
        raise BadRequest(error.messages[0]) from None
    a, b = request.GET.get("from"), request.GET.get("to")
    if a not in Grade.values or b not in Grade.values or start > end:
        raise Http404
    clients = selectors.transition_clients(
        request.user, start=start, end=end, from_grade=a, to_grade=b, branch_id=branch_id
    )
    return render(
        request,
        "assessments/dashboards/transitions.html",
        {
            "title": _("%(start)s 至 %(end)s 由%(a)s类变为%(b)s类的客户")
            % {"start": start, "end": end, "a": a, "b": b},
            "clients": clients,
            "count": len(clients),
        },
    )


@login_required
def dashboard_grades_at(request):
    """The clients behind one point of the month-by-month chart of grades."""
    _require(request.user)
    _period, branch_id = _filters(request.user, request.GET)
    grade = request.GET.get("grade")
    try:
        period = fig.Period.parse(request.GET.get("period", ""))
    except ValueError:
        raise Http404 from None
    if grade not in Grade.values:
        raise Http404
    clients = selectors.grade_clients_at(request.user, period=period, grade=grade, branch_id=branch_id)
    return render(
        request,
        "assessments/dashboards/transitions.html",
        {
            "title": _("%(period)s 期末为%(grade)s类的客户") % {"period": period.label, "grade": grade},
            "clients": clients,
            "count": len(clients),
        },
    )


class DashboardView(APIView):
    """``/api/dashboard/``: the dashboard's figures as JSON, each with the URL of the list behind
    it (filters ``period`` as YYYY-MM and ``branch``)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("period", str, description="YYYY-MM"),
            OpenApiParameter("branch", int),
        ],
        responses={200: dict},
    )
    def get(self, request):
        if not may_view(request.user):
            raise PermissionDenied(_("看板供集团市场营销部、集团领导、考核人员和分公司经营部负责人查看。"))
        period, branch_id = _filters(request.user, request.query_params, api=True)
        data = selectors.dashboard(request.user, period=period, branch_id=branch_id)
        return Response({**data, "generated_at": data["computed_at"]})
