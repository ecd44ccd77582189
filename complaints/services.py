"""The complaint workflow (R14-R18). One function per step, ``complaint_<step>(*, ...)``:
keyword-only, transactional, ``full_clean()`` before saving. An illegal step raises
ValidationError with a message in the user's language (gettext) and changes nothing (the
transaction rolls back). Notifications and timeline notes are written in the language active
when they are made (the default, Chinese, in the periodic jobs).

Who may act: the current owner (首问负责制, R15), a manager of the complaint's branch, or
group marketing; everyone else in scope may read but not work the complaint."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from clients.models import Client, Project
from crm.access import check_in_scope
from crm.calendar import add_working_days, add_working_hours
from crm.models import Role, StaleVersion, User
from crm.services import managers_of, notify

from .models import (
    OPEN_STATUSES,
    UNSATISFIED,
    Complaint,
    DeadlinePolicy,
    Event,
    Finding,
    HandOver,
    Kind,
    ReturnVisit,
    Severity,
    Status,
)

# -- deadlines (R16) -------------------------------------------------------------------------


def acknowledge_deadline(received_at: dt.datetime, severity: str, policy: DeadlinePolicy | None = None):
    """Urgent: N minutes of clock time after logging (default 10); otherwise N working hours
    (default 4) on the mainland working-day calendar. Returns ``(at, provisional)``."""
    policy = policy or DeadlinePolicy.current()
    if severity == Severity.URGENT:
        return received_at + dt.timedelta(minutes=policy.acknowledge_urgent_minutes), False
    deadline = add_working_hours(received_at, policy.acknowledge_working_hours)
    return deadline.at, deadline.provisional


def resolve_deadline(start: dt.datetime, severity: str, policy: DeadlinePolicy | None = None):
    """The resolution deadline: N working days by severity (R16), counted from ``start``."""
    policy = policy or DeadlinePolicy.current()
    deadline = add_working_days(start, policy.resolve_days(severity))
    return deadline.at, deadline.provisional


def _set_deadlines(complaint: Complaint, start: dt.datetime, *, acknowledge: bool = True) -> None:
    policy = DeadlinePolicy.current()
    provisional = False
    if acknowledge:
        complaint.acknowledge_due_at, provisional = acknowledge_deadline(start, complaint.severity, policy)
    complaint.resolve_due_at, resolve_provisional = resolve_deadline(start, complaint.severity, policy)
    complaint.due_provisional = provisional or resolve_provisional


# -- helpers ---------------------------------------------------------------------------------


def _event(
    complaint: Complaint, kind: str, *, by: User | None, note: str = "", from_status: str = "", at=None
):
    event = Event(
        complaint=complaint,
        kind=kind,
        by=by,
        note=note,
        at=at or timezone.now(),
        from_status=from_status,
        to_status=complaint.status,
    )
    event.full_clean()
    event.save()
    return event


def _lock(complaint: Complaint) -> Complaint:
    """Reload the row under a lock, so two people cannot take the same step at once."""
    return (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("client", "project")
        .get(pk=complaint.pk)
    )


def is_branch_manager(user: User, complaint: Complaint) -> bool:
    return user.role == Role.MANAGER and user.branch_id == complaint.client.branch_id


def may_work(user: User, complaint: Complaint) -> bool:
    """R15: the owner works the complaint; the branch's manager and group marketing may step in."""
    if not check_in_scope(user, "change", complaint):
        return False
    return (
        complaint.owner_id == user.pk
        or is_branch_manager(user, complaint)
        or user.role == Role.MARKETING
        or user.is_superuser
    )


def _require(user: User, complaint: Complaint) -> None:
    if not may_work(user, complaint):
        raise ValidationError(
            _("只有当前负责人(%(owner)s)、本分公司经营部负责人或集团市场营销部可以办理此投诉。")
            % {"owner": complaint.owner}
        )


