"""Pages of the complaints app: the queue, the complaint page, the log form and the step
forms. Thin: reads through ``restrict`` (selectors), writes through the services.
Out of scope -> 404; a missing role -> 403."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clients.access.log import log_queryset_reads, log_reads
from clients.models import Client, Project
from crm.access import can
from crm.attachments.pages import attachment_panel
from crm.exports import xlsx_response
from crm.forms import apply_errors

from . import selectors, services
from .filters import SORTS, ComplaintFilter
from .forms import (
    FACT_FIELDS,
    ComplaintForm,
    HandOverForm,
    NoteForm,
    ReopenForm,
    ResolveForm,
    ReturnVisitForm,
)
from .models import Complaint, ComplaintAttachment

PAGE_SIZE = 25
# What a row of the queue shows or decides by (its overdue mark): only these columns are read
# for the page (the export reads whole rows). A complaint row carries its text and the client's
# row its search text, which the queue never shows.
QUEUE_COLUMNS = (
    "kind", "category", "severity", "status", "title", "received_at", "acknowledge_due_at",
    "resolve_due_at", "client_id", "project_id", "owner_id",
    "client__name", "client__branch_id", "client__branch__name", "client__branch__short_name",
    "project__name",
    "owner__full_name", "owner__first_name", "owner__last_name", "owner__username",
)  # fmt: skip


def _require_role(user, action):
    if not can(user, action, Complaint):
        raise PermissionDenied(_("您没有处理客户投诉的权限。"))


@login_required
def complaint_list(request):
    """The queue (R16): the user's scope, filters, search, sort, pagination, Excel export."""
    _require_role(request.user, "view")
    qs = selectors.complaint_queue(request.user)
    flt = ComplaintFilter(request.GET or None, queryset=qs, request=request)
    qs = flt.qs if flt.is_bound and flt.is_valid() else qs
    sort = request.GET.get("sort", "-received")
    qs = qs.order_by(SORTS.get(sort, "-received_at"), "-pk")
    if request.GET.get("export") == "xlsx":
        log_queryset_reads(request, qs, via="export")  # R4: another branch's complaints
        return _export(qs)
    page = _queue_page(qs, request.GET.get("page"))
    return render(
        request,
        "complaints/complaint_list.html",
        {
            "filter": flt,
            "page": page,
            "sort": sort,
            "now": timezone.now(),
            "can_add": can(request.user, "add", Complaint),
        },
    )


def _queue_page(qs, number):
    """One page of the queue ``qs`` (restricted, filtered, sorted): the page's ids first, in a
    query that reads only the complaints' and the branch's client ids, then those 25 rows with
    what they show. Read in one query, PostgreSQL joined every client of the branch, with its
    row, before sorting the branch's complaints (36 ms against 2 on the bench's busiest
    branch under load)."""
    page = Paginator(qs, PAGE_SIZE).get_page(number)
    if not page.paginator.count:
        page.object_list = []
        return page
    ids = qs.values("pk")[page.start_index() - 1 : page.end_index()]
    rows = qs.filter(pk__in=ids).select_related(None).select_related("client__branch", "project", "owner")
    page.object_list = list(rows.only(*QUEUE_COLUMNS))
    return page


def _export(qs):
    headers = [
        _("编号"), _("受理时间"), _("客户"), _("所属分公司"), _("项目"), _("投诉类型"), _("转达单位"),
        _("渠道"), _("类别"), _("严重程度"), _("动机"), _("投诉事由"), _("状态"), _("当前负责人"),
        _("确认期限"), _("处理期限"), _("是否超期"), _("调查结论"), _("无理投诉"),
    ]  # fmt: skip
    yes = _("是")
    now = timezone.now()

    def rows():
        for c in qs.iterator(chunk_size=500):
            overdue = (c.status == "received" and c.acknowledge_due_at < now) or (
                c.is_open and c.resolve_due_at < now
            )
            yield [
                c.code, c.received_at, c.client.name, c.client.branch.name, c.project.name if c.project else "",
                c.get_kind_display(), c.contractor, c.get_channel_display(), c.get_category_display(),
                c.get_severity_display(), c.get_motive_display(), c.title, c.get_status_display(),
                c.owner.display_name, c.acknowledge_due_at, c.resolve_due_at, yes if overdue else "",
                c.get_finding_display() if c.finding else "", yes if c.is_unreasonable else "",
            ]  # fmt: skip

    return xlsx_response(_("客户投诉"), _("客户投诉"), headers, rows())


def _get(request, pk, action="view"):
    qs = (
        selectors.complaint_detail_qs(request.user)
        if action == "view"
        else Complaint.objects.restrict(request.user, action).select_related("client", "project", "owner")
    )
    return get_object_or_404(qs, pk=pk)


@login_required
def complaint_detail(request, pk):
    """The complaint page: facts, deadlines, owner chain (R15), timeline, return visits and
    buttons for the steps the user may take now."""
    _require_role(request.user, "view")
    return complaint_page(request, _get(request, pk))


def complaint_page(request, complaint, *, attachment_form=None):
    """The complaint page of ``complaint`` (read through ``restrict``); ``attachment_form``: an
    upload refused, shown with its errors (R61)."""
    log_reads(request, [complaint], via="page")  # R4: another branch's complaint
    return render(
        request,
        "complaints/complaint_detail.html",
        {
            "complaint": complaint,
            "chain": selectors.owner_chain(complaint),
            "steps": services.allowed_steps(request.user, complaint),
            "closing_blockers": services.closing_blockers(complaint),
            "can_edit": services.may_work(request.user, complaint) and complaint.status != "closed",
            "attachments": attachment_panel(
                request.user, ComplaintAttachment, complaint, form=attachment_form
            ),
        },
    )


