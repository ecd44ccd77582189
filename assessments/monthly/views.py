"""Pages of monthly reporting (R26-R29). Thin: every read goes through ``restrict`` (a report out of
scope answers 404, a missing role 403), every write through assessments.monthly.services."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from clients.access.log import log_queryset_reads
from clients.models import AccessLog, Client
from crm import figures as fig
from crm.access import can, has_global, is_archive_suspended
from crm.exports import xlsx_response
from crm.models import Branch, ProjectDepartment
from crm.navigation import register as register_nav

from ..models import TIMELINESS, MonthlyClose, MonthlyReport, Ranking
from . import exports, services

PAGE_SIZE = 25


@register_nav("monthly_close")
def may_close(user) -> bool:
    """Running the 25th job by hand: administrators and group marketing."""
    return user.is_authenticated and (user.is_superuser or has_global(user, MonthlyClose, "add"))


@register_nav("rollup")
def may_read_rollup(user) -> bool:
    """The group roll-up: the group roles (marketing, leaders, auditors) and administrators."""
    return user.is_authenticated and has_global(user, MonthlyReport, "view")


def _require_reports(user):
    if not can(user, "view", MonthlyReport):
        raise PermissionDenied(_("您的角色不能查看月度报表。"))


def _period_param(request, default: fig.Period) -> fig.Period:
    raw = request.GET.get("period")
    if not raw:
        return default
    try:
        return fig.Period.parse(raw)
    except ValueError as error:
        messages.error(request, str(error))
        return default


def _refusal(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


# ------------------------------------------------------------------------------- lists


@login_required
def report_list(request):
    """Every report of the user's scope, newest period first, with its status and timeliness."""
    _require_reports(request.user)
    qs = (
        MonthlyReport.objects.restrict(request.user, "view")
        .select_related("branch", "submitted_by")
        .defer("snapshot")
        .order_by("-period", "branch__sort_order")
    )
    period = request.GET.get("period", "").strip()
    if period:
        qs = qs.filter(period=period)
    branch = request.GET.get("branch", "").strip()
    if branch.isdigit():
        qs = qs.filter(branch_id=int(branch))
    status = request.GET.get("status", "").strip()
    if status in MonthlyReport.Status.values:
        qs = qs.filter(status=status)
    timeliness = request.GET.get("timeliness", "").strip()
    if timeliness in TIMELINESS:
        # As the roll-up and the home page count them (MonthlyReport.timeliness, defined once).
        qs = qs.filter(
            pk__in=[
                r.pk
                for r in qs.select_related(None).only("pk", "period", "status", "on_time")
                if r.timeliness == timeliness
            ]
        )
    if request.GET.get("export") == "xlsx":
        return exports.report_list(qs)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assessments/report_list.html",
        {
            "title": pgettext("list title", "月度客户信息报表"),
            "page": page,
            "branches": Branch.objects.restrict(request.user, "view").exclude(kind=Branch.Kind.HQ),
            "statuses": MonthlyReport.Status.choices,
            "timeliness": TIMELINESS,
            "current": fig.Period.containing(),
            "is_branch_user": bool(request.user.branch_id) and request.user.branch.kind != Branch.Kind.HQ,
        },
    )


@login_required
def report_current(request):
    """The user's branch's report of the current period (assembled on first opening)."""
    _require_reports(request.user)
    branch = request.user.branch
    if branch is None or branch.kind == Branch.Kind.HQ:
        return redirect("assessments:rollup")
    if not Branch.objects.restrict(request.user, "view").filter(pk=branch.pk).exists():
        raise Http404
    period = fig.Period.containing()
    report = services.report_open(branch=branch, period=period)
    if report.frozen_at is not None and report.status != MonthlyReport.Status.MISSING:
        # Submitted early: what accrues from now on is the next period's (R27), and its draft
        # can be opened at once.
        report = services.report_open(branch=branch, period=period.next())
    return redirect("assessments:report-detail", pk=report.pk)


# ------------------------------------------------------------------------------ a report


def _report(request, pk) -> MonthlyReport:
    _require_reports(request.user)
    return get_object_or_404(
        MonthlyReport.objects.restrict(request.user, "view").select_related("branch"), pk=pk
    )


