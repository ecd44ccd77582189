"""Cross-branch access (R4, R5, R33) and client transfers: the request workflow, the grants it
writes, their revocation, and moving a client to another branch.

One function per step, ``<entity>_<action>(*, ...)``: keyword-only, transactional,
``full_clean()`` before saving, history kept by django-simple-history (with a change reason).
A refused step raises ValidationError (400) with a translated message and changes nothing; a person
without the role for the step gets PermissionDenied (403, design.md "403 missing role").

Who may act (checked here, not in the views):
* the requester files and withdraws (a branch user; not while their branch's archive query is
  suspended, R33);
* group marketing (集团市场营销部) forwards or rejects a submitted request;
* a group leader (集团领导) approves or rejects a forwarded one; approval writes guardian
  per-client ``clients.view_client`` permissions for the requester (the direct-FK table
  ClientUserObjectPermission) and an AccessGrant ending at the end of ``ends_on`` (Asia/Shanghai).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from crm.access import active_suspension, is_archive_suspended
from crm.holds import active_hold, require_no_hold
from crm.models import BRANCH_ROLES, Branch, Role, Suspension, User
from crm.services import managers_of, notify

from ..models import AccessGrant, AccessRequest, Client, ClientUserObjectPermission

Status = AccessRequest.Status
OPEN_STATUSES = (Status.SUBMITTED, Status.FORWARDED)


# -- helpers ---------------------------------------------------------------------------------


def marketing_reviewers() -> QuerySet[User]:
    """The people of group marketing, who review every request (R5)."""
    return User.objects.filter(role=Role.MARKETING, is_active=True)


def group_leaders() -> QuerySet[User]:
    return User.objects.filter(role=Role.LEADER, is_active=True)


def is_marketing(user: User) -> bool:
    return user.is_active and (user.role == Role.MARKETING or user.is_superuser)


def is_leader(user: User) -> bool:
    return user.is_active and (user.role == Role.LEADER or user.is_superuser)


def end_of_day(day: dt.date) -> dt.datetime:
    """The first instant after ``day`` in the project's time zone (Asia/Shanghai): a grant
    "until 30 June" ends at 1 July 00:00 Shanghai time."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def _url(access_request: AccessRequest) -> str:
    try:
        return reverse("clients:access-request-detail", kwargs={"pk": access_request.pk})
    except NoReverseMatch:  # pages not mounted (e.g. an API-only deployment)
        return ""


def _names(access_request: AccessRequest) -> str:
    return "、".join(c.name for c in access_request.clients.all())


def _lock(access_request: AccessRequest) -> AccessRequest:
    """Reload under a row lock: two reviewers cannot take the same step at once."""
    return AccessRequest.objects.select_for_update().get(pk=access_request.pk)


def _save(access_request: AccessRequest, reason: str) -> None:
    access_request._change_reason = reason[:100]
    access_request.full_clean()
    access_request.save()


def _require_status(access_request: AccessRequest, allowed, message: str) -> None:
    if access_request.status not in allowed:
        raise ValidationError(
            _("%(message)s(当前状态:%(status)s)")
            % {"message": message, "status": access_request.get_status_display()}
        )


def request_target_clients(user: User) -> QuerySet[Client]:
    """Clients a branch user may name in an access request: those of other branches (R5).

    Deliberately outside ``restrict``: a person cannot ask for a client they cannot name, so
    the request form searches all other branches' clients. Callers must expose only the id,
    the unit name and the owning branch of these rows (``.values("id", "name", "branch__name")``
    or ``.only(...)``), never anything else of the archive (R4)."""
    if not user.is_authenticated or not user.branch_id:
        return Client.objects.none()
    return Client.objects.exclude(branch_id=user.branch_id)


# -- the request workflow (R5) ---------------------------------------------------------------


