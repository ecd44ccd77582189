"""Pages of cross-branch access (R4, R5, R33) and client transfers. Thin: reads through
``restrict``, writes through clients.access services. Out of scope -> 404; a missing role -> 403."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.access import active_suspension, can, has_global
from crm.exports import xlsx_response
from crm.forms import apply_errors
from crm.holds import active_hold, held_branch_ids, hold_message
from crm.models import Suspension

from ..models import AccessGrant, AccessLog, AccessRequest, Client
from . import services
from .forms import (
    AccessLogFilter,
    AccessRequestFilter,
    AccessRequestForm,
    RejectForm,
    StepForm,
    TransferForm,
)

PAGE_SIZE = 25
TARGET_LIMIT = 20

REQUEST_SORTS = {
    "created": "created_at",
    "-created": "-created_at",
    "ends_on": "ends_on",
    "-ends_on": "-ends_on",
    "status": "status",
    "-status": "-status",
    "branch": "branch__sort_order",
    "-branch": "-branch__sort_order",
}
LOG_SORTS = {"at": "at", "-at": "-at", "user": "user__username", "client": "client__name"}


def _require(user, action, model, message):
    if not can(user, action, model):
        raise PermissionDenied(message)


# -- requests --------------------------------------------------------------------------------

QUEUES = {
    # name: (title, required role check, status filter)
    "mine": (gettext_lazy("查阅申请"), None, None),
    "review": (gettext_lazy("待审核的查阅申请"), services.is_marketing, AccessRequest.Status.SUBMITTED),
    "approval": (gettext_lazy("待审批的查阅申请"), services.is_leader, AccessRequest.Status.FORWARDED),
}


def _request_rows(user):
    return AccessRequest.objects.restrict(user, "view").select_related("requester", "branch", "grant")


@login_required
def access_request_list(request, queue: str = "mine"):
    """A branch user's own requests; the group roles see all. The review queue (group
    marketing) and approval queue (group leaders) are this list with the status fixed."""
    user = request.user
    _require(user, "view", AccessRequest, _("您没有查阅申请的权限。"))
    title, allowed, fixed_status = QUEUES[queue]
    if allowed is not None and not allowed(user):
        raise PermissionDenied(_("只有集团市场营销部或集团领导可以办理查阅申请。"))
    qs = _request_rows(user)
    if not has_global(user, AccessRequest, "view"):
        qs = qs.filter(requester=user)
    if fixed_status:
        qs = qs.filter(status=fixed_status)
    flt = AccessRequestFilter(request.GET or None, queryset=qs, request=request)
    qs = flt.qs if flt.is_bound and flt.is_valid() else qs
    sort = request.GET.get("sort", "-created")
    qs = qs.order_by(REQUEST_SORTS.get(sort, "-created_at"), "-pk")
    if request.GET.get("export") == "xlsx":
        return _export_requests(qs.prefetch_related("clients"), title)
    page = Paginator(qs.prefetch_related("clients__branch"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "clients/access_request_list.html",
        {
            "page": page,
            "filter": flt,
            "sort": sort,
            "queue": queue,
            "title": title,
            "fixed_status": fixed_status,
            "can_file": user.is_branch_user,
            "held": held_branch_ids(),  # R33: requests waiting for approval that a hold defers
        },
    )


def _export_requests(qs, title):
    headers = [_("编号"), _("申请人"), _("申请单位"), _("申请查阅的客户"), _("申请理由"), _("开始日期"),
               _("结束日期"), _("状态"), _("审核人"), _("审核意见"), _("审批人"), _("审批意见"),
               _("提交时间")]  # fmt: skip

    def rows():
        for r in qs:
            yield [
                r.pk, r.requester.display_name, r.branch.name, "、".join(c.name for c in r.clients.all()),
                r.reason, r.starts_on, r.ends_on, r.get_status_display(),
                r.reviewed_by.display_name if r.reviewed_by else "", r.review_note,
                r.decided_by.display_name if r.decided_by else "", r.decision_note, r.created_at,
            ]  # fmt: skip

    return xlsx_response(str(title), _("查阅申请"), headers, rows())


@login_required
def access_request_targets(request):
    """The search of request targets (htmx partial): clients of OTHER branches by name.

    This is the one place a branch user learns of clients outside their scope. It shows only
    the unit name and the owning branch (R4: nothing else of the archive is disclosed), needs
    at least two characters, and returns at most TARGET_LIMIT rows."""
    user = request.user
    if not user.is_branch_user:
        raise PermissionDenied(_("只有分子公司人员需要提交查阅申请。"))
    term = (request.GET.get("q") or "").strip()
    rows = []
    if len(term) >= 2:
        rows = list(
            services.request_target_clients(user)
            .filter(name__icontains=term)
            .order_by("name")
            .values("id", "name", "branch__name")[:TARGET_LIMIT]
        )
    return render(request, "clients/access_targets.html", {"rows": rows, "term": term, "limit": TARGET_LIMIT})


@login_required
def access_request_create(request):
    """File a request (R5): search other branches' clients by name, give a reason and an end date."""
    user = request.user
    if not user.is_branch_user:
        raise PermissionDenied(_("只有分子公司人员需要提交查阅申请;集团职能部门可直接查阅客户档案。"))
    suspension = active_suspension(user, Suspension.Kind.ARCHIVE)
    hold = active_hold(user.branch_id)
    if request.method == "POST":
        form = AccessRequestForm(request.POST, user=user)
        if form.is_valid():
            try:
                obj = services.access_request_create(
                    requester=user,
                    clients=form.cleaned_data["clients"],
                    reason=form.cleaned_data["reason"],
                    ends_on=form.cleaned_data["ends_on"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("查阅申请已提交,等待集团市场营销部审核。"))
                return redirect("clients:access-request-detail", pk=obj.pk)
    else:
        form = AccessRequestForm(user=user)
    return render(
        request,
        "clients/access_request_form.html",
        {
            "form": form,
            "selected": form.selected(request.GET.getlist("clients")),
            "suspension": suspension,
            # R33: a held branch is told before it fills the form, in the words the refusal uses.
            "hold_message": hold_message(hold, "access_request") if hold else "",
        },
    )


@login_required
def access_request_detail(request, pk):
    """The request with its timeline (history) and the steps the user may take."""
    user = request.user
    _require(user, "view", AccessRequest, _("您没有查阅申请的权限。"))
    obj = get_object_or_404(_request_rows(user).select_related("reviewed_by", "decided_by"), pk=pk)
    clients = list(
        obj.clients.select_related("branch").only("id", "name", "branch__name", "branch__short_name")
    )
    openable = set(
        Client.objects.restrict(user, "view")
        .filter(pk__in=[c.pk for c in clients])
        .values_list("pk", flat=True)
    )
    timeline = obj.history.select_related("history_user").order_by("history_date", "history_id")
    try:
        grant = obj.grant
    except AccessGrant.DoesNotExist:
        grant = None
    hold = active_hold(obj.branch_id) if obj.status == AccessRequest.Status.FORWARDED else None
    return render(
        request,
        "clients/access_request_detail.html",
        {
            "obj": obj,
            "clients": clients,
            "openable": openable,
            "timeline": timeline,
            "grant": grant,
            "steps": services.allowed_steps(user, obj),
            "step_form": StepForm(),
            "reject_form": RejectForm(),
            "now": timezone.now(),
            "hold_message": hold_message(hold, "access_approval", branch=obj.branch) if hold else "",
        },
    )


STEPS = {
    "forward": (StepForm, lambda o, u, d: services.access_request_forward(access_request=o, by=u, **d),
                gettext_lazy("已提交集团领导审批。")),
    "approve": (StepForm, lambda o, u, d: services.access_request_approve(access_request=o, by=u, **d),
                gettext_lazy("已批准,申请人现在可以查阅所申请的客户。")),
    "reject": (RejectForm, lambda o, u, d: services.access_request_reject(access_request=o, by=u, **d),
               gettext_lazy("申请已驳回。")),
    "withdraw": (StepForm, lambda o, u, d: services.access_request_withdraw(access_request=o, by=u),
                 gettext_lazy("申请已撤回。")),
}  # fmt: skip


@login_required
@require_POST
def access_request_step(request, pk, step):
    """A workflow step; the service decides whether the user may take it (R5)."""
    if step not in STEPS:
        raise Http404
    user = request.user
    _require(user, "view", AccessRequest, _("您没有查阅申请的权限。"))
    obj = get_object_or_404(_request_rows(user), pk=pk)
    form_class, call, done = STEPS[step]
    form = form_class(request.POST)
    if form.is_valid():
        try:
            call(obj, user, dict(form.cleaned_data))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, done)
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect("clients:access-request-detail", pk=obj.pk)