def _require_status(complaint: Complaint, allowed, step: str) -> None:
    if complaint.status not in allowed:
        raise ValidationError(
            _("投诉当前状态为“%(status)s”,不能%(step)s。")
            % {"status": complaint.get_status_display(), "step": step},
            code="illegal_step",
        )


def complaint_url(complaint: Complaint) -> str:
    return reverse("complaints:complaint-detail", kwargs={"pk": complaint.pk})


def allowed_steps(user: User, complaint: Complaint) -> list[str]:
    """The steps the page offers this user now (buttons); the services still decide."""
    if not may_work(user, complaint):
        return []
    steps = []
    status = complaint.status
    if status == Status.RECEIVED:
        steps.append("acknowledge")
    if status == Status.ACKNOWLEDGED:
        steps.append("investigate")
    if status == Status.INVESTIGATING:
        steps.append("resolve")
    pending = next_return_visit(complaint)
    if status in (Status.RESOLVED, Status.RETURN_VISIT) and pending is not None and pending.is_open:
        steps.append("return_visit")
    if status == Status.RETURN_VISIT and not closing_blockers(complaint):
        steps.append("close")
    if status != Status.CLOSED:
        steps.append("hand_over")
    if status in (Status.RESOLVED, Status.RETURN_VISIT, Status.CLOSED):
        steps.append("reopen")
    return steps


def next_return_visit(complaint: Complaint) -> ReturnVisit | None:
    """The next return visit to record (R18), from the prefetched visits."""
    pending = [v for v in complaint.return_visits.all() if not v.is_done]
    return min(pending, key=lambda v: v.sequence) if pending else None


def _opens_message(visit: ReturnVisit) -> str:
    return _("第%(n)s次回访(确认整改效果)将于 %(opens)s 起可登记(期限 %(due)s)。") % {
        "n": visit.sequence,
        "opens": f"{timezone.localtime(visit.opens_at):%Y-%m-%d}",
        "due": f"{timezone.localtime(visit.due_at):%Y-%m-%d}",
    }


def closing_blockers(complaint: Complaint) -> list[str]:
    """What still stands between a resolved complaint and its closing (R17, R18), in words for
    the complaint page; empty when it may be closed (or is not at that stage)."""
    if complaint.status not in (Status.RESOLVED, Status.RETURN_VISIT):
        return []
    blockers = []
    pending = next_return_visit(complaint)
    if pending is not None:
        if pending.is_open:
            blockers.append(
                _("待登记第%(n)s次回访(期限 %(due)s)。")
                % {"n": pending.sequence, "due": f"{timezone.localtime(pending.due_at):%Y-%m-%d %H:%M}"}
            )
        else:
            blockers.append(_opens_message(pending))
        return blockers
    done = [v for v in complaint.return_visits.all() if v.is_done]
    last = max(done, key=lambda v: v.sequence) if done else None
    if complaint.finding == Finding.OUR_FAULT and last and last.satisfaction in UNSATISFIED:
        blockers.append(_("客户对处理仍不满意,请重新处理并跟踪至客户满意后再关闭。"))
    return blockers


def hand_over_candidates(complaint: Complaint):
    """R15: a named, active person of the complaint's branch, or of group marketing."""
    from django.db.models import Q

    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(branch_id=complaint.client.branch_id, role__in=(Role.STAFF, Role.MANAGER))
            | Q(role=Role.MARKETING)
        )
        .exclude(pk=complaint.owner_id)
        .order_by("branch__sort_order", "role", "username")
    )


# -- steps -------------------------------------------------------------------------------------