@transaction.atomic
def access_request_create(
    *,
    requester: User,
    clients: Iterable[Client],
    reason: str,
    ends_on: dt.date,
    starts_on: dt.date | None = None,
) -> AccessRequest:
    """File a request for other branches' clients (查阅申请, R5): at most 90 days, only clients
    of other branches, not while the requester's branch has lost its archive query (R33)."""
    today = timezone.localdate()
    starts_on = starts_on or today
    clients = list({c.pk: c for c in clients}.values())
    if requester.role not in BRANCH_ROLES or not requester.branch_id:
        raise PermissionDenied(_("只有分子公司人员需要提交查阅申请;集团职能部门可直接查阅客户档案。"))
    require_no_hold(requester.branch_id, "access_request")
    suspension = active_suspension(requester, Suspension.Kind.ARCHIVE)
    if suspension is not None:
        until = timezone.localtime(suspension.ends_at).strftime("%Y-%m-%d %H:%M")
        raise ValidationError(
            _("本单位客户档案查询已暂停至 %(until)s(原因:%(reason)s),暂停期间不能提交查阅申请。")
            % {"until": until, "reason": suspension.reason}
        )
    errors: dict[str, list[str]] = {}
    if not clients:
        errors.setdefault("clients", []).append(_("请至少选择一个客户。"))
    own = [c.name for c in clients if c.branch_id == requester.branch_id]
    if own:
        errors.setdefault("clients", []).append(
            _("本单位的客户无需申请:%(names)s。") % {"names": "、".join(own)}
        )
    if not (reason or "").strip():
        errors.setdefault("reason", []).append(_("请填写申请理由。"))
    if ends_on is None:
        errors.setdefault("ends_on", []).append(_("请填写结束日期。"))
    else:
        if starts_on < today:
            errors.setdefault("starts_on", []).append(_("开始日期不能早于今天。"))
        if ends_on < starts_on:
            errors.setdefault("ends_on", []).append(_("结束日期不能早于开始日期。"))
        elif (ends_on - starts_on).days + 1 > AccessRequest.MAX_DAYS:
            errors.setdefault("ends_on", []).append(
                _("查阅期限最长 %(days)s 天。") % {"days": AccessRequest.MAX_DAYS}
            )
    if errors:
        raise ValidationError(errors)
    access_request = AccessRequest(
        requester=requester,
        branch_id=requester.branch_id,
        reason=reason.strip(),
        starts_on=starts_on,
        ends_on=ends_on,
        status=Status.SUBMITTED,
    )
    _save(access_request, "提交查阅申请")
    access_request.clients.set(clients)
    url = _url(access_request)
    names = _names(access_request)
    notify(
        recipients=[requester],
        verb="access_request",
        title=lambda: _("查阅申请 #%(pk)s 已提交,等待集团市场营销部审核") % {"pk": access_request.pk},
        body=lambda: _("申请查阅:%(names)s") % {"names": names},
        url=url,
        key=f"access-request:{access_request.pk}:submitted:requester",
    )
    notify(
        recipients=marketing_reviewers(),
        verb="access_request",
        title=lambda: (
            _("待审核:%(requester)s(%(branch)s)的查阅申请 #%(pk)s")
            % {"requester": requester.display_name, "branch": requester.branch, "pk": access_request.pk}
        ),
        body=lambda: (
            _("申请查阅:%(names)s\n期限:%(starts)s 至 %(ends)s\n理由:%(reason)s")
            % {"names": names, "starts": starts_on, "ends": ends_on, "reason": access_request.reason}
        ),
        url=url,
        key=f"access-request:{access_request.pk}:submitted",
    )
    return access_request


