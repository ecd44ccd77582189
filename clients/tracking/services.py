"""The weekly tracking check of client needs (跟踪检查, seed 003; R71-R73).

Seed 003, 五、客户需求跟踪与监控: «定期对需求处理进度进行跟踪检查,及时发现问题并协调解决。» and
«每周对需求处理进度进行一次跟踪检查,及时更新跟踪台账。»

* R71: each week, for each branch, one check (``NeedCheck``) as of the week's checkpoint (09:00
  on its first working day, clients.tracking.weeks): the needs of the branch's clients that were
  open then and past a checkpoint: the response overdue (not answered by its R11 deadline), or
  open for ``CRM_NEED_CHECK_OPEN_DAYS`` (10) full working days (clients.tracking.selectors says
  why ten). The findings are computed from the needs' own times as of the checkpoint, never as of
  the moment the job happens to run: a run late in the week, a second run or a catch-up of a
  missed week finds the same needs. One check per (branch, week); a missed week is made by the
  next run (at most ``CATCH_UP_WEEKS`` back from the branch's last check; a branch's first check
  is of the latest due week only); a week without a working day has none; a week whose
  checkpoint has not come is never checked.
* R72: each owner of a finding is told once per check, with their list; the branch's managers get
  a summary. A week caught up after a later week's check was due is recorded without notices:
  the later check lists every need still open.
* R73: the branch manager records the 协调解决 of each finding; every change is kept in history.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from crm.access import SYSTEM, check_in_scope, in_scope
from crm.calendar import WorkingDays
from crm.models import Branch, Role, StaleVersion, User
from crm.services import managers_of, notify

from ..models import Need
from .models import NeedCheck, NeedCheckFinding
from .selectors import Clock, open_days_standard
from .weeks import Week, last_due_week

logger = logging.getLogger(__name__)

# R71: how many weeks back a run makes the checks a branch missed.
CATCH_UP_WEEKS = 8
# R72: the most needs a notice lists (the rest are on the check's page).
NOTICE_LINES = 20


def check_url(check: NeedCheck, **query) -> str:
    try:
        url = reverse("clients:need-check-detail", kwargs={"pk": check.pk})
    except NoReverseMatch:  # pages not mounted (an API-only deployment)
        return ""
    if query:
        from urllib.parse import urlencode

        url += "?" + urlencode(query)
    return url


# -- R71: what a check finds -------------------------------------------------------------------


def open_at(branch_id: int, as_of: dt.datetime):
    """The needs of the branch's clients that were recorded, received and not closed at
    ``as_of`` (a merge closes the duplicate, R51), read as the system (the whole branch)."""
    return (
        Need.objects.restrict(SYSTEM, "view")
        .filter(client__branch_id=branch_id, received_at__lte=as_of, created_at__lte=as_of)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gt=as_of))
        .exclude(status__in=Need.CLOSED, closed_at__isnull=True)
    )


def _as_it_stood(needs: list[Need], as_of: dt.datetime) -> dict[int, object]:
    """Each need's last history row at or before ``as_of`` (its status and owner then), one
    query; a need without one (bulk-loaded later than it was received) stands as it is now."""
    rows = (
        Need.history.filter(id__in=[n.pk for n in needs], history_date__lte=as_of)
        .order_by("id", "history_date", "history_id")
        .values("id", "status", "owner_id")
    )
    return {row["id"]: row for row in rows}


def findings_at(branch_id: int, as_of: dt.datetime, *, standard: int | None = None) -> tuple[int, list[dict]]:
    """R71: (how many needs were open at ``as_of``, the findings as unsaved field dicts)."""
    clock = Clock(as_of, standard=standard)
    base = open_at(branch_id, as_of)
    late_response = Q(response_due_at__lt=as_of) & (Q(responded_at__isnull=True) | Q(responded_at__gt=as_of))
    found = list(
        base.filter(late_response | Q(received_at__lt=clock.threshold()))
        .select_related("client")
        .order_by("owner_id", "received_at", "pk")
    )
    then = _as_it_stood(found, as_of)
    rows = []
    for need in found:
        stood = then.get(need.pk, {})
        status = stood.get("status") or need.status
        if status in Need.CLOSED:  # closed now; open then: as far as the times tell
            status = (
                Need.Status.IN_PROGRESS if need.responded_at and need.responded_at <= as_of else "received"
            )
        responded = need.responded_at if need.responded_at and need.responded_at <= as_of else None
        rows.append(
            {
                "need": need,
                "client_name": need.client.name[:200],
                "description": need.description[:200],
                "owner_id": stood.get("owner_id") or need.owner_id,
                "urgency": need.urgency,
                "status": status,
                "received_at": need.received_at,
                "response_due_at": need.response_due_at,
                "responded_at": responded,
                "response_overdue": responded is None and need.response_due_at < as_of,
                "open_too_long": clock.too_long(need.received_at),
                "working_days_open": clock.working_days_open(need.received_at),
            }
        )
    return base.count(), rows


# -- R71: making the checks --------------------------------------------------------------------


def weeks_due(branch: Branch, now: dt.datetime, calendar: WorkingDays | None = None) -> list[Week]:
    """The weeks whose check of ``branch`` is due at ``now`` and not made, oldest first."""
    latest = last_due_week(now, calendar)
    last_made = (
        NeedCheck.objects.filter(branch=branch)
        .order_by("-week_start")
        .values_list("week_start", flat=True)
        .first()
    )
    if last_made is None:
        return [latest]
    weeks, week = [], latest
    while week.monday > last_made and len(weeks) < CATCH_UP_WEEKS:
        if week.checkpoint(calendar) is not None:
            weeks.append(week)
        week = week.previous()
    return weeks[::-1]


@transaction.atomic
def need_check_make(
    *, branch: Branch, week: Week, now: dt.datetime | None = None, caught_up: bool = False
) -> tuple[NeedCheck, bool]:
    """R71: the check of ``branch`` for ``week``, made once: (the check, whether made now). The
    branch row is locked, so two runs at once make one check; the second finds it."""
    now = now or timezone.now()
    as_of = week.checkpoint()
    if as_of is None:
        raise ValidationError(_("%(week)s 没有工作日,不做需求跟踪检查。") % {"week": week.label})
    if as_of > now:
        raise ValidationError(
            _("%(week)s 的跟踪检查时点(%(at)s)未到。")
            % {"week": week.label, "at": timezone.localtime(as_of).strftime("%Y-%m-%d %H:%M")}
        )
    Branch.objects.select_for_update().get(pk=branch.pk)
    existing = NeedCheck.objects.filter(branch=branch, week_start=week.monday).first()
    if existing is not None:
        return existing, False
    standard = open_days_standard()
    open_count, rows = findings_at(branch.pk, as_of, standard=standard)
    check = NeedCheck(
        branch=branch,
        week=week.label,
        week_start=week.monday,
        as_of=as_of,
        made_at=now,
        caught_up=caught_up,
        open_count=open_count,
        open_days=standard,
    )
    check._change_reason = "每周需求跟踪检查(补做)" if caught_up else "每周需求跟踪检查"
    check.full_clean()
    check.save()
    findings = [NeedCheckFinding(need_check=check, **row) for row in rows]
    for finding in findings:
        finding.full_clean(exclude=["need_check", "need", "owner"])
    bulk_create_with_history(findings, NeedCheckFinding, default_change_reason="跟踪检查发现")
    return check, True


def need_checks_catch_up(*, branch: Branch, now: dt.datetime | None = None) -> list[NeedCheck]:
    """R71, R72: the weekly job's part for one branch: every check due and not made, oldest
    first (the latest due week's notified, the earlier ones recorded as caught up); a run that
    finds the latest due week's check made notifies what it has not (a run that stopped between
    making and notifying). Idempotent. Returns the checks made now."""
    now = now or timezone.now()
    calendar = WorkingDays(
        timezone.localdate(now) - dt.timedelta(days=7 * (CATCH_UP_WEEKS + 2)), timezone.localdate(now)
    )
    latest = last_due_week(now, calendar)
    made = []
    for week in weeks_due(branch, now, calendar):
        check, created = need_check_make(branch=branch, week=week, now=now, caught_up=week != latest)
        if created:
            made.append(check)
    current = NeedCheck.objects.filter(branch=branch, week_start=latest.monday, caught_up=False).first()
    if current is not None and current.notified_at is None:
        need_check_notify(check=current)
    return made


# -- R72: notices ------------------------------------------------------------------------------


def _line(finding: NeedCheckFinding) -> str:
    reasons = []
    if finding.response_overdue:
        reasons.append("响应逾期")
    if finding.open_too_long:
        reasons.append(f"已办理{finding.working_days_open}个工作日")
    return f"· {finding.client_name}:{finding.description[:40]}({'、'.join(reasons)})"


@transaction.atomic
def need_check_notify(*, check: NeedCheck) -> int:
    """R72: each owner of a finding once, with their list; the branch's managers a summary.
    Notice keys carry the check, so a second call sends nothing. Returns the notices made."""
    findings = list(check.findings.select_related("owner").order_by("owner_id", "received_at", "pk"))
    made = 0
    with translation.override("zh-hans"):  # a job's notices are in the group's own words
        by_owner: dict[int, list[NeedCheckFinding]] = {}
        for finding in findings:
            by_owner.setdefault(finding.owner_id, []).append(finding)
        for own in by_owner.values():
            owner = own[0].owner
            if not owner.is_active:
                continue
            lines = [_line(f) for f in own[:NOTICE_LINES]]
            if len(own) > NOTICE_LINES:
                lines.append(f"…… 共 {len(own)} 条,见跟踪检查页面。")
            made += len(
                notify(
                    recipients=[owner],
                    verb="need_check",
                    title=f"{check.week} 需求跟踪检查:您负责的 {len(own)} 条需求需跟进",
                    body="\n".join(lines),
                    url=check_url(check, owner=owner.pk),
                    key=f"need-check:{check.pk}:owner",
                )
            )
        if findings:
            summary = [
                f"· {own[0].owner.display_name}:{len(own)} 条"
                + ("" if own[0].owner.is_active else "(负责人已停用,请重新指定)")
                for own in by_owner.values()
            ]
            overdue = sum(1 for f in findings if f.response_overdue)
            too_long = sum(1 for f in findings if f.open_too_long)
            made += len(
                notify(
                    recipients=list(managers_of(check.branch)),
                    verb="need_check_summary",
                    title=f"{check.branch} {check.week} 需求跟踪检查:{len(findings)} 条需协调解决",
                    body=(
                        f"在办需求 {check.open_count} 条,其中响应逾期 {overdue} 条,"
                        f"办理超过 {check.open_days} 个工作日 {too_long} 条。\n" + "\n".join(summary)
                    ),
                    url=check_url(check),
                    key=f"need-check:{check.pk}:summary",
                )
            )
    NeedCheck.objects.filter(pk=check.pk, notified_at__isnull=True).update(notified_at=timezone.now())
    return made


# -- R73: 协调解决 ------------------------------------------------------------------------------


def _is_branch_manager(user, branch_id: int) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and getattr(user, "role", None) == Role.MANAGER
        and user.branch_id is not None
        and user.branch_id == branch_id
    )


def may_remark(user, check: NeedCheck) -> bool:
    """R73: the manager (分公司经营部负责人) of the check's branch, from the user's snapshot (a
    page's forms). Group marketing and leaders read every branch's checks; coordinating the
    branch's handling is the branch manager's."""
    return _is_branch_manager(user, check.branch_id) and in_scope(user, "change", check)


@transaction.atomic
def need_check_remark(
    *, finding: NeedCheckFinding, by: User, remark: str, expected_version: int | None = None
) -> NeedCheckFinding:
    """R73: record (or revise) the 协调解决 of a finding: what was found out and agreed, with who
    and when; the history keeps every version. Out of scope: 404; not the branch's manager: 403;
    an empty remark or one based on a stale version (409 in the API) writes nothing."""
    if not check_in_scope(by, "view", finding):
        raise Http404
    locked = (
        NeedCheckFinding.objects.select_for_update()
        .select_related("need_check", "need_check__branch")
        .get(pk=finding.pk)
    )
    if not _is_branch_manager(by, locked.need_check.branch_id) or not check_in_scope(by, "change", locked):
        raise PermissionDenied(_("只有本分公司经营部负责人可以记录协调解决情况。"))
    remark = (remark or "").strip()
    if not remark:
        raise ValidationError({"remark": [_("请填写协调解决情况。")]})
    if expected_version is not None and expected_version != locked.version:
        raise StaleVersion(locked, expected_version)
    if remark == locked.remark:
        return locked
    locked.remark = remark
    locked.remarked_by = by
    locked.remarked_at = timezone.now()
    locked._history_user = by
    locked._change_reason = f"协调解决:{remark}"[:100]
    locked.full_clean()
    locked.save()
    return locked


def findings_visible(user, check: NeedCheck):
    """The findings of a check ``user`` may read the need of (R4, R33: the ids read again
    through ``restrict``; a need deleted since is shown by its snapshot to the check's readers)."""
    visible = Need.objects.restrict(user, "view").values("pk")
    return (
        NeedCheckFinding.objects.restrict(user, "view")
        .filter(need_check=check)
        .filter(Q(need__isnull=True) | Q(need__in=visible))
        .select_related("owner", "need", "remarked_by")
    )
