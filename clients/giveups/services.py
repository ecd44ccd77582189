"""Giving up on a C client (放弃跟踪, seed 001; R37-R40): the proposal, its confirmation or
rejection, resuming tracking, and the end a grade change to A or B brings.

Seed 001, on C clients: «对于信誉低、企业自身存在问题的企业必要时放弃接触、跟踪;对于观察期内有培养
成为A、B类级别的客户,可以加强营销力度». One function per step, ``giveup_<step>(*, ...)``:
keyword-only, transactional, the row re-read under a lock, ``full_clean()`` before saving, the
history kept by django-simple-history with the step as its change reason, on the give-up row and
on the client (its 跟踪状态), as access requests keep theirs. A refused step raises
ValidationError (400) and changes nothing; a person without the role for the step gets
PermissionDenied (403); a client out of the person's scope is a 404.

Who may act (checked here, not in the views):
* propose: the staff and the manager of the client's branch, on a client in their change scope;
* confirm, reject, resume: the manager (分公司经营部负责人) of the client's branch. Group
  marketing reads every branch's give-ups but takes no step: it is the branch's call which of
  its C clients it stops pursuing; group marketing's lever is the grade (R7), and a grade of
  A or B ends a give-up (R39).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import check_in_scope, in_scope
from crm.concurrency import unique_violation
from crm.models import BRANCH_ROLES, Role, User
from crm.services import managers_of, notify

from ..models import Client, GiveUp, Grade, Tracking, VisitPlan

Status = GiveUp.Status
Reason = GiveUp.Reason

# R38: confirming a give-up for one of these reasons records the matching fact of the grading
# (R7's C criteria «信誉差、企业自身存在问题»), so that the archive says why and the suggestion
# keeps saying C.
REASON_FACTS = {Reason.POOR_REPUTATION: "poor_reputation", Reason.COMPANY_PROBLEMS: "company_problems"}


# -- who may act ------------------------------------------------------------------------------


def _of_branch(user, client: Client, roles) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and user.role in roles
        and user.branch_id is not None
        and user.branch_id == client.branch_id
    )


def may_propose(user, client: Client, *, memory: bool = False) -> bool:
    """R37: the staff and manager of the client's branch (in their change scope). ``memory``:
    decide the scope from the user's snapshot without a query (a page's button), not from the
    database inside a write's transaction."""
    if not _of_branch(user, client, BRANCH_ROLES):
        return False
    return in_scope(user, "change", client) if memory else check_in_scope(user, "change", client)


def may_decide(user, client: Client) -> bool:
    """R37, R39: the manager of the client's branch confirms, rejects and resumes."""
    return _of_branch(user, client, (Role.MANAGER,)) and check_in_scope(user, "change", client)


def allowed_steps(user, give_up: GiveUp) -> list[str]:
    """The steps ``user`` may take on ``give_up`` now (the detail page's buttons)."""
    if not may_decide(user, give_up.client):
        return []
    if give_up.status == Status.PROPOSED:
        return ["confirm", "reject"]
    if give_up.status == Status.GIVEN_UP:
        return ["resume"]
    return []


def _require_propose(user, client: Client) -> None:
    if not check_in_scope(user, "view", client):
        raise Http404
    if not may_propose(user, client):
        raise PermissionDenied(_("只有客户所属分公司的人员可以提议放弃跟踪。"))


def _require_decide(user, client: Client) -> None:
    if not check_in_scope(user, "view", client):
        raise Http404
    if not may_decide(user, client):
        raise PermissionDenied(_("只有客户所属分公司的经营部负责人可以确认、驳回放弃跟踪或恢复跟踪。"))


# -- helpers ----------------------------------------------------------------------------------


def _url(give_up: GiveUp) -> str:
    try:
        return reverse("clients:give-up-detail", kwargs={"pk": give_up.pk})
    except NoReverseMatch:  # pages not mounted (an API-only deployment)
        return ""


def _lock(give_up: GiveUp) -> GiveUp:
    """Reload under a row lock: two managers cannot take a step on the same proposal at once;
    the second finds the first one's state and is refused (the API answers it 409)."""
    return GiveUp.objects.select_for_update().select_related("client", "proposed_by").get(pk=give_up.pk)


def _require_status(give_up: GiveUp, allowed, message: str) -> None:
    if give_up.status not in allowed:
        raise ValidationError(
            _("%(message)s(当前状态:%(status)s)")
            % {"message": message, "status": give_up.get_status_display()}
        )