def _sections(values: dict, result: fig.Result, report) -> list[dict]:
    out = []
    for code, label in fig.SECTIONS.items():
        items = []
        for f in fig.figures():
            if f.section == code:
                items.append({"figure": f, "value": values.get(f.key, 0), "rate": False})
        for r in fig.rates():
            if r.section == code:
                items.append({"figure": r, "value": values.get(r.key), "rate": True})
        items.sort(key=lambda i: i["figure"].order)
        if items:
            out.append({"code": code, "label": label, "items": items})
    return sorted(out, key=lambda s: s["items"][0]["figure"].order)


def _breakdowns(result: fig.Result) -> list[dict]:
    out = []
    for key, columns in result.breakdowns.items():
        f = fig.figure(key)
        if f is None:
            continue
        for column_key, counts in columns.items():
            column = next((c for c in f.columns if c.key == column_key), None)
            if column is None or not counts:
                continue
            out.append(
                {
                    "figure": f,
                    "column": column,
                    "counts": sorted(
                        ((fig.display(column, code), n) for code, n in counts.items()), key=lambda x: -x[1]
                    ),
                }
            )
    return out


@login_required
def report_detail(request, pk):
    report = _report(request, pk)
    user = request.user
    result = services.report_figures(report, user)
    departments = list(
        ProjectDepartment.objects.restrict(user, "view")
        .filter(branch=report.branch)
        .order_by("-is_business_dept", "name")
    )
    department = None
    raw = request.GET.get("department", "")
    if raw.isdigit():
        department = next((d for d in departments if d.pk == int(raw)), None)
    elif raw == "" and user.role == "staff" and user.department_id:
        department = next((d for d in departments if d.pk == user.department_id), None)
    values = fig.department_values(result, department.pk) if department else result.values
    if request.GET.get("export") == "xlsx":
        # R74: the 客户信息统计表 of the report (or of the department shown): the clients of the
        # lists behind its figures (frozen, or counted for this user), read as this user.
        clients = services.statsheet_clients(
            user, services.client_ids(result.lists), department=department.pk if department else None
        )
        log_queryset_reads(request, clients, via=AccessLog.Via.EXPORT)
        return exports.report(
            report,
            result,
            departments,
            lists=services.report_lists(report, result, user),
            clients=clients,
            department=department,
        )
    parts = [
        {"department": d, "values": fig.department_values(result, d.pk)}
        for d in departments
        if any(result.departments.get(k, {}).get(str(d.pk)) for k in result.departments)
    ]
    unassigned = fig.department_values(result, 0)
    if any(unassigned.get(f.key) for f in fig.figures()):
        parts.append({"department": None, "values": unassigned})
    period = report.period_obj
    from ..deptreports import services as deptreports

    return render(
        request,
        "assessments/report_detail.html",
        {
            "title": _("%(branch)s %(period)s 月度客户信息报表")
            % {"branch": report.branch, "period": report.period},
            "report": report,
            "period": period,
            "result": result,
            "values": values,
            "sections": _sections(values, result, report),
            "breakdowns": _breakdowns(result) if department is None else [],
            "departments": departments,
            "department": department,
            "parts": parts,
            "count_figures": fig.figures(),
            "no_change": result.no_change,
            "timeliness": report.timeliness,
            "timeliness_label": TIMELINESS[report.timeliness],
            "may_submit": services.may_submit(user, report)
            and report.status not in (MonthlyReport.Status.SUBMITTED, MonthlyReport.Status.ACCEPTED),
            "may_review": services.may_review(user) and report.status == MonthlyReport.Status.SUBMITTED,
            "events": report.events.select_related("by").order_by("at", "pk"),
            "window": services.report_window(report),
            "suspended": is_archive_suspended(user),
            # Submitting now would be late only if the report was never submitted by the deadline.
            "late_if_submitted": timezone.now() > period.deadline and report.on_time is None,
            # R82: the departments' own parts, submitted to the branch, and their sums.
            "dept": deptreports.branch_parts(report, user) if department is None else None,
            "may_return_parts": deptreports.is_branch_manager(user, report.branch_id),
            "timeliness_labels": TIMELINESS,
        },
    )