@transaction.atomic
def complaint_receive(
    *,
    by: User,
    client: Client,
    category: str,
    content: str,
    title: str = "",
    kind: str = Kind.DIRECT,
    contractor: str = "",
    channel: str = "phone",
    severity: str = Severity.NORMAL,
    motive: str = "unknown",
    project: Project | None = None,
    department=None,
    complainant: str = "",
    complainant_phone: str = "",
    received_at: dt.datetime | None = None,
) -> Complaint:
    """Log a complaint (R14). The person who receives it owns it (首问负责制, R15) and the
    deadlines start at the moment it was received (R16)."""
    received_at = received_at or timezone.now()
    if not title:
        title = (content or "").strip().splitlines()[0][:60] if (content or "").strip() else ""
    complaint = Complaint(
        kind=kind,
        contractor=contractor.strip(),
        channel=channel,
        category=category,
        severity=severity,
        motive=motive,
        client=client,
        project=project,
        department=department or (project.department if project else None),
        complainant=complainant,
        complainant_phone=complainant_phone,
        title=title,
        content=content,
        received_by=by,
        received_at=received_at,
        owner=by,
        status=Status.RECEIVED,
    )
    _validate_facts(complaint)
    _set_deadlines(complaint, received_at)
    complaint.full_clean()
    complaint.save()
    if not check_in_scope(by, "add", complaint):
        raise ValidationError(_("无权为该客户登记投诉。"))
    _event(complaint, Event.Kind.RECEIVED, by=by, at=received_at, note=complaint.get_kind_display())
    return complaint


def _validate_facts(complaint: Complaint) -> None:
    errors = {}
    if complaint.kind == Kind.INDIRECT and not complaint.contractor:
        errors["contractor"] = _("间接投诉须填写转达投诉的施工单位。")
    if complaint.kind == Kind.DIRECT and complaint.contractor:
        complaint.contractor = ""
    if complaint.project_id and complaint.project.client_id != complaint.client_id:
        errors["project"] = _("所选项目不属于该客户。")
    if (
        complaint.department_id
        and complaint.department.branch_id != complaint.client.branch_id
        and not (complaint.project_id and complaint.project.branch_id == complaint.department.branch_id)
    ):
        errors["department"] = _("项目经理部不属于该客户或项目所在的分公司。")
    if errors:
        raise ValidationError(errors)


EDITABLE = ("kind", "contractor", "channel", "category", "severity", "motive", "project", "department",
            "complainant", "complainant_phone", "title", "content")  # fmt: skip


@transaction.atomic
def complaint_update(*, complaint: Complaint, by: User, **changes) -> Complaint:
    """Correct the facts of a complaint (R14). A new severity re-times the open deadlines.
    Refused (StaleVersion) when the complaint is no longer at the version the caller read:
    an edit page opened before a workflow step or another edit (crm.models.Versioned)."""
    based_on = complaint.version
    complaint = _lock(complaint)
    if complaint.version != based_on:
        raise StaleVersion(complaint, based_on)
    _require(by, complaint)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError(_("不能修改:%(fields)s") % {"fields": "、".join(sorted(unknown))})
    old_severity = complaint.severity
    changed = []
    for field, value in changes.items():
        if getattr(complaint, field) != value:
            setattr(complaint, field, value)
            changed.append(str(Complaint._meta.get_field(field).verbose_name))
    if not changed:
        return complaint
    _validate_facts(complaint)
    if complaint.severity != old_severity and complaint.is_open:
        _set_deadlines(complaint, complaint.received_at, acknowledge=complaint.status == Status.RECEIVED)
    complaint.full_clean()
    complaint.save()
    _event(
        complaint,
        Event.Kind.UPDATED,
        by=by,
        note=_("修改了:%(fields)s") % {"fields": "、".join(changed)},
        from_status=complaint.status,
    )
    return complaint


@transaction.atomic
def complaint_acknowledge(*, complaint: Complaint, by: User, note: str = "") -> Complaint:
    """received -> acknowledged (R16): the owner confirms the complaint is taken up."""
    complaint = _lock(complaint)
    _require(by, complaint)
    _require_status(complaint, (Status.RECEIVED,), pgettext("refused complaint step", "确认"))
    complaint.status = Status.ACKNOWLEDGED
    complaint.acknowledged_at = timezone.now()
    complaint.full_clean()
    complaint.save()
    _event(complaint, Event.Kind.ACKNOWLEDGED, by=by, note=note, from_status=Status.RECEIVED)
    return complaint