# -- grants ----------------------------------------------------------------------------------


@login_required
def access_grant_list(request):
    """ "My grants": what the user may read of other branches, until when (R5); paused while
    the branch's archive query is suspended (R33)."""
    user = request.user
    if not user.is_branch_user:
        raise PermissionDenied(_("只有分子公司人员有查阅授权。"))
    qs = (
        AccessGrant.objects.restrict(user, "view")
        .filter(user=user)
        .select_related("request")
        .prefetch_related("clients__branch")
    )
    state = request.GET.get("state", "")
    now = timezone.now()
    if state == "active":
        qs = qs.filter(revoked_at__isnull=True, starts_at__lte=now, ends_at__gt=now)
    elif state == "ended":
        qs = qs.exclude(revoked_at__isnull=True, starts_at__lte=now, ends_at__gt=now)
    q = (request.GET.get("q") or "").strip()
    if q:
        qs = qs.filter(clients__name__icontains=q).distinct()
    sort = request.GET.get("sort", "-ends_at")
    qs = qs.order_by(
        {"ends_at": "ends_at", "-ends_at": "-ends_at", "starts_at": "starts_at"}.get(sort, "-ends_at"), "-pk"
    )
    if request.GET.get("export") == "xlsx":
        headers = [_("申请编号"), _("客户"), _("生效时间"), _("到期时间"), _("收回时间"), _("状态")]
        active, ended = _("有效"), _("已结束")
        rows = (
            [g.request_id, "、".join(c.name for c in g.clients.all()), g.starts_at, g.ends_at, g.revoked_at,
             active if g.is_active else ended]
            for g in qs
        )  # fmt: skip
        return xlsx_response(_("我的查阅授权"), _("查阅授权"), headers, rows)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "clients/access_grant_list.html",
        {
            "page": page,
            "now": now,
            "state": state,
            "sort": sort,
            "suspension": active_suspension(user, Suspension.Kind.ARCHIVE),
        },
    )