@transaction.atomic
def access_request_forward(*, access_request: AccessRequest, by: User, note: str = "") -> AccessRequest:
    """Group marketing has reviewed the request and passes it to the group leaders (R5)."""
    if not is_marketing(by):
        raise PermissionDenied(_("只有集团市场营销部可以审核查阅申请。"))
    access_request = _lock(access_request)
    _require_status(access_request, (Status.SUBMITTED,), _("只有待审核的申请可以提交领导审批"))
    access_request.status = Status.FORWARDED
    access_request.reviewed_by = by
    access_request.reviewed_at = timezone.now()
    access_request.review_note = (note or "").strip()
    _save(access_request, "市场营销部审核通过,提交集团领导审批")
    url = _url(access_request)
    notify(
        recipients=[access_request.requester],
        verb="access_request",
        title=lambda: _("查阅申请 #%(pk)s 已通过市场营销部审核,等待集团领导审批") % {"pk": access_request.pk},
        body=access_request.review_note,
        url=url,
        key=f"access-request:{access_request.pk}:forwarded:requester",
    )
    notify(
        recipients=group_leaders(),
        verb="access_request",
        title=lambda: (
            _("待审批:%(requester)s(%(branch)s)的查阅申请 #%(pk)s")
            % {
                "requester": access_request.requester.display_name,
                "branch": access_request.branch,
                "pk": access_request.pk,
            }
        ),
        body=lambda: (
            _("申请查阅:%(names)s\n期限至 %(ends)s\n理由:%(reason)s")
            % {
                "names": _names(access_request),
                "ends": access_request.ends_on,
                "reason": access_request.reason,
            }
            + (
                _("\n市场营销部意见:%(note)s") % {"note": access_request.review_note}
                if access_request.review_note
                else ""
            )
        ),
        url=url,
        key=f"access-request:{access_request.pk}:forwarded",
    )
    return access_request


@transaction.atomic
def access_request_reject(*, access_request: AccessRequest, by: User, reason: str) -> AccessRequest:
    """Reject with a reason: group marketing at review, or a group leader at approval (R5)."""
    access_request = _lock(access_request)
    if access_request.status == Status.SUBMITTED and not is_marketing(by):
        raise PermissionDenied(_("待审核的申请只能由集团市场营销部驳回。"))
    if access_request.status == Status.FORWARDED and not is_leader(by):
        raise PermissionDenied(_("待审批的申请只能由集团领导驳回。"))
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("请填写驳回理由。")]})
    if access_request.status == Status.SUBMITTED:
        access_request.reviewed_by = by
        access_request.reviewed_at = timezone.now()
        access_request.review_note = reason.strip()
        stage = "市场营销部"  # the history's reason: stored, in the group's language
        title = _("查阅申请 #%(pk)s 已被市场营销部驳回") % {"pk": access_request.pk}
    elif access_request.status == Status.FORWARDED:
        access_request.decided_by = by
        access_request.decided_at = timezone.now()
        access_request.decision_note = reason.strip()
        stage = "集团领导"
        title = _("查阅申请 #%(pk)s 已被集团领导驳回") % {"pk": access_request.pk}
    else:
        raise ValidationError(
            _("该申请已办结,不能驳回(当前状态:%(status)s)") % {"status": access_request.get_status_display()}
        )
    access_request.status = Status.REJECTED
    _save(access_request, f"{stage}驳回:{reason.strip()}")
    recipients = [access_request.requester]
    if stage == "集团领导":
        recipients += list(marketing_reviewers())
    notify(
        recipients=recipients,
        verb="access_request",
        title=title,
        body=lambda: _("驳回理由:%(reason)s") % {"reason": reason.strip()},
        url=_url(access_request),
        key=f"access-request:{access_request.pk}:rejected",
    )
    return access_request


