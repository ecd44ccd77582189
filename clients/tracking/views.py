"""Pages of the tracking ledger and the weekly checks (R70-R73). Thin: reads through
``restrict`` (out of scope 404, a missing role 403), the remark through the service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.access import can, has_global
from crm.exports import xlsx_response
from crm.models import StaleVersion

from ..access.log import log_queryset_reads, log_reads
from ..models import AccessLog, Need
from . import selectors, services
from .forms import CheckFilter, FindingFilter, LedgerFilter, RemarkForm
from .models import NeedCheck, NeedCheckFinding
from .selectors import Clock

PAGE_SIZE = 25
FINDINGS_PAGE_SIZE = 50
LEDGER_SORTS = {
    "received": "received_at",
    "-received": "-received_at",
    "due": "response_due_at",
    "-due": "-response_due_at",
    "owner": "owner__username",
    "-owner": "-owner__username",
}


def _require(user, model) -> None:
    if not can(user, "view", model):
        raise PermissionDenied(_("您的角色无权执行此操作。"))


def _name(user) -> str:
    return user.display_name if user else ""


# -- R70: the ledger ---------------------------------------------------------------------------


def _ledger(request):
    user = request.user
    _require(user, Need)
    clock = Clock()
    base = selectors.ledger(user)
    flt = LedgerFilter(request.GET or None, queryset=base, request=request, clock=clock)
    qs = flt.qs if flt.is_bound and flt.is_valid() else base
    sort = request.GET.get("sort", "-received")
    if sort not in LEDGER_SORTS:
        sort = "-received"
    return flt, qs.order_by(LEDGER_SORTS[sort], "-pk"), sort, clock


@login_required
def need_ledger(request):
    """R70: 需求跟踪台账: every need of the user's scope with the times of its steps (received,
    response due, responded, done, rated), its owner, its state and whether it was late at each
    checkpoint; filters, search, the stated total and the Excel export of exactly this list."""
    flt, qs, sort, clock = _ledger(request)
    if request.GET.get("export") == "xlsx":
        log_queryset_reads(request, qs, via=AccessLog.Via.EXPORT)  # R4
        return _ledger_export(qs, clock)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = clock.annotate(page.object_list)
    log_reads(request, page.object_list, via=AccessLog.Via.PAGE)  # R4
    return render(
        request,
        "clients/need_ledger.html",
        {
            "page": page,
            "filter": flt,
            "sort": sort,
            "standard": clock.standard,
            "all_branches": has_global(request.user, Need, "view"),
            "may_see_checks": can(request.user, "view", NeedCheck),
        },
    )


LEDGER_HEADERS = (
    gettext_lazy("客户"), gettext_lazy("所属分公司"), gettext_lazy("需求内容"), gettext_lazy("紧急程度"),
    gettext_lazy("负责人"), gettext_lazy("状态"), gettext_lazy("接收时间"), gettext_lazy("响应期限"),
    gettext_lazy("响应时间"), gettext_lazy("响应情况"), gettext_lazy("办结时间"), gettext_lazy("办理情况"),
    gettext_lazy("已办理工作日"), gettext_lazy("评价时间"), gettext_lazy("处理结果评价"),
)  # fmt: skip


def _ledger_export(qs, clock: Clock):
    """R36: exactly the rows the ledger shows (its filters and order), every page of them."""

    def rows():
        chunk = []
        for need in qs.iterator(chunk_size=1000):
            chunk.append(need)
            if len(chunk) == 1000:
                yield from _ledger_rows(clock.annotate(chunk))
                chunk = []
        yield from _ledger_rows(clock.annotate(chunk))

    return xlsx_response(_("需求跟踪台账"), _("需求跟踪台账"), [str(h) for h in LEDGER_HEADERS], rows())


def _ledger_rows(needs):
    for n in needs:
        closed = n.closed_at if n.status in (Need.Status.DONE, Need.Status.REJECTED) else None
        yield [
            n.client.name, n.client.branch.name, n.description, n.get_urgency_display(), _name(n.owner),
            n.get_status_display(), n.received_at, n.response_due_at, n.responded_at, str(n.response_label),
            closed, str(n.handling_label), n.working_days_open, n.rated_at, n.get_rating_display(),
        ]  # fmt: skip


# -- R71: the checks ---------------------------------------------------------------------------


def _checks(user):
    return (
        NeedCheck.objects.restrict(user, "view")
        .select_related("branch")
        .annotate(
            found=Count("findings", distinct=True),
            remarked=Count("findings", filter=~Q(findings__remark=""), distinct=True),
        )
    )


@login_required
def need_check_list(request):
    """R71: the weekly checks of the user's branch (the group roles: every branch), latest week
    first, with what each found and how much of it has its 协调解决 recorded."""
    user = request.user
    _require(user, NeedCheck)
    base = _checks(user)
    flt = CheckFilter(request.GET or None, queryset=base, request=request)
    qs = (flt.qs if flt.is_bound and flt.is_valid() else base).order_by(
        "-week_start", "branch__sort_order", "branch__code"
    )
    if request.GET.get("export") == "xlsx":
        return _check_list_export(qs)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "clients/need_check_list.html",
        {"page": page, "filter": flt, "all_branches": has_global(user, NeedCheck, "view")},
    )


def _check_list_export(qs):
    headers = [
        _("周次"),
        _("所属分公司"),
        _("检查时点"),
        _("在办需求数"),
        _("需跟进"),
        _("已记录协调解决"),
        _("补做"),
    ]
    rows = (
        [c.week, c.branch.name, c.as_of, c.open_count, c.found, c.remarked, _("是") if c.caught_up else ""]
        for c in qs
    )
    return xlsx_response(_("需求跟踪检查"), _("需求跟踪检查"), headers, rows)


def _detail(request, check: NeedCheck, *, bound: dict | None = None, status: int = 200):
    user = request.user
    base = services.findings_visible(user, check)
    flt = FindingFilter(request.GET or None, queryset=base)
    rows = (flt.qs if flt.is_bound and flt.is_valid() else base).order_by(
        "owner__username", "received_at", "pk"
    )
    if request.GET.get("export") == "xlsx":
        log_reads(request, [f.need for f in rows if f.need_id], via=AccessLog.Via.EXPORT)
        return _findings_export(check, rows)
    found = NeedCheckFinding.objects.filter(need_check=check).count()
    page = Paginator(rows, FINDINGS_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    log_reads(request, [f.need for f in page.object_list if f.need_id], via=AccessLog.Via.PAGE)  # R4
    may_remark = services.may_remark(user, check)
    bound = bound or {}
    for finding in page.object_list:
        finding.form = bound.get(finding.pk) or (
            RemarkForm(
                initial={"remark": finding.remark, "version": finding.version}, prefix=f"f{finding.pk}"
            )
            if may_remark
            else None
        )
    owners = (
        base.values("owner_id", "owner__full_name", "owner__username")
        .annotate(n=Count("pk"))
        .order_by("owner__username")
    )
    history = (
        NeedCheckFinding.history.filter(need_check_id=check.pk, history_change_reason__startswith="协调解决")
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[:50]
    )
    return render(
        request,
        "clients/need_check_detail.html",
        {
            "check": check,
            "page": page,
            "filter": flt,
            "found": found,
            "hidden": found - base.count(),
            "owners": owners,
            "may_remark": may_remark,
            "history": history,
        },
        status=status,
    )


@login_required
def need_check_detail(request, pk):
    """R71, R73: the week's check: what it found, owner by owner, each with its 协调解决."""
    _require(request.user, NeedCheck)
    check = get_object_or_404(
        NeedCheck.objects.restrict(request.user, "view").select_related("branch"), pk=pk
    )
    return _detail(request, check)


