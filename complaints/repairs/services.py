"""The warranty repair workflow (报修, seed 002; R94-R101). One function per step,
``repair_<step>(*, ...)``: keyword-only, transactional, ``full_clean()`` before saving, every
step recorded in the repair's timeline (and in its history). A refused step raises
ValidationError with a message in the user's language and changes nothing.

Seed 002: «建立一种对客户唯一的接入端口前台,负责接报修及投诉,进行整顿分析后进行分类转单,并进行过程的
监督直至问题的关闭。规定前台在接报后10分钟之内填写有关报修表格同步转至维修组 ... 在维修关闭后的24小时内
必须进行第一次回访,并运用有关表格记录客户对于维修的满意度 ... 对于重点工程规定前台在维修结束后的2个月内
进行第二次回访工作,以拟定维修工作的效果».

Who may act: everyone who may change the project's records (its branch's staff and manager,
group marketing); ``at`` (the moment of a step, default now) lets the demo data replay a year
and is never in the future."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from clients.models import Project
from crm.access import check_in_scope
from crm.models import StaleVersion, User

from .. import services as complaint_services
from ..models import Channel, Complaint, DeadlinePolicy, Motive, ReturnVisit, Severity
from .models import BuildingPart, RepairEvent, RepairRequest, RepairStatus, RepairVisit

S = RepairStatus


def repair_url(repair: RepairRequest) -> str:
    return reverse("complaints:repair-detail", kwargs={"pk": repair.pk})


def _now(at: dt.datetime | None) -> dt.datetime:
    now = timezone.now()
    if at is None:
        return now
    if at > now + dt.timedelta(minutes=5):
        raise ValidationError(_("时间不能晚于现在。"))
    return at


def _event(repair: RepairRequest, kind: str, *, by: User | None, at, note: str = "", from_status: str = ""):
    event = RepairEvent(
        repair=repair, kind=kind, by=by, at=at, note=note, from_status=from_status, to_status=repair.status
    )
    event.full_clean()
    event.save()
    return event


def _lock(repair: RepairRequest) -> RepairRequest:
    """Reload the row under a lock, so two people cannot take the same step at once."""
    return (
        RepairRequest.objects.select_for_update(of=("self",))
        .select_related("project__client", "project__branch")
        .get(pk=repair.pk)
    )


def may_work(user: User, repair: RepairRequest) -> bool:
    """R100: the project's branch (staff and manager) and group marketing work its repairs;
    group leaders and auditors read them."""
    return check_in_scope(user, "change", repair)


def _require(user: User, repair: RepairRequest) -> None:
    if not may_work(user, repair):
        raise ValidationError(_("只有该项目所在分公司的人员或集团市场营销部可以办理此报修。"))


def _require_status(repair: RepairRequest, allowed, step: str) -> None:
    if repair.status not in allowed:
        raise ValidationError(
            _("报修当前状态为“%(status)s”,不能%(step)s。")
            % {"status": repair.get_status_display(), "step": step},
            code="illegal_step",
        )


def _not_before(moment: dt.datetime, earlier: dt.datetime | None, message: str) -> None:
    if earlier and moment < earlier:
        raise ValidationError(message)


def next_visit(repair: RepairRequest) -> RepairVisit | None:
    """The next return visit to record (R98), from the prefetched visits."""
    pending = [v for v in repair.visits.all() if not v.is_done]
    return min(pending, key=lambda v: v.sequence) if pending else None


def offers_complaint(repair: RepairRequest) -> bool:
    """R101: a repeated repair of one problem, or an unsatisfied return visit, offers to open a
    complaint linked to the repair (once)."""
    if repair.complaint_id:
        return False
    return repair.reopen_count > 0 or any(v.is_unsatisfied for v in repair.visits.all())


def allowed_steps(user: User, repair: RepairRequest) -> list[str]:
    """The steps the page offers this user now (buttons); the services still decide."""
    if not may_work(user, repair):
        return []
    steps = {
        S.RECEIVED: ["register"],
        S.REGISTERED: ["dispatch"],
        S.DISPATCHED: ["complete"],
        S.REPAIRED: ["close", "reopen"],
        S.CLOSED: ["reopen"],
    }[repair.status][:]
    pending = next_visit(repair)
    if repair.status == S.CLOSED and pending is not None and pending.is_open:
        steps.insert(0, "return_visit")
    if offers_complaint(repair) and check_in_scope(user, "add", repair):
        steps.append("complaint")
    return steps


# -- steps -------------------------------------------------------------------------------------

FACTS = ("reporter", "reporter_phone", "channel", "part", "location", "title", "description")


def _validate(repair: RepairRequest) -> None:
    errors = {}
    if not repair.location.strip():
        errors["location"] = _("请填写具体位置(楼栋、单元、房号或区域)。")
    if repair.part not in BuildingPart.values:
        errors["part"] = _("请选择报修部位。")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def repair_receive(
    *,
    by: User,
    project: Project,
    reporter: str,
    part: str,
    location: str,
    description: str,
    title: str = "",
    reporter_phone: str = "",
    channel: str = Channel.PHONE,
    received_at: dt.datetime | None = None,
) -> RepairRequest:
    """The front desk receives a repair request (R94, R95): who reported what and where on
    which project. The 10 minutes to register its form start at the receipt; a report after
    the project's warranty (or on a project without one) is paid service."""
    received_at = _now(received_at)
    description = (description or "").strip()
    if not title:
        title = description.splitlines()[0][:60] if description else ""
    policy = DeadlinePolicy.current()
    repair = RepairRequest(
        project=project,
        reporter=(reporter or "").strip(),
        reporter_phone=(reporter_phone or "").strip(),
        channel=channel,
        part=part,
        location=(location or "").strip(),
        title=title,
        description=description,
        received_at=received_at,
        received_by=by,
        register_due_at=received_at + dt.timedelta(minutes=policy.repair_register_minutes),
        is_paid=not project.under_warranty(timezone.localtime(received_at).date()),
        status=S.RECEIVED,
    )
    _validate(repair)
    repair.full_clean()
    repair.save()
    if not check_in_scope(by, "add", repair):
        raise ValidationError(_("无权为该项目登记报修。"))
    note = _("有偿维修(不在保修期内)") if repair.is_paid else _("保修期内")
    _event(repair, RepairEvent.Kind.RECEIVED, by=by, at=received_at, note=note)
    return repair


