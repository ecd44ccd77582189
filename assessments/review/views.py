"""Pages of the half-year review (R30-R34): what a branch owes, the client analysis report, the
auditor's workbench, the results over half years, the work summary. Reads through ``restrict``
(404 out of scope, 403 for a missing role); writes through assessments.review.services."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.access import can, has_global
from crm.exports import xlsx_response
from crm.figures import HalfYear
from crm.forms import posted_object
from crm.models import Branch, Suspension
from crm.navigation import register as register_nav

from .. import obligations
from ..models import ASPECTS, AnalysisReport, Assessment, AssessmentRound, SpotCheck, WorkSummary
from . import services


@register_nav("assessment_open")
def may_open(user) -> bool:
    return user.is_authenticated and (user.is_superuser or has_global(user, AssessmentRound, "add"))


@register_nav("owed")
def may_see_owed(user) -> bool:
    return user.is_authenticated and bool(user.branch_id) and user.role in ("staff", "manager")


def _refusal(request, error: ValidationError):
    for message in error.messages:
        messages.error(request, message)


def _field_errors(error: ValidationError, fields) -> tuple[dict[str, list[str]], list[str]]:
    """A service's refusal split for a page form: the messages of the fields the form has (to
    show under each field, marked) and the rest (shown above the form)."""
    if not hasattr(error, "error_dict"):
        return {}, list(error.messages)
    by_field, general = {}, []
    for name, errors in error.message_dict.items():
        if name in fields:
            by_field[name] = list(errors)
        else:
            general += errors
    return by_field, general


def _half(request, default: HalfYear) -> HalfYear:
    raw = request.GET.get("half_year") or request.POST.get("half_year")
    if not raw:
        return default
    try:
        return HalfYear.parse(raw)
    except ValueError as error:
        messages.error(request, str(error))
        return default


# ------------------------------------------------------------------------------ owed


@login_required
def owed(request):
    """R33: what the branch owes and by when, and whether its submissions are held."""
    if not may_see_owed(request.user):
        raise PermissionDenied(_("仅分子公司人员有待交材料。"))
    branch = request.user.branch
    now = timezone.now()
    return render(
        request,
        "assessments/review/owed.html",
        {
            "title": _("待交材料"),
            "items": obligations.owed(branch, now),
            "hold": Suspension.objects.active(now)
            .filter(branch=branch, kind=Suspension.Kind.SUBMISSIONS)
            .first(),
            "suspension": Suspension.objects.active(now)
            .filter(branch=branch, kind=Suspension.Kind.ARCHIVE)
            .first(),
        },
    )


# ----------------------------------------------------------------------- analysis reports


def _require(user, model):
    if not can(user, "view", model):
        raise PermissionDenied(_("您的角色不能查看此页面。"))


@login_required
def analysis_list(request):
    _require(request.user, AnalysisReport)
    qs = AnalysisReport.objects.restrict(request.user, "view").select_related("branch", "submitted_by")
    return render(
        request,
        "assessments/review/analysis_list.html",
        {"title": _("客户分析报告"), "reports": qs[:200], "last_half": HalfYear.last_ended().label},
    )


@login_required
def analysis_current(request):
    _require(request.user, AnalysisReport)
    branch = request.user.branch
    if branch is None or branch.kind == Branch.Kind.HQ:
        return redirect("assessments:analysis-list")
    half = _half(request, HalfYear.containing())
    report = (
        AnalysisReport.objects.restrict(request.user, "view")
        .filter(branch=branch, half_year=half.label)
        .first()
    )
    if report is None and request.method == "POST":
        # Opening a report writes a row: a POST (a GET never writes), for a half year that is due.
        try:
            report = services.analysis_open(branch=branch, half=half)
        except ValidationError as error:
            _refusal(request, error)
    if report is not None:
        return redirect("assessments:analysis-detail", pk=report.pk)
    return render(
        request,
        "assessments/review/analysis_open.html",
        {
            "title": _("%(branch)s %(half)s 客户分析报告") % {"branch": branch, "half": half.label},
            "half": half,
            "due": services.analysis_is_due(half),
        },
    )


@login_required
def analysis_detail(request, pk):
    _require(request.user, AnalysisReport)
    report = get_object_or_404(
        AnalysisReport.objects.restrict(request.user, "view").select_related("branch"), pk=pk
    )
    half = HalfYear.parse(report.half_year)
    if request.method == "POST":
        try:
            services.analysis_save(
                report=report, by=request.user, data=request.POST, submit="submit" in request.POST
            )
            messages.success(
                request, _("客户分析报告已提交。") if "submit" in request.POST else _("已保存。")
            )
            return redirect("assessments:analysis-detail", pk=report.pk)
        except ValidationError as error:
            _refusal(request, error)
            for name in services.ANALYSIS_TEXTS:
                setattr(report, name, request.POST.get(name, ""))
    figures = report.figures or services.analysis_figures(report.branch_id, half)
    editable = report.status == AnalysisReport.Status.DRAFT and services.may_submit_for(
        request.user, report.branch_id
    )
    own_draft = report.status == AnalysisReport.Status.DRAFT and request.user.branch_id == report.branch_id
    return render(
        request,
        "assessments/review/analysis_detail.html",
        {
            "title": _("%(branch)s %(half)s 客户分析报告")
            % {"branch": report.branch, "half": report.half_year},
            "report": report,
            "half": half,
            "figures": figures,
            "aspects": [(code, label, getattr(report, code)) for code, label in ASPECTS],
            "editable": editable,
            "may_judge": services.is_auditor(request.user)
            and report.status == AnalysisReport.Status.SUBMITTED,
            "client_analyses": report.client_analyses.select_related("client", "department", "written_by"),
            "may_add_client": own_draft,
            "branch_clients": report.branch.clients.order_by("name").only("pk", "name")[:500]
            if own_draft
            else [],
        },
    )


@require_POST
@login_required
def analysis_judge(request, pk):
    _require(request.user, AnalysisReport)
    report = get_object_or_404(AnalysisReport.objects.restrict(request.user, "view"), pk=pk)
    try:
        services.analysis_judge(report=report, by=request.user, meets=request.POST.get("meets") == "yes")
        messages.success(request, _("已记录评判。"))
    except ValidationError as error:
        _refusal(request, error)
    return redirect("assessments:analysis-detail", pk=report.pk)


# ----------------------------------------------------------------------------- assessments


@login_required
def assessment_list(request):
    """Results by branch over half years (marketing, leaders, auditors; a branch sees its own)."""
    _require(request.user, Assessment)
    qs = (
        Assessment.objects.restrict(request.user, "view")
        .select_related("branch", "rated_by")
        .order_by("-half_year", "branch__sort_order")
    )
    half = request.GET.get("half_year", "")
    if half:
        qs = qs.filter(half_year=half)
    if request.GET.get("state") == "waiting":  # the auditor's home card: open and not yet rated
        qs = qs.filter(round__state=AssessmentRound.State.OPEN, rated_at__isnull=True)
    rows = list(qs[:500])
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            _("分子公司考核结果"),
            _("分子公司考核结果"),
            [_("半年度"), _("分子公司"), _("考核结果"), _("评定理由"), _("评定时间"), _("考核人员")],
            [
                [
                    a.half_year,
                    str(a.branch),
                    a.get_rating_display(),
                    a.reason,
                    a.rated_at,
                    a.rated_by.display_name if a.rated_by else "",
                ]
                for a in rows
            ],
        )
    halves = sorted({a.half_year for a in rows}, reverse=True)
    branches = sorted({a.branch for a in rows}, key=lambda b: (b.sort_order, b.code))
    grid = {(a.branch_id, a.half_year): a for a in rows}
    matrix = [{"branch": b, "cells": [grid.get((b.pk, h)) for h in halves]} for b in branches]
    return render(
        request,
        "assessments/review/assessment_list.html",
        {
            "title": _("分子公司客户关系维护成效考核"),
            "rows": rows,
            "halves": halves,
            "matrix": matrix,
            "rounds": AssessmentRound.objects.restrict(request.user, "view")[:6]
            if has_global(request.user, AssessmentRound, "view")
            else [],
        },
    )


def _assessment(request, pk) -> Assessment:
    _require(request.user, Assessment)
    return get_object_or_404(
        Assessment.objects.restrict(request.user, "view").select_related("branch", "round", "rated_by"), pk=pk
    )


@login_required
def assessment_detail(request, pk):
    """The auditor's workbench: the computed indicators with the records behind them, the
    spot check, the analysis report's judgement, and the rating."""
    return _assessment_page(request, _assessment(request, pk))


