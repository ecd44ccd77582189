"""Pages of the improvement plans (R102-R108). Thin: reads through ``restrict`` (out of scope
404, a missing role 403), writes through the services."""

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
from crm.forms import apply_errors
from crm.models import Branch

from .. import selectors
from ..models import Dimension, Survey, SurveyTemplate
from . import services
from .forms import DEPARTMENTS, CloseForm, CompleteForm, MeasureForm, PlanFilter, PlanForm
from .models import ImprovementMeasure, ImprovementPlan, Quadrant

PAGE_SIZE = 25
SORTS = {
    "created": "created_at",
    "-created": "-created_at",
    "dimension": "dimension__order",
    "-dimension": "-dimension__order",
    "branch": "branch__sort_order",
    "-branch": "-branch__sort_order",
    "before": "before_rate",
    "-before": "-before_rate",
}
TABS = {
    "open": (gettext_lazy("进行中的改进计划"), ImprovementPlan.Status.OPEN),
    "closed": (gettext_lazy("已关闭的改进计划"), ImprovementPlan.Status.CLOSED),
    "all": (gettext_lazy("全部改进计划"), None),
}


def _require_view(user) -> None:
    if not can(user, "view", ImprovementPlan):
        raise PermissionDenied(_("您的角色无权查看满意度改进计划。"))


def rows(user):
    return ImprovementPlan.objects.restrict(user, "view").select_related(
        "branch", "dimension", "template", "created_by", "closed_by", "after_campaign"
    )


def _pct(value) -> str:
    return selectors.pct(value)


def _name(user) -> str:
    return user.display_name if user else ""


@login_required
def improvement_list(request):
    """R102-R105: the plans of the user's branch (group roles: every plan), by state, with
    their measures' progress; ``overdue=1``: plans with overdue measures."""
    user = request.user
    _require_view(user)
    tab = request.GET.get("tab", "open")
    if tab not in TABS:
        tab = "open"
    title, status = TABS[tab]
    qs = rows(user)
    if status:
        qs = qs.filter(status=status)
    if request.GET.get("mine"):
        qs = qs.filter(pk__in=ImprovementMeasure.objects.filter(owner=user).values("plan_id"))
    flt = PlanFilter(request.GET or None, queryset=qs, request=request)
    qs = flt.qs if flt.is_bound and flt.is_valid() else qs
    sort = request.GET.get("sort", "-created")
    qs = qs.order_by(SORTS.get(sort, "-created_at"), "-pk").prefetch_related("measures__owner")
    if request.GET.get("export") == "xlsx":
        return _export(qs, title)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    for plan in page.object_list:
        measures = list(plan.measures.all())
        plan.done_count = sum(1 for m in measures if m.is_done)
        plan.measure_count = len(measures)
        plan.overdue_count = (
            sum(1 for m in measures if not m.is_done and m.due_on < today) if plan.is_open else 0
        )
    return render(
        request,
        "surveys/improvement_list.html",
        {
            "page": page,
            "filter": flt,
            "sort": sort,
            "tab": tab,
            "tabs": [(key, label) for key, (label, _s) in TABS.items()],
            "title": title,
            "all_branches": has_global(user, ImprovementPlan, "view"),
            "overdue": bool(request.GET.get("overdue")),
        },
    )


def _export(qs, title):
    """R36: exactly the rows the list shows, in its order, with each plan's measures."""
    headers = [_("责任单位"), _("调查模板"), _("年度"), _("维度"), _("象限"), _("改进前满意率"), _("目标值"),
               _("改进说明"), _("措施(客户类型/时间点/部门/负责人)"), _("状态"), _("制定人"), _("制定时间"),
               _("改进后满意率"), _("改进效果"), _("关闭时间")]  # fmt: skip

    def measures(plan):
        return ";".join(
            f"{m.description}({m.get_client_group_display()}/{m.due_on:%Y-%m-%d}/{m.department}/"
            f"{m.owner.display_name}{'/' + _('已完成') if m.is_done else ''})"
            for m in plan.measures.all()
        )

    def out():
        for p in qs:
            yield [
                p.scope_label, p.template.name, p.year, p.dimension.name, p.get_quadrant_display(), _pct(p.before_rate),
                _pct(p.target), p.goal, measures(p), p.get_status_display(), _name(p.created_by), p.created_at,
                _pct(p.after_rate), p.get_result_display(), p.closed_at,
            ]  # fmt: skip

    return xlsx_response(str(title), _("改进计划"), headers, out())


def _forms(plan, user, data=None, *, step=None):
    people = services.people(plan.branch_id)
    open_measures = ImprovementMeasure.objects.filter(plan=plan, done_at__isnull=True)
    if not services.may_plan(user, plan.branch_id):
        open_measures = open_measures.filter(owner=user)
    return {
        "measure": MeasureForm(data if step == "measure" else None, people=people),
        "complete": CompleteForm(data if step == "complete" else None, measures=open_measures),
        "close": CloseForm(data if step == "close" else None),
    }


def _detail(request, plan, forms=None, status=200):
    user = request.user
    timeline = plan.history.select_related("history_user").order_by("history_date", "history_id")
    return render(
        request,
        "surveys/improvement_detail.html",
        {
            "obj": plan,
            "measures": list(plan.measures.select_related("owner", "done_by")),
            "effect": services.effect(plan),
            "timeline": timeline,
            "steps": services.allowed_steps(user, plan),
            "forms": forms or _forms(plan, user),
            "today": timezone.localdate(),
            "departments": DEPARTMENTS,
        },
        status=status,
    )