@transaction.atomic
def complaint_hand_over(*, complaint: Complaint, by: User, to: User, reason: str) -> Complaint:
    """R15: the owner stays responsible until the complaint is formally handed to a named
    person of the same branch (or group marketing); every hand-over is recorded."""
    complaint = _lock(complaint)
    _require(by, complaint)
    if complaint.status == Status.CLOSED:
        raise ValidationError(_("投诉已关闭,不能移交。"))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写移交原因。")})
    if to is None or to.pk == complaint.owner_id:
        raise ValidationError({"to": _("请选择当前负责人以外的具体接收人。")})
    if not hand_over_candidates(complaint).filter(pk=to.pk).exists():
        raise ValidationError({"to": _("只能移交给本分公司的在职人员或集团市场营销部。")})
    previous = complaint.owner
    complaint.owner = to
    complaint.full_clean()
    complaint.save()
    handover = HandOver(complaint=complaint, from_user=previous, to_user=to, by=by, reason=reason.strip())
    handover.full_clean()
    handover.save()
    _event(
        complaint,
        Event.Kind.HANDED_OVER,
        by=by,
        note=f"{previous} → {to}:{reason.strip()}",
        from_status=complaint.status,
    )
    notify(
        recipients=[to],
        verb="complaint",
        title=lambda: _("投诉 %(code)s 已移交给您") % {"code": complaint.code},
        body=lambda: (
            _("%(client)s:%(title)s。移交人:%(by)s;原因:%(reason)s")
            % {"client": complaint.client, "title": complaint.title, "by": by, "reason": reason.strip()}
        ),
        url=complaint_url(complaint),
        key=f"complaint:{complaint.pk}:handover:{handover.pk}",
    )
    return complaint


@transaction.atomic
def complaint_investigate(*, complaint: Complaint, by: User, note: str = "") -> Complaint:
    """acknowledged -> investigating (R16)."""
    complaint = _lock(complaint)
    _require(by, complaint)
    _require_status(
        complaint, (Status.ACKNOWLEDGED,), pgettext("refused complaint step", "开始调查(须先确认)")
    )
    complaint.status = Status.INVESTIGATING
    complaint.investigating_at = timezone.now()
    complaint.full_clean()
    complaint.save()
    _event(complaint, Event.Kind.INVESTIGATING, by=by, note=note, from_status=Status.ACKNOWLEDGED)
    return complaint


@transaction.atomic
def complaint_resolve(
    *, complaint: Complaint, by: User, finding: str, resolution: str, is_unreasonable: bool = False
) -> Complaint:
    """investigating -> resolved (R16, R17). A finding is required: our fault (with the
    corrective action) or the client's own error (with the explanation given); only the
    latter may be marked unreasonable, which counts towards grade C (R7). The return visits
    of R18 become due: the first within 24 hours, a second within two months for key projects."""
    complaint = _lock(complaint)
    _require(by, complaint)
    _require_status(complaint, (Status.INVESTIGATING,), pgettext("refused complaint step", "办结(须先调查)"))
    errors = {}
    if finding not in Finding.values:
        errors["finding"] = _("请选择调查结论:我方责任或客户自身原因。")
    if not (resolution or "").strip():
        errors["resolution"] = (
            _("请填写向客户所作的解释说明。") if finding == Finding.CLIENT_ERROR else _("请填写纠正措施。")
        )
    if is_unreasonable and finding != Finding.CLIENT_ERROR:
        errors["is_unreasonable"] = _("只有客户自身原因的投诉才能标记为无理投诉。")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    complaint.status = Status.RESOLVED
    complaint.finding = finding
    complaint.resolution = resolution.strip()
    complaint.is_unreasonable = bool(is_unreasonable)
    complaint.resolved_at = now
    complaint.full_clean()
    complaint.save()
    policy = DeadlinePolicy.current()
    # Visits not yet made (a reopened complaint) are replaced by the new ones.
    complaint.return_visits.filter(visited_at__isnull=True).delete()
    done = complaint.return_visits.filter(visited_at__isnull=False).count()
    visits = [
        ReturnVisit(complaint=complaint, sequence=done + n, due_at=due)
        for n, due in enumerate(policy.return_visit_dues(now, key_project=complaint.needs_second_visit), 1)
    ]
    for visit in visits:
        visit.full_clean()
        visit.save()
    note = f"{complaint.get_finding_display()}:{complaint.resolution}"
    if complaint.is_unreasonable:
        note += _("(无理投诉)")
    _event(complaint, Event.Kind.RESOLVED, by=by, note=note, from_status=Status.INVESTIGATING)
    return complaint