@login_required
def report_figure(request, pk, key):
    """The records behind one figure of a report (frozen with it once submitted)."""
    report = _report(request, pk)
    f = fig.figure(key)
    if f is None:
        raise Http404
    rows, total = services.report_rows(report, request.user, key)
    hidden = total - len(rows)
    raw = request.GET.get("department", "")
    department = None
    if raw.isdigit():
        department = get_object_or_404(ProjectDepartment, pk=int(raw), branch=report.branch)
        rows = [r for r in rows if r.get("department_id") == department.pk]
    elif raw == "0":
        rows = [r for r in rows if not r.get("department_id")]
    table = [
        {"url": r.get("url", ""), "cells": [fig.display(c, r.get(c.key)) for c in f.columns]} for r in rows
    ]
    if request.GET.get("export") == "xlsx":
        return exports.figure_rows(report, f, table)
    return render(
        request,
        "assessments/report_figure.html",
        {
            "title": f"{f.label} · {report.branch} {report.period}",
            "report": report,
            "figure": f,
            "rows": table,
            "count": len(table),
            "department": department,
            "hidden": hidden,
            "window": services.report_window(report),
        },
    )


@require_POST
@login_required
def report_remarks(request, pk):
    report = _report(request, pk)
    try:
        services.report_set_remarks(
            report=report, by=request.user, remarks=request.POST.get("remarks", "")[:2000]
        )
        messages.success(request, _("说明已保存。"))
    except ValidationError as error:
        _refusal(request, error)
    return redirect("assessments:report-detail", pk=report.pk)


@require_POST
@login_required
def report_submit(request, pk):
    report = _report(request, pk)
    remarks = request.POST.get("remarks")
    try:
        services.report_submit(
            report=report, by=request.user, remarks=remarks[:2000] if remarks is not None else None
        )
        messages.success(request, _("报表已上报集团市场营销部。"))
    except ValidationError as error:
        _refusal(request, error)
    return redirect("assessments:report-detail", pk=report.pk)


@require_POST
@login_required
def report_accept(request, pk):
    report = _report(request, pk)
    try:
        services.report_accept(report=report, by=request.user)
        messages.success(request, _("报表已确认。"))
    except ValidationError as error:
        _refusal(request, error)
    return redirect("assessments:report-detail", pk=report.pk)


@require_POST
@login_required
def report_return(request, pk):
    report = _report(request, pk)
    try:
        services.report_return(report=report, by=request.user, reason=request.POST.get("reason", "")[:2000])
        messages.success(request, _("报表已退回,分公司将更正后重新上报。"))
    except ValidationError as error:
        _refusal(request, error)
    return redirect("assessments:report-detail", pk=report.pk)


# ------------------------------------------------------------------------------- roll-up


def default_rollup_period() -> fig.Period:
    """The period group marketing most likely wants: the current one in its last week (the
    reminders have gone out and reports come in), else the last one closed."""
    current = fig.Period.containing()
    if current.deadline - timezone.now() <= dt.timedelta(days=6):
        return current
    return fig.Period.last_due()