def _findings_export(check, rows):
    headers = [_("负责人"), _("客户"), _("需求内容"), _("紧急程度"), _("检查时状态"), _("接收时间"), _("响应期限"),
               _("响应时间"), _("发现的问题"), _("已办理工作日"), _("协调解决情况"), _("记录人"), _("记录时间")]  # fmt: skip
    out = (
        [_name(f.owner), f.client_name, f.description, f.get_urgency_display(), f.get_status_display(), f.received_at,
         f.response_due_at, f.responded_at, "、".join(f.reasons), f.working_days_open, f.remark,
         _name(f.remarked_by), f.remarked_at]
        for f in rows
    )  # fmt: skip
    title = f"{check.branch} {check.week}"
    return xlsx_response(title, _("需求跟踪检查"), headers, out)


@login_required
@require_POST
def need_check_remark(request, pk):
    """R73: the branch manager records the 协调解决 of one finding. A refused one shows the check
    again with what was typed and why (400)."""
    user = request.user
    _require(user, NeedCheckFinding)
    finding = get_object_or_404(
        NeedCheckFinding.objects.restrict(user, "view").select_related("need_check", "need_check__branch"),
        pk=pk,
    )
    check = finding.need_check
    form = RemarkForm(request.POST, prefix=f"f{finding.pk}")
    if form.is_valid():
        try:
            services.need_check_remark(
                finding=finding,
                by=user,
                remark=form.cleaned_data["remark"],
                expected_version=form.cleaned_data.get("version"),
            )
        except StaleVersion as exc:
            form.add_error(None, exc.messages)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            messages.success(request, _("协调解决情况已记录。"))
            return redirect(
                reverse("clients:need-check-detail", kwargs={"pk": check.pk}) + f"#finding-{finding.pk}"
            )
    return _detail(request, check, bound={finding.pk: form}, status=400)