def check_visit_record(
    *,
    satisfaction: str,
    visited_at: dt.datetime,
    done_at: dt.datetime | None,
    satisfaction_message: str,
    done_message: str,
) -> None:
    """R18, shared by complaints and warranty repairs (R98): a return visit records the
    client's satisfaction, and was made after the work it asks about (the resolution, the
    repair's closing) and not in the future."""
    from .models import Satisfaction

    errors = {}
    if satisfaction not in Satisfaction.values:
        errors["satisfaction"] = satisfaction_message
    if done_at and visited_at < done_at:
        errors["visited_at"] = done_message
    if visited_at > timezone.now() + dt.timedelta(minutes=5):
        errors["visited_at"] = _("回访时间不能晚于现在。")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def complaint_return_visit(
    *,
    complaint: Complaint,
    by: User,
    satisfaction: str,
    notes: str = "",
    method: str = ReturnVisit.Method.PHONE,
    contact_name: str = "",
    effect_confirmed: bool = False,
    visited_at: dt.datetime | None = None,
) -> ReturnVisit:
    """Record the next due return visit (R18) with the client's satisfaction with the handling;
    the complaint moves to return_visit."""
    complaint = _lock(complaint)
    _require(by, complaint)
    _require_status(
        complaint,
        (Status.RESOLVED, Status.RETURN_VISIT),
        pgettext("refused complaint step", "登记回访(须先办结)"),
    )
    visit = complaint.return_visits.filter(visited_at__isnull=True).order_by("sequence").first()
    if visit is None:
        raise ValidationError(_("该投诉没有待完成的回访。"))
    if not visit.is_open:
        # R18: the second visit confirms the effect; it is not recorded before its window opens.
        raise ValidationError(_opens_message(visit), code="return_visit_not_due")
    visited_at = visited_at or timezone.now()
    check_visit_record(
        satisfaction=satisfaction,
        visited_at=visited_at,
        done_at=complaint.resolved_at,
        satisfaction_message=_("请选择客户对处理的满意度。"),
        done_message=_("回访时间不能早于处理完成时间。"),
    )
    visit.visited_at = visited_at
    visit.visited_by = by
    visit.satisfaction = satisfaction
    visit.notes = (notes or "").strip()
    visit.method = method
    visit.contact_name = contact_name
    visit.effect_confirmed = bool(effect_confirmed)
    visit.full_clean()
    visit.save()
    previous = complaint.status
    complaint.status = Status.RETURN_VISIT
    complaint.full_clean()
    complaint.save()
    _event(
        complaint,
        Event.Kind.RETURN_VISIT,
        by=by,
        note=(
            _("第%(n)s次回访,客户%(satisfaction)s。")
            % {"n": visit.sequence, "satisfaction": visit.get_satisfaction_display()}
            + visit.notes
        ).strip(),
        from_status=previous,
    )
    return visit