@login_required
def rollup(request):
    """R27: the group roll-up of a period, branch by branch, with late and missing flagged."""
    if not may_read_rollup(request.user):
        raise PermissionDenied(_("集团汇总仅供集团市场营销部、集团领导和考核人员查看。"))
    period = _period_param(request, default_rollup_period())
    data = services.rollup(request.user, period)
    columns = sorted(list(fig.figures()) + list(fig.rates()), key=lambda c: c.order)
    if request.GET.get("export") == "xlsx":
        # R74: beside the figures, each branch's 客户信息统计表 of the period, read as this user.
        reports = [row["report"] for row in data["rows"] if row["report"] is not None]
        ids = services.report_client_ids(reports, request.user)
        clients = {r.branch_id: services.statsheet_clients(request.user, ids[r.pk]) for r in reports}
        for qs in clients.values():
            log_queryset_reads(request, qs, via=AccessLog.Via.EXPORT)
        return exports.rollup(data, columns, clients)
    from ..deptreports.services import rollup_counts

    # R82: how many of each branch's project departments submitted their parts.
    dept_counts = rollup_counts(period, [row["branch"].pk for row in data["rows"]])
    for row in data["rows"]:
        row["departments"] = dept_counts.get(row["branch"].pk, (0, 0))
    sections = []
    for c in columns:
        if not sections or sections[-1]["code"] != c.section:
            sections.append(
                {"code": c.section, "label": fig.SECTIONS.get(c.section, ""), "span": 0, "first": c.key}
            )
        sections[-1]["span"] += 1
    firsts = {s["first"] for s in sections}
    columns = [
        {
            "key": c.key,
            "label": c.label,
            "numerator": getattr(c, "numerator", None),
            # A rate opens the records it is measured over (its denominator's list).
            "list": getattr(c, "denominator", None) or c.key,
            "first": c.key in firsts,
        }
        for c in columns
    ]
    periods = []
    p = fig.Period.containing()
    for _i in range(13):
        periods.append(p)
        p = p.previous()
    if period not in periods:  # an older period opened by its link keeps its place in the list
        periods.append(period)
    return render(
        request,
        "assessments/rollup.html",
        {
            "title": _("集团月度客户信息汇总"),
            "data": data,
            "period": period,
            "periods": periods,
            "columns": columns,
            "sections": sections,
            "timeliness": TIMELINESS,
            "close": MonthlyClose.objects.restrict(request.user, "view").filter(period=period.label).first(),
        },
    )


@login_required
def rollup_figure(request, key):
    """The records behind one column of the roll-up for the whole group: each branch's report's
    list (frozen where submitted, live where not), read through ``restrict(request.user)``; its
    length is the column's total."""
    if not may_read_rollup(request.user):
        raise PermissionDenied(_("集团汇总仅供集团市场营销部、集团领导和考核人员查看。"))
    f = fig.figure(key)
    if f is None:
        raise Http404
    period = _period_param(request, default_rollup_period())
    data = services.rollup(request.user, period)
    table = []
    total = 0
    for row in data["rows"]:
        if row["report"] is None:
            continue
        rows, count = services.report_rows(row["report"], request.user, key)
        total += count
        table += [
            {
                "url": r.get("url", ""),
                "cells": [str(row["branch"])] + [fig.display(c, r.get(c.key)) for c in f.columns],
            }
            for r in rows
        ]
    headers = [_("分子公司")] + [str(c.label) for c in f.columns]
    if request.GET.get("export") == "xlsx":
        title = f"{f.label} {period.label}"
        return xlsx_response(title, title, headers, [r["cells"] for r in table])
    return render(
        request,
        "assessments/rollup_figure.html",
        {
            "title": _("%(figure)s · 集团 %(period)s") % {"figure": f.label, "period": period.label},
            "figure": f,
            "headers": headers,
            "rows": table,
            "count": len(table),
            "hidden": total - len(table),
            "period": period,
        },
    )


# -------------------------------------------------------------------- the job, by hand


def close_message(close) -> str:
    """What running the 25th job by hand did (R28: idempotent), in a person's words."""
    if close.was_done:
        return _(
            "%(period)s 已于 %(at)s 完成月度截止,本次重复执行未做任何更改:各分子公司的报表和集团汇总保持不变。"
        ) % {"period": close.period, "at": timezone.localtime(close.finished_at).strftime("%Y-%m-%d %H:%M")}
    if close.state == close.State.FAILED and not close.dispatched:
        # R55: running it again does not retry a failed part; the closing's page does.
        return _("%(period)s 的月度截止执行失败,请在其详情页查看原因后点击“重新执行”。") % {
            "period": close.period
        }
    if close.dispatched and close.dispatched < close.total:
        return _("继续 %(period)s 的月度截止:%(n)s 家分子公司尚未完成,已重新提交处理,进度见下表。") % {
            "period": close.period,
            "n": close.dispatched,
        }
    return _("已开始 %(period)s 的月度截止,进度见下表。") % {"period": close.period}


