"""Pages of giving up on C clients (放弃跟踪, R37-R40). Thin: reads through ``restrict`` (out of
scope 404, a missing role 403), writes through clients.giveups.services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from crm.access import can, has_global
from crm.exports import xlsx_response
from crm.forms import apply_errors
from crm.lists import tabbed_list

from ..models import Client, GiveUp, Grade, Tracking
from . import services
from .forms import ConfirmForm, GiveUpFilter, ProposeForm, ReasonForm

SORTS = {
    "proposed": "proposed_at",
    "-proposed": "-proposed_at",
    "decided": "decided_at",
    "-decided": "-decided_at",
    "client": "client__name",
    "-client": "-client__name",
    "branch": "client__branch__sort_order",
    "-branch": "-client__branch__sort_order",
}
# The list's tabs: what a manager works through (proposals awaiting confirmation), the clients
# given up now, and every record.
TABS = {
    "pending": (gettext_lazy("待确认的提议"), [GiveUp.Status.PROPOSED]),
    "given_up": (gettext_lazy("已放弃跟踪的客户"), [GiveUp.Status.GIVEN_UP]),
    "all": (gettext_lazy("全部记录"), None),
}


def _require_view(user) -> None:
    if not can(user, "view", GiveUp):
        raise PermissionDenied(_("您的角色无权查看放弃跟踪记录。"))


def rows(user):
    return GiveUp.objects.restrict(user, "view").select_related(
        "client", "client__branch", "proposed_by", "decided_by", "ended_by"
    )


@login_required
def give_up_list(request):
    """R40: a branch's proposals awaiting confirmation and its given-up clients (the managers'
    list; staff read their branch's); group marketing, leaders and auditors read every branch."""
    user = request.user
    _require_view(user)
    return tabbed_list(
        request,
        template="clients/giveup_list.html",
        rows=rows(user),
        tabs=TABS,
        default_tab="pending",
        filterset=GiveUpFilter,
        sorts=SORTS,
        default_sort="-proposed",
        export=_export,
        context={
            "all_branches": has_global(user, GiveUp, "view"),
        },
    )


def _export(qs, title):
    """R36: exactly the rows the list shows, in its order."""
    headers = [_("客户"), _("所属分公司"), _("客户分级"), _("放弃原因"), _("情况说明"), _("状态"), _("提议人"),
               _("提议时间"), _("确认人"), _("确认时间"), _("确认意见"), _("结束人"), _("结束时间"),
               _("结束理由")]  # fmt: skip

    def name(u):
        return u.display_name if u else ""

    def out():
        for g in qs:
            yield [
                g.client.name, g.client.branch.name, g.client.grade, g.get_reason_display(), g.note,
                g.get_status_display(), name(g.proposed_by), g.proposed_at, name(g.decided_by), g.decided_at,
                g.decision_note, name(g.ended_by), g.ended_at, g.end_reason,
            ]  # fmt: skip

    return xlsx_response(str(title), _("放弃跟踪"), headers, out())


@login_required
def give_up_detail(request, pk):
    """The proposal with its timeline (history) and the steps the user may take."""
    user = request.user
    _require_view(user)
    obj = get_object_or_404(rows(user), pk=pk)
    timeline = obj.history.select_related("history_user").order_by("history_date", "history_id")
    return render(
        request,
        "clients/giveup_detail.html",
        {
            "obj": obj,
            "client": obj.client,
            "timeline": timeline,
            "steps": services.allowed_steps(user, obj),
            "confirm_form": ConfirmForm(),
            "reason_form": ReasonForm(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def give_up_create(request, pk):
    """R37: propose giving up a C client (its branch's staff or manager)."""
    user = request.user
    if not can(user, "view", Client):
        raise PermissionDenied(_("您的角色无权执行此操作。"))
    client = get_object_or_404(Client.objects.restrict(user, "view").select_related("branch"), pk=pk)
    if not services.may_propose(user, client):
        raise PermissionDenied(_("只有客户所属分公司的人员可以提议放弃跟踪。"))
    form = ProposeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            obj = services.giveup_propose(client=client, by=user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("放弃跟踪的提议已提交,等待经营部负责人确认。"))
            return redirect("clients:give-up-detail", pk=obj.pk)
    return render(request, "clients/giveup_form.html", {"client": client, "form": form})


STEPS = {
    "confirm": (ConfirmForm, lambda o, u, d: services.giveup_confirm(give_up=o, by=u, **d),
                gettext_lazy("已确认放弃跟踪。")),
    "reject": (ReasonForm, lambda o, u, d: services.giveup_reject(give_up=o, by=u, **d),
               gettext_lazy("提议已驳回,客户继续跟踪。")),
    "resume": (ReasonForm, lambda o, u, d: services.giveup_resume(give_up=o, by=u, **d),
               gettext_lazy("已恢复跟踪。")),
}  # fmt: skip


@login_required
@require_POST
def give_up_step(request, pk, step):
    """A workflow step; the service decides whether the user may take it (R37, R39)."""
    if step not in STEPS:
        raise Http404
    user = request.user
    _require_view(user)
    obj = get_object_or_404(rows(user), pk=pk)
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
    return redirect("clients:give-up-detail", pk=obj.pk)


def client_give_up(user, client) -> dict:
    """What the client page shows of giving up (a banner and a button): the open give-up, and
    whether the user may propose one. A tracked client (nearly all) costs no query: its
    跟踪状态 says it has no open give-up, and the scope is decided from the user's snapshot."""
    if client.tracking == Tracking.ACTIVE:
        return {
            "give_up": None,
            "may_propose_give_up": client.grade == Grade.C
            and services.may_propose(user, client, memory=True),
        }
    open_one = (
        GiveUp.objects.restrict(user, "view")
        .filter(client=client, status__in=GiveUp.OPEN)
        .select_related("proposed_by", "decided_by")
        .first()
    )
    return {"give_up": open_one, "may_propose_give_up": False}