def visible_indicators(reader, indicators: dict) -> dict:
    """The assessment's indicators with the lists behind them read again through
    ``restrict(reader)`` (frozen ids, as a report's lists: a suspended branch's people see what
    they own); each figure keeps its frozen value and says how many rows it hides."""
    from crm import figures as fig

    out = {}
    for section, items in indicators.items():
        if not isinstance(items, dict):
            out[section] = items
            continue
        out[section] = {}
        for key, item in items.items():
            if isinstance(item, dict) and "list" in item and fig.figure(key) is not None:
                rows = fig.visible(reader, key, item["list"])
                item = {**item, "list": rows, "hidden": len(item["list"]) - len(rows)}
            out[section][key] = item
    return out


def _assessment_page(request, assessment, *, rate=None, check=None, status=200):
    """The workbench; after a refused rating (``rate``: what was typed, the field errors and
    the rest) or spot check (``check``: its id, the note typed and the errors) the page comes
    back with the form as it was sent and the refusal beside the fields it is about."""
    checks = list(assessment.spot_checks.select_related("client", "client__owner", "checked_by"))
    if check is not None:
        for c in checks:
            if c.pk == check["pk"]:
                c.typed_note, c.refusal = check["note"], check["errors"]
    analysis = (
        AnalysisReport.objects.restrict(request.user, "view")
        .filter(branch=assessment.branch, half_year=assessment.half_year)
        .first()
    )
    auditor = services.is_auditor(request.user)
    return render(
        request,
        "assessments/review/assessment_detail.html",
        {
            "title": _("%(branch)s %(half)s 考核")
            % {"branch": assessment.branch, "half": assessment.half_year},
            "a": assessment,
            "ind": visible_indicators(request.user, assessment.indicators or {}),
            "checks": checks,
            "checked": sum(1 for c in checks if c.accurate is not None),
            "accurate": sum(1 for c in checks if c.accurate),
            "analysis": analysis,
            "auditor": auditor,
            "may_rate": auditor and not assessment.rated_at and assessment.computed_at,
            "ratings": Assessment.Rating.choices,
            "summary": getattr(assessment, "work_summary", None) if assessment.rated_at else None,
            "fields": services.required_fields(),
            "rate": rate or {"rating": "", "reason": "", "errors": {}, "general": []},
            "may_retry": may_open(request.user),
        },
        status=status,
    )