@transaction.atomic
def repair_update(*, repair: RepairRequest, by: User, **changes) -> RepairRequest:
    """Correct the facts of a repair (R96). Refused (StaleVersion, 409) when the repair is no
    longer at the version the caller read (an edit page opened before a step or another edit)."""
    based_on = repair.version
    repair = _lock(repair)
    if repair.version != based_on:
        raise StaleVersion(repair, based_on)
    _require(by, repair)
    unknown = set(changes) - set(FACTS)
    if unknown:
        raise ValidationError(_("不能修改:%(fields)s") % {"fields": "、".join(sorted(unknown))})
    if repair.status == S.CLOSED:
        raise ValidationError(_("报修已关闭,不能修改。"))
    changed = []
    for field, value in changes.items():
        value = value.strip() if isinstance(value, str) else value
        if getattr(repair, field) != value:
            setattr(repair, field, value)
            changed.append(str(RepairRequest._meta.get_field(field).verbose_name))
    if not changed:
        return repair
    _validate(repair)
    repair.full_clean()
    repair.save()
    _event(
        repair,
        RepairEvent.Kind.UPDATED,
        by=by,
        at=timezone.now(),
        note=_("修改了:%(fields)s") % {"fields": "、".join(changed)},
        from_status=repair.status,
    )
    return repair


@transaction.atomic
def repair_register(*, repair: RepairRequest, by: User, note: str = "", at=None) -> RepairRequest:
    """received -> registered (R95): the front desk has filled the repair form (报修表格);
    the moment is kept and measured against the 10 minutes after the receipt."""
    at = _now(at)
    repair = _lock(repair)
    _require(by, repair)
    _require_status(repair, (S.RECEIVED,), pgettext("refused repair step", "登记"))
    _not_before(at, repair.received_at, _("登记时间不能早于接报时间。"))
    repair.status = S.REGISTERED
    repair.registered_at = at
    repair.registered_by = by
    repair.full_clean()
    repair.save()
    late = at > repair.register_due_at
    text = _("超过10分钟登记时限") if late else _("10分钟内登记")
    _event(
        repair,
        RepairEvent.Kind.REGISTERED,
        by=by,
        at=at,
        note=f"{text} {note}".strip(),
        from_status=S.RECEIVED,
    )
    return repair


