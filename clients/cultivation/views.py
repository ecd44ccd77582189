"""Pages of B→A cultivation and the half-year evaluation of B clients (R42-R47). Thin: reads
through ``restrict`` (out of scope 404, a missing role 403), writes through the services."""

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
from django.views.decorators.http import require_http_methods, require_POST

from crm.access import can, has_global
from crm.exports import xlsx_response
from crm.figures import HalfYear
from crm.forms import apply_errors
from crm.lists import tabbed_list

from ..models import Client, Grade
from . import services
from .forms import (
    CloseForm,
    EditForm,
    EvaluationFilter,
    EvaluationForm,
    MeasureForm,
    PlanFilter,
    ProposeForm,
    ReviewForm,
)
from .models import BEvaluation, CultivationMeasure, CultivationPlan

PAGE_SIZE = 25
SORTS = {
    "proposed": "proposed_at",
    "-proposed": "-proposed_at",
    "review": "next_review_on",
    "-review": "-next_review_on",
    "client": "client__name",
    "-client": "-client__name",
    "branch": "client__branch__sort_order",
    "-branch": "-client__branch__sort_order",
}
TABS = {
    "open": (gettext_lazy("培养中的B类客户"), [CultivationPlan.Status.OPEN]),
    "closed": (
        gettext_lazy("已结束的培养计划"),
        [CultivationPlan.Status.PROMOTED, CultivationPlan.Status.DEMOTED, CultivationPlan.Status.CLOSED],
    ),
    "all": (gettext_lazy("全部培养计划"), None),
}


def _require_view(user, model=CultivationPlan) -> None:
    if not can(user, "view", model):
        raise PermissionDenied(_("您的角色无权查看B类客户培养记录。"))


def rows(user):
    return CultivationPlan.objects.restrict(user, "view").select_related(
        "client", "client__branch", "proposed_by", "closed_by"
    )


def _name(user) -> str:
    return user.display_name if user else ""


@login_required
def cultivation_list(request):
    """R42: the plans of the user's branch (the group roles: every branch), by state."""
    user = request.user
    _require_view(user)
    return tabbed_list(
        request,
        template="clients/cultivation_list.html",
        rows=rows(user),
        tabs=TABS,
        default_tab="open",
        filterset=PlanFilter,
        sorts=SORTS,
        default_sort="-proposed",
        export=_export,
        context={
            "all_branches": has_global(user, CultivationPlan, "view"),
            "today": timezone.localdate(),
        },
    )


def _export(qs, title):
    """R36: exactly the rows the list shows, in its order, with each plan's measures."""
    headers = [_("客户"), _("所属分公司"), _("客户分级"), _("培养目标"), _("培养措施"), _("状态"), _("提出人"),
               _("提出时间"), _("下次评审日期"), _("评审次数"), _("结束人"), _("结束时间"), _("结束理由")]  # fmt: skip
    qs = qs.prefetch_related("measures__owner", "reviews")

    def measures(plan):
        return ";".join(
            f"{m.description}({m.owner.display_name},{m.due_on:%Y-%m-%d}{',' + _('已完成') if m.is_done else ''})"
            for m in plan.measures.all()
        )

    def out():
        for p in qs:
            yield [
                p.client.name, p.client.branch.name, p.client.grade, p.goal, measures(p), p.get_status_display(),
                _name(p.proposed_by), p.proposed_at, p.next_review_on, len(p.reviews.all()), _name(p.closed_by),
                p.closed_at, p.close_reason,
            ]  # fmt: skip

    return xlsx_response(str(title), _("培养计划"), headers, out())


def _forms(plan, data=None, *, step=None):
    people = services.branch_people(plan.client)
    open_measures = CultivationMeasure.objects.filter(plan=plan, done_at__isnull=True)
    today = timezone.localdate()
    made = {
        "review": ReviewForm(data if step == "review" else None, measures=open_measures,
                             initial={"reviewed_on": today}),
        "measure": MeasureForm(data if step == "measure" else None, people=people),
        "edit": EditForm(data if step == "edit" else None,
                         initial={"goal": plan.goal, "next_review_on": plan.next_review_on, "version": plan.version}),
        "close": CloseForm(data if step == "close" else None),
    }  # fmt: skip
    return made