@require_POST
@login_required
def spot_check(request, pk, check_pk):
    assessment = _assessment(request, pk)
    check = get_object_or_404(SpotCheck, pk=check_pk, assessment=assessment)
    note = request.POST.get("note", "")[:300]
    try:
        services.spot_check_record(
            check=check,
            by=request.user,
            accurate=request.POST.get("accurate") == "yes",
            note=note,
        )
    except ValidationError as error:
        # The note typed stays in its row, with the refusal beside it.
        return _assessment_page(
            request, assessment, check={"pk": check.pk, "note": note, "errors": error.messages}
        )
    return redirect(f"{assessment_url(assessment)}#checks")


def assessment_url(assessment) -> str:
    from django.urls import reverse

    return reverse("assessments:assessment-detail", kwargs={"pk": assessment.pk})


@require_POST
@login_required
def assessment_rate(request, pk):
    assessment = _assessment(request, pk)
    rating, reason = request.POST.get("rating", ""), request.POST.get("reason", "")[:2000]
    try:
        services.assessment_rate(assessment=assessment, by=request.user, rating=rating, reason=reason)
    except ValidationError as error:
        # The rating and reason typed stay in the form; each refusal beside its field.
        errors, general = _field_errors(error, ("rating", "reason"))
        assessment.refresh_from_db()
        return _assessment_page(
            request,
            assessment,
            rate={"rating": rating, "reason": reason, "errors": errors, "general": general},
        )
    messages.success(request, _("考核结果已评定,相关单位和集团领导已收到通知。"))
    return redirect("assessments:assessment-detail", pk=assessment.pk)


