"""Pages of the quarterly need analysis report and its meetings (R65-R69). Thin: every read goes
through ``restrict`` (a report out of scope answers 404, a missing role 403), every write through
assessments.needreports.services. A refused step shows the report again with the form's errors
and what was typed (400)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm import figures as fig
from crm.access import can, has_global
from crm.exports import xlsx_response
from crm.forms import apply_errors
from crm.models import BRANCH_ROLES, Branch, StaleVersion

from . import exports, services
from .forms import DecisionForm, DoneForm, MeetingForm, PartsForm, ReportFilter, ReviewForm
from .models import PARTS, NeedAnalysisMeeting, NeedAnalysisReport, NeedMeetingDecision

PAGE_SIZE = 25


def _require_view(user) -> None:
    if not can(user, "view", NeedAnalysisReport):
        raise PermissionDenied(_("您的角色不能查看客户需求分析报告。"))


def rows(user):
    return (
        NeedAnalysisReport.objects.restrict(user, "view")
        .select_related("branch", "submitted_by", "reviewed_by", "review_meeting")
        .defer("snapshot")
    )


def _report(request, pk) -> NeedAnalysisReport:
    _require_view(request.user)
    return get_object_or_404(rows(request.user).defer(None), pk=pk)


def _is_branch_person(user) -> bool:
    return bool(user.branch_id) and user.role in BRANCH_ROLES and user.branch.kind != Branch.Kind.HQ


# ------------------------------------------------------------------------------- the list


@login_required
def report_list(request):
    """R69: the reports of the user's scope (group roles: every branch), newest quarter first,
    filtered by quarter, branch, state and words; the total stated; exported as shown."""
    user = request.user
    _require_view(user)
    qs = rows(user).annotate(
        meeting_count=Count("meetings", distinct=True),
        open_decisions=Count(
            "meetings__decisions", filter=Q(meetings__decisions__done_at__isnull=True), distinct=True
        ),
    )
    flt = ReportFilter(request.GET or None, queryset=qs, request=request)
    if flt.is_bound and flt.is_valid():
        qs = flt.qs
    qs = qs.order_by("-quarter", "branch__sort_order", "pk")
    if request.GET.get("export") == "xlsx":
        return exports.report_list(qs)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    writer = _is_branch_person(user)
    return render(
        request,
        "assessments/needreports/report_list.html",
        {
            "title": _("客户需求分析报告"),
            "page": page,
            "filter": flt,
            "statuses": NeedAnalysisReport.Status.choices,
            "all_branches": has_global(user, NeedAnalysisReport, "view"),
            "quarters": services.quarters_open() if writer else [],
            "writer": writer,
        },
    )


@require_POST
@login_required
def report_open(request):
    """R65: a branch person opens (or finds) the branch's report of a quarter."""
    user = request.user
    _require_view(user)
    if not _is_branch_person(user):
        raise PermissionDenied(_("只有分公司人员编写客户需求分析报告。"))
    try:
        quarter = services.parse_quarter(request.POST.get("quarter") or fig.Quarter.containing().label)
        report, created = services.need_report_open(branch=user.branch, quarter=quarter, by=user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("assessments:need-report-list")
    if created:
        messages.success(request, _("报告已建立,各部分已按本季度数据预填,请修改补充后保存。"))
    return redirect("assessments:need-report-detail", pk=report.pk)


# ------------------------------------------------------------------------------- a report


def _parts_form(report, drafts, data=None):
    initial = {name: getattr(report, name) or drafts.get(name, "") for name, _label in PARTS}
    initial["version"] = report.version
    return PartsForm(data, initial=initial)


def _forms(report, drafts, *, step=None, data=None, target=None) -> dict:
    """The page's forms, the one of ``step`` (for ``target``: a meeting or decision) bound to
    what was posted."""
    people = services.branch_people(report.branch_id)
    meetings = report.meetings.all()
    bound = lambda name, pk=None: data if step == name and (pk is None or pk == target) else None  # noqa: E731
    return {
        "parts": _parts_form(report, drafts, bound("parts")),
        "meeting": MeetingForm(
            bound("meeting"),
            attendees=services.possible_attendees(report.branch_id),
            people=people,
            initial={"held_on": timezone.localdate()},
            prefix="m",
        ),
        "review": ReviewForm(bound("review"), meetings=meetings, prefix="r"),
        "decisions": {
            m.pk: DecisionForm(bound("decision", m.pk), people=people, prefix=f"d{m.pk}") for m in meetings
        },
        "done_target": target if step == "done" else None,
        "done_form": DoneForm(data, prefix="done") if step == "done" else DoneForm(prefix="done"),
    }


def _detail(request, report: NeedAnalysisReport, *, forms=None, status=200):
    user = request.user
    result = services.report_figures(report, user)
    sections = services.sections(report, result)
    steps = services.allowed_steps(user, report)
    # R65: a part left blank is offered pre-filled while the report is written.
    drafts = services.drafts(report, result) if "save" in steps else {}
    if request.GET.get("export") == "xlsx":
        return exports.report(report, sections, result, services.timeline(report))
    forms = forms or _forms(report, drafts)
    for section in sections:
        section["field"] = forms["parts"][section["name"]]
        section["prefilled"] = not section["text"] and bool(drafts.get(section["name"]))
    meetings = list(
        report.meetings.select_related("recorded_by")
        .prefetch_related("attendees", "decisions__owner", "decisions__done_by")
        .order_by("held_on", "pk")
    )
    for meeting in meetings:
        for decision in meeting.decisions.all():
            decision.may_mark_done = decision.done_at is None and services.may_mark_done(
                user, decision, report
            )
    printing = request.GET.get("print") == "1"
    return render(
        request,
        "assessments/needreports/report_print.html"
        if printing
        else "assessments/needreports/report_detail.html",
        {
            "title": _("%(branch)s %(quarter)s 客户需求分析报告")
            % {"branch": report.branch, "quarter": report.quarter},
            "report": report,
            "quarter": report.quarter_obj,
            "sections": sections,
            "meetings": meetings,
            "steps": steps,
            "forms": forms,
            "timeline": services.timeline(report),
            "today": timezone.localdate(),
            "quarter_ended": services.quarter_has_ended(report.quarter_obj),
            "has_drafts": any(s["prefilled"] for s in sections),
        },
        status=status,
    )


@login_required
def report_detail(request, pk):
    """R65-R68: the report, its figures (each a link to its list), its meetings and decisions,
    the steps the user may take, the history; ``?export=xlsx`` and ``?print=1``."""
    return _detail(request, _report(request, pk))


def _refused(request, report, step, target=None):
    """Re-read the report as stored (a refused step changed nothing) and show it with the
    posted form bound and its errors."""
    report = _report(request, report.pk)
    result = services.report_figures(report, request.user)
    drafts = services.drafts(report, result) if "save" in services.allowed_steps(request.user, report) else {}
    return report, _forms(report, drafts, step=step, data=request.POST, target=target)


def _texts(request, pk, *, submit: bool):
    report = _report(request, pk)
    form = PartsForm(request.POST)
    if form.is_valid():
        try:
            call = services.need_report_submit if submit else services.need_report_save
            call(
                report=report,
                by=request.user,
                parts=form.parts(),
                expected_version=form.cleaned_data.get("version"),
            )
        except StaleVersion as exc:
            form.add_error(None, exc.messages)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("报告已提交需求分析会议审核。") if submit else _("报告内容已保存。"))
            return redirect("assessments:need-report-detail", pk=report.pk)
    report, forms = _refused(request, report, "parts")
    forms["parts"] = form
    return _detail(request, report, forms=forms, status=400)


