"""B→A cultivation and the half-year evaluation of B clients (seed 001; R42-R47).

Seed 001, on B clients: «由各级市场营销人员沟通、拜访 ... 定期对客户进行评价、评测 ... 维护目标:将B类
客户培养成A类客户,对不合格的B类客户打回到C类客户行列». One function per step,
``cultivation_<step>(*, ...)`` and ``b_evaluation_record``: keyword-only, transactional, the
plan re-read under a lock, ``full_clean()`` before saving, every step a history row (its reason
names the step). A refused step raises ValidationError (400) and changes nothing; a person
without the role gets PermissionDenied (403); a client out of the person's scope is a 404.

The rules (domain.md wording in the report of this feature):
* R42: only a B client gets a new plan, one open plan per client, proposed by the staff or the
  manager of the client's branch, with a goal and at least one measure.
* R43: each measure has a due date (not before the day it is set) and an owner who is an active
  person of the client's branch.
* R44: a review records the date (not in the future, not before the plan), the progress, who,
  the measures it found done and the next review date (after the review); the branch's people
  review, add measures and edit the goal and the next review date of an open plan only.
* R45: a plan ends when the client is promoted to A (已培养为A类客户) or sent back to C (已打回C类客户):
  the grading service (clients.services.client_set_grade, R7) closes it inside the grade
  change's transaction, whichever page or API made the change; the branch manager may also end
  it with a reason (已终止). A closed plan takes no further step.
* R46: each half year every B client is evaluated: promoted to A, kept as B, or sent back to C,
  always with a reason, by those who may grade (R7: group marketing, or the branch manager for
  their branch). Promoting and demoting go through the grading service, so the grading trail
  records them with that reason (and the evaluation names the grade change); keeping the grade
  writes no grade change (the trail records changes) but an evaluation row. A B client is
  evaluated once a half year through the evaluation page; a later grade change in the same
  half year is recorded as an evaluation of its own.
* R47: the half-year job lists, per branch, the B clients not yet evaluated for the current
  half year (reminding the branch managers with the count), and the half-year assessment
  counts them with the clients promoted, sent back and under cultivation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import check_in_scope, in_scope
from crm.concurrency import unique_violation
from crm.figures import HalfYear
from crm.models import BRANCH_ROLES, Role, User
from crm.services import managers_of, notify
from crm.validators import EARLIEST_DATE, LATEST_DATE

from ..models import Client, Grade, GradeChange
from .models import BEvaluation, CultivationMeasure, CultivationPlan, CultivationReview

Status = CultivationPlan.Status
Outcome = BEvaluation.Outcome

# R45: the plan's end that a grade change from B brings.
REGRADE_STATUS = {Grade.A: Status.PROMOTED, Grade.C: Status.DEMOTED}
# The history's words for a plan's end (kept in Chinese, like every change reason).
ENDINGS = {Status.PROMOTED: "已培养为A类客户", Status.DEMOTED: "已打回C类客户", Status.CLOSED: "已终止"}
# R46: the evaluation's outcome and the grade it sets.
OUTCOME_GRADE = {Outcome.PROMOTE: Grade.A, Outcome.KEEP: Grade.B, Outcome.DEMOTE: Grade.C}
GRADE_OUTCOME = {Grade.A: Outcome.PROMOTE, Grade.C: Outcome.DEMOTE}


# -- who may act ------------------------------------------------------------------------------


def _of_branch(user, client: Client, roles) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and user.role in roles
        and user.branch_id is not None
        and user.branch_id == client.branch_id
    )


def may_work_on(user, client: Client, *, memory: bool = False) -> bool:
    """R42, R44: the staff and the manager of the client's branch (in their change scope).
    ``memory``: decide the scope from the user's snapshot (a page's button), not the database."""
    if not _of_branch(user, client, BRANCH_ROLES):
        return False
    return in_scope(user, "change", client) if memory else check_in_scope(user, "change", client)


def may_close(user, client: Client) -> bool:
    """R45: the manager of the client's branch ends a plan without a grade change."""
    return _of_branch(user, client, (Role.MANAGER,)) and check_in_scope(user, "change", client)


