"""Improvement plans per priority dimension (改进计划, seed 002; R102-R108).

Seed 002, 提高方略: «针对度满意度调查反映的缺陷产品及服务,进一步分析有关要素,拟定行动重点,提出有针对性的
改善措施»; its plans are tables of «措施 / 时间点 / 部门 / 负责人» per 业主类型, towards the «目的值» of
each dimension (R23).

One function per step, ``improvement_<step>(*, ...)``: keyword-only, transactional, the plan
re-read under a lock, ``full_clean()`` before saving, every step a history row of the plan (its
reason names the step: the plan's timeline). A refused step raises ValidationError (400) and
changes nothing; a person without the role gets PermissionDenied (403); a plan or a branch out
of the person's scope is a 404.

The rules (domain.md wording in the report of this feature):
* R102: a plan is made from a priority matrix (a branch's, or the group's) for one dimension
  that lies in its 优先改进区 or 次要改进区; a branch's plan by the branch's manager or group
  marketing, the group's by group marketing; one open plan per branch (or the group) and
  dimension. It keeps the dimension's satisfaction rate and sample at that moment (the before)
  and, as its target, the dimension's target value (R23) of the matrix's year (else of the
  following year); without a target value no plan is made.
* R103: a plan has at least one measure: what is done (措施), for which clients (客户类型), by when
  (时间点, not before today), the responsible department (部门) and person (负责人): an active
  person of the plan's branch (of any branch or group marketing for the group's plan). Those who
  may make the plan add measures to it while it is open.
* R104: a measure is done by its person or by those who may make the plan, once, with its
  evidence (a note of what was done), while the plan is open.
* R105: a measure not done after its date is overdue: the daily job reminds its person and the
  plan's managers once per measure; the managers' home and the dashboard list overdue measures.
* R106: the effect: the plan's next campaign is the first campaign of the plan's template whose
  deadline is on or after the day the plan was made; its answers on the dimension, in the plan's
  scope (its branch, or every branch), are the after, shown next to the before and the target on
  the plan and on the campaign.
* R107: the plan closes (by those who may make it) when all its measures are done and its next
  campaign is closed with answers on the dimension: the after, its campaign and the result are
  kept: 达到目标值 (after >= target), 有改善 (after > before), else 未改善. A closed plan takes no
  further step.
* R108: the figures 进行中的改进计划 and 逾期未完成的改进措施 are defined once with their lists; the
  dashboard's satisfaction table links each dimension to its plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import check_in_scope, has_global
from crm.concurrency import unique_violation
from crm.models import BRANCH_ROLES, Branch, Role, User
from crm.services import managers_of, notify
from crm.validators import EARLIEST_DATE, LATEST_DATE

from .. import selectors
from ..models import Answer, Campaign, Dimension, Survey, SurveyTemplate, Target
from .models import ClientGroup, ImprovementMeasure, ImprovementPlan, Quadrant

Status = ImprovementPlan.Status
Result = ImprovementPlan.Result

# The history's words for the steps (kept in Chinese, like every change reason).
RESULT_WORDS = {Result.MET: "达到目标值", Result.IMPROVED: "有改善,未达目标", Result.NOT_IMPROVED: "未改善"}


# -- who may act ------------------------------------------------------------------------------


def may_plan(user, branch_id: int | None) -> bool:
    """R102: group marketing for every plan; a branch's manager for their branch's plans."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if has_global(user, ImprovementPlan, "change"):
        return True
    return branch_id is not None and user.role == Role.MANAGER and user.branch_id == branch_id


def may_complete(user, measure: ImprovementMeasure, plan: ImprovementPlan | None = None) -> bool:
    """R104: the measure's person, or whoever may make the plan."""
    plan = plan or measure.plan
    if not user or not user.is_authenticated:
        return False
    return measure.owner_id == user.pk or may_plan(user, plan.branch_id)


def allowed_steps(user, plan: ImprovementPlan) -> list[str]:
    """The steps ``user`` may take on ``plan`` now (the detail page's forms)."""
    if not plan.is_open:
        return []
    if may_plan(user, plan.branch_id):
        return ["measure", "complete", "close"]
    if any(m.owner_id == user.pk and not m.is_done for m in plan.measures.all()):
        return ["complete"]
    return []


