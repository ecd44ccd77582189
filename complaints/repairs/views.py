"""Pages of warranty repairs (R94-R101): the queue, the repair page, the repair form and the
step forms. Thin: reads through ``restrict``, writes through the services. Out of scope -> 404;
a missing role -> 403."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clients.access.log import log_queryset_reads, log_reads
from clients.models import Project
from crm.access import can
from crm.exports import xlsx_response
from crm.forms import apply_errors

from . import services
from .filters import SORTS, RepairFilter
from .forms import (
    RECEIVE_FIELDS,
    CompleteForm,
    DispatchForm,
    RepairComplaintForm,
    RepairForm,
    RepairNoteForm,
    RepairReopenForm,
    RepairVisitForm,
)
from .models import RepairEvent, RepairRequest, RepairVisit

PAGE_SIZE = 25


def _require_role(user, action):
    if not can(user, action, RepairRequest):
        raise PermissionDenied(_("您没有处理报修的权限。"))


def _base(user, action="view"):
    return RepairRequest.objects.restrict(user, action).select_related(
        "project__client", "project__branch", "received_by"
    )


@login_required
def repair_list(request):
    """The repair queue: the user's scope, filters, search, sort, pagination, Excel export of
    exactly what is shown."""
    _require_role(request.user, "view")
    qs = _base(request.user)
    flt = RepairFilter(request.GET or None, queryset=qs, request=request)
    qs = flt.qs if flt.is_bound and flt.is_valid() else qs
    sort = request.GET.get("sort", "-received")
    qs = qs.order_by(SORTS.get(sort, "-received_at"), "-pk")
    if request.GET.get("export") == "xlsx":
        log_queryset_reads(request, qs, via="export")  # R4
        return _export(qs)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "complaints/repairs/repair_list.html",
        {"filter": flt, "page": page, "sort": sort, "can_add": can(request.user, "add", RepairRequest)},
    )


def _export(qs):
    headers = [
        _("编号"), _("接报时间"), _("客户"), _("工程项目"), _("承接单位"), _("报修人"), _("报修人电话"),
        _("报修部位"), _("具体位置"), _("报修事项"), _("状态"), _("登记转单时间"), _("10分钟内登记"),
        _("维修组"), _("维修完成时间"), _("关闭时间"), _("返修次数"), _("有偿维修"),
    ]  # fmt: skip
    yes = _("是")

    def rows():
        for r in qs.iterator(chunk_size=500):
            yield [
                r.code, r.received_at, r.project.client.name, r.project.name, r.project.branch.name,
                r.reporter, r.reporter_phone, r.get_part_display(), r.location, r.title, r.get_status_display(),
                r.registered_at, yes if r.registered_on_time else "", r.team, r.repaired_at, r.closed_at,
                r.reopen_count, yes if r.is_paid else "",
            ]  # fmt: skip

    return xlsx_response(_("报修"), _("报修"), headers, rows())


def _get(request, pk, action="view"):
    qs = _base(request.user, action).prefetch_related(
        Prefetch("visits", queryset=RepairVisit.objects.select_related("visited_by").order_by("sequence")),
    )
    if action == "view":
        qs = qs.select_related("complaint").prefetch_related(
            Prefetch("events", queryset=RepairEvent.objects.select_related("by").order_by("at", "pk"))
        )
    return get_object_or_404(qs, pk=pk)


@login_required
def repair_detail(request, pk):
    """The repair page: facts, the 10-minute registration, the steps, the visits, the timeline
    and the buttons for the steps the user may take now."""
    _require_role(request.user, "view")
    repair = _get(request, pk)
    log_reads(request, [repair], via="page")  # R4
    pending = services.next_visit(repair)
    return render(
        request,
        "complaints/repairs/repair_detail.html",
        {
            "repair": repair,
            "steps": services.allowed_steps(request.user, repair),
            "pending_visit": pending,
            "offers_complaint": services.offers_complaint(repair),
            "can_edit": services.may_work(request.user, repair) and repair.status != "closed",
        },
    )


def _project_from(request):
    raw = request.GET.get("project", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404
    return get_object_or_404(Project.objects.restrict(request.user, "view"), pk=int(raw))


@login_required
def repair_create(request):
    """The front desk receives a repair request (R94, R95)."""
    _require_role(request.user, "add")
    if request.method == "POST":
        form = RepairForm(request.POST, user=request.user)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k in RECEIVE_FIELDS}
            try:
                repair = services.repair_receive(by=request.user, **data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("报修 %(code)s 已接报,请在 %(due)s 前登记转单。")
                    % {"code": repair.code, "due": f"{timezone.localtime(repair.register_due_at):%H:%M}"},
                )
                return redirect("complaints:repair-detail", pk=repair.pk)
    else:
        project = _project_from(request)
        form = RepairForm(user=request.user, initial={"project": project.pk} if project else None)
    return render(request, "complaints/repairs/repair_form.html", {"form": form})


@login_required
def repair_edit(request, pk):
    """Correct the facts of a repair; a stale page is refused with what changed (409 in the API)."""
    _require_role(request.user, "change")
    repair = _get(request, pk, "change")
    if not services.may_work(request.user, repair):
        raise PermissionDenied(_("只有该项目所在分公司的人员或集团市场营销部可以修改此报修。"))
    if request.method == "POST":
        form = RepairForm(request.POST, instance=repair, user=request.user)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k in services.FACTS}
            try:
                services.repair_update(repair=repair, by=request.user, **data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("报修信息已保存。"))
                return redirect("complaints:repair-detail", pk=repair.pk)
    else:
        form = RepairForm(instance=repair, user=request.user)
    return render(request, "complaints/repairs/repair_form.html", {"form": form, "repair": repair})


def _open_complaint(repair, user, data):
    complaint = services.repair_open_complaint(repair=repair, by=user, **data)
    return redirect("complaints:complaint-detail", pk=complaint.pk)


# step -> (form, service call, title, success message)
STEPS = {
    "register": (RepairNoteForm, lambda r, u, d: services.repair_register(repair=r, by=u, **d),
                 gettext_lazy("登记转单"), gettext_lazy("报修表格已登记。")),
    "dispatch": (DispatchForm, lambda r, u, d: services.repair_dispatch(repair=r, by=u, **d),
                 gettext_lazy("转维修组"), gettext_lazy("已转至维修组。")),
    "complete": (CompleteForm, lambda r, u, d: services.repair_complete(repair=r, by=u, **d),
                 gettext_lazy("维修完成"), gettext_lazy("已登记维修完成。")),
    "close": (RepairNoteForm, lambda r, u, d: services.repair_close(repair=r, by=u, **d),
              gettext_lazy("关闭报修"), gettext_lazy("报修已关闭,请在24小时内完成回访。")),
    "return_visit": (RepairVisitForm, lambda r, u, d: services.repair_return_visit(repair=r, by=u, **d),
                     gettext_lazy("登记回访"), gettext_lazy("回访已登记。")),
    "reopen": (RepairReopenForm, lambda r, u, d: services.repair_reopen(repair=r, by=u, **d),
               gettext_lazy("返修"), gettext_lazy("已返修,报修重新转至维修组。")),
    "complaint": (RepairComplaintForm, _open_complaint,
                  gettext_lazy("转为投诉"), gettext_lazy("已登记投诉,您是首问负责人。")),
}  # fmt: skip


@login_required
def repair_step(request, pk, step):
    """One workflow step (R96-R98, R101): GET shows its form, POST takes it through the service.
    A refused step shows the service's message and changes nothing."""
    if step not in STEPS:
        raise Http404
    _require_role(request.user, "add" if step == "complaint" else "change")
    repair = _get(request, pk, "change")
    form_class, call, title, done = STEPS[step]
    if request.method == "POST":
        form = form_class(request.POST, repair=repair)
        if form.is_valid():
            try:
                answer = call(repair, request.user, form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, str(done))
                if step == "complaint":
                    return answer
                return redirect("complaints:repair-detail", pk=repair.pk)
    else:
        form = form_class(repair=repair)
    return render(
        request,
        "complaints/repairs/repair_step.html",
        {"repair": repair, "form": form, "step": step, "step_title": str(title)},
    )