@transaction.atomic
def access_request_approve(*, access_request: AccessRequest, by: User, note: str = "") -> AccessGrant:
    """A group leader approves (R5): the requester gets read access to exactly the requested
    clients until the end of ``ends_on``. Per-client guardian permissions plus an AccessGrant;
    ``restrict`` honours the pair only while the grant is active. Held while the requester's
    branch owes submissions (R33)."""
    if not is_leader(by):
        raise PermissionDenied(_("只有集团领导可以审批查阅申请。"))
    access_request = _lock(access_request)
    _require_status(access_request, (Status.FORWARDED,), _("只有已通过市场营销部审核的申请可以审批"))
    require_no_hold(access_request.branch_id, "access_approval")
    now = timezone.now()
    ends_at = end_of_day(access_request.ends_on)
    if ends_at <= now:
        raise ValidationError(_("申请的查阅期限已过,不能批准。"))
    starts_at = max(now, timezone.make_aware(dt.datetime.combine(access_request.starts_on, dt.time.min)))
    access_request.status = Status.APPROVED
    access_request.decided_by = by
    access_request.decided_at = now
    access_request.decision_note = (note or "").strip()
    _save(access_request, "集团领导批准")
    clients = list(access_request.clients.all())
    grant = AccessGrant(
        request=access_request, user=access_request.requester, starts_at=starts_at, ends_at=ends_at
    )
    grant._change_reason = "批准查阅申请"
    grant.full_clean()
    grant.save()
    grant.clients.set(clients)
    for client in clients:
        assign_perm("clients.view_client", access_request.requester, client)
    url = _url(access_request)
    until = timezone.localtime(ends_at - dt.timedelta(seconds=1)).strftime("%Y-%m-%d")
    notify(
        recipients=[access_request.requester],
        verb="access_grant",
        title=lambda: (
            _("查阅申请 #%(pk)s 已批准,可查阅至 %(until)s") % {"pk": access_request.pk, "until": until}
        ),
        body=lambda: _("授权客户:%(names)s") % {"names": _names(access_request)},
        url=url,
        key=f"access-request:{access_request.pk}:approved:requester",
    )
    notify(
        recipients=marketing_reviewers(),
        verb="access_request",
        title=lambda: _("查阅申请 #%(pk)s 已获集团领导批准") % {"pk": access_request.pk},
        body=lambda: (
            _("%(requester)s(%(branch)s)可查阅至 %(until)s")
            % {
                "requester": access_request.requester.display_name,
                "branch": access_request.branch,
                "until": until,
            }
        ),
        url=url,
        key=f"access-request:{access_request.pk}:approved",
    )
    return grant


@transaction.atomic
def access_request_withdraw(*, access_request: AccessRequest, by: User) -> AccessRequest:
    """The requester takes back a request that is still open."""
    access_request = _lock(access_request)
    if access_request.requester_id != by.pk:
        raise PermissionDenied(_("只有申请人本人可以撤回申请。"))
    _require_status(access_request, OPEN_STATUSES, _("只有审核、审批中的申请可以撤回"))
    was_forwarded = access_request.status == Status.FORWARDED
    access_request.status = Status.WITHDRAWN
    _save(access_request, "申请人撤回")
    recipients = list(marketing_reviewers()) + (list(group_leaders()) if was_forwarded else [])
    notify(
        recipients=recipients,
        verb="access_request",
        title=lambda: _("查阅申请 #%(pk)s 已由申请人撤回") % {"pk": access_request.pk},
        url=_url(access_request),
        key=f"access-request:{access_request.pk}:withdrawn",
    )
    return access_request


def allowed_steps(user: User, access_request: AccessRequest) -> list[str]:
    """The steps ``user`` may take on the request now (for buttons; the services re-check)."""
    steps = []
    if access_request.status == Status.SUBMITTED and is_marketing(user):
        steps += ["forward", "reject"]
    if access_request.status == Status.FORWARDED and is_leader(user):
        # A held branch's request can be rejected, not approved (R33, crm.holds).
        steps += ["reject"] if active_hold(access_request.branch_id) else ["approve", "reject"]
    if access_request.status in OPEN_STATUSES and access_request.requester_id == user.pk:
        steps.append("withdraw")
    return steps


# -- grants ----------------------------------------------------------------------------------


