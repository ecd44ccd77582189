"""Pages of the departments' reports to their branch (R80-R86). Thin: every read goes through
``restrict`` (out of scope answers 404, a missing role 403), every write through
assessments.deptreports.services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clients.access.log import log_queryset_reads
from clients.models import AccessLog
from crm import figures as fig
from crm.access import can
from crm.exports import xlsx_response
from crm.models import Branch

from ..models import TIMELINESS, DepartmentEvent, DepartmentReport, DepartmentSurveyReport
from ..monthly import exports as monthly_exports
from ..monthly import services as monthly
from ..monthly.views import _sections
from . import services

PAGE_SIZE = 25


def _require(user, model=DepartmentReport):
    if not can(user, "view", model):
        raise PermissionDenied(_("您的角色不能查看项目经理部的上报。"))


def _refusal(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _part(request, pk) -> DepartmentReport:
    _require(request.user)
    return get_object_or_404(
        DepartmentReport.objects.restrict(request.user, "view").select_related("branch", "department"), pk=pk
    )


@login_required
def part_list(request):
    """R80, R82: the departments' parts of the user's scope, newest period first."""
    _require(request.user)
    qs = (
        DepartmentReport.objects.restrict(request.user, "view")
        .select_related("branch", "department", "submitted_by")
        .defer("snapshot")
        .order_by("-period", "branch__sort_order", "department__name")
    )
    period = request.GET.get("period", "").strip()
    if period:
        qs = qs.filter(period=period)
    branch = request.GET.get("branch", "").strip()
    if branch.isdigit():
        qs = qs.filter(branch_id=int(branch))
    status = request.GET.get("status", "").strip()
    if status in DepartmentReport.Status.values:
        qs = qs.filter(status=status)
    if request.GET.get("export") == "xlsx":
        headers = [
            _("分子公司"),
            _("项目经理部"),
            _("期间"),
            _("状态"),
            _("上报情况"),
            _("上报时间"),
            _("上报人"),
        ]
        rows = [
            [
                str(p.branch),
                p.department.name,
                p.period,
                p.get_status_display(),
                str(TIMELINESS[p.timeliness]),
                timezone.localtime(p.submitted_at).strftime("%Y-%m-%d %H:%M") if p.submitted_at else "",
                p.submitted_by.display_name if p.submitted_by else "",
            ]
            for p in qs
        ]
        title = _("项目经理部月度上报")
        return xlsx_response(title, title, headers, rows)
    user = request.user
    return render(
        request,
        "assessments/deptreports/part_list.html",
        {
            "title": _("项目经理部月度上报"),
            "page": Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page")),
            "branches": Branch.objects.restrict(user, "view").exclude(kind=Branch.Kind.HQ),
            "statuses": DepartmentReport.Status.choices,
            "timeliness": TIMELINESS,
            "own_department": bool(user.department_id and not user.department.is_business_dept),
            "deadline_day": services.deadline_day(user.branch) if user.branch_id else None,
            "may_set_deadline": bool(user.branch_id)
            and user.branch.kind != Branch.Kind.HQ
            and services.is_branch_manager(user, user.branch_id),
        },
    )


@login_required
def part_current(request):
    """R80: the user's department's part of the current period (opened on first use); a
    department that submitted early opens the next period's."""
    _require(request.user)
    department = request.user.department
    if department is None or department.is_business_dept or department.branch_id != request.user.branch_id:
        # The branch's own office (经营部) and the group read the departments' parts as a list.
        return redirect("assessments:department-report-list")
    period = fig.Period.containing()
    part = services.part_open(department=department, period=period)
    if part.status == DepartmentReport.Status.SUBMITTED and timezone.now() >= part.deadline:
        part = services.part_open(department=department, period=period.next())
    if not DepartmentReport.objects.restrict(request.user, "view").filter(pk=part.pk).exists():
        raise Http404
    return redirect("assessments:department-report-detail", pk=part.pk)