def _client_from(request):
    """The client named in the request, which must be in the user's scope (else 404)."""
    raw = request.POST.get("client") or request.GET.get("client")
    if not raw:
        return None
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        raise Http404 from None
    return get_object_or_404(Client.objects.restrict(request.user, "view"), pk=pk)


@login_required
def complaint_create(request):
    """Log a complaint (R14); the person logging it owns it (R15)."""
    _require_role(request.user, "add")
    client = _client_from(request)
    if request.method == "POST":
        form = ComplaintForm(request.POST, user=request.user)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k in FACT_FIELDS}
            try:
                complaint = services.complaint_receive(by=request.user, **data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request, _("投诉 %(code)s 已登记,您是首问负责人。") % {"code": complaint.code}
                )
                return redirect("complaints:complaint-detail", pk=complaint.pk)
    else:
        form = ComplaintForm(user=request.user, initial=_prefill(request, client))
    return render(request, "complaints/complaint_form.html", {"form": form, "client": client})


def _prefill(request, client):
    """Initial values from the query string (e.g. the survey follow-up's "转为投诉" link):
    the client, the complaint content, and a project of that client the user may see."""
    initial = {}
    if client:
        initial["client"] = client.pk
    content = request.GET.get("content", "").strip()
    if content:
        initial["content"] = content
    raw = request.GET.get("project", "")
    if client and raw.isdigit():
        project = Project.objects.restrict(request.user, "view").filter(pk=int(raw), client=client).first()
        if project:
            initial["project"] = project.pk
    return initial or None


@login_required
def complaint_edit(request, pk):
    """Correct the facts of a complaint; the owner, the branch manager or group marketing."""
    _require_role(request.user, "change")
    complaint = _get(request, pk, "change")
    if not services.may_work(request.user, complaint):
        raise PermissionDenied(_("只有当前负责人、本分公司经营部负责人或集团市场营销部可以修改此投诉。"))
    if request.method == "POST":
        form = ComplaintForm(request.POST, instance=complaint, user=request.user)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k in services.EDITABLE}
            try:
                services.complaint_update(complaint=complaint, by=request.user, **data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("投诉信息已保存。"))
                return redirect("complaints:complaint-detail", pk=complaint.pk)
    else:
        form = ComplaintForm(
            instance=complaint,
            user=request.user,
            initial={"received_at": timezone.localtime(complaint.received_at).strftime("%Y-%m-%dT%H:%M")},
        )
    return render(request, "complaints/complaint_form.html", {"form": form, "complaint": complaint})


# step -> (form, service call, title, button, success message)
STEPS = {
    "acknowledge": (NoteForm, lambda c, u, d: services.complaint_acknowledge(complaint=c, by=u, **d),
                    gettext_lazy("确认投诉"), "btn-primary", gettext_lazy("投诉已确认。")),
    "investigate": (NoteForm, lambda c, u, d: services.complaint_investigate(complaint=c, by=u, **d),
                    gettext_lazy("开始调查"), "btn-primary", gettext_lazy("已开始调查处理。")),
    "hand_over": (HandOverForm, lambda c, u, d: services.complaint_hand_over(complaint=c, by=u, **d),
                  gettext_lazy("移交投诉"), "btn-outline-secondary", gettext_lazy("投诉已移交。")),
    "resolve": (ResolveForm, lambda c, u, d: services.complaint_resolve(complaint=c, by=u, **d),
                gettext_lazy("办结投诉"), "btn-success", gettext_lazy("投诉已办结,请在期限内完成回访。")),
    "return_visit": (ReturnVisitForm, lambda c, u, d: services.complaint_return_visit(complaint=c, by=u, **d),
                     gettext_lazy("登记回访"), "btn-primary", gettext_lazy("回访已登记。")),
    "close": (NoteForm, lambda c, u, d: services.complaint_close(complaint=c, by=u, **d),
              gettext_lazy("关闭投诉"), "btn-dark", gettext_lazy("投诉已关闭。")),
    "reopen": (ReopenForm, lambda c, u, d: services.complaint_reopen(complaint=c, by=u, **d),
               gettext_lazy("重新处理"), "btn-outline-danger", gettext_lazy("投诉已重新进入调查处理。")),
}  # fmt: skip
STEP_LABELS = {k: v[2] for k, v in STEPS.items()}


@login_required
def complaint_step(request, pk, step):
    """One workflow step (R16): GET shows its form, POST takes it through the service.
    A refused step shows the service's message and changes nothing."""
    if step not in STEPS:
        raise Http404
    _require_role(request.user, "change")
    complaint = _get(request, pk, "change")
    form_class, call, title, _css, done = STEPS[step]
    if request.method == "POST":
        form = form_class(request.POST, complaint=complaint)
        if form.is_valid():
            try:
                call(complaint, request.user, form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, str(done))
                return redirect("complaints:complaint-detail", pk=complaint.pk)
    else:
        form = form_class(complaint=complaint)
    return render(
        request,
        "complaints/complaint_step.html",
        {"complaint": complaint, "form": form, "step": step, "step_title": str(title)},
    )