@transaction.atomic
def grant_revoke_expired(*, now: dt.datetime | None = None) -> int:
    """Remove the per-client permissions of grants that have ended and mark them revoked (R5).
    Idempotent: a second run finds nothing. A permission another still-active grant of the same
    user covers is kept. ``restrict`` already ignores ended grants, so a late run leaks nothing.
    Returns the number of grants revoked."""
    now = now or timezone.now()
    ended = list(
        AccessGrant.objects.select_for_update(skip_locked=True)
        .filter(revoked_at__isnull=True, ends_at__lte=now)
        .select_related("request")
    )
    for grant in ended:
        client_ids = set(grant.clients.values_list("pk", flat=True))
        still = set(
            AccessGrant.objects.filter(
                user_id=grant.user_id, revoked_at__isnull=True, starts_at__lte=now, ends_at__gt=now
            )
            .exclude(pk=grant.pk)
            .values_list("clients", flat=True)
        )
        ClientUserObjectPermission.objects.filter(
            user_id=grant.user_id,
            permission__codename="view_client",
            content_object_id__in=client_ids - still,
        ).delete()
        grant.revoked_at = now
        grant._change_reason = "查阅期限届满,自动收回"
        grant.save(update_fields=["revoked_at", "updated_at"])
        notify(
            recipients=[grant.user],
            verb="access_grant",
            title=lambda: _("查阅申请 #%(pk)s 的查阅授权已到期收回") % {"pk": grant.request_id},  # noqa: B023 (rendered at once, in each language)
            url=_url(grant.request),
            key=f"access-grant:{grant.pk}:revoked",
        )
    return len(ended)


def grants_of(user: User) -> QuerySet[AccessGrant]:
    """The user's own grants, newest first ("my grants")."""
    return AccessGrant.objects.filter(user=user).select_related("request").prefetch_related("clients")


def grant_paused(user: User) -> bool:
    """Grants are paused while the user's branch has lost its archive query (R33)."""
    return is_archive_suspended(user)


# -- transfers -------------------------------------------------------------------------------


@transaction.atomic
def client_transfer(
    *, client: Client, to_branch: Branch, by: User, reason: str, owner: User | None = None
) -> Client:
    """Move a client to another branch (group marketing only, R1/R3). Access follows the branch
    row: no permission row is rewritten, the old branch loses and the new one gains the client
    at once. The client's projects stay with the branches that carry them out. The project
    department is cleared (it belonged to the old branch); a new account owner may be named,
    who must belong to the new branch."""
    if not is_marketing(by):
        raise PermissionDenied(_("只有集团市场营销部可以转移客户。"))
    client = Client.objects.select_for_update().get(pk=client.pk)
    errors: dict[str, list[str]] = {}
    if to_branch is None or to_branch.pk == client.branch_id:
        errors["to_branch"] = [_("请选择另一个分子公司。")]
    elif not to_branch.is_active:
        errors["to_branch"] = [_("该分子公司已停用。")]
    if not (reason or "").strip():
        errors["reason"] = [_("请填写转移原因。")]
    if owner is not None and to_branch is not None and owner.branch_id != to_branch.pk:
        errors["owner"] = [_("客户经理必须是转入单位的人员。")]
    if errors:
        raise ValidationError(errors)
    from_branch = client.branch
    client.branch = to_branch
    client.department = None
    if owner is not None:
        client.owner = owner
    client._change_reason = f"由{from_branch}转移至{to_branch}:{reason.strip()}"[:100]
    client.full_clean()
    client.save()
    try:
        url = reverse("clients:client-detail", kwargs={"pk": client.pk})
    except NoReverseMatch:
        url = ""
    notify(
        recipients=list(managers_of(from_branch)) + list(managers_of(to_branch)) + [client.owner],
        verb="client_transfer",
        title=lambda: (
            _("客户“%(client)s”已由%(from)s转移至%(to)s")
            % {"client": client.name, "from": from_branch, "to": to_branch}
        ),
        body=lambda: (
            _("转移原因:%(reason)s\n经办:%(by)s") % {"reason": reason.strip(), "by": by.display_name}
        ),
        url=url,
    )
    return client


def transfer_history(client_ids=None):
    """Past transfers, read from the client history (for the transfers page)."""
    qs = Client.history.filter(
        Q(history_change_reason__startswith="由") & Q(history_change_reason__contains="转移至")
    )
    if client_ids is not None:
        qs = qs.filter(id__in=client_ids)
    return qs