@login_required
def part_detail(request, pk):
    """R80-R83: a department's part: its figures (each opening its list), the submission, the
    branch manager's return, the history; the export is the department's 客户信息统计表."""
    part = _part(request, pk)
    user = request.user
    result = services.part_figures(part, user)
    values = fig.department_values(result, part.department_id)
    if request.GET.get("export") == "xlsx":
        clients = monthly.statsheet_clients(
            user, monthly.client_ids(result.lists), department=part.department_id
        )
        log_queryset_reads(request, clients, via=AccessLog.Via.EXPORT)
        return monthly_exports.report(
            part,
            result,
            [part.department],
            lists=services.part_lists(part, result, user),
            clients=clients,
            department=part.department,
        )
    branch_report = monthly.report_open(branch=part.branch, period=part.period_obj)
    return render(
        request,
        "assessments/deptreports/part_detail.html",
        {
            "title": _("%(department)s %(period)s 月度客户信息")
            % {"department": part.department.name, "period": part.period},
            "part": part,
            "period": part.period_obj,
            "sections": _sections(values, result, part),
            "no_change": result.no_change,
            "timeliness": part.timeliness,
            "timeliness_label": TIMELINESS[part.timeliness],
            "window": services.part_window(part),
            "may_submit": services.may_submit_part(user, part)
            and part.status != DepartmentReport.Status.SUBMITTED,
            "may_return": services.may_return_part(user, part)
            and part.status == DepartmentReport.Status.SUBMITTED,
            "events": part.events.select_related("by").order_by("at", "pk"),
            "branch_report": branch_report if _visible(user, branch_report) else None,
        },
    )


def _visible(user, report) -> bool:
    from ..models import MonthlyReport

    return MonthlyReport.objects.restrict(user, "view").filter(pk=report.pk).exists()


@login_required
def part_figure(request, pk, key):
    """R81: the records behind one figure of a part, read through ``restrict(request.user)``."""
    part = _part(request, pk)
    f = fig.figure(key)
    if f is None:
        raise Http404
    rows, total = services.part_rows(part, request.user, key)
    table = [
        {"url": r.get("url", ""), "cells": [fig.display(c, r.get(c.key)) for c in f.columns]} for r in rows
    ]
    if request.GET.get("export") == "xlsx":
        title = f"{f.label} {part.department.name} {part.period}"
        return xlsx_response(title, title, [str(c.label) for c in f.columns], [r["cells"] for r in table])
    return render(
        request,
        "assessments/deptreports/part_figure.html",
        {
            "title": f"{f.label} · {part.department.name} {part.period}",
            "part": part,
            "figure": f,
            "rows": table,
            "count": len(table),
            "hidden": total - len(table),
            "window": services.part_window(part),
        },
    )


@require_POST
@login_required
def part_submit(request, pk):
    part = _part(request, pk)
    remarks = request.POST.get("remarks")
    try:
        services.part_submit(
            part=part, by=request.user, remarks=remarks[:2000] if remarks is not None else None
        )
        messages.success(request, _("已上报分公司。"))
    except ValidationError as error:
        _refusal(request, error)
    return redirect("assessments:department-report-detail", pk=part.pk)


@require_POST
@login_required
def part_return(request, pk):
    part = _part(request, pk)
    try:
        services.part_return(part=part, by=request.user, reason=request.POST.get("reason", "")[:2000])
        messages.success(request, _("已退回项目经理部,更正后重新上报。"))
    except ValidationError as error:
        _refusal(request, error)
    back = request.POST.get("next", "")
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect("assessments:department-report-detail", pk=part.pk)


@require_POST
@login_required
def deadline_set(request):
    """R80: the branch manager sets the day of the month the departments' parts are due."""
    _require(request.user)
    branch = request.user.branch
    if branch is None or branch.kind == Branch.Kind.HQ:
        raise PermissionDenied(_("只有分公司经营部负责人可以设置项目经理部上报截止日。"))
    raw = request.POST.get("day", "").strip()
    try:
        services.deadline_set(branch=branch, by=request.user, day=int(raw) if raw.isdigit() else -1)
        messages.success(request, _("项目经理部上报截止日已保存。"))
    except ValidationError as error:
        _refusal(request, error)
    return redirect("assessments:department-report-list")


# ------------------------------------------------------------------ survey reports (R85, R86)


def _campaigns(user):
    from surveys.models import Campaign

    return (
        Campaign.objects.restrict(user, "view")
        .filter(deadline__lt=timezone.localdate())
        .order_by("-deadline", "-pk")
    )