def may_evaluate(user, client: Client) -> bool:
    """R46: whoever may grade the client (R7)."""
    from ..services import may_set_grade

    return may_set_grade(user, client)


def allowed_steps(user, plan: CultivationPlan) -> list[str]:
    """The steps ``user`` may take on ``plan`` now (the detail page's forms)."""
    if not plan.is_open:
        return []
    steps = []
    if may_work_on(user, plan.client, memory=True):
        steps += ["review", "measure", "edit"]
    if may_close(user, plan.client):
        steps.append("close")
    return steps


def _require(user, client: Client, allowed: bool, message: str) -> None:
    if not check_in_scope(user, "view", client):
        raise Http404
    if not allowed:
        raise PermissionDenied(message)


def _require_work(user, client: Client) -> None:
    _require(user, client, may_work_on(user, client), _("只有客户所属分公司的人员可以制定和评审培养计划。"))


# -- helpers ----------------------------------------------------------------------------------


def plan_url(plan: CultivationPlan) -> str:
    try:
        return reverse("clients:cultivation-detail", kwargs={"pk": plan.pk})
    except NoReverseMatch:  # pages not mounted (an API-only deployment)
        return ""


def _lock(plan: CultivationPlan) -> CultivationPlan:
    """Reload under a row lock: two people cannot take a step on the same plan at once."""
    return CultivationPlan.objects.select_for_update().select_related("client").get(pk=plan.pk)


def _require_open(plan: CultivationPlan) -> None:
    if not plan.is_open:
        raise ValidationError(
            _("培养计划已结束,不能再修改(当前状态:%(status)s)。") % {"status": plan.get_status_display()}
        )


def _save(obj, by, reason: str) -> None:
    obj._history_user = by
    obj._change_reason = reason[:100]
    obj.full_clean()
    obj.save()


def _date(value, field: str, errors: dict, *, required: bool = True) -> dt.date | None:
    if value in (None, ""):
        if required:
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


def _owner(client: Client, owner) -> User | None:
    """R43: an active person of the client's branch (staff or manager)."""
    if owner is None:
        return None
    pk = owner.pk if isinstance(owner, User) else owner
    return User.objects.filter(
        pk=pk, is_active=True, branch_id=client.branch_id, role__in=BRANCH_ROLES
    ).first()


def branch_people(client_or_branch_id):
    """Who may own a measure of a client of this branch (R43): the form's and API's choices."""
    branch_id = getattr(client_or_branch_id, "branch_id", client_or_branch_id)
    return User.objects.filter(is_active=True, branch_id=branch_id, role__in=BRANCH_ROLES).order_by(
        "full_name", "username"
    )


def _clean_measure(client: Client, data: dict, today: dt.date, errors: dict) -> dict | None:
    """R43: a measure's fields; their messages go into ``errors`` under the field's name."""
    description = (data.get("description") or "").strip()
    due_on = _date(data.get("due_on"), "due_on", errors)
    owner = _owner(client, data.get("owner"))
    if not description:
        errors["description"] = [_("请填写培养措施。")]
    if due_on is not None and due_on < today:
        errors["due_on"] = [_("完成期限不能早于今天。")]
    if owner is None:
        errors["owner"] = [_("负责人应为客户所属分公司的在职人员。")]
    if errors:
        return None
    return {"description": description, "due_on": due_on, "owner": owner}


def _add_measure(plan: CultivationPlan, cleaned: dict, by) -> CultivationMeasure:
    measure = CultivationMeasure(plan=plan, **cleaned)
    _save(measure, by, "新增培养措施")
    return measure


# -- the steps --------------------------------------------------------------------------------