@login_required
def improvement_detail(request, pk):
    """The plan: its measures, its effect (before, after, target), timeline and the steps."""
    _require_view(request.user)
    return _detail(request, get_object_or_404(rows(request.user), pk=pk))


def _matrix_params(request):
    """The matrix the plan is made from: its template, year and branch (None: the group's).
    A branch's manager plans for their own branch."""
    user = request.user
    # The form carries them in hidden fields; the page's address (from the matrix) otherwise.
    source = {**request.GET.dict(), **(request.POST.dict() if request.method == "POST" else {})}
    templates = list(SurveyTemplate.objects.restrict(user, "view"))
    if not templates:
        raise PermissionDenied
    template = next((t for t in templates if str(t.pk) == source.get("template", "")), None)
    if template is None:
        template = next((t for t in templates if t.is_default), templates[0])
    try:
        year = int(source.get("year", ""))
    except ValueError:
        year = timezone.localdate().year
    year = min(max(year, 2000), 2100)
    branch = None
    chosen = source.get("branch", "")
    if chosen:
        if not chosen.isdigit():
            raise Http404
        branch = Branch.objects.restrict(user, "view").filter(pk=int(chosen)).first()
        if branch is None:
            raise Http404
    elif not has_global(user, ImprovementPlan, "add") and user.branch_id:
        branch = Branch.objects.restrict(user, "view").filter(pk=user.branch_id).first()
    return template, year, branch


@login_required
@require_http_methods(["GET", "POST"])
def improvement_create(request):
    """R102, R103: a plan from the matrix (``template``, ``year``, ``branch``, ``dimension``)
    for a dimension in its improvement quadrants, by the branch's manager or group marketing."""
    user = request.user
    if not can(user, "view", Survey):
        raise PermissionDenied(_("您的角色无权执行此操作。"))
    template, year, branch = _matrix_params(request)
    if not services.may_plan(user, branch.pk if branch else None):
        raise PermissionDenied(_("只有本单位经营部负责人或集团市场营销部可以制定和关闭改进计划。"))
    matrix = selectors.priority_matrix(user, template=template, year=year, branch=branch)
    candidates = [p for p in matrix["points"] if p["quadrant"] in Quadrant.values]
    dimensions = Dimension.objects.filter(pk__in=[p["dimension"].pk for p in candidates]).order_by("order")
    initial = (
        {"dimension": request.GET.get("dimension")} if request.GET.get("dimension", "").isdigit() else {}
    )
    form = PlanForm(
        request.POST or None,
        initial=initial,
        dimensions=dimensions,
        people=services.people(branch.pk if branch else None),
    )
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.improvement_plan_create(
                by=user,
                template=template,
                year=year,
                branch=branch,
                dimension=form.cleaned_data["dimension"],
                goal=form.cleaned_data["goal"],
                measures=form.measures(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("改进计划已制定。"))
            return redirect("surveys:improvement-detail", pk=plan.pk)
    targets = {d.pk: services.target_of(d, year) for d in dimensions}
    return render(
        request,
        "surveys/improvement_form.html",
        {
            "form": form,
            "template": template,
            "year": year,
            "branch": branch,
            "candidates": [{**p, "target": targets.get(p["dimension"].pk)} for p in candidates],
            "departments": DEPARTMENTS,
        },
        status=400 if form.errors else 200,
    )


def _measure(plan, user, data):
    return services.improvement_measure_add(plan=plan, by=user, **data)


def _complete(plan, user, data):
    return services.improvement_measure_complete(
        plan=plan, by=user, measure=data["measure"], evidence=data["evidence"]
    )


def _close(plan, user, data):
    return services.improvement_plan_close(plan=plan, by=user, note=data.get("note", ""))


STEPS = {
    "measure": (_measure, gettext_lazy("改进措施已添加。")),
    "complete": (_complete, gettext_lazy("措施已确认完成。")),
    "close": (_close, gettext_lazy("改进计划已关闭。")),
}


@login_required
@require_POST
def improvement_step(request, pk, step):
    """A step on a plan; the service decides whether the user may take it (R103, R104, R107).
    A refused step shows the plan again with the form's errors (400) and what was typed."""
    if step not in STEPS:
        raise Http404
    user = request.user
    _require_view(user)
    plan = get_object_or_404(rows(user), pk=pk)
    if step in ("measure", "close") and not services.may_plan(user, plan.branch_id):
        raise PermissionDenied(_("只有本单位经营部负责人或集团市场营销部可以制定和关闭改进计划。"))
    if step == "complete" and not (
        services.may_plan(user, plan.branch_id) or plan.measures.filter(owner=user).exists()
    ):
        raise PermissionDenied(_("只有措施负责人或本单位经营部负责人可以确认措施完成。"))
    call, done = STEPS[step]
    forms = _forms(plan, user, request.POST, step=step)
    form = forms[step]
    if form.is_valid():
        try:
            call(plan, user, dict(form.cleaned_data))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("surveys:improvement-detail", pk=plan.pk)
    plan = get_object_or_404(rows(user), pk=pk)  # as stored (a refused step changed nothing)
    return _detail(request, plan, forms, status=400)