def _detail(request, plan, forms=None, status=200):
    user = request.user
    timeline = plan.history.select_related("history_user").order_by("history_date", "history_id")
    return render(
        request,
        "clients/cultivation_detail.html",
        {
            "obj": plan,
            "client": plan.client,
            "measures": list(plan.measures.select_related("owner", "done_by")),
            "reviews": list(plan.reviews.select_related("reviewed_by").prefetch_related("measures_done")),
            "evaluations": list(plan.evaluations.select_related("evaluated_by")),
            "timeline": timeline,
            "steps": services.allowed_steps(user, plan),
            "forms": forms or _forms(plan),
            "today": timezone.localdate(),
        },
        status=status,
    )


@login_required
def cultivation_detail(request, pk):
    """The plan: its measures, reviews, timeline (history) and the steps the user may take."""
    _require_view(request.user)
    return _detail(request, get_object_or_404(rows(request.user), pk=pk))


@login_required
@require_http_methods(["GET", "POST"])
def cultivation_create(request, pk):
    """R42, R43: a plan for a B client (its branch's staff or manager)."""
    user = request.user
    if not can(user, "view", Client):
        raise PermissionDenied(_("您的角色无权执行此操作。"))
    client = get_object_or_404(Client.objects.restrict(user, "view").select_related("branch"), pk=pk)
    if not services.may_work_on(user, client):
        raise PermissionDenied(_("只有客户所属分公司的人员可以制定和评审培养计划。"))
    form = ProposeForm(request.POST or None, people=services.branch_people(client))
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.cultivation_propose(
                client=client,
                by=user,
                goal=form.cleaned_data["goal"],
                next_review_on=form.cleaned_data.get("next_review_on"),
                measures=form.measures(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("培养计划已制定。"))
            return redirect("clients:cultivation-detail", pk=plan.pk)
    return render(request, "clients/cultivation_form.html", {"client": client, "form": form})


def _review(plan, user, data):
    return services.cultivation_review(
        plan=plan, by=user, reviewed_on=data["reviewed_on"], note=data["note"],
        done=list(data.get("done") or []), next_review_on=data.get("next_review_on"),
    )  # fmt: skip


def _edit(plan, user, data):
    plan.version = data["version"]  # the version the edit is based on (a stale one: refused)
    return services.cultivation_update(
        plan=plan, by=user, goal=data["goal"], next_review_on=data.get("next_review_on")
    )


STEPS = {
    "review": (_review, gettext_lazy("评审已记录。")),
    "measure": (
        lambda p, u, d: services.cultivation_measure_add(plan=p, by=u, **d),
        gettext_lazy("培养措施已添加。"),
    ),
    "edit": (_edit, gettext_lazy("培养计划已保存。")),
    "close": (
        lambda p, u, d: services.cultivation_close(plan=p, by=u, **d),
        gettext_lazy("培养计划已终止。"),
    ),
}


@login_required
@require_POST
def cultivation_step(request, pk, step):
    """A step on a plan; the service decides whether the user may take it (R44, R45). A refused
    step shows the plan again with the form's errors (400) and what was typed."""
    if step not in STEPS:
        raise Http404
    user = request.user
    _require_view(user)
    plan = get_object_or_404(rows(user), pk=pk)
    call, done = STEPS[step]
    forms = _forms(plan, request.POST, step=step)
    form = forms[step]
    if form.is_valid():
        try:
            call(plan, user, dict(form.cleaned_data))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("clients:cultivation-detail", pk=plan.pk)
    plan = get_object_or_404(rows(user), pk=pk)  # as stored (a refused edit changed nothing)
    return _detail(request, plan, forms, status=400)


# -- the half-year evaluation (R46, R47) ---------------------------------------------------------


def _half(request) -> HalfYear:
    raw = request.GET.get("half_year")
    if not raw:
        return HalfYear.containing(timezone.now())
    try:
        return HalfYear.parse(raw)
    except ValueError:
        return HalfYear.containing(timezone.now())


EVALUATION_TABS = {"pending": gettext_lazy("本半年度未评价的B类客户"), "done": gettext_lazy("评价记录")}


@login_required
def b_evaluation_list(request):
    """R47: the B clients of the user's branch (group roles: every branch) not yet evaluated for
    the half year, and the evaluations made; each list exports what it shows."""
    user = request.user
    _require_view(user, BEvaluation)
    half = _half(request)
    tab = request.GET.get("tab", "pending")
    if tab not in EVALUATION_TABS:
        tab = "pending"
    title = EVALUATION_TABS[tab]
    flt = EvaluationFilter(
        request.GET or None,
        queryset=BEvaluation.objects.restrict(user, "view")
        .filter(half_year=half.label)
        .select_related("client", "client__branch", "evaluated_by", "grade_change"),
        request=request,
    )
    valid = flt.is_bound and flt.is_valid()
    if tab == "done":
        qs = (flt.qs if valid else flt.queryset).order_by("-evaluated_at", "-pk")
    else:
        qs = services.b_not_evaluated(Client.objects.restrict(user, "view"), half).select_related(
            "branch", "owner"
        )
        data = flt.form.cleaned_data if valid else {}
        if data.get("branch"):
            qs = qs.filter(
                branch_id=int(data["branch"].pk if hasattr(data["branch"], "pk") else data["branch"])
            )
        if data.get("q"):
            qs = qs.filter(name__contains=data["q"])
        qs = qs.order_by("branch__sort_order", "name", "pk")
    if request.GET.get("export") == "xlsx":
        return _evaluation_export(qs, tab, f"{title} {half.label}")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    current = HalfYear.containing(timezone.now())
    return render(
        request,
        "clients/b_evaluation_list.html",
        {
            "page": page,
            "filter": flt,
            "tab": tab,
            "tabs": list(EVALUATION_TABS.items()),
            "title": title,
            "half": half,
            "is_current": half == current,
            "all_branches": has_global(user, BEvaluation, "view"),
            "may_evaluate_any": user.role in ("manager", "marketing") or user.is_superuser,
        },
    )


def _evaluation_export(qs, tab, title):
    if tab == "pending":
        headers = [_("客户"), _("所属分公司"), _("客户分级"), _("客户经理")]
        out = ([c.name, c.branch.name, c.grade, _name(c.owner)] for c in qs)
    else:
        headers = [
            _("客户"),
            _("所属分公司"),
            _("半年度"),
            _("评价结果"),
            _("理由"),
            _("评价人"),
            _("评价时间"),
        ]
        out = (
            [e.client.name, e.client.branch.name, e.half_year, e.get_outcome_display(), e.reason,
             _name(e.evaluated_by), e.evaluated_at]
            for e in qs
        )  # fmt: skip
    return xlsx_response(str(title), _("B类客户评价"), headers, out)


@login_required
@require_http_methods(["GET", "POST"])
def b_evaluation_create(request, pk):
    """R46: evaluate a B client for the current half year (group marketing or its manager)."""
    user = request.user
    if not can(user, "view", Client):
        raise PermissionDenied(_("您的角色无权执行此操作。"))
    client = get_object_or_404(Client.objects.restrict(user, "view").select_related("branch"), pk=pk)
    if not services.may_evaluate(user, client):
        raise PermissionDenied(_("只有集团市场营销部或本单位经营部负责人可以评价B类客户。"))
    form = EvaluationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.b_evaluation_record(client=client, by=user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("半年度评价已记录。"))
            return redirect("clients:client-tab", pk=client.pk, tab="cultivation")
    plan = CultivationPlan.objects.restrict(user, "view").filter(client=client, status="open").first()
    return render(
        request,
        "clients/b_evaluation_form.html",
        {
            "client": client,
            "form": form,
            "plan": plan,
            "half": HalfYear.containing(timezone.now()),
            "is_b": client.grade == Grade.B,
        },
        status=400 if form.errors else 200,
    )