@transaction.atomic
def cultivation_propose(
    *, client: Client, by: User, goal: str, measures: Iterable[dict], next_review_on=None
) -> CultivationPlan:
    """R42, R43: a plan for a B client of the proposer's branch: the goal, the measures (each
    with a due date and an owner of the branch) and the first review date. The branch's
    managers are told."""
    _require_work(by, client)
    client = Client.objects.select_for_update().get(pk=client.pk)
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    goal = (goal or "").strip()
    if not goal:
        errors["goal"] = [_("请填写培养目标。")]
    review_on = _date(next_review_on, "next_review_on", errors, required=False)
    if review_on is not None and review_on <= today:
        errors["next_review_on"] = [_("下次评审日期应晚于今天。")]
    cleaned, problems = [], []
    for number, data in enumerate(measures or [], start=1):
        if not any(data.get(k) not in (None, "") for k in ("description", "due_on", "owner")):
            continue  # an empty row of the form
        row_errors: dict[str, list[str]] = {}
        row = _clean_measure(client, data, today, row_errors)
        if row:
            cleaned.append(row)
        for messages in row_errors.values():
            problems += [_("第%(n)d项措施:%(m)s") % {"n": number, "m": m} for m in messages]
    if problems:
        errors["measures"] = problems
    elif not cleaned:
        errors["measures"] = [_("请至少填写一项培养措施。")]
    if errors:
        raise ValidationError(errors)
    if client.grade != Grade.B:
        raise ValidationError(_("只有B类客户可以制定培养计划。"))
    if CultivationPlan.objects.filter(client=client, status=Status.OPEN).exists():
        raise ValidationError(_("该客户已有进行中的培养计划。"))
    plan = CultivationPlan(
        client=client, goal=goal, proposed_by=by, proposed_at=timezone.now(), next_review_on=review_on
    )
    try:
        with transaction.atomic():
            _save(plan, by, "制定培养计划")
    except IntegrityError as error:  # a parallel proposal for the same client won (R42)
        if unique_violation(CultivationPlan, error) is None:
            raise
        raise ValidationError(_("该客户已有进行中的培养计划。")) from error
    for row in cleaned:
        _add_measure(plan, row, by)
    notify(
        recipients=[m for m in managers_of(client.branch) if m.pk != by.pk],
        verb="cultivation",
        title=lambda: (
            _("%(by)s为B类客户 %(client)s 制定了培养计划") % {"by": by.display_name, "client": client.name}
        ),
        body=goal,
        url=plan_url(plan),
        key=f"cultivation:{plan.pk}:proposed",
    )
    return plan


@transaction.atomic
def cultivation_update(*, plan: CultivationPlan, by: User, goal: str, next_review_on=None) -> CultivationPlan:
    """R44: the goal and the next review date of an open plan (the branch's people). The caller
    passes the version the edit is based on in ``plan.version`` (optimistic locking)."""
    _require_work(by, plan.client)
    _require_open(CultivationPlan.objects.get(pk=plan.pk))
    errors: dict[str, list[str]] = {}
    goal = (goal or "").strip()
    if not goal:
        errors["goal"] = [_("请填写培养目标。")]
    review_on = _date(next_review_on, "next_review_on", errors, required=False)
    if errors:
        raise ValidationError(errors)
    plan.goal = goal
    plan.next_review_on = review_on
    _save(plan, by, "修改培养计划")
    return plan


@transaction.atomic
def cultivation_measure_add(
    *, plan: CultivationPlan, by: User, description: str, due_on, owner
) -> CultivationMeasure:
    """R43: a further measure of an open plan."""
    _require_work(by, plan.client)
    plan = _lock(plan)
    _require_open(plan)
    errors: dict[str, list[str]] = {}
    cleaned = _clean_measure(
        plan.client,
        {"description": description, "due_on": due_on, "owner": owner},
        timezone.localdate(),
        errors,
    )
    if errors:
        raise ValidationError(errors)
    measure = _add_measure(plan, cleaned, by)
    _touch(plan, by, "新增培养措施:" + measure.description)
    return measure


def _touch(plan: CultivationPlan, by, reason: str) -> None:
    """A history row of the plan naming a step taken on its measures or reviews (one timeline)."""
    _save(plan, by, reason)