def _save(give_up: GiveUp, by, reason: str) -> None:
    give_up._history_user = by
    give_up._change_reason = reason[:100]
    give_up.full_clean()
    give_up.save()


def _set_tracking(client: Client, tracking: str, *, by, reason: str, fields=()) -> None:
    """The client's 跟踪状态 (and ``fields`` changed with it), with a history row of the client
    naming the step (R40: the client's own history keeps it too)."""
    client.tracking = tracking
    client._history_user = by
    client._change_reason = reason[:100]
    client.save(update_fields=["tracking", "updated_at", *fields])


def _reasons(give_up: GiveUp) -> str:
    text = give_up.get_reason_display()
    return f"{text}:{give_up.note}" if give_up.note else str(text)


# -- the steps --------------------------------------------------------------------------------


@transaction.atomic
def giveup_propose(*, client: Client, by: User, reason: str, note: str = "") -> GiveUp:
    """R37: propose giving up a C client, with a reason (a note is needed for 其他). The client is
    marked 拟放弃跟踪 and the branch's managers are told; nothing else changes until one confirms."""
    _require_propose(by, client)
    client = Client.objects.select_for_update().get(pk=client.pk)
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if reason not in Reason.values:
        errors["reason"] = [_("请选择放弃跟踪的原因。")]
    elif reason == Reason.OTHER and not note:
        errors["note"] = [_("原因为“其他”时请填写情况说明。")]
    if errors:
        raise ValidationError(errors)
    if client.grade != Grade.C:
        raise ValidationError(_("只有C类客户可以放弃跟踪;A、B类客户应继续维护。"))
    if client.tracking == Tracking.GIVEN_UP:
        raise ValidationError(_("该客户已放弃跟踪。"))
    if (
        client.tracking == Tracking.PROPOSED
        or GiveUp.objects.filter(client=client, status__in=GiveUp.OPEN).exists()
    ):
        raise ValidationError(_("该客户已有待确认的放弃跟踪提议。"))
    give_up = GiveUp(
        client=client,
        reason=reason,
        note=note,
        status=Status.PROPOSED,
        proposed_by=by,
        proposed_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            _save(give_up, by, "提议放弃跟踪:" + _reasons(give_up))
    except IntegrityError as error:  # a parallel proposal of the same client won (R37)
        mapped = unique_violation(GiveUp, error)
        if mapped is None:
            raise
        raise ValidationError(_("该客户已有待确认的放弃跟踪提议。")) from error
    _set_tracking(client, Tracking.PROPOSED, by=by, reason="提议放弃跟踪")
    notify(
        recipients=[m for m in managers_of(client.branch) if m.pk != by.pk],
        verb="give_up",
        title=lambda: (
            _("待确认:%(by)s提议放弃跟踪 %(client)s") % {"by": by.display_name, "client": client.name}
        ),
        body=lambda: _("原因:%(reason)s") % {"reason": _reasons(give_up)},
        url=_url(give_up),
        key=f"give-up:{give_up.pk}:proposed",
    )
    return give_up


@transaction.atomic
def giveup_confirm(*, give_up: GiveUp, by: User, note: str = "") -> GiveUp:
    """R37, R38: the branch manager confirms. The client is given up: its active visit plan ends
    (no overdue visit can follow), its observation mark is cleared, and the fact behind the reason
    (信誉低, 企业自身存在问题) is recorded among its grading facts; each change is in its history."""
    _require_decide(by, give_up.client)
    give_up = _lock(give_up)
    _require_status(give_up, (Status.PROPOSED,), _("只有待确认的提议可以确认"))
    client = Client.objects.select_for_update().get(pk=give_up.client_id)
    if client.grade != Grade.C:
        raise ValidationError(_("只有C类客户可以放弃跟踪;A、B类客户应继续维护。"))
    give_up.status = Status.GIVEN_UP
    give_up.decided_by = by
    give_up.decided_at = timezone.now()
    give_up.decision_note = (note or "").strip()
    _save(give_up, by, "经营部负责人确认放弃跟踪")
    fields = []
    if client.under_observation:
        client.under_observation = False
        fields.append("under_observation")
    fact = REASON_FACTS.get(give_up.reason)
    if fact and not getattr(client, fact):
        setattr(client, fact, True)
        fields.append(fact)
    _set_tracking(client, Tracking.GIVEN_UP, by=by, reason="确认放弃跟踪:" + _reasons(give_up), fields=fields)
    plan = VisitPlan.objects.select_for_update().filter(client=client, is_active=True).first()
    if plan is not None:
        plan.is_active = False
        plan._history_user = by
        plan._change_reason = "客户已放弃跟踪,拜访计划终止"
        plan.save()
    notify(
        recipients=[give_up.proposed_by, client.owner],
        verb="give_up",
        title=lambda: _("已确认放弃跟踪:%(client)s") % {"client": client.name},
        body=give_up.decision_note,
        url=_url(give_up),
        key=f"give-up:{give_up.pk}:confirmed",
    )
    return give_up


@transaction.atomic
def giveup_reject(*, give_up: GiveUp, by: User, reason: str) -> GiveUp:
    """R37: the branch manager rejects a proposal, with a reason; the client is tracked as before."""
    _require_decide(by, give_up.client)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写驳回理由。")]})
    give_up = _lock(give_up)
    _require_status(give_up, (Status.PROPOSED,), _("只有待确认的提议可以驳回"))
    give_up.status = Status.REJECTED
    give_up.decided_by = by
    give_up.decided_at = timezone.now()
    give_up.decision_note = reason
    _save(give_up, by, "经营部负责人驳回放弃跟踪:" + reason)
    client = Client.objects.select_for_update().get(pk=give_up.client_id)
    _set_tracking(client, Tracking.ACTIVE, by=by, reason="驳回放弃跟踪提议")
    notify(
        recipients=[give_up.proposed_by],
        verb="give_up",
        title=lambda: _("放弃跟踪提议已驳回:%(client)s") % {"client": client.name},
        body=reason,
        url=_url(give_up),
        key=f"give-up:{give_up.pk}:rejected",
    )
    return give_up


@transaction.atomic
def giveup_resume(*, give_up: GiveUp, by: User, reason: str) -> GiveUp:
    """R39: the branch manager resumes tracking of a given-up client, with a reason. Its flags and
    lists apply again from now; a visit plan, if wanted, is made again (R13)."""
    _require_decide(by, give_up.client)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写恢复跟踪的理由。")]})
    give_up = _lock(give_up)
    _require_status(give_up, (Status.GIVEN_UP,), _("只有已放弃跟踪的客户可以恢复跟踪"))
    give_up.status = Status.RESUMED
    give_up.ended_by = by
    give_up.ended_at = timezone.now()
    give_up.end_reason = reason
    _save(give_up, by, "恢复跟踪:" + reason)
    client = Client.objects.select_for_update().get(pk=give_up.client_id)
    _set_tracking(client, Tracking.ACTIVE, by=by, reason="恢复跟踪:" + reason)
    notify(
        recipients=[give_up.proposed_by, client.owner],
        verb="give_up",
        title=lambda: _("已恢复跟踪:%(client)s") % {"client": client.name},
        body=reason,
        url=_url(give_up),
        key=f"give-up:{give_up.pk}:resumed",
    )
    return give_up


def giveup_end_on_regrade(*, client: Client, by) -> GiveUp | None:
    """R39: a grade change to A or B (clients.services.client_set_grade, inside its transaction)
    ends the client's open proposal or give-up: the grade is the group's judgement of the client
    (R7), and a client being raised to A or B is being cultivated, which seed 001 opposes to giving
    up («观察期内有培养成为A、B类级别的客户,可以加强营销力度»). Refusing the grade change instead would
    let a branch's give-up block group marketing's re-grading (R31). The end is recorded on the
    give-up and on the client, and the proposer and the branch's managers are told. Returns the
    give-up it ended, or None."""
    if client.grade == Grade.C:
        return None
    give_up = (
        GiveUp.objects.select_for_update()
        .select_related("proposed_by")
        .filter(client=client, status__in=GiveUp.OPEN)
        .first()
    )
    if give_up is None and client.tracking == Tracking.ACTIVE:
        return None
    reason = f"客户调整为{client.grade}类,放弃跟踪自动结束"
    if give_up is not None:
        give_up.status = Status.REGRADED
        give_up.ended_by = by
        give_up.ended_at = timezone.now()
        give_up.end_reason = reason
        _save(give_up, by, reason)
    client.tracking = Tracking.ACTIVE
    client._history_user = by
    client._change_reason = reason
    client.save(update_fields=["tracking", "updated_at"])
    if give_up is not None:
        notify(
            recipients=[give_up.proposed_by, *managers_of(client.branch)],
            verb="give_up",
            title=lambda: (
                _("客户已调整为%(grade)s类,放弃跟踪自动结束:%(client)s")
                % {"grade": client.grade, "client": client.name}
            ),
            body=lambda: _("请按新的分级维护该客户。"),
            url=_url(give_up),
            key=f"give-up:{give_up.pk}:regraded",
        )
    return give_up