@transaction.atomic
def complaint_close(*, complaint: Complaint, by: User, note: str = "") -> Complaint:
    """return_visit -> closed (R18): only after every due return visit is made; a complaint
    found our fault stays open while the client is unsatisfied (R17: follow up until satisfied)."""
    complaint = _lock(complaint)
    _require(by, complaint)
    if complaint.status in (Status.RESOLVED,) or (
        complaint.status == Status.RETURN_VISIT
        and complaint.return_visits.filter(visited_at__isnull=True).exists()
    ):
        pending = complaint.return_visits.filter(visited_at__isnull=True).order_by("sequence").first()
        if pending:
            raise ValidationError(
                _("尚未完成回访,不能关闭投诉(第%(n)s次回访期限 %(due)s)。")
                % {"n": pending.sequence, "due": f"{timezone.localtime(pending.due_at):%Y-%m-%d %H:%M}"}
            )
        raise ValidationError(_("尚未完成回访,不能关闭投诉。"))
    _require_status(complaint, (Status.RETURN_VISIT,), pgettext("refused complaint step", "关闭"))
    last = complaint.return_visits.filter(visited_at__isnull=False).order_by("-sequence").first()
    if complaint.finding == Finding.OUR_FAULT and last and last.satisfaction in UNSATISFIED:
        raise ValidationError(_("客户对处理仍不满意,请重新处理并跟踪至客户满意后再关闭。"))
    complaint.status = Status.CLOSED
    complaint.closed_at = timezone.now()
    complaint.full_clean()
    complaint.save()
    _event(complaint, Event.Kind.CLOSED, by=by, note=note, from_status=Status.RETURN_VISIT)
    return complaint


@transaction.atomic
def complaint_reopen(*, complaint: Complaint, by: User, reason: str) -> Complaint:
    """Back to investigating (R16), e.g. when the client is not satisfied at the return visit.
    The resolution deadline starts again; the breach flags are cleared so that a new breach
    is reported; visits not yet made are dropped (resolving again makes new ones)."""
    complaint = _lock(complaint)
    _require(by, complaint)
    _require_status(
        complaint,
        (Status.RESOLVED, Status.RETURN_VISIT, Status.CLOSED),
        pgettext("refused complaint step", "重新处理"),
    )
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写重新处理的原因。")})
    previous = complaint.status
    now = timezone.now()
    complaint.status = Status.INVESTIGATING
    complaint.reopen_count += 1
    complaint.resolved_at = None
    complaint.closed_at = None
    complaint.resolve_breached_at = None
    complaint.investigating_at = now
    complaint.acknowledged_at = complaint.acknowledged_at or now
    _set_deadlines(complaint, now, acknowledge=False)
    complaint.full_clean()
    complaint.save()
    complaint.return_visits.filter(visited_at__isnull=True).delete()
    _event(complaint, Event.Kind.REOPENED, by=by, note=reason.strip(), from_status=previous)
    return complaint


# -- the periodic job (R16, R18) ----------------------------------------------------------------