@transaction.atomic
def cultivation_review(
    *, plan: CultivationPlan, by: User, reviewed_on, note: str, done=(), next_review_on=None
) -> CultivationReview:
    """R44: a review of an open plan: its date, the progress, the measures found done (each
    marked done with its own history row) and the next review date."""
    _require_work(by, plan.client)
    plan = _lock(plan)
    _require_open(plan)
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    note = (note or "").strip()
    if not note:
        errors["note"] = [_("请填写进展情况。")]
    reviewed = _date(reviewed_on, "reviewed_on", errors)
    if reviewed is not None:
        if reviewed > today:
            errors["reviewed_on"] = [_("评审日期不能晚于今天。")]
        elif reviewed < timezone.localdate(plan.proposed_at):
            errors["reviewed_on"] = [_("评审日期不能早于培养计划制定的日期。")]
    following = _date(next_review_on, "next_review_on", errors, required=False)
    if following is not None and reviewed is not None and following <= reviewed:
        errors["next_review_on"] = [_("下次评审日期应晚于本次评审日期。")]
    ids = {m.pk if isinstance(m, CultivationMeasure) else m for m in (done or ())}
    measures = list(CultivationMeasure.objects.select_for_update().filter(plan=plan, pk__in=ids))
    if len(measures) != len(ids):
        errors["done"] = [_("所选措施不属于该培养计划。")]
    elif any(m.is_done for m in measures):
        errors["done"] = [_("所选措施已完成。")]
    if errors:
        raise ValidationError(errors)
    review = CultivationReview(
        plan=plan, reviewed_on=reviewed, note=note, reviewed_by=by, next_review_on=following
    )
    _save(review, by, "培养计划评审")
    now = timezone.now()
    for measure in measures:
        measure.done_at = now
        measure.done_by = by
        _save(measure, by, "评审确认措施完成")
    review.measures_done.set(measures)
    plan.next_review_on = following
    _touch(plan, by, f"培养计划评审({reviewed}):" + note)
    return review


@transaction.atomic
def cultivation_close(*, plan: CultivationPlan, by: User, reason: str) -> CultivationPlan:
    """R45: the branch manager ends an open plan without a grade change (已终止), with a reason."""
    _require(
        by, plan.client, may_close(by, plan.client), _("只有客户所属分公司的经营部负责人可以终止培养计划。")
    )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写终止培养计划的理由。")]})
    plan = _lock(plan)
    _require_open(plan)
    _end(plan, Status.CLOSED, by, reason)
    return plan


def _end(plan: CultivationPlan, status: str, by, reason: str) -> None:
    plan.status = status
    plan.closed_by = by
    plan.closed_at = timezone.now()
    plan.close_reason = reason
    _save(plan, by, f"培养计划结束({ENDINGS[status]}):" + reason)
    notify(
        recipients=[plan.proposed_by, *managers_of(plan.client.branch)],
        verb="cultivation",
        title=lambda: (
            _("培养计划已结束:%(client)s(%(status)s)")
            % {"client": plan.client.name, "status": plan.get_status_display()}
        ),
        body=reason,
        url=plan_url(plan),
        key=f"cultivation:{plan.pk}:{status}",
    )


# -- the half-year evaluation (R46) -----------------------------------------------------------


def cultivation_on_regrade(*, client: Client, change: GradeChange, by) -> BEvaluation | None:
    """R45, R46: a grade change from B to A or C (clients.services.client_set_grade, inside its
    transaction, whatever made it: the grading page, the evaluation, the API, the half-year
    re-grading) is the client's evaluation: it is recorded as one for the half year of the
    change, with the grade change's reason, and it ends the open plan (promoted or demoted)."""
    outcome = GRADE_OUTCOME.get(change.to_grade)
    if change.from_grade != Grade.B or outcome is None:
        return None
    plan = CultivationPlan.objects.select_for_update().filter(client=client, status=Status.OPEN).first()
    reason = change.reason or _("调整客户分级")
    evaluation = BEvaluation(
        client=client,
        half_year=HalfYear.containing(change.changed_at).label,
        outcome=outcome,
        reason=reason,
        evaluated_by=by,
        evaluated_at=change.changed_at,
        grade_change=change,
        plan=plan,
    )
    _save(evaluation, by, f"B类客户评价:{evaluation.get_outcome_display()}")
    if plan is not None:
        plan.client = client
        _end(plan, REGRADE_STATUS[change.to_grade], by, f"客户调整为{change.to_grade}类:{reason}")
    return evaluation