def _require_plan_in_scope(user, plan: ImprovementPlan) -> None:
    if not check_in_scope(user, "view", plan):
        raise Http404


def _require_manage(user, plan: ImprovementPlan) -> None:
    _require_plan_in_scope(user, plan)
    if not may_plan(user, plan.branch_id):
        raise PermissionDenied(_("只有本单位经营部负责人或集团市场营销部可以制定和关闭改进计划。"))


# -- helpers ----------------------------------------------------------------------------------


def plan_url(plan: ImprovementPlan) -> str:
    try:
        return reverse("surveys:improvement-detail", kwargs={"pk": plan.pk})
    except NoReverseMatch:  # pages not mounted (an API-only deployment)
        return ""


def _lock(plan: ImprovementPlan) -> ImprovementPlan:
    """Reload under a row lock: two people cannot take a step on the same plan at once."""
    return (
        ImprovementPlan.objects.select_for_update(of=("self",))  # the branch is an outer join (the group's)
        .select_related("branch", "dimension", "template")
        .get(pk=plan.pk)
    )


def _require_open(plan: ImprovementPlan) -> None:
    if not plan.is_open:
        raise ValidationError(_("改进计划已关闭,不能再修改。"))


def _save(obj, by, reason: str) -> None:
    obj._history_user = by
    obj._change_reason = reason[:100]
    obj.full_clean()
    obj.save()