@require_POST
@login_required
def report_save(request, pk):
    """R65: save the parts (the writer's edits of the drafts)."""
    return _texts(request, pk, submit=False)


@require_POST
@login_required
def report_submit(request, pk):
    """R67: the branch manager submits the report to the need analysis meeting."""
    return _texts(request, pk, submit=True)


@require_POST
@login_required
def report_review(request, pk):
    """R67: the meeting's conclusion: accepted, or returned with a reason."""
    report = _report(request, pk)
    form = ReviewForm(request.POST, meetings=report.meetings.all(), prefix="r")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.need_report_review(
                report=report,
                by=request.user,
                meeting=data["meeting"],
                accept=data["outcome"] == "accept",
                reason=data.get("reason", ""),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("审核结论已记录:审核通过。")
                if data["outcome"] == "accept"
                else _("审核结论已记录:退回修改。"),
            )
            return redirect("assessments:need-report-detail", pk=report.pk)
    report, forms = _refused(request, report, "review")
    forms["review"] = form
    return _detail(request, report, forms=forms, status=400)


@require_POST
@login_required
def meeting_add(request, pk):
    """R68: record a need analysis meeting with its attendees and decisions."""
    report = _report(request, pk)
    form = MeetingForm(
        request.POST,
        attendees=services.possible_attendees(report.branch_id),
        people=services.branch_people(report.branch_id),
        prefix="m",
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.need_meeting_record(
                report=report,
                by=request.user,
                held_on=data["held_on"],
                place=data.get("place", ""),
                minutes=data["minutes"],
                attendees=list(data["attendees"]),
                decisions=form.decisions(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("需求分析会议已记录。"))
            return redirect("assessments:need-report-detail", pk=report.pk)
    report, forms = _refused(request, report, "meeting")
    forms["meeting"] = form
    return _detail(request, report, forms=forms, status=400)


def _meeting(request, pk) -> NeedAnalysisMeeting:
    _require_view(request.user)
    return get_object_or_404(
        NeedAnalysisMeeting.objects.restrict(request.user, "view").select_related("report__branch"), pk=pk
    )


@require_POST
@login_required
def decision_add(request, pk):
    """R68: a further decision of a meeting."""
    meeting = _meeting(request, pk)
    report = meeting.report
    form = DecisionForm(
        request.POST, people=services.branch_people(report.branch_id), prefix=f"d{meeting.pk}"
    )
    if form.is_valid():
        try:
            services.need_decision_add(meeting=meeting, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("决定事项已添加。"))
            return redirect("assessments:need-report-detail", pk=report.pk)
    report, forms = _refused(request, report, "decision", target=meeting.pk)
    forms["decisions"][meeting.pk] = form
    return _detail(request, report, forms=forms, status=400)


@require_POST
@login_required
def decision_done(request, pk):
    """R68: the owner (or the branch manager) marks a decision done with what was done."""
    _require_view(request.user)
    decision = get_object_or_404(
        NeedMeetingDecision.objects.restrict(request.user, "view").select_related("meeting__report__branch"),
        pk=pk,
    )
    report = decision.meeting.report
    form = DoneForm(request.POST, prefix="done")
    if form.is_valid():
        try:
            services.need_decision_done(decision=decision, by=request.user, note=form.cleaned_data["note"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("决定事项已确认完成。"))
            return redirect("assessments:need-report-detail", pk=report.pk)
    report, forms = _refused(request, report, "done", target=decision.pk)
    forms["done_form"] = form
    return _detail(request, report, forms=forms, status=400)


# ------------------------------------------------------------------------------- figure lists

LIST_TITLE = gettext_lazy("%(figure)s · %(branch)s %(quarter)s")


@login_required
def report_figure(request, pk, key):
    """R65, R66: the records behind one figure of the report (narrowed to a value of one of
    its columns, as the part's counts are), frozen with the report once submitted; the total
    stated; exported as shown."""
    report = _report(request, pk)
    if key not in services.COUNTS:
        raise Http404
    f = fig.figure(key)
    rows_, hidden, applied = services.figure_list(report, request.user, key, request.GET)
    table = [
        {"url": r.get("url", ""), "cells": [fig.display(c, r.get(c.key)) for c in f.columns]} for r in rows_
    ]
    narrowing = "、".join(f"{column.label}:{services.choice_label(column, code)}" for column, code in applied)
    title = LIST_TITLE % {"figure": f.label, "branch": report.branch, "quarter": report.quarter}
    if narrowing:
        title = f"{title}({narrowing})"
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            str(f.label), str(f.label), [str(c.label) for c in f.columns], (t["cells"] for t in table)
        )
    page = Paginator(table, PAGE_SIZE * 2).get_page(request.GET.get("page"))
    return render(
        request,
        "assessments/needreports/report_figure.html",
        {
            "title": title,
            "report": report,
            "figure": f,
            "page": page,
            "hidden": hidden,
            "narrowing": narrowing,
        },
    )
