"""Complaints for ``seed_bulk`` (the benchmark's volume): a year of history for about one
client in twelve, built in memory and returned for ``bulk_create``, no query per row.

Each complaint's timeline follows the workflow of R16: received -> acknowledged ->
investigating -> resolved -> return visit(s) -> closed. The deadlines are the services' own
(``acknowledge_deadline`` / ``resolve_deadline`` under the ``DeadlinePolicy`` in force, computed
from ``received_at`` as ``complaint_receive`` does; cached per moment and severity). The owner
is the first receiver until a recorded hand-over (R15); every resolved complaint has a finding
and its resolution or explanation (R17) and the return visits due 24 hours (and, for key
projects, two months) after resolution (R18); a complaint is closed only after them. Each step
has its Event, as the services write it. Most old complaints are closed; recent ones are at
every step; a few stalled ones are past a deadline and carry the breach flags and events the
five-minute overdue job (``complaints_flag_overdue``) would have set, so its first run after
loading finds nothing to report. No notifications are made for these rows.

The vocabulary is the demo seed's (``complaints.seed``)."""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections import defaultdict

from django.conf import settings
from django.utils import timezone, translation

from clients.seed import keep_timestamps, mobile, office_moment, respond_moment
from crm.models import Role, User

from . import services
from .models import (
    Complaint,
    DeadlinePolicy,
    Event,
    Finding,
    HandOver,
    Kind,
    ReturnVisit,
    Satisfaction,
    Severity,
    Status,
)
from .seed import CASES, CLIENT_ERROR, COMPLAINANTS, CONTRACTORS, OUR_FAULT, VISIT_NOTES

# About one client in twelve complains: 7.5 % of clients, one in ten of them twice.
SHARE = 0.075
SECOND = 0.10
SEVERITIES = ((Severity.URGENT, 5), (Severity.HIGH, 20), (Severity.NORMAL, 55), (Severity.LOW, 20))
CHANNELS = (
    ("phone", 40), ("onsite", 20), ("visit", 10), ("letter", 8), ("email", 10), ("meeting", 8), ("website", 4),
)  # fmt: skip
MOTIVES = (("economic", 35), ("psychological", 40), ("unknown", 25))
LATE_ACK = 0.08  # acknowledged after the deadline
LATE_RESOLVE = 0.08  # resolved after the deadline
STALLED = 0.15  # of the last two months' complaints, stuck at a step: the queue's overdue ones
STALL_WITHIN = dt.timedelta(days=60)
HAND_OVER = 0.10
# Where a stalled complaint waits (investigations stall most).
STALL_AT = (
    Status.RECEIVED, Status.ACKNOWLEDGED, Status.INVESTIGATING, Status.INVESTIGATING, Status.RESOLVED,
    Status.RETURN_VISIT,
)  # fmt: skip
# R18: the client's satisfaction at the return visit; a complaint found our fault is closed only
# once the client is satisfied (R17), so "unsatisfied" appears only with the client's own error.
SATISFIED_OUR_FAULT = (("very_satisfied", 35), ("satisfied", 55), ("neutral", 10))
SATISFIED_CLIENT_ERROR = (("very_satisfied", 20), ("satisfied", 50), ("neutral", 22), ("unsatisfied", 8))
TICK = 5  # minutes between runs of the overdue job (complaints.tasks)

ACK_NOTES = (
    "已电话联系投诉人,确认情况。",
    "已与业主代表沟通,确认投诉事项。",
    "已登记并告知投诉人处理流程及时限。",
)
INVESTIGATE_NOTES = (
    "组织项目部、技术部现场核查。",
    "已安排质量员会同监理现场查看。",
    "调取施工日志及验收资料核对。",
    "约谈现场负责人了解经过。",
)
HAND_OVER_REASONS = (
    "涉及工程质量与商务协调,移交经营部负责人牵头处理。",  # to the manager
    "投诉涉及项目经理部,移交项目负责人跟进。",
    "本人出差,移交同事继续跟进。",
)
CLOSE_NOTES = ("回访满意,同意关闭。", "客户认可处理结果,同意关闭。")
VISIT_METHODS = (("phone", 70), ("visit", 15), ("onsite", 15))