@login_required
def survey_list(request):
    """R86: a campaign's department survey reports: the branch's (every branch's for the group
    roles), submitted on time, late or not yet; the department's people open their own."""
    _require(request.user, DepartmentSurveyReport)
    campaigns = list(_campaigns(request.user)[:12])
    raw = request.GET.get("campaign", "")
    campaign = None
    if raw.isdigit():
        campaign = get_object_or_404(_campaigns(request.user), pk=int(raw))
        if campaign not in campaigns:
            campaigns.append(campaign)
    elif campaigns:
        campaign = campaigns[0]
    rows = services.campaign_departments(campaign, request.user) if campaign else []
    user = request.user
    own = user.department if user.department_id and not user.department.is_business_dept else None
    return render(
        request,
        "assessments/deptreports/survey_list.html",
        {
            "title": _("项目经理部满意度调查报告"),
            "campaigns": campaigns,
            "campaign": campaign,
            "rows": rows,
            "timeliness": TIMELINESS,
            "due": services.survey_report_due(campaign) if campaign else None,
            "own": own,
            "own_row": next((r for r in rows if own and r["department"].pk == own.pk), None),
        },
    )


@require_POST
@login_required
def survey_open(request):
    """R85: the department opens its report of a campaign whose deadline has passed."""
    _require(request.user, DepartmentSurveyReport)
    raw = request.POST.get("campaign", "")
    campaign = get_object_or_404(_campaigns(request.user), pk=int(raw)) if raw.isdigit() else None
    department = request.user.department
    if campaign is None:
        raise Http404
    if department is None or department.branch_id != request.user.branch_id:
        raise PermissionDenied(_("只有项目经理部人员可以编写本部的满意度调查报告。"))
    try:
        report, _created = services.survey_report_open(campaign=campaign, department=department)
    except ValidationError as error:
        _refusal(request, error)
        return redirect(f"{_survey_list_url()}?campaign={campaign.pk}")
    if not services.may_submit_part(request.user, report):
        raise PermissionDenied(_("只有本项目经理部人员可以编写本部的满意度调查报告。"))
    return redirect("assessments:department-survey-detail", pk=report.pk)


def _survey_list_url():
    from django.urls import reverse

    return reverse("assessments:department-survey-list")


def _survey(request, pk) -> DepartmentSurveyReport:
    _require(request.user, DepartmentSurveyReport)
    return get_object_or_404(
        DepartmentSurveyReport.objects.restrict(request.user, "view").select_related(
            "campaign", "department", "branch", "submitted_by"
        ),
        pk=pk,
    )


@login_required
def survey_detail(request, pk):
    """R85: the department's survey report: figures from its surveys, the texts offered
    pre-filled; saving (POST) keeps what was typed."""
    report = _survey(request, pk)
    may_write = (
        services.may_submit_part(request.user, report)
        and report.status == DepartmentSurveyReport.Status.DRAFT
    )
    texts = {name: getattr(report, name) for name in DepartmentSurveyReport.TEXTS}
    if request.method == "POST":
        texts = {name: request.POST.get(name, "")[:5000] for name in DepartmentSurveyReport.TEXTS}
        try:
            services.survey_report_save(
                report=report,
                by=request.user,
                texts=texts,
                expected_version=int(request.POST["version"])
                if request.POST.get("version", "").isdigit()
                else None,
            )
            messages.success(request, _("已保存。"))
            return redirect("assessments:department-survey-detail", pk=report.pk)
        except ValidationError as error:
            _refusal(request, error)
    summary = (
        report.summary
        if report.summary is not None
        else services.survey_summary(report.campaign, report.department)
    )
    drafts = services.survey_drafts(summary)
    if may_write:
        texts = {name: texts[name] or drafts[name] for name in texts}
    return render(
        request,
        "assessments/deptreports/survey_detail.html",
        {
            "title": _("%(department)s「%(campaign)s」满意度调查报告")
            % {"department": report.department.name, "campaign": report.campaign.name},
            "report": report,
            "summary": summary,
            "texts": texts,
            "labels": {name: DepartmentSurveyReport._meta.get_field(name).verbose_name for name in texts},
            "may_write": may_write,
            "timeliness": report.timeliness,
            "timeliness_label": TIMELINESS[report.timeliness],
            "events": DepartmentEvent.objects.filter(survey_report=report).select_related("by"),
        },
    )


@require_POST
@login_required
def survey_submit(request, pk):
    report = _survey(request, pk)
    texts = {
        name: request.POST.get(name, "")[:5000]
        for name in DepartmentSurveyReport.TEXTS
        if name in request.POST
    }
    try:
        services.survey_report_submit(
            report=report,
            by=request.user,
            texts=texts,
            expected_version=int(request.POST["version"])
            if request.POST.get("version", "").isdigit()
            else None,
        )
        messages.success(request, _("满意度调查报告已上报分公司。"))
    except ValidationError as error:
        _refusal(request, error)
    return redirect("assessments:department-survey-detail", pk=report.pk)