def _percent(raw: str) -> float | None:
    """A percentage typed by a person ("3", "3.5", "3%") as a share; None when left empty."""
    raw = (raw or "").strip().rstrip("%")
    if not raw:
        return None
    try:
        return float(raw) / 100
    except ValueError:
        raise ValidationError({"growth_standard": _("增长标准应为 -100% 到 1000% 之间的百分数。")}) from None


@login_required
def assessment_open(request):
    """R34 by hand: an administrator or group marketing opens a half year's assessment."""
    if not may_open(request.user):
        raise PermissionDenied(_("只有系统管理员和集团市场营销部可以开始考核。"))
    if request.method == "POST":
        from ..tasks import dispatch_assessment

        try:
            half = HalfYear.parse(request.POST.get("half_year", ""))
            standard = _percent(request.POST.get("growth_standard", ""))
            existing = (
                AssessmentRound.objects.restrict(request.user, "view").filter(half_year=half.label).first()
            )
            if existing is not None and standard is not None:
                services.round_set_standard(rnd=existing, by=request.user, standard=standard)
                messages.success(request, _("已保存。"))
                return redirect("assessments:assessment-open")
            rnd = dispatch_assessment(half, by=request.user, standard=standard)
            if rnd.state == AssessmentRound.State.FAILED:
                # R55: opening it again does not retry a failed part; the round's page does.
                messages.error(
                    request,
                    _("%(half)s 的考核指标计算失败,请在其详情页查看原因后点击“重新计算”。")
                    % {"half": rnd.half_year},
                )
                return redirect("assessments:round-detail", half_year=rnd.half_year)
            messages.success(request, _("已开始 %(half)s 的考核。") % {"half": rnd.half_year})
        except ValueError as error:
            messages.error(request, str(error))
        except ValidationError as error:
            _refusal(request, error)
        return redirect("assessments:assessment-open")
    rounds = AssessmentRound.objects.restrict(request.user, "view").select_related("opened_by")[:12]
    return render(
        request,
        "assessments/review/assessment_open.html",
        {
            "title": _("开始半年考核"),
            "rounds": rounds,
            "running": any(r.state == AssessmentRound.State.RUNNING for r in rounds),
            "suggested": HalfYear.last_ended(),
            "default_standard": settings.CRM_CLIENT_GROWTH_STANDARD * 100,
        },
    )


# ---------------------------------------------------------------------------- work summary