# -- the access log (R4) ---------------------------------------------------------------------


@login_required
def access_log_list(request):
    """Search the access log (group marketing and auditors). Read-only: there is no edit."""
    user = request.user
    _require(user, "view", AccessLog, _("只有集团市场营销部和考核人员可以查看档案查阅记录。"))
    qs = AccessLog.objects.restrict(user, "view").select_related(
        "user", "user_branch", "client__branch", "grant"
    )
    flt = AccessLogFilter(request.GET or None, queryset=qs, request=request)
    qs = flt.qs if flt.is_bound and flt.is_valid() else qs
    sort = request.GET.get("sort", "-at")
    qs = qs.order_by(LOG_SORTS.get(sort, "-at"), "-pk")
    if request.GET.get("export") == "xlsx":
        headers = [_("时间"), _("查阅人"), _("查阅人单位"), _("客户"), _("客户所属分公司"), _("授权(申请编号)"),
                   _("方式"), _("地址")]  # fmt: skip
        rows = (
            [r.at, r.user.display_name, r.user_branch.name if r.user_branch else "", r.client.name,
             r.client.branch.name, r.grant.request_id if r.grant else "", r.get_via_display(), r.path]
            for r in qs.iterator(chunk_size=1000)
        )  # fmt: skip
        return xlsx_response(_("档案查阅记录"), _("档案查阅记录"), headers, rows)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "clients/access_log_list.html", {"page": page, "filter": flt, "sort": sort})


# -- transfers -------------------------------------------------------------------------------


@login_required
def client_transfer(request, pk):
    """Move a client to another branch (group marketing only)."""
    user = request.user
    if not services.is_marketing(user):
        raise PermissionDenied(_("只有集团市场营销部可以转移客户。"))
    client = get_object_or_404(
        Client.objects.restrict(user, "change").select_related("branch", "owner"), pk=pk
    )
    if request.method == "POST":
        form = TransferForm(request.POST, user=user, client=client)
        if form.is_valid():
            try:
                services.client_transfer(client=client, by=user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request, _("客户已转移至%(branch)s。") % {"branch": form.cleaned_data["to_branch"]}
                )
                return redirect("clients:client-detail", pk=client.pk)
    else:
        form = TransferForm(user=user, client=client)
    return render(request, "clients/access_transfer_form.html", {"form": form, "client": client})


@login_required
def client_transfer_search(request):
    """Find the client to transfer by name or credit code (group marketing only)."""
    user = request.user
    if not services.is_marketing(user):
        raise PermissionDenied(_("只有集团市场营销部可以转移客户。"))
    term = (request.GET.get("q") or "").strip()
    rows = []
    if term:
        rows = list(
            Client.objects.restrict(user, "change")
            .filter(Q(name__icontains=term) | Q(credit_code=term.upper()))
            .select_related("branch", "owner")
            .order_by("name")[:TARGET_LIMIT]
        )
    return render(
        request, "clients/access_transfer_search.html", {"rows": rows, "term": term, "limit": TARGET_LIMIT}
    )