@transaction.atomic
def repair_dispatch(*, repair: RepairRequest, by: User, team: str, note: str = "", at=None) -> RepairRequest:
    """registered -> dispatched (R96): the form goes to a named repair team (转至维修组)."""
    at = _now(at)
    repair = _lock(repair)
    _require(by, repair)
    _require_status(repair, (S.REGISTERED,), pgettext("refused repair step", "转维修组(须先登记)"))
    if not (team or "").strip():
        raise ValidationError({"team": _("请填写维修组。")})
    _not_before(at, repair.registered_at, _("转单时间不能早于登记时间。"))
    repair.status = S.DISPATCHED
    repair.team = team.strip()
    repair.dispatched_at = at
    repair.full_clean()
    repair.save()
    _event(repair, RepairEvent.Kind.DISPATCHED, by=by, at=at, note=f"{repair.team} {note}".strip(),
           from_status=S.REGISTERED)  # fmt: skip
    return repair


@transaction.atomic
def repair_complete(*, repair: RepairRequest, by: User, repair_note: str, at=None) -> RepairRequest:
    """dispatched -> repaired (R96): the team reports what it did."""
    at = _now(at)
    repair = _lock(repair)
    _require(by, repair)
    _require_status(repair, (S.DISPATCHED,), pgettext("refused repair step", "登记维修完成(须先转维修组)"))
    if not (repair_note or "").strip():
        raise ValidationError({"repair_note": _("请填写维修情况。")})
    _not_before(at, repair.dispatched_at, _("维修完成时间不能早于转单时间。"))
    repair.status = S.REPAIRED
    repair.repaired_at = at
    repair.repair_note = repair_note.strip()
    repair.full_clean()
    repair.save()
    _event(repair, RepairEvent.Kind.REPAIRED, by=by, at=at, note=repair.repair_note, from_status=S.DISPATCHED)
    return repair


@transaction.atomic
def repair_close(*, repair: RepairRequest, by: User, note: str = "", at=None) -> RepairRequest:
    """repaired -> closed (R96, R98): the repair is accepted and closed; its return visits
    become due by R18's rule: the first within 24 hours, a key project's second within two
    months."""
    at = _now(at)
    repair = _lock(repair)
    _require(by, repair)
    _require_status(repair, (S.REPAIRED,), pgettext("refused repair step", "关闭(须先维修完成)"))
    _not_before(at, repair.repaired_at, _("关闭时间不能早于维修完成时间。"))
    repair.status = S.CLOSED
    repair.closed_at = at
    repair.closed_by = by
    repair.full_clean()
    repair.save()
    policy = DeadlinePolicy.current()
    repair.visits.filter(visited_at__isnull=True).delete()
    done = repair.visits.filter(visited_at__isnull=False).count()
    for n, due in enumerate(policy.return_visit_dues(at, key_project=repair.needs_second_visit), 1):
        visit = RepairVisit(repair=repair, sequence=done + n, due_at=due)
        visit.full_clean()
        visit.save()
    _event(repair, RepairEvent.Kind.CLOSED, by=by, at=at, note=note, from_status=S.REPAIRED)
    return repair