def _rate(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def _date(value, field: str, errors: dict) -> dt.date | None:
    if value in (None, ""):
        errors[field] = [_("请填写日期。")]
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            errors[field] = [_("日期格式应为 年-月-日。")]
            return None
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        errors[field] = [_("日期超出有效范围。")]
        return None
    return value


def people(branch_id: int | None):
    """Who may be a measure's person (R103): an active person of the plan's branch; for the
    group's plan, an active person of any branch or of group marketing."""
    qs = User.objects.filter(is_active=True).order_by("full_name", "username")
    if branch_id is None:
        return qs.filter(Q(role__in=BRANCH_ROLES) | Q(role=Role.MARKETING))
    return qs.filter(branch_id=branch_id, role__in=BRANCH_ROLES)


def managers_of_plan(plan: ImprovementPlan):
    """Who hears of a plan's overdue measures and its effect: the branch's managers, or group
    marketing for the group's plan."""
    if plan.branch_id is None:
        return list(User.objects.filter(role=Role.MARKETING, is_active=True))
    return list(managers_of(plan.branch))


def _clean_measure(branch_id: int | None, data: dict, today: dt.date, errors: dict) -> dict | None:
    """R103: a measure's fields; their messages go into ``errors`` under the field's name."""
    description = (data.get("description") or "").strip()
    department = (data.get("department") or "").strip()
    group = data.get("client_group") or ClientGroup.ALL
    due_on = _date(data.get("due_on"), "due_on", errors)
    owner = data.get("owner")
    owner_pk = owner.pk if isinstance(owner, User) else owner
    person = people(branch_id).filter(pk=owner_pk).first() if isinstance(owner_pk, int) else None
    if not description:
        errors["description"] = [_("请填写改进措施。")]
    if not department:
        errors["department"] = [_("请填写责任部门。")]
    elif len(department) > 50:
        errors["department"] = [_("责任部门不能超过50个字。")]
    if group not in ClientGroup.values:
        errors["client_group"] = [_("请选择客户类型。")]
    if due_on is not None and due_on < today:
        errors["due_on"] = [_("时间点不能早于今天。")]
    if person is None:
        errors["owner"] = [
            _("负责人应为本单位的在职人员。")
            if branch_id
            else _("负责人应为在职的分子公司人员或集团市场营销部人员。")
        ]
    if errors:
        return None
    return {
        "description": description,
        "department": department,
        "client_group": group,
        "due_on": due_on,
        "owner": person,
    }


def _add_measure(plan: ImprovementPlan, cleaned: dict, by) -> ImprovementMeasure:
    measure = ImprovementMeasure(plan=plan, **cleaned)
    _save(measure, by, "新增改进措施")
    if measure.owner_id != by.pk:
        notify(
            recipients=[measure.owner],
            verb="improvement",
            title=lambda: (
                _("您有一项满意度改进措施(%(dimension)s),时间点 %(due)s")
                % {"dimension": plan.dimension.name, "due": measure.due_on}
            ),
            body=measure.description,
            url=plan_url(plan),
            key=f"improvement-measure:{measure.pk}:assigned",
        )
    return measure


def matrix_point(user, *, template: SurveyTemplate, year: int, branch: Branch | None, dimension: Dimension):
    """The dimension's point of the matrix the user looks at (R24), or None."""
    matrix = selectors.priority_matrix(user, template=template, year=year, branch=branch)
    return next((p for p in matrix["points"] if p["dimension"].pk == dimension.pk), None)


def target_of(dimension: Dimension, year: int) -> Target | None:
    """R102, R23: the dimension's target of the matrix's year, else of the following year."""
    targets = {t.year: t for t in Target.objects.filter(dimension=dimension, year__in=[year, year + 1])}
    return targets.get(year) or targets.get(year + 1)


# -- the steps --------------------------------------------------------------------------------


@transaction.atomic
def improvement_plan_create(
    *,
    by: User,
    template: SurveyTemplate,
    year: int,
    dimension: Dimension,
    branch: Branch | None = None,
    goal: str = "",
    measures: Iterable[dict] = (),
) -> ImprovementPlan:
    """R102, R103: a plan for a dimension of the matrix (the branch's, or the group's without
    ``branch``) in its 优先改进区 or 次要改进区, with its measures; the before is the matrix's
    satisfaction rate of the dimension, the target its target value (R23)."""
    if branch is not None and not Branch.objects.restrict(by, "view").filter(pk=branch.pk).exists():
        raise Http404
    if not may_plan(by, branch.pk if branch else None):
        raise PermissionDenied(
            _("只有本单位经营部负责人或集团市场营销部可以制定和关闭改进计划。")
            if branch is not None
            else _("集团的改进计划由集团市场营销部制定。")
        )
    errors: dict[str, list[str]] = {}
    if dimension.template_id != template.pk or dimension.is_summary:
        raise ValidationError({"dimension": [_("请选择该调查模板中参与行动重点矩阵的维度。")]})
    # One plan per branch and dimension at a time: the dimension's row serialises the makers.
    Dimension.objects.select_for_update().filter(pk=dimension.pk).first()
    point = matrix_point(by, template=template, year=year, branch=branch, dimension=dimension)
    if point is None or point["quadrant"] not in Quadrant.values:
        errors["dimension"] = [_("只能为行动重点矩阵中“优先改进区”或“次要改进区”的维度制定改进计划。")]
    target = target_of(dimension, year)
    if target is None:
        errors.setdefault("dimension", []).append(
            _("该维度尚未设定%(year)d年度的目标值,请先设定基本值与目标值。") % {"year": year}
        )
    today = timezone.localdate()
    cleaned, problems = [], []
    for number, data in enumerate(measures or [], start=1):
        keys = ("description", "due_on", "owner", "department")
        if not any(data.get(k) not in (None, "") for k in keys):
            continue  # an empty row of the form
        row_errors: dict[str, list[str]] = {}
        row = _clean_measure(branch.pk if branch else None, data, today, row_errors)
        if row:
            cleaned.append(row)
        for messages in row_errors.values():
            problems += [_("第%(n)d项措施:%(m)s") % {"n": number, "m": m} for m in messages]
    if problems:
        errors["measures"] = problems
    elif not cleaned:
        errors["measures"] = [_("请至少填写一项改进措施。")]
    if errors:
        raise ValidationError(errors)
    if ImprovementPlan.objects.filter(branch=branch, dimension=dimension, status=Status.OPEN).exists():
        raise ValidationError({"dimension": [_("该维度已有进行中的改进计划。")]})
    plan = ImprovementPlan(
        branch=branch,
        template=template,
        dimension=dimension,
        year=year,
        quadrant=point["quadrant"],
        goal=(goal or "").strip(),
        before_rate=_rate(point["rate"]),
        before_answers=point["answers"],
        target=target.target,
        created_by=by,
    )
    try:
        with transaction.atomic():
            _save(plan, by, f"制定改进计划({point['quadrant_label']})")
    except IntegrityError as error:  # a parallel plan for the same branch and dimension won
        if unique_violation(ImprovementPlan, error) is None:
            raise
        raise ValidationError({"dimension": [_("该维度已有进行中的改进计划。")]}) from error
    for row in cleaned:
        _add_measure(plan, row, by)
    return plan


def _touch(plan: ImprovementPlan, by, reason: str) -> None:
    """A history row of the plan naming a step taken on its measures (one timeline)."""
    _save(plan, by, reason)


@transaction.atomic
def improvement_measure_add(
    *,
    plan: ImprovementPlan,
    by: User,
    description: str,
    due_on,
    department: str,
    owner,
    client_group: str = ClientGroup.ALL,
) -> ImprovementMeasure:
    """R103: a further measure of an open plan."""
    _require_manage(by, plan)
    plan = _lock(plan)
    _require_open(plan)
    errors: dict[str, list[str]] = {}
    cleaned = _clean_measure(
        plan.branch_id,
        {
            "description": description,
            "due_on": due_on,
            "department": department,
            "owner": owner,
            "client_group": client_group,
        },
        timezone.localdate(),
        errors,
    )
    if errors:
        raise ValidationError(errors)
    measure = _add_measure(plan, cleaned, by)
    _touch(plan, by, "新增改进措施:" + measure.description)
    return measure


@transaction.atomic
def improvement_measure_complete(
    *, plan: ImprovementPlan, measure, by: User, evidence: str
) -> ImprovementMeasure:
    """R104: a measure of an open plan is done, with its evidence, by its person or a manager."""
    _require_plan_in_scope(by, plan)
    plan = _lock(plan)
    pk = measure.pk if isinstance(measure, ImprovementMeasure) else measure
    found = ImprovementMeasure.objects.select_for_update().filter(plan=plan, pk=pk).first()
    if found is None:
        raise ValidationError({"measure": [_("所选措施不属于该改进计划。")]})
    if not may_complete(by, found, plan):
        raise PermissionDenied(_("只有措施负责人或本单位经营部负责人可以确认措施完成。"))
    _require_open(plan)
    if found.is_done:
        raise ValidationError({"measure": [_("该措施已完成。")]})
    evidence = (evidence or "").strip()
    if not evidence:
        raise ValidationError({"evidence": [_("请填写完成情况。")]})
    found.done_at = timezone.now()
    found.done_by = by
    found.evidence = evidence
    _save(found, by, "措施完成")
    _touch(plan, by, f"措施完成:{found.description[:30]}:{evidence}")
    return found


def next_campaign(plan: ImprovementPlan) -> Campaign | None:
    """R106: the first campaign of the plan's template whose deadline is on or after the day
    the plan was made."""
    made_on = timezone.localdate(plan.created_at) if plan.created_at else timezone.localdate()
    return (
        Campaign.objects.filter(template_id=plan.template_id, deadline__gte=made_on)
        .order_by("deadline", "pk")
        .first()
    )


def _after(plan: ImprovementPlan, campaign: Campaign) -> tuple[float | None, int]:
    answers = Answer.objects.filter(
        survey__campaign=campaign, survey__status=Survey.Status.ANSWERED, dimension_id=plan.dimension_id
    )
    if plan.branch_id is not None:
        answers = answers.filter(survey__branch_id=plan.branch_id)
    row = answers.aggregate(n=Count("pk"), positive=Count("pk", filter=Q(positive=True)))
    return (row["positive"] / row["n"] if row["n"] else None), row["n"]


def result_of(*, before, after, target) -> str:
    """R107: 达到目标值, 有改善 or 未改善."""
    if after is None:
        return ""
    after, before, target = Decimal(str(after)), Decimal(str(before)), Decimal(str(target))
    if after >= target:
        return Result.MET
    if after > before:
        return Result.IMPROVED
    return Result.NOT_IMPROVED


def effect(plan: ImprovementPlan) -> dict:
    """R106: the before, the after (the next campaign's answers on the dimension in the plan's
    scope; final once that campaign is closed) and the target. A closed plan shows what it
    kept."""
    if not plan.is_open and plan.after_campaign_id:
        return _effect(plan, plan.after_campaign, plan.after_rate, plan.after_answers)
    campaign = next_campaign(plan)
    after, answers = _after(plan, campaign) if campaign else (None, 0)
    return _effect(plan, campaign, after, answers)


def effects(plans) -> dict[int, dict]:
    """R106: :func:`effect` of many plans (a page of a list) in three queries: the campaigns of
    their templates, and the answers of those campaigns by branch and dimension."""
    plans = list(plans)
    campaigns = list(
        Campaign.objects.filter(template_id__in={p.template_id for p in plans}).order_by("deadline", "pk")
    )
    nexts: dict[int, Campaign | None] = {}
    for plan in plans:
        if plan.is_open or not plan.after_campaign_id:
            made_on = timezone.localdate(plan.created_at)
            nexts[plan.pk] = next(
                (c for c in campaigns if c.template_id == plan.template_id and c.deadline >= made_on), None
            )
    rows = (
        Answer.objects.filter(
            survey__campaign_id__in={c.pk for c in nexts.values() if c},
            survey__status=Survey.Status.ANSWERED,
            dimension_id__in={p.dimension_id for p in plans},
        )
        .values("survey__campaign_id", "survey__branch_id", "dimension_id")
        .annotate(n=Count("pk"), positive=Count("pk", filter=Q(positive=True)))
    )
    counts: dict[tuple, list[int]] = {}
    for r in rows:
        for branch in (r["survey__branch_id"], None):  # the branch's, and the group's (every branch)
            key = (r["survey__campaign_id"], branch, r["dimension_id"])
            n, positive = counts.get(key, (0, 0))
            counts[key] = (n + r["n"], positive + r["positive"])
    out = {}
    for plan in plans:
        if plan.pk not in nexts:
            out[plan.pk] = _effect(plan, plan.after_campaign, plan.after_rate, plan.after_answers)
            continue
        campaign = nexts[plan.pk]
        n, positive = (
            counts.get((campaign.pk, plan.branch_id, plan.dimension_id), (0, 0)) if campaign else (0, 0)
        )
        out[plan.pk] = _effect(plan, campaign, positive / n if n else None, n)
    return out


def _effect(plan: ImprovementPlan, campaign, after, answers) -> dict:
    final = bool(campaign and campaign.status == Campaign.Status.CLOSED)
    result = plan.result or result_of(before=plan.before_rate, after=after, target=plan.target)
    return {
        "plan": plan,
        "campaign": campaign,
        "before": float(plan.before_rate),
        "before_answers": plan.before_answers,
        "after": None if after is None else float(after),
        "after_answers": answers or 0,
        "target": float(plan.target),
        "change": None if after is None else float(after) - float(plan.before_rate),
        "final": final,
        "result": result,
        "result_label": str(Result(result).label) if result else "",
    }


def campaign_effects(user, campaign: Campaign) -> list[dict]:
    """R106: the plans (in the user's scope) whose next campaign is ``campaign``: before and
    after of each planned dimension."""
    plans = (
        ImprovementPlan.objects.restrict(user, "view")
        .filter(template_id=campaign.template_id, created_at__date__lte=campaign.deadline)
        .select_related("branch", "dimension", "after_campaign")
        .order_by("branch__sort_order", "dimension__order", "pk")
    )
    out = []
    for plan in plans:
        if plan.after_campaign_id not in (None, campaign.pk):
            continue
        found = effect(plan)
        if found["campaign"] is not None and found["campaign"].pk == campaign.pk:
            out.append(found)
    return out


@transaction.atomic
def improvement_plan_close(*, plan: ImprovementPlan, by: User, note: str = "") -> ImprovementPlan:
    """R107: close an open plan with its effect: every measure done, and the next campaign
    closed with answers on the dimension; the after, its campaign and the result are kept."""
    _require_manage(by, plan)
    plan = _lock(plan)
    _require_open(plan)
    open_measures = plan.measures.filter(done_at__isnull=True).count()
    if open_measures:
        raise ValidationError(
            _("尚有 %(n)d 项措施未完成,全部完成后才能关闭改进计划。") % {"n": open_measures}
        )
    campaign = next_campaign(plan)
    if campaign is None or campaign.status != Campaign.Status.CLOSED:
        raise ValidationError(_("改进计划制定后的下一次满意度调查截止后,才能按其结果关闭改进计划。"))
    after, answers = _after(plan, campaign)
    if after is None:
        raise ValidationError(_("下一次满意度调查中该维度没有回收的评分,无法评价改进效果。"))
    plan.after_campaign = campaign
    plan.after_rate = _rate(after)
    plan.after_answers = answers
    plan.result = result_of(before=plan.before_rate, after=plan.after_rate, target=plan.target)
    plan.status = Status.CLOSED
    plan.closed_by = by
    plan.closed_at = timezone.now()
    plan.close_note = (note or "").strip()
    _save(
        plan,
        by,
        f"关闭改进计划:{RESULT_WORDS[plan.result]}(改进前{plan.before_rate:.1%},改进后{plan.after_rate:.1%})",
    )
    return plan


# -- overdue measures (R105) ------------------------------------------------------------------


def overdue_measures(qs, today: dt.date | None = None):
    """R105: measures of open plans, not done, whose date has passed (``qs`` already restricted)."""
    today = today or timezone.localdate()
    return qs.filter(done_at__isnull=True, due_on__lt=today, plan__status=Status.OPEN)


def improvement_overdue_remind(*, today: dt.date | None = None) -> int:
    """R105: the daily job's part: tell each overdue measure's person and the plan's managers,
    once per measure (keyed: a second run, or a run after a missed day, sends nothing twice)."""
    today = today or timezone.localdate()
    made = 0
    measures = overdue_measures(ImprovementMeasure.objects.all(), today).select_related(
        "plan", "plan__branch", "plan__dimension", "owner"
    )
    for measure in measures:
        plan = measure.plan
        made += len(
            notify(
                recipients=[measure.owner, *managers_of_plan(plan)],
                verb="improvement_overdue",
                title=lambda: (
                    _("改进措施已逾期:%(dimension)s(%(scope)s),时间点 %(due)s")
                    % {"dimension": plan.dimension.name, "scope": plan.scope_label, "due": measure.due_on}  # noqa: B023 (rendered at once, in each language)
                ),
                body=measure.description,
                url=plan_url(plan),
                key=f"improvement-overdue:{measure.pk}",
            )
        )
    return made


def plans_effect_ready(campaign: Campaign) -> int:
    """R106, R107: when a campaign closes, the managers of the plans it measures hear that the
    effect is in and the plan can be closed (once per plan)."""
    from crm.access import SYSTEM

    made = 0
    for found in campaign_effects(SYSTEM, campaign):
        plan = found["plan"]
        if not plan.is_open:
            continue
        made += len(
            notify(
                recipients=managers_of_plan(plan),
                verb="improvement",
                title=lambda: (
                    _("改进计划(%(dimension)s,%(scope)s)的效果调查已截止,可按结果关闭")
                    % {"dimension": plan.dimension.name, "scope": plan.scope_label}  # noqa: B023 (rendered at once, in each language)
                ),
                url=plan_url(plan),
                key=f"improvement-effect:{plan.pk}:{campaign.pk}",
            )
        )
    return made


def plan_links(user, *, template: SurveyTemplate, branch_id: int | None) -> dict[int, ImprovementPlan]:
    """R108: the plan of each dimension for a scope (a branch, or the group's plans), the open
    one else the latest, as the user may see them: ``{dimension id: plan}``."""
    qs = ImprovementPlan.objects.restrict(user, "view").filter(template=template)
    qs = qs.filter(branch_id=branch_id) if branch_id is not None else qs.filter(branch__isnull=True)
    out: dict[int, ImprovementPlan] = {}
    # "closed" sorts before "open": the open plan, else the latest closed one, is kept last.
    for plan in qs.order_by("status", "created_at", "pk"):
        out[plan.dimension_id] = plan
    return out