def _when(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def _breach_recipients(complaint: Complaint):
    return [complaint.owner, *managers_of(complaint.client.branch)]


@transaction.atomic
def complaints_flag_overdue(*, now: dt.datetime | None = None) -> dict:
    """Flag complaints past a deadline and tell the owner and the branch's managers once per
    breach (R16); remind owners of due return visits and flag overdue ones (R18).
    Idempotent: flags are set once and every notification carries a key."""
    now = now or timezone.now()
    counts = {"acknowledge": 0, "resolve": 0, "visits_due": 0, "visits_overdue": 0}
    base = Complaint.objects.select_related("client__branch", "owner").select_for_update(of=("self",))

    for complaint in base.filter(
        status=Status.RECEIVED, acknowledge_due_at__lt=now, acknowledge_breached_at__isnull=True
    ):
        complaint.acknowledge_breached_at = now
        complaint.save(update_fields=["acknowledge_breached_at", "updated_at"])
        _event(complaint, Event.Kind.ACK_BREACH, by=None, at=now, from_status=complaint.status,
               note=_("确认期限 %(due)s") % {"due": _when(complaint.acknowledge_due_at)})  # fmt: skip
        notify(
            recipients=_breach_recipients(complaint),
            verb="complaint_overdue",
            title=lambda: _("投诉 %(code)s 超过确认期限") % {"code": complaint.code},  # noqa: B023 (rendered at once, in each language)
            body=lambda: (
                _("%(client)s:%(title)s。负责人:%(owner)s,确认期限 %(due)s。")
                % {
                    "client": complaint.client,  # noqa: B023 (rendered at once, in each language)
                    "title": complaint.title,  # noqa: B023 (rendered at once, in each language)
                    "owner": complaint.owner,  # noqa: B023 (rendered at once, in each language)
                    "due": _when(complaint.acknowledge_due_at),  # noqa: B023 (rendered at once, in each language)
                }
            ),
            url=complaint_url(complaint),
            key=f"complaint:{complaint.pk}:ack-breach",
        )
        counts["acknowledge"] += 1

    for complaint in base.filter(
        status__in=OPEN_STATUSES, resolve_due_at__lt=now, resolve_breached_at__isnull=True
    ):
        complaint.resolve_breached_at = now
        complaint.save(update_fields=["resolve_breached_at", "updated_at"])
        _event(complaint, Event.Kind.RESOLVE_BREACH, by=None, at=now, from_status=complaint.status,
               note=_("处理期限 %(due)s") % {"due": _when(complaint.resolve_due_at)})  # fmt: skip
        notify(
            recipients=_breach_recipients(complaint),
            verb="complaint_overdue",
            title=lambda: _("投诉 %(code)s 超过处理期限") % {"code": complaint.code},  # noqa: B023 (rendered at once, in each language)
            body=lambda: (
                _("%(client)s:%(title)s。负责人:%(owner)s,处理期限 %(due)s。")
                % {
                    "client": complaint.client,  # noqa: B023 (rendered at once, in each language)
                    "title": complaint.title,  # noqa: B023 (rendered at once, in each language)
                    "owner": complaint.owner,  # noqa: B023 (rendered at once, in each language)
                    "due": _when(complaint.resolve_due_at),  # noqa: B023 (rendered at once, in each language)
                }
            ),
            url=complaint_url(complaint),
            key=f"complaint:{complaint.pk}:resolve-breach:{complaint.reopen_count}",
        )
        counts["resolve"] += 1

    policy = DeadlinePolicy.current()
    pending = ReturnVisit.objects.filter(
        visited_at__isnull=True, complaint__status__in=(Status.RESOLVED, Status.RETURN_VISIT)
    ).select_related("complaint__client__branch", "complaint__owner")
    for visit in pending.filter(due_at__lte=now + dt.timedelta(days=policy.visit_reminder_days)):
        complaint = visit.complaint
        made = notify(
            recipients=[complaint.owner],
            verb="return_visit_due",
            title=lambda: (
                _("投诉 %(code)s 第%(n)s次回访待完成") % {"code": complaint.code, "n": visit.sequence}  # noqa: B023 (rendered at once, in each language)
            ),
            body=lambda: (
                _("%(client)s:请于 %(due)s 前完成回访。")
                % {"client": complaint.client, "due": _when(visit.due_at)}  # noqa: B023 (rendered at once, in each language)
            ),
            url=complaint_url(complaint),
            key=f"return-visit:{visit.pk}:due",
        )
        counts["visits_due"] += len(made)
    for visit in pending.filter(due_at__lt=now, breached_at__isnull=True):
        complaint = visit.complaint
        visit.breached_at = now
        visit.save(update_fields=["breached_at", "updated_at"])
        _event(complaint, Event.Kind.VISIT_BREACH, by=None, at=now, from_status=complaint.status,
               note=_("第%(n)s次回访期限 %(due)s") % {"n": visit.sequence, "due": _when(visit.due_at)})  # fmt: skip
        notify(
            recipients=_breach_recipients(complaint),
            verb="complaint_overdue",
            title=lambda: (
                _("投诉 %(code)s 第%(n)s次回访超期") % {"code": complaint.code, "n": visit.sequence}  # noqa: B023 (rendered at once, in each language)
            ),
            body=lambda: (
                _("%(client)s:回访期限 %(due)s。") % {"client": complaint.client, "due": _when(visit.due_at)}  # noqa: B023 (rendered at once, in each language)
            ),
            url=complaint_url(complaint),
            key=f"return-visit:{visit.pk}:overdue",
        )
        counts["visits_overdue"] += 1
    return counts