def _pick(rng, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def next_tick(moment: dt.datetime, minutes: int = TICK) -> dt.datetime:
    """The first run of a job scheduled every ``minutes`` strictly after ``moment``."""
    base = moment.replace(second=0, microsecond=0)
    return base - dt.timedelta(minutes=base.minute % minutes) + dt.timedelta(minutes=minutes)


def _local(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def start(run) -> ComplaintBulk:
    """``seed_bulk``'s entry point for complaints (the contract is crm's ``seed_bulk``
    command's): the bulk branches' complaints, from their own random stream."""
    return ComplaintBulk(
        now=run.now,
        branch_ids=[place.branch.pk for place in run.branches],
        rng=random.Random(f"{run.seed}-complaints"),
        batch_size=run.batch_size,
    )


class ComplaintBulk:
    """Prepared once per ``seed_bulk`` run (the policy, the branches' people, the labels);
    ``create(chunk)`` is then called per chunk: ``build()`` returns ``[(label, model, rows),
    ...]`` in the order they must be bulk-created (complaints first: the others point at
    them), and ``create`` creates them."""

    models = (Complaint, HandOver, Event, ReturnVisit)

    def __init__(self, *, now: dt.datetime, branch_ids, rng: random.Random, batch_size: int = 2000):
        self.now = now
        self.rng = rng
        self.batch_size = batch_size
        self.policy = DeadlinePolicy.current()
        self.people = defaultdict(list)
        self.managers = {}
        users = User.objects.filter(
            branch_id__in=list(branch_ids), role__in=(Role.STAFF, Role.MANAGER), is_active=True
        ).order_by("pk")
        for user in users:
            self.people[user.branch_id].append(user)
            if user.role == Role.MANAGER:
                self.managers.setdefault(user.branch_id, user)
        with translation.override(settings.LANGUAGE_CODE):
            self.kind_label = {k: str(v) for k, v in Kind.choices}
            self.finding_label = {k: str(v) for k, v in Finding.choices}
            self.satisfaction_label = {k: str(v) for k, v in Satisfaction.choices}
        self.deadlines = functools.cache(self._deadlines)

    def _deadlines(self, received_at: dt.datetime, severity: str):
        """(acknowledge_due_at, resolve_due_at, provisional), as ``complaint_receive`` sets them."""
        ack, ack_provisional = services.acknowledge_deadline(received_at, severity, self.policy)
        resolve, resolve_provisional = services.resolve_deadline(received_at, severity, self.policy)
        return ack, resolve, ack_provisional or resolve_provisional

    def _received_at(self, rng, created: dt.datetime) -> dt.datetime:
        """An office-hours moment of the last year, never before the client was created nor in
        the future."""
        first = timezone.localdate(created)
        span = (timezone.localdate(self.now) - first).days
        for _ in range(6):
            at = office_moment(rng, first + dt.timedelta(days=rng.randint(0, span)))
            if created < at <= self.now:
                return at
        return created + (self.now - created) * rng.uniform(0.2, 0.9)

    def create(self, chunk) -> dict[str, int]:
        """The complaints of the chunk's clients, bulk-created: ``{label: rows made}``."""
        made = {}
        with keep_timestamps(*self.models):
            for label, model, rows in self.build(chunk.clients, self.rng, chunk.projects):
                model.objects.bulk_create(rows, batch_size=self.batch_size)
                made[label] = len(rows)
        return made

    def finish(self) -> dict[str, int]:
        return {}

    def build(self, clients, rng, projects=None) -> list[tuple[str, type, list]]:
        """Complaints of the chunk's ``clients`` (saved: they have pks), with ``projects``
        (``{client pk: [Project, ...]}``, saved) to attach them to."""
        out = {"complaints": [], "hand-overs": [], "events": [], "visits": []}
        projects = projects or {}
        for client in clients:
            if rng.random() >= SHARE:
                continue
            for _ in range(2 if rng.random() < SECOND else 1):
                self._one(rng, client, projects.get(client.pk, ()), out)
        return [
            ("complaints", Complaint, out["complaints"]),
            ("complaint hand-overs", HandOver, out["hand-overs"]),
            ("complaint events", Event, out["events"]),
            ("return visits", ReturnVisit, out["visits"]),
        ]

    def _one(self, rng, client, projects, out) -> None:
        now = self.now
        people = self.people.get(client.branch_id) or [client.owner]
        receiver = client.owner if rng.random() < 0.75 else rng.choice(people)
        received = self._received_at(rng, client.created_at)
        severity = _pick(rng, SEVERITIES)
        category = rng.choice(list(CASES))
        title, content = rng.choice(CASES[category])
        project = rng.choice(projects) if projects and rng.random() < 0.85 else None
        indirect = rng.random() < 0.2
        ack_due, resolve_due, provisional = self.deadlines(received, severity)
        our_fault = rng.random() < 0.7  # R17: the finding, once resolved

        # The moment each step would happen, unhurried by "now"; later cut at now (R16).
        if rng.random() < LATE_ACK:
            t_ack = ack_due + dt.timedelta(minutes=rng.randint(20, 180))
        elif severity == Severity.URGENT:
            t_ack = received + dt.timedelta(minutes=rng.choice((2, 4, 6, 8)))
        else:
            t_ack = received + dt.timedelta(minutes=rng.choice((15, 30, 45, 90, 120)))
        t_inv = t_ack + dt.timedelta(minutes=rng.randint(30, 240))
        late = rng.random() < LATE_RESOLVE or t_inv >= resolve_due
        t_res = respond_moment(rng, t_inv, resolve_due, late=late)
        if t_res <= t_inv:
            t_res = t_inv + dt.timedelta(hours=rng.randint(2, 6))
        # R18: a second visit for key projects
        visit_due = self.policy.return_visit_dues(t_res, key_project=project is not None and project.is_key)
        t_visits = [visit_due[0] - dt.timedelta(hours=rng.choice((4, 6, 19, 21, 22)))]
        if len(visit_due) > 1:
            t_visits.append(t_res + dt.timedelta(days=rng.randint(20, 55)))
        t_close = t_visits[-1] + dt.timedelta(minutes=rng.randint(30, 180))

        steps = [
            (Status.RECEIVED, received),
            (Status.ACKNOWLEDGED, t_ack),
            (Status.INVESTIGATING, t_inv),
            (Status.RESOLVED, t_res),
        ]
        steps += [(Status.RETURN_VISIT, t) for t in t_visits]
        steps.append((Status.CLOSED, t_close))
        last = len(steps) - 1
        if rng.random() < STALLED and now - received < STALL_WITHIN:
            stop = rng.choice(STALL_AT)
            last = max(i for i, (s, _t) in enumerate(steps) if s == stop)
        done = [(s, t) for i, (s, t) in enumerate(steps) if i <= last and t <= now]
        # Steps are in time order, so what is done is a prefix.
        at_of = {}
        for s, t in done:
            at_of.setdefault(s, t)
        status = done[-1][0]

        def status_at(moment):
            current = Status.RECEIVED
            for s, t in done:
                if t <= moment:
                    current = s
            return current

        hand_to, t_hand, reason = None, None, ""
        if rng.random() < HAND_OVER:
            # R15: to the branch's manager, or (from the manager) to a named colleague.
            t_hand = received + dt.timedelta(minutes=rng.randint(10, 40))
            manager = self.managers.get(client.branch_id)
            others = [u for u in people if u.pk != receiver.pk]
            if manager is not None and manager.pk != receiver.pk:
                hand_to, reason = manager, HAND_OVER_REASONS[0]
            elif others:
                hand_to, reason = rng.choice(others), rng.choice(HAND_OVER_REASONS[1:])
            if hand_to is None or t_hand > now:
                hand_to = t_hand = None
        owner = hand_to or receiver

        def by_at(moment):
            return hand_to if hand_to is not None and moment >= t_hand else receiver

        complainant = rng.choice(COMPLAINANTS)
        resolved = Status.RESOLVED in at_of
        finding = (Finding.OUR_FAULT if our_fault else Finding.CLIENT_ERROR) if resolved else ""
        resolution = rng.choice(OUR_FAULT if our_fault else CLIENT_ERROR) if resolved else ""
        unreasonable = resolved and not our_fault and rng.random() < 0.3

        complaint = Complaint(
            kind=Kind.INDIRECT if indirect else Kind.DIRECT,
            contractor=rng.choice(CONTRACTORS) if indirect else "",
            channel=_pick(rng, CHANNELS),
            category=category,
            severity=severity,
            motive=_pick(rng, MOTIVES),
            client=client,
            project=project,
            department_id=project.department_id if project is not None else None,
            complainant=complainant,
            complainant_phone=mobile(rng),
            title=title,
            content=content,
            received_by=receiver,
            received_at=received,
            owner=owner,
            status=status,
            acknowledge_due_at=ack_due,
            resolve_due_at=resolve_due,
            due_provisional=provisional,
            acknowledged_at=at_of.get(Status.ACKNOWLEDGED),
            investigating_at=at_of.get(Status.INVESTIGATING),
            resolved_at=at_of.get(Status.RESOLVED),
            closed_at=at_of.get(Status.CLOSED),
            finding=finding,
            resolution=resolution,
            is_unreasonable=unreasonable,
            created_at=received,
        )

        events = []

        def event(kind, at, by, note="", from_status=None, to_status=None):
            events.append(
                Event(
                    complaint=complaint,
                    kind=kind,
                    by=by,
                    at=at,
                    from_status=status_at(at - dt.timedelta(microseconds=1))
                    if from_status is None
                    else from_status,
                    to_status=status_at(at) if to_status is None else to_status,
                    note=note,
                    created_at=at,
                    updated_at=at,
                )
            )

        event(Event.Kind.RECEIVED, received, receiver, self.kind_label[complaint.kind], "", Status.RECEIVED)
        if t_hand is not None:
            out["hand-overs"].append(
                HandOver(
                    complaint=complaint,
                    from_user=receiver,
                    to_user=hand_to,
                    by=receiver,
                    at=t_hand,
                    reason=reason,
                    created_at=t_hand,
                    updated_at=t_hand,
                )
            )
            here = status_at(t_hand)
            event(Event.Kind.HANDED_OVER, t_hand, receiver, f"{receiver} → {hand_to}:{reason}", here, here)
        if Status.ACKNOWLEDGED in at_of:
            t = at_of[Status.ACKNOWLEDGED]
            event(Event.Kind.ACKNOWLEDGED, t, by_at(t), rng.choice(ACK_NOTES), Status.RECEIVED)
        if Status.INVESTIGATING in at_of:
            t = at_of[Status.INVESTIGATING]
            event(Event.Kind.INVESTIGATING, t, by_at(t), rng.choice(INVESTIGATE_NOTES), Status.ACKNOWLEDGED)
        if resolved:
            t = at_of[Status.RESOLVED]
            note = f"{self.finding_label[finding]}:{resolution}" + ("(无理投诉)" if unreasonable else "")
            event(Event.Kind.RESOLVED, t, by_at(t), note, Status.INVESTIGATING)
            visit_times = [t for s, t in done if s == Status.RETURN_VISIT]
            for i, due in enumerate(visit_due):
                visit = ReturnVisit(
                    complaint=complaint, sequence=i + 1, due_at=due, created_at=t, updated_at=t
                )
                if i < len(visit_times):
                    at = visit_times[i]
                    satisfaction = _pick(rng, SATISFIED_OUR_FAULT if our_fault else SATISFIED_CLIENT_ERROR)
                    visit.visited_at = at
                    visit.visited_by = by_at(at)
                    visit.method = _pick(rng, VISIT_METHODS)
                    visit.contact_name = complainant
                    visit.satisfaction = satisfaction
                    visit.effect_confirmed = i > 0
                    visit.notes = rng.choice(VISIT_NOTES)
                    visit.updated_at = at
                    label = self.satisfaction_label[satisfaction]
                    event(
                        Event.Kind.RETURN_VISIT, at, by_at(at), f"第{i + 1}次回访,客户{label}。{visit.notes}"
                    )
                elif due < now and next_tick(due) < now:
                    # Pending and past due: the overdue job has flagged it (R18).
                    visit.breached_at = next_tick(due)
                    visit.updated_at = visit.breached_at
                    here = status_at(visit.breached_at)
                    note = f"第{i + 1}次回访期限 {_local(due)}"
                    event(Event.Kind.VISIT_BREACH, visit.breached_at, None, note, here, here)
                out["visits"].append(visit)
        if Status.CLOSED in at_of:
            t = at_of[Status.CLOSED]
            event(Event.Kind.CLOSED, t, by_at(t), rng.choice(CLOSE_NOTES), Status.RETURN_VISIT)

        # Breaches of R16, as the overdue job flags them: once, on its first run past the deadline,
        # while the complaint is still waiting for that step.
        flag = next_tick(ack_due)
        acked = at_of.get(Status.ACKNOWLEDGED)
        if flag < now and (acked is None or acked > flag):
            complaint.acknowledge_breached_at = flag
            here = status_at(flag)
            event(Event.Kind.ACK_BREACH, flag, None, f"确认期限 {_local(ack_due)}", here, here)
        flag = next_tick(resolve_due)
        solved = at_of.get(Status.RESOLVED)
        if flag < now and (solved is None or solved > flag):
            complaint.resolve_breached_at = flag
            here = status_at(flag)
            event(Event.Kind.RESOLVE_BREACH, flag, None, f"处理期限 {_local(resolve_due)}", here, here)

        events.sort(key=lambda e: e.at)
        complaint.updated_at = events[-1].at
        out["complaints"].append(complaint)
        out["events"].extend(events)