@login_required
def close_list(request):
    """R28 by hand: an administrator (or group marketing) closes a chosen period; the page shows
    each closing's progress, part by part, as the worker does it."""
    if not may_close(request.user):
        raise PermissionDenied(_("只有系统管理员和集团市场营销部可以手动执行月度截止。"))
    if request.method == "POST":
        from ..tasks import dispatch_close

        try:
            period = fig.Period.parse(request.POST.get("period", ""))
            close = dispatch_close(period, by=request.user)
            messages.success(request, close_message(close))
        except ValueError as error:
            messages.error(request, str(error))
        except ValidationError as error:
            _refusal(request, error)
        return redirect("assessments:close-list")
    closes = MonthlyClose.objects.restrict(request.user, "view").select_related("started_by")[:24]
    running = any(c.state == MonthlyClose.State.RUNNING for c in closes)
    return render(
        request,
        "assessments/close_list.html",
        {
            "title": _("月度截止"),
            "closes": closes,
            "running": running,
            "suggested": fig.Period.last_due(),
        },
    )


# ------------------------------------------------------------------------------ rankings


def _require_rankings(user):
    """R29: rankings go to leaders and to the branches: every person with a role reads them."""
    if not (user.role or user.is_superuser):
        raise PermissionDenied(_("您的角色不能查看排名。"))


@login_required
def ranking_list(request):
    _require_rankings(request.user)
    qs = Ranking.objects.restrict(request.user, "view")
    kind = request.GET.get("kind", "")
    if kind in Ranking.Kind.values:
        qs = qs.filter(kind=kind)
    return render(
        request,
        "assessments/ranking_list.html",
        {"title": _("分子公司客户分级排名"), "rankings": qs, "kinds": Ranking.Kind.choices, "kind": kind},
    )


@login_required
def ranking_detail(request, pk):
    _require_rankings(request.user)
    ranking = get_object_or_404(Ranking.objects.restrict(request.user, "view"), pk=pk)
    if request.method == "POST":
        try:
            services.ranking_set_remarks(
                ranking=ranking, by=request.user, remarks=request.POST.get("remarks", "")[:2000]
            )
            messages.success(request, _("评价已保存。"))
        except ValidationError as error:
            _refusal(request, error)
        return redirect("assessments:ranking-detail", pk=ranking.pk)
    if request.GET.get("export") == "xlsx":
        return exports.ranking(ranking)
    return render(
        request,
        "assessments/ranking_detail.html",
        {
            "title": _("%(kind)s分子公司客户分级排名 %(label)s")
            % {"kind": ranking.get_kind_display(), "label": ranking.label},
            "ranking": ranking,
            "may_remark": has_global(request.user, Ranking, "change"),
            # A count opens its clients where the reader may see that branch's archive (R29).
            "listable": set(Branch.objects.restrict(request.user, "view").values_list("pk", flat=True))
            if can(request.user, "view", Client)
            else set(),
        },
    )


@login_required
def ranking_clients(request, pk):
    """The clients behind one count of a ranking (R29): the branch's clients graded so at the
    ranking's moment, read back from the grading trail as the ranking was, through
    ``restrict(request.user)``; ``grade`` A, B, C or all (the row's total)."""
    from clients.figures import GradeTimeline

    _require_rankings(request.user)
    ranking = get_object_or_404(Ranking.objects.restrict(request.user, "view"), pk=pk)
    grade = request.GET.get("grade", "")
    raw = request.GET.get("branch", "")
    if grade not in ("A", "B", "C", "all") or not raw.isdigit():
        raise Http404
    branch = get_object_or_404(Branch.objects.restrict(request.user, "view"), pk=int(raw))
    timeline = GradeTimeline(Client.objects.restrict(request.user, "view").filter(branch=branch))
    ids = (
        [pk for g in ("A", "B", "C") for pk in timeline.clients_at(ranking.as_of, g)]
        if grade == "all"
        else timeline.clients_at(ranking.as_of, grade)
    )
    clients = (
        Client.objects.restrict(request.user, "view")
        .filter(pk__in=ids)
        .select_related("branch", "owner")
        .order_by("name")
    )
    return render(
        request,
        "assessments/dashboards/transitions.html",
        {
            "title": _("%(branch)s 截至 %(at)s 的%(grade)s客户(%(ranking)s)")
            % {
                "branch": branch,
                "at": timezone.localtime(ranking.as_of).strftime("%Y-%m-%d %H:%M"),
                "grade": _("全部") if grade == "all" else _("%(grade)s类") % {"grade": grade},
                "ranking": ranking.label,
            },
            "clients": clients,
            "count": len(ids),
        },
    )
