"""Pages of the half-year review meeting, its circular and the reports to the leaders (R87-R93).
Thin: every read goes through ``restrict`` (out of scope: 404; no role: 403), every write through
assessments.circulars.services; a refused step shows the page again with the form's errors and
what was typed (400)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.access import has_global
from crm.exports import xlsx_response
from crm.forms import apply_errors
from crm.models import Role, StaleVersion

from ..models import Assessment, AssessmentRound, WorkSummary
from . import services
from .forms import DoneForm, RemarkForm, ReviewDecisionForm, ReviewMeetingForm, TextForm
from .models import Circular, CircularReceipt, LeaderReport, ReviewDecision, ReviewMeeting

PAGE_SIZE = 25


def _require_role(user) -> None:
    if not (user.is_authenticated and user.is_active and (user.role or user.is_superuser)):
        raise PermissionDenied(_("您的角色不能查看此页面。"))


# ------------------------------------------------------------------------------ meetings (R87)


@login_required
def meeting_list(request):
    """R87: the meetings of the user's scope, newest first, and (for group marketing) the open
    rounds still without one."""
    user = request.user
    _require_role(user)
    qs = (
        ReviewMeeting.objects.restrict(user, "view")
        .select_related("round", "recorded_by")
        .annotate(
            open_decisions=Count("decisions", filter=Q(decisions__done_at__isnull=True), distinct=True),
        )
        .order_by("-held_on", "pk")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rounds = []
    if services.is_marketing(user):
        rounds = list(
            AssessmentRound.objects.restrict(user, "view")
            .filter(state=AssessmentRound.State.OPEN, review_meeting__isnull=True)
            .order_by("-half_year")
        )
    circulars = {c.meeting_id: c for c in Circular.objects.restrict(user, "view").filter(meeting__in=page)}
    for m in page:
        m.circular_row = circulars.get(m.pk)
    return render(
        request,
        "assessments/circulars/meeting_list.html",
        {
            "title": _("客户关系管理工作研讨会"),
            "page": page,
            "rounds": rounds,
            "marketing": services.is_marketing(user),
        },
    )


def _meeting_form(data=None):
    return ReviewMeetingForm(
        data,
        attendees=services.possible_attendees(),
        people=services.possible_owners(),
        initial={"held_on": timezone.localdate()},
        prefix="m",
    )


@login_required
def meeting_add(request, half_year):
    """R87: group marketing records the round's meeting."""
    user = request.user
    if not services.is_marketing(user):
        raise PermissionDenied(_("只有集团市场营销部可以记录研讨会。"))
    rnd = get_object_or_404(AssessmentRound.objects.restrict(user, "view"), half_year=half_year)
    existing = ReviewMeeting.objects.filter(round=rnd).first()
    if existing is not None:
        return redirect("assessments:review-meeting-detail", pk=existing.pk)
    form = _meeting_form(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                meeting = services.review_meeting_record(
                    rnd=rnd,
                    by=user,
                    held_on=form.cleaned_data["held_on"],
                    place=form.cleaned_data["place"],
                    minutes=form.cleaned_data["minutes"],
                    attendees=[u.pk for u in form.cleaned_data["attendees"]],
                    decisions=form.decisions(),
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("研讨会已记录。"))
                return redirect("assessments:review-meeting-detail", pk=meeting.pk)
        status = 400
    return render(
        request,
        "assessments/circulars/meeting_add.html",
        {
            "title": _("记录客户关系管理工作研讨会"),
            "rnd": rnd,
            "form": form,
            "results": services.round_results(rnd),
        },
        status=status,
    )


def _meeting(request, pk) -> ReviewMeeting:
    _require_role(request.user)
    return get_object_or_404(
        ReviewMeeting.objects.restrict(request.user, "view").select_related("round", "recorded_by"), pk=pk
    )


def _meeting_page(request, meeting, *, decision_form=None, done=None, status=200):
    user = request.user
    marketing = services.is_marketing(user)
    decisions = list(
        ReviewDecision.objects.restrict(user, "view")
        .filter(meeting=meeting)
        .select_related("owner", "done_by")
        .order_by("due_on", "pk")
    )
    for d in decisions:
        d.may_mark_done = not d.is_done and services.may_mark_done(user, d)
    circular = Circular.objects.restrict(user, "view").filter(meeting=meeting).first()
    reports = {}
    if marketing:
        for r in LeaderReport.objects.restrict(user, "view").filter(assessment__round=meeting.round):
            reports[(r.kind, r.assessment_id)] = r
    assessments = list(
        Assessment.objects.restrict(user, "view")
        .filter(round=meeting.round)
        .select_related("branch")
        .order_by("branch__sort_order")
    )
    summaries = {
        s.assessment_id: s
        for s in WorkSummary.objects.restrict(user, "view").filter(assessment__round=meeting.round)
    }
    for a in assessments:
        a.commendation = reports.get((LeaderReport.Kind.COMMENDATION, a.pk))
        a.forward = reports.get((LeaderReport.Kind.SUMMARY, a.pk))
        a.summary = summaries.get(a.pk)
    return render(
        request,
        "assessments/circulars/meeting_detail.html",
        {
            "title": str(meeting),
            "meeting": meeting,
            "decisions": decisions,
            "results": services.round_results(meeting.round)
            if has_global(user, Assessment, "view")
            else None,
            "circular": circular,
            "marketing": marketing,
            "assessments": assessments if marketing else [],
            "decision_form": decision_form
            or ReviewDecisionForm(people=services.possible_owners(), prefix="d"),
            "done": done or {},
            "remark_form": RemarkForm(prefix="f"),
            "timeline": services.meeting_timeline(meeting) if marketing else [],
        },
        status=status,
    )


@login_required
def meeting_detail(request, pk):
    """R87: the meeting, the round's results and ranking it presented, its decisions, its
    circular; for group marketing the reports to the leaders of the round's branches."""
    return _meeting_page(request, _meeting(request, pk))


@require_POST
@login_required
def decision_add(request, pk):
    """R87: a further decision of the meeting (group marketing)."""
    meeting = _meeting(request, pk)
    if not services.is_marketing(request.user):
        raise PermissionDenied(_("只有集团市场营销部可以记录研讨会决定事项。"))
    form = ReviewDecisionForm(request.POST, people=services.possible_owners(), prefix="d")
    if form.is_valid():
        try:
            services.review_decision_add(meeting=meeting, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("决定事项已添加。"))
            return redirect("assessments:review-meeting-detail", pk=meeting.pk)
    return _meeting_page(request, meeting, decision_form=form, status=400)


@require_POST
@login_required
def decision_done(request, pk):
    """R87: the owner or group marketing marks a decision done with what was done."""
    _require_role(request.user)
    decision = get_object_or_404(ReviewDecision.objects.restrict(request.user, "view"), pk=pk)
    form = DoneForm(request.POST, prefix="done")
    if form.is_valid():
        try:
            services.review_decision_done(decision=decision, by=request.user, note=form.cleaned_data["note"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("决定事项已确认完成。"))
            return redirect("assessments:review-meeting-detail", pk=decision.meeting_id)
    return _meeting_page(request, decision.meeting, done={"target": decision.pk, "form": form}, status=400)


# ------------------------------------------------------------------------------ the circular (R88-R90)


@require_POST
@login_required
def circular_generate(request, pk):
    """R88: generate (again) the meeting's circular from the round."""
    meeting = _meeting(request, pk)
    try:
        circular = services.circular_generate(meeting=meeting, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return _meeting_page(request, meeting, status=400)
    messages.success(request, _("通报已根据考核结果生成,请审阅修改后印发。"))
    return redirect("assessments:circular-detail", pk=circular.pk)


@login_required
def circular_list(request):
    """R89: the circulars the user reads (issued ones; drafts too for group marketing), with
    whether the user has read each."""
    user = request.user
    _require_role(user)
    qs = (
        Circular.objects.restrict(user, "view")
        .select_related("meeting__round")
        .order_by("-generated_at", "pk")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    mine = {
        r.circular_id: r for r in CircularReceipt.objects.filter(user=user, circular__in=[c.pk for c in page])
    }
    for c in page:
        c.my_receipt = mine.get(c.pk)
    return render(
        request, "assessments/circulars/circular_list.html", {"title": _("研讨会通报"), "page": page}
    )


def _circular(request, pk) -> Circular:
    _require_role(request.user)
    return get_object_or_404(
        Circular.objects.restrict(request.user, "view").select_related("meeting__round", "issued_by"), pk=pk
    )


def may_see_receipts(user) -> bool:
    """R90: group marketing (and the group roles) see every receipt; a branch manager his branch's."""
    return has_global(user, CircularReceipt, "view") or user.role == Role.MANAGER


def _circular_page(request, circular, *, form=None, status=200):
    user = request.user
    marketing = services.is_marketing(user)
    editable = marketing and not circular.is_issued
    if editable and form is None:
        form = TextForm(initial={"title": circular.title, "text": circular.body, "version": circular.version})
    groups = services.readers(circular, user) if circular.is_issued and may_see_receipts(user) else []
    receipt = CircularReceipt.objects.filter(circular=circular, user=user).first()
    return render(
        request,
        "assessments/circulars/circular_print.html"
        if request.GET.get("print")
        else "assessments/circulars/circular_detail.html",
        {
            "title": circular.title,
            "circular": circular,
            "facts": circular.facts,
            "form": form if editable else None,
            "marketing": marketing,
            "groups": groups,
            "receipt": receipt,
            "may_see_receipts": may_see_receipts(user) and circular.is_issued,
            "timeline": services.timeline([Circular.history.filter(id=circular.pk)]) if marketing else [],
        },
        status=status,
    )


@login_required
def circular_detail(request, pk):
    """R89, R90: the circular (printable with ?print=1); a recipient's opening is kept on their
    receipt; who has read it, per branch and department, for those who may see it."""
    circular = _circular(request, pk)
    services.circular_open(circular=circular, user=request.user)
    return _circular_page(request, circular)


@require_POST
@login_required
def circular_save(request, pk):
    """R88: group marketing edits the draft."""
    circular = _circular(request, pk)
    form = TextForm(request.POST)
    if form.is_valid():
        try:
            services.circular_save(
                circular=circular,
                by=request.user,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["text"],
                version=form.cleaned_data.get("version"),
            )
        except StaleVersion as exc:
            form.add_error(None, exc.messages)
            return _circular_page(request, circular, form=form, status=409)
        except ValidationError as exc:
            apply_errors(form, exc)
            if "body" in getattr(exc, "message_dict", {}):
                form.add_error("text", exc.message_dict["body"])
        else:
            messages.success(request, _("通报已保存。"))
            return redirect("assessments:circular-detail", pk=circular.pk)
    return _circular_page(request, circular, form=form, status=400)


@require_POST
@login_required
def circular_issue(request, pk):
    """R89: issue the circular to every branch and project department."""
    circular = _circular(request, pk)
    try:
        services.circular_issue(circular=circular, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return _circular_page(request, circular, status=400)
    messages.success(request, _("通报已印发至各分子公司、项目经理部。"))
    return redirect("assessments:circular-detail", pk=circular.pk)


@login_required
def circular_receipts(request, pk):
    """R90: the receipts the user may see, to Excel."""
    circular = _circular(request, pk)
    if not may_see_receipts(request.user):
        raise PermissionDenied(_("只有集团市场营销部和分公司经营部负责人可以查看阅读回执。"))
    rows = (
        CircularReceipt.objects.restrict(request.user, "view")
        .filter(circular=circular)
        .select_related("user", "branch", "department")
        .order_by("branch__sort_order", "department__name", "user__username")
    )

    def moment(value):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

    return xlsx_response(
        _("通报阅读回执"),
        _("阅读回执"),
        [_("分子公司"), _("项目经理部"), _("接收人"), _("送达时间"), _("阅读时间"), _("状态")],
        (
            [
                r.branch.name,
                r.department.name if r.department else "",
                r.user.display_name,
                moment(r.sent_at),
                moment(r.read_at),
                _("已读") if r.read_at else _("未读"),
            ]
            for r in rows
        ),
    )


# ------------------------------------------------------------------------------ to the leaders (R92, R93)


def _require_leader_reports(user) -> None:
    if not has_global(user, LeaderReport, "view"):
        raise PermissionDenied(_("只有集团市场营销部、集团领导和考核人员可以查看上报集团领导的材料。"))


@login_required
def leader_report_list(request):
    """R92, R93: what group marketing reported to the leaders (drafts too, for group
    marketing), with whether the reader has read each."""
    user = request.user
    _require_leader_reports(user)
    qs = (
        LeaderReport.objects.restrict(user, "view")
        .select_related("assessment__branch", "sent_by")
        .order_by("-sent_at", "-created_at", "pk")
    )
    unread = set(services.unread_for(user).values_list("pk", flat=True))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for r in page:
        r.unread = r.pk in unread
    return render(
        request, "assessments/circulars/leader_report_list.html", {"title": _("上报集团领导"), "page": page}
    )


def _leader_report(request, pk) -> LeaderReport:
    _require_leader_reports(request.user)
    return get_object_or_404(
        LeaderReport.objects.restrict(request.user, "view").select_related(
            "assessment__branch", "work_summary", "sent_by", "drafted_by"
        ),
        pk=pk,
    )


def _leader_report_page(request, report, *, form=None, status=200):
    user = request.user
    editable = services.is_marketing(user) and not report.is_sent
    if editable and form is None:
        form = TextForm(initial={"title": report.title, "text": report.text, "version": report.version})
    return render(
        request,
        "assessments/circulars/leader_report_detail.html",
        {
            "title": report.title,
            "report": report,
            "form": form if editable else None,
            "receipts": report.receipts.select_related("user").order_by("user__username")
            if report.is_sent
            else [],
            "timeline": services.timeline([LeaderReport.history.filter(id=report.pk)]),
        },
        status=status,
    )


@login_required
def leader_report_detail(request, pk):
    """R93: the report; a leader's opening of it marks it read."""
    report = _leader_report(request, pk)
    services.leader_report_open(report=report, user=request.user)
    return _leader_report_page(request, report)


@require_POST
@login_required
def commendation_draft(request, pk):
    """R92: group marketing drafts the commendation of an 优良 branch from its indicators."""
    if not services.is_marketing(request.user):
        raise PermissionDenied(_("只有集团市场营销部可以撰写表扬材料。"))
    assessment = get_object_or_404(Assessment.objects.restrict(request.user, "view"), pk=pk)
    try:
        report = services.commendation_draft(assessment=assessment, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("assessments:assessment-detail", pk=assessment.pk)
    return redirect("assessments:leader-report-detail", pk=report.pk)


@require_POST
@login_required
def summary_forward(request, pk):
    """R92: group marketing takes a branch's work summary to the leaders with a remark."""
    if not services.is_marketing(request.user):
        raise PermissionDenied(_("只有集团市场营销部可以转报工作总结。"))
    summary = get_object_or_404(WorkSummary.objects.restrict(request.user, "view"), pk=pk)
    form = RemarkForm(request.POST, prefix="f")
    remark = form.cleaned_data["remark"] if form.is_valid() else ""
    try:
        report = services.summary_forward_draft(summary=summary, by=request.user, remark=remark)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("assessments:summary-detail", pk=summary.pk)
    return redirect("assessments:leader-report-detail", pk=report.pk)


@require_POST
@login_required
def leader_report_save(request, pk):
    """R92: group marketing edits the write-up or the remark."""
    report = _leader_report(request, pk)
    form = TextForm(request.POST)
    if form.is_valid():
        try:
            services.leader_report_save(
                report=report,
                by=request.user,
                title=form.cleaned_data["title"],
                text=form.cleaned_data["text"],
                version=form.cleaned_data.get("version"),
            )
        except StaleVersion as exc:
            form.add_error(None, exc.messages)
            return _leader_report_page(request, report, form=form, status=409)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("assessments:leader-report-detail", pk=report.pk)
    return _leader_report_page(request, report, form=form, status=400)


@require_POST
@login_required
def leader_report_send(request, pk):
    """R92, R93: send to the leaders."""
    report = _leader_report(request, pk)
    try:
        services.leader_report_send(report=report, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return _leader_report_page(request, report, status=400)
    messages.success(request, _("已上报集团领导。"))
    return redirect("assessments:leader-report-detail", pk=report.pk)