@transaction.atomic
def repair_return_visit(
    *,
    repair: RepairRequest,
    by: User,
    satisfaction: str,
    notes: str = "",
    method: str = ReturnVisit.Method.PHONE,
    contact_name: str = "",
    effect_confirmed: bool = False,
    visited_at: dt.datetime | None = None,
) -> RepairVisit:
    """Record the next due return visit of a closed repair (R98) with the client's satisfaction
    with the repair; the second (effect) visit opens as R18's does."""
    repair = _lock(repair)
    _require(by, repair)
    _require_status(repair, (S.CLOSED,), pgettext("refused repair step", "登记回访(须先关闭)"))
    visit = repair.visits.filter(visited_at__isnull=True).order_by("sequence").first()
    if visit is None:
        raise ValidationError(_("该报修没有待完成的回访。"))
    if not visit.is_open:
        raise ValidationError(
            _("第%(n)s次回访(确认维修效果)将于 %(opens)s 起可登记(期限 %(due)s)。")
            % {
                "n": visit.sequence,
                "opens": f"{timezone.localtime(visit.opens_at):%Y-%m-%d}",
                "due": f"{timezone.localtime(visit.due_at):%Y-%m-%d}",
            },
            code="return_visit_not_due",
        )
    visited_at = visited_at or timezone.now()
    complaint_services.check_visit_record(
        satisfaction=satisfaction,
        visited_at=visited_at,
        done_at=repair.closed_at,
        satisfaction_message=_("请选择客户对维修的满意度。"),
        done_message=_("回访时间不能早于维修关闭时间。"),
    )
    visit.visited_at = visited_at
    visit.visited_by = by
    visit.satisfaction = satisfaction
    visit.notes = (notes or "").strip()
    visit.method = method
    visit.contact_name = (contact_name or "").strip()
    visit.effect_confirmed = bool(effect_confirmed)
    visit.full_clean()
    visit.save()
    # The visit changes what the repair page offers (R101): the repair's version moves too.
    repair.save(update_fields=["updated_at"])
    _event(
        repair,
        RepairEvent.Kind.RETURN_VISIT,
        by=by,
        at=visited_at,
        note=(
            _("第%(n)s次回访,客户%(satisfaction)s。")
            % {"n": visit.sequence, "satisfaction": visit.get_satisfaction_display()}
            + visit.notes
        ).strip(),
        from_status=repair.status,
    )
    return visit


@transaction.atomic
def repair_reopen(*, repair: RepairRequest, by: User, reason: str, at=None) -> RepairRequest:
    """repaired/closed -> dispatched (R97): the same problem returned (返修). The repair goes
    back to its team; it no longer counts as fixed the first time; visits not yet made are
    dropped (closing again makes new ones)."""
    at = _now(at)
    repair = _lock(repair)
    _require(by, repair)
    _require_status(repair, (S.REPAIRED, S.CLOSED), pgettext("refused repair step", "返修"))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写返修原因(同一问题再次出现的情况)。")})
    _not_before(at, repair.repaired_at, _("返修时间不能早于维修完成时间。"))
    previous = repair.status
    repair.status = S.DISPATCHED
    repair.reopen_count += 1
    repair.dispatched_at = at
    repair.repaired_at = None
    repair.closed_at = None
    repair.closed_by = None
    repair.full_clean()
    repair.save()
    repair.visits.filter(visited_at__isnull=True).delete()
    _event(repair, RepairEvent.Kind.REOPENED, by=by, at=at, note=reason.strip(), from_status=previous)
    return repair


@transaction.atomic
def repair_open_complaint(
    *,
    repair: RepairRequest,
    by: User,
    content: str,
    title: str = "",
    severity: str = Severity.NORMAL,
    motive: str = Motive.UNKNOWN,
) -> Complaint:
    """R101: a repeated repair of one problem, or an unsatisfied return visit, may become a
    complaint (R14-R19), received by the person opening it (首问负责制, R15). The complaint is
    linked to the repair and names its client and project; the repair's facts stay on the
    repair (the complaint page links to it), only what the client complains of is written."""
    repair = _lock(repair)
    _require(by, repair)
    if repair.complaint_id:
        raise ValidationError(_("该报修已转为投诉 %(code)s。") % {"code": repair.complaint.code})
    if not offers_complaint(repair):
        raise ValidationError(_("只有返修过或回访不满意的报修可以转为投诉。"))
    complaint = complaint_services.complaint_receive(
        by=by,
        client=repair.project.client,
        project=repair.project,
        category="engineering_quality",
        severity=severity,
        motive=motive,
        title=title,
        content=content,
    )
    repair.complaint = complaint
    repair.full_clean()
    repair.save()
    _event(repair, RepairEvent.Kind.COMPLAINT, by=by, at=timezone.now(), note=complaint.code,
           from_status=repair.status)  # fmt: skip
    return complaint