def evaluated_in(half: HalfYear):
    """The ids of clients evaluated in ``half`` (a subquery)."""
    return BEvaluation.objects.filter(half_year=half.label).values("client_id")


@transaction.atomic
def b_evaluation_record(*, client: Client, by: User, outcome: str, reason: str) -> BEvaluation:
    """R46: evaluate a B client for the current half year: promote to A, keep as B, or send
    back to C, with a reason. Promoting and demoting go through the grading service (R7), which
    records the grade change and the evaluation and ends the open plan (R45)."""
    from ..services import client_set_grade

    if not check_in_scope(by, "view", client):
        raise Http404
    if not may_evaluate(by, client):
        raise PermissionDenied(_("只有集团市场营销部或本单位经营部负责人可以评价B类客户。"))
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    if outcome not in Outcome.values:
        errors["outcome"] = [_("请选择评价结果。")]
    if not reason:
        errors["reason"] = [_("请填写评价理由。")]
    if errors:
        raise ValidationError(errors)
    client = Client.objects.select_for_update().get(pk=client.pk)
    half = HalfYear.containing(timezone.now())
    if client.grade != Grade.B:
        raise ValidationError(_("只有B类客户参加半年度评价。"))
    if BEvaluation.objects.filter(client=client, half_year=half.label).exists():
        raise ValidationError(_("该客户本半年度(%(half)s)已评价。") % {"half": half.label})
    if outcome != Outcome.KEEP:
        change = client_set_grade(client=client, grade=OUTCOME_GRADE[outcome], reason=reason, by=by)
        return BEvaluation.objects.get(grade_change=change)
    evaluation = BEvaluation(
        client=client,
        half_year=half.label,
        outcome=Outcome.KEEP,
        reason=reason,
        evaluated_by=by,
        evaluated_at=timezone.now(),
        plan=CultivationPlan.objects.filter(client=client, status=Status.OPEN).first(),
    )
    try:
        with transaction.atomic():
            _save(evaluation, by, "B类客户评价:保持B类客户")
    except IntegrityError as error:
        if unique_violation(BEvaluation, error) is None:
            raise
        raise ValidationError(_("该客户本半年度(%(half)s)已评价。") % {"half": half.label}) from error
    client._history_user = by
    client._change_reason = ("半年度评价:保持B类客户:" + reason)[:100]
    client.save(update_fields=["updated_at"])
    return evaluation


def b_not_evaluated(qs, half: HalfYear):
    """R47: the B clients of ``qs`` (already restricted) not yet evaluated for ``half``: graded
    B now, in the archive before the half year ended, with no evaluation of that half year."""
    return qs.filter(grade=Grade.B, created_at__lt=half.end).exclude(pk__in=evaluated_in(half))


def b_not_evaluated_reminders(now: dt.datetime | None = None) -> int:
    """R47: the half-year job's part: tell each branch's managers how many of their B clients
    are not yet evaluated for the current half year, with the list (once per half year and
    count; a second run sends nothing new)."""
    from crm.models import Branch

    half = HalfYear.containing(now or timezone.now())
    counts = dict(
        b_not_evaluated(Client.objects.all(), half)
        .order_by()
        .values_list("branch_id")
        .annotate(n=Count("pk"))
        .values_list("branch_id", "n")
    )
    sent = 0
    try:
        url = reverse("clients:b-evaluation-list") + f"?half_year={half.label}"
    except NoReverseMatch:
        url = ""
    for branch in Branch.objects.filter(pk__in=[b for b, n in counts.items() if n]):
        n = counts[branch.pk]
        sent += len(
            notify(
                recipients=managers_of(branch),
                verb="b_evaluation",
                title=lambda: _("%(half)s 尚有 %(n)d 家B类客户未评价") % {"half": half.label, "n": n},  # noqa: B023 (rendered at once, in each language)
                body=lambda: _("请逐一评价:培养为A类客户、保持B类客户或打回C类客户,并填写理由。"),
                url=url + f"&branch={branch.pk}" if url else "",
                key=f"b-evaluation:{half.label}:{branch.pk}:{n}",
            )
        )
    return sent