@login_required
def summary_detail(request, pk):
    _require(request.user, WorkSummary)
    summary = get_object_or_404(
        WorkSummary.objects.restrict(request.user, "view").select_related("branch", "assessment"), pk=pk
    )
    errors, general = {}, []
    if request.method == "POST":
        try:
            services.work_summary_submit(summary=summary, by=request.user, parts=request.POST)
            messages.success(request, _("工作总结已提交。"))
            return redirect("assessments:summary-detail", pk=summary.pk)
        except ValidationError as error:
            # Each empty part is marked where it is; what was typed in the others stays.
            errors, general = _field_errors(error, WorkSummary.PARTS)
            for part in WorkSummary.PARTS:
                setattr(summary, part, request.POST.get(part, ""))
    parts = [
        (p, WorkSummary._meta.get_field(p).verbose_name, getattr(summary, p), errors.get(p, []))
        for p in WorkSummary.PARTS
    ]
    return render(
        request,
        "assessments/review/summary_detail.html",
        {
            "title": _("%(branch)s %(half)s 客户关系维护工作总结")
            % {"branch": summary.branch, "half": summary.assessment.half_year},
            "summary": summary,
            "parts": parts,
            "general_errors": general,
            "invalid": bool(errors),
            "editable": summary.submitted_at is None
            and services.may_submit_for(request.user, summary.branch_id),
        },
    )


# ------------------------------------------------------------ the group summary and re-grading


@login_required
def summary_group(request, half_year):
    """R31: group marketing's summary of all branches' analyses, the re-grading candidates the
    system suggests (R7 criteria), the proposals and their application."""
    from ..models import GroupSummary, Regrading

    _require(request.user, GroupSummary)
    try:
        half = HalfYear.parse(half_year)
    except ValueError:
        raise Http404 from None
    summary = services.summary_open(half)
    if request.method == "POST":
        from clients.models import Client

        action = request.POST.get("action")
        try:
            if action in ("save", "submit"):
                services.summary_save(
                    summary=summary,
                    by=request.user,
                    text=request.POST.get("text", "")[:10000],
                    submit=action == "submit",
                )
                messages.success(request, _("已保存。"))
            elif action == "propose":
                client = posted_object(
                    Client.objects.restrict(request.user, "view"), request.POST.get("client"), field="client"
                )
                services.regrading_propose(
                    summary=summary,
                    by=request.user,
                    client=client,
                    to_grade=request.POST.get("to_grade", ""),
                    reason=request.POST.get("reason", "")[:2000],
                )
                messages.success(request, _("已加入重新分级建议。"))
            elif action == "apply":
                n = services.regrading_apply(summary=summary, by=request.user)
                messages.success(request, _("已完成重新分级,调整 %(n)d 家客户。") % {"n": n})
        except ValidationError as error:
            _refusal(request, error)
        return redirect("assessments:summary-group", half_year=half.label)
    marketing = services.is_marketing(request.user)
    reports = (
        AnalysisReport.objects.restrict(request.user, "view")
        .filter(half_year=half.label)
        .select_related("branch")
    )
    return render(
        request,
        "assessments/review/summary_group.html",
        {
            "title": _("%(half)s 集团客户分析汇总") % {"half": half.label},
            "summary": summary,
            "half": half,
            "due": services.summary_due(half),
            "reports": reports,
            "proposals": Regrading.objects.restrict(request.user, "view")
            .filter(summary=summary)
            .select_related("client", "client__branch"),
            "candidates": services.regrading_candidates(half)
            if marketing and not summary.regraded_at
            else [],
            "marketing": marketing,
            "lists_sent": services.regrading_lists_sent(summary) if summary.regraded_at else [],
        },
    )


@require_POST
@login_required
def client_analysis_add(request, pk):
    from clients.models import Client

    _require(request.user, AnalysisReport)
    report = get_object_or_404(AnalysisReport.objects.restrict(request.user, "view"), pk=pk)
    try:
        client = posted_object(
            Client.objects.restrict(request.user, "view"), request.POST.get("client"), field="client"
        )
        services.client_analysis_save(
            report=report, by=request.user, client=client, text=request.POST.get("text", "")[:5000]
        )
        messages.success(request, _("已保存单个客户分析。"))
    except ValidationError as error:
        _refusal(request, error)
    return redirect("assessments:analysis-detail", pk=report.pk)
