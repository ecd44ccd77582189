"""The complaint workflow (R14-R18): every step, every refusal, deadlines on the real 2026
calendar, the overdue job's idempotence and the grading fact."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from clients.facts import fact
from complaints import services
from complaints.models import Complaint, DeadlinePolicy, Event, HandOver, ReturnVisit, Status
from crm.models import Notification

from .conftest import at, make_client, make_complaint

pytestmark = pytest.mark.django_db


def walk_to(complaint, org, status, by="east_staff"):
    """Take a complaint through the workflow up to ``status``."""
    user = org[by]
    order = ["acknowledged", "investigating", "resolved", "return_visit", "closed"]
    for step in order[: order.index(status) + 1]:
        if step == "acknowledged":
            services.complaint_acknowledge(complaint=complaint, by=user)
        elif step == "investigating":
            services.complaint_investigate(complaint=complaint, by=user)
        elif step == "resolved":
            services.complaint_resolve(
                complaint=complaint, by=user, finding="our_fault", resolution="返修外墙防水层"
            )
        elif step == "return_visit":
            services.complaint_return_visit(complaint=complaint, by=user, satisfaction="satisfied")
        elif step == "closed":
            services.complaint_close(complaint=complaint, by=user)
    complaint.refresh_from_db()
    return complaint


def snapshot(complaint):
    return (
        Complaint.objects.filter(pk=complaint.pk).values().get(),
        Event.objects.filter(complaint=complaint).count(),
        HandOver.objects.filter(complaint=complaint).count(),
        ReturnVisit.objects.filter(complaint=complaint).count(),
    )


# -- R14, R15: logging and ownership ---------------------------------------------------------


def test_receive_records_r14_and_receiver_owns_it(org, key_project):
    c = make_complaint(
        org,
        client=key_project.client,
        project=key_project,
        kind="indirect",
        contractor="上海建工四建集团",
        channel="onsite",
        severity="high",
        motive="economic",
        complainant="赵经理",
    )
    assert c.status == Status.RECEIVED
    assert c.owner == c.received_by == org["east_staff"]  # R15 首问负责制
    assert c.kind == "indirect" and c.contractor == "上海建工四建集团" and c.motive == "economic"
    assert c.acknowledge_due_at > c.received_at and c.resolve_due_at > c.acknowledge_due_at
    assert list(c.events.values_list("kind", flat=True)) == ["received"]


def test_indirect_needs_the_contractor(org, east_client):
    with pytest.raises(ValidationError) as exc:
        make_complaint(org, client=east_client, kind="indirect")
    assert "contractor" in exc.value.message_dict
    assert not Complaint.objects.exists()


def test_project_of_another_client_refused(org, east_client, key_project):
    other = make_client(org)
    with pytest.raises(ValidationError) as exc:
        make_complaint(org, client=other, project=key_project)
    assert "project" in exc.value.message_dict


def test_client_outside_scope_refused(org):
    south_client = make_client(org, "south")
    with pytest.raises(ValidationError):
        make_complaint(org, client=south_client, by=org["east_staff"])
    assert not Complaint.objects.exists()


# -- R16: deadlines on the 2026 mainland calendar ----------------------------------------------


def test_normal_acknowledge_deadline_skips_spring_festival_and_counts_adjusted_saturday(org):
    # Fri 13 Feb 2026 16:00: 2 h left that day, Sat 14 Feb is a 调休 working day: due 11:00.
    c = make_complaint(org, received_at=at(2026, 2, 13, 16, 0))
    assert timezone.localtime(c.acknowledge_due_at) == at(2026, 2, 14, 11, 0)
    # Resolution (normal: 5 working days): 14, 24, 25, 26, 27 Feb (15-23 Feb is the holiday).
    assert timezone.localtime(c.resolve_due_at) == at(2026, 2, 27, 16, 0)
    assert c.due_provisional is False


def test_acknowledge_deadline_across_spring_festival(org):
    # Sat 14 Feb 17:00 (working): 1 h, then the next working day is Tue 24 Feb: 9:00 + 3 h.
    c = make_complaint(org, received_at=at(2026, 2, 14, 17, 0))
    assert timezone.localtime(c.acknowledge_due_at) == at(2026, 2, 24, 12, 0)


def test_acknowledge_deadline_across_national_day(org):
    # Wed 30 Sep 17:30: 0.5 h, then Thu 8 Oct: 9-12 (3 h) and 13:00 + 0.5 h.
    c = make_complaint(org, received_at=at(2026, 9, 30, 17, 30))
    assert timezone.localtime(c.acknowledge_due_at) == at(2026, 10, 8, 13, 30)


def test_urgent_acknowledge_is_ten_minutes_even_on_a_holiday(org):
    c = make_complaint(org, severity="urgent", received_at=at(2026, 10, 1, 10, 0))
    assert timezone.localtime(c.acknowledge_due_at) == at(2026, 10, 1, 10, 10)
    # Resolution for urgent: 1 working day, the first after the National Day holiday.
    assert timezone.localtime(c.resolve_due_at) == at(2026, 10, 8, 10, 0)


def test_deadlines_follow_the_admin_policy(org):
    policy = DeadlinePolicy.current()
    policy.acknowledge_urgent_minutes = 30
    policy.resolve_days_high = 2
    policy.save()
    c = make_complaint(org, severity="urgent", received_at=at(2026, 3, 2, 10, 0))
    assert timezone.localtime(c.acknowledge_due_at) == at(2026, 3, 2, 10, 30)
    h = make_complaint(org, severity="high", received_at=at(2026, 3, 2, 10, 0))  # Monday
    assert timezone.localtime(h.resolve_due_at) == at(2026, 3, 4, 10, 0)


def test_changing_severity_re_times_an_open_complaint(org):
    c = make_complaint(org, severity="low", received_at=at(2026, 3, 2, 10, 0))
    assert timezone.localtime(c.resolve_due_at) == at(2026, 3, 16, 10, 0)  # 10 working days
    c = services.complaint_update(complaint=c, by=org["east_staff"], severity="high")
    assert timezone.localtime(c.resolve_due_at) == at(2026, 3, 5, 10, 0)
    assert c.events.filter(kind="updated").exists()


# -- R16: the workflow --------------------------------------------------------------------------


def test_full_workflow_with_hand_over(org, key_project):
    staff, manager = org["east_staff"], org["east_manager"]
    c = make_complaint(org, client=key_project.client, project=key_project)
    c = services.complaint_hand_over(
        complaint=c, by=staff, to=manager, reason="涉及工程质量,由经营部负责人牵头"
    )
    assert c.owner == manager
    assert Notification.objects.filter(recipient=manager, verb="complaint").count() == 1
    c = services.complaint_acknowledge(complaint=c, by=manager)
    assert c.status == "acknowledged" and c.acknowledged_at
    c = services.complaint_investigate(complaint=c, by=manager)
    assert c.status == "investigating"
    c = services.complaint_resolve(
        complaint=c, by=manager, finding="our_fault", resolution="返修外墙防水,监理验收"
    )
    assert c.status == "resolved" and c.finding == "our_fault"
    visits = list(c.return_visits.order_by("sequence"))
    # R18: first within 24 h; key project: second within two months.
    assert [v.sequence for v in visits] == [1, 2]
    assert visits[0].due_at == c.resolved_at + dt.timedelta(hours=24)
    assert visits[1].due_at.date() >= (c.resolved_at + dt.timedelta(days=59)).date()
    services.complaint_return_visit(
        complaint=c, by=manager, satisfaction="satisfied", notes="业主认可返修结果"
    )
    c.refresh_from_db()
    assert c.status == "return_visit"
    with pytest.raises(ValidationError, match="尚未完成回访"):
        services.complaint_close(complaint=c, by=manager)  # the second visit is still due
    # R18: the second visit confirms the effect, so it opens only shortly before it is due.
    with time_machine.travel(visits[1].due_at - dt.timedelta(days=1), tick=False):
        services.complaint_return_visit(
            complaint=c, by=manager, satisfaction="very_satisfied", effect_confirmed=True
        )
        c = services.complaint_close(complaint=c, by=manager)
    assert c.status == "closed" and c.closed_at
    kinds = list(c.events.values_list("kind", flat=True))
    assert kinds == [
        "received", "handed_over", "acknowledged", "investigating", "resolved", "return_visit", "return_visit", "closed",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "status,step",
    [
        ("received", "investigate"),
        ("received", "resolve"),
        ("received", "close"),
        ("received", "reopen"),
        ("acknowledged", "acknowledge"),
        ("acknowledged", "resolve"),
        ("investigating", "return_visit"),
        ("resolved", "investigate"),
        ("resolved", "close"),
        ("closed", "acknowledge"),
        ("closed", "hand_over"),
    ],
)
def test_illegal_steps_are_refused_and_change_nothing(org, east_client, status, step):
    c = make_complaint(org, client=east_client)
    if status != "received":
        c = walk_to(c, org, status)
    before = snapshot(c)
    user = org["east_staff"]
    calls = {
        "acknowledge": lambda: services.complaint_acknowledge(complaint=c, by=user),
        "investigate": lambda: services.complaint_investigate(complaint=c, by=user),
        "resolve": lambda: services.complaint_resolve(
            complaint=c, by=user, finding="our_fault", resolution="x"
        ),
        "return_visit": lambda: services.complaint_return_visit(
            complaint=c, by=user, satisfaction="satisfied"
        ),
        "close": lambda: services.complaint_close(complaint=c, by=user),
        "reopen": lambda: services.complaint_reopen(complaint=c, by=user, reason="客户仍不满意"),
        "hand_over": lambda: services.complaint_hand_over(
            complaint=c, by=user, to=org["east_manager"], reason="x"
        ),
    }
    with pytest.raises(ValidationError) as exc:
        calls[step]()
    assert any("不能" in m for m in exc.value.messages)
    assert snapshot(c) == before


def test_resolve_requires_a_finding_and_a_resolution(org, east_client):
    c = walk_to(make_complaint(org, client=east_client), org, "investigating")
    before = snapshot(c)
    with pytest.raises(ValidationError) as exc:
        services.complaint_resolve(complaint=c, by=org["east_staff"], finding="", resolution="")
    assert set(exc.value.message_dict) == {"finding", "resolution"}
    assert "请选择调查结论" in exc.value.message_dict["finding"][0]
    assert snapshot(c) == before


def test_only_client_error_may_be_unreasonable_and_it_feeds_grading(org, east_client):
    c = walk_to(make_complaint(org, client=east_client), org, "investigating")
    with pytest.raises(ValidationError) as exc:
        services.complaint_resolve(
            complaint=c, by=org["east_staff"], finding="our_fault", resolution="x", is_unreasonable=True
        )
    assert "is_unreasonable" in exc.value.message_dict
    assert fact("unreasonable_complaints", east_client) == 0
    services.complaint_resolve(
        complaint=c,
        by=org["east_staff"],
        finding="client_error",
        resolution="已向业主说明系其自行改造所致",
        is_unreasonable=True,
    )
    # R17 -> R7: the grading reads the fact through clients.facts.
    assert fact("unreasonable_complaints", east_client) == 1


def test_hand_over_only_to_a_named_person_of_the_branch_or_marketing(org, east_client):
    c = make_complaint(org, client=east_client)
    before = snapshot(c)
    for outsider in (org["south_manager"], org["leader"], org["norole"]):
        with pytest.raises(ValidationError) as exc:
            services.complaint_hand_over(complaint=c, by=org["east_staff"], to=outsider, reason="请协助")
        assert "to" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.complaint_hand_over(complaint=c, by=org["east_staff"], to=org["east_manager"], reason="  ")
    assert "reason" in exc.value.message_dict
    assert snapshot(c) == before
    c = services.complaint_hand_over(
        complaint=c, by=org["east_staff"], to=org["marketing"], reason="涉及集团层面"
    )
    assert c.owner == org["marketing"]
    assert HandOver.objects.filter(
        complaint=c, from_user=org["east_staff"], to_user=org["marketing"]
    ).exists()


def test_after_hand_over_the_former_owner_may_no_longer_act(org, east_client):
    c = make_complaint(org, client=east_client)
    services.complaint_hand_over(
        complaint=c, by=org["east_staff"], to=org["east_manager"], reason="移交负责人"
    )
    with pytest.raises(ValidationError, match="只有当前负责人"):
        services.complaint_acknowledge(complaint=c, by=org["east_staff"])
    c.refresh_from_db()
    assert c.status == "received"


def test_close_refused_while_client_unsatisfied_then_reopen(org, east_client):
    c = walk_to(make_complaint(org, client=east_client), org, "resolved")
    services.complaint_return_visit(
        complaint=c, by=org["east_staff"], satisfaction="unsatisfied", notes="渗水仍未根治"
    )
    with pytest.raises(ValidationError, match="不满意"):
        services.complaint_close(complaint=c, by=org["east_staff"])
    with pytest.raises(ValidationError) as exc:
        services.complaint_reopen(complaint=c, by=org["east_staff"], reason="")
    assert "reason" in exc.value.message_dict
    c = services.complaint_reopen(complaint=c, by=org["east_staff"], reason="回访不满意,重新处理")
    assert c.status == "investigating" and c.reopen_count == 1 and c.resolved_at is None
    assert c.resolve_due_at > timezone.now()
    c = services.complaint_resolve(
        complaint=c, by=org["east_staff"], finding="our_fault", resolution="更换防水材料"
    )
    assert c.return_visits.filter(visited_at__isnull=True).get().sequence == 2
    services.complaint_return_visit(complaint=c, by=org["east_staff"], satisfaction="satisfied")
    assert services.complaint_close(complaint=c, by=org["east_staff"]).status == "closed"


def test_return_visit_needs_a_satisfaction(org, east_client):
    c = walk_to(make_complaint(org, client=east_client), org, "resolved")
    before = snapshot(c)
    with pytest.raises(ValidationError) as exc:
        services.complaint_return_visit(complaint=c, by=org["east_staff"], satisfaction="")
    assert "satisfaction" in exc.value.message_dict
    assert snapshot(c) == before


def test_group_reader_may_not_act(org, east_client):
    c = make_complaint(org, client=east_client)
    with pytest.raises(ValidationError):
        services.complaint_acknowledge(complaint=c, by=org["leader"])
    with pytest.raises(ValidationError):
        services.complaint_acknowledge(complaint=c, by=org["south_manager"])
    # The branch manager may step in without a hand-over; group marketing too.
    assert services.complaint_acknowledge(complaint=c, by=org["east_manager"]).status == "acknowledged"


def test_allowed_steps_follow_status_and_role(org, east_client):
    c = make_complaint(org, client=east_client)
    assert services.allowed_steps(org["east_staff"], c) == ["acknowledge", "hand_over"]
    assert services.allowed_steps(org["leader"], c) == []
    c = walk_to(c, org, "return_visit")
    assert "close" in services.allowed_steps(org["east_staff"], c)


# -- R16, R18: the overdue job ------------------------------------------------------------------


def test_overdue_job_flags_and_notifies_once(org, east_client):
    now = timezone.now()
    late = make_complaint(org, client=east_client, severity="urgent", received_at=now - dt.timedelta(hours=1))
    fresh = make_complaint(org, client=east_client, severity="normal")
    assert Complaint.objects.overdue().filter(pk=late.pk).exists()
    assert not Complaint.objects.overdue().filter(pk=fresh.pk).exists()

    first = services.complaints_flag_overdue()
    assert first["acknowledge"] == 1
    late.refresh_from_db()
    assert late.acknowledge_breached_at is not None
    notes = Notification.objects.filter(verb="complaint_overdue")
    assert set(notes.values_list("recipient__username", flat=True)) == {"east_staff", "east_manager"}
    assert late.events.filter(kind="ack_breach").count() == 1

    second = services.complaints_flag_overdue()
    assert second == {"acknowledge": 0, "resolve": 0, "visits_due": 0, "visits_overdue": 0}
    assert Notification.objects.filter(verb="complaint_overdue").count() == 2
    assert late.events.filter(kind="ack_breach").count() == 1


def test_overdue_job_resolution_breach_and_return_visits(org, east_client):
    now = timezone.now()
    c = make_complaint(org, client=east_client, severity="urgent", received_at=now - dt.timedelta(days=20))
    services.complaint_acknowledge(complaint=c, by=org["east_staff"])
    counts = services.complaints_flag_overdue(now=now)
    assert counts["resolve"] == 1
    c.refresh_from_db()
    assert c.resolve_breached_at is not None
    services.complaint_investigate(complaint=c, by=org["east_staff"])
    services.complaint_resolve(complaint=c, by=org["east_staff"], finding="our_fault", resolution="已整改")
    # Due within the reminder window: the owner is reminded once.
    assert services.complaints_flag_overdue(now=now)["visits_due"] == 1
    assert services.complaints_flag_overdue(now=now)["visits_due"] == 0
    # Two days later the first visit is overdue: flagged once, owner and manager told.
    later = now + dt.timedelta(days=2)
    assert services.complaints_flag_overdue(now=later)["visits_overdue"] == 1
    assert services.complaints_flag_overdue(now=later)["visits_overdue"] == 0
    assert Notification.objects.filter(recipient=org["east_manager"], title__contains="回访超期").count() == 1


def test_overdue_task_runs_the_service(org, east_client):
    from complaints.tasks import flag_overdue_complaints

    make_complaint(
        org, client=east_client, severity="urgent", received_at=timezone.now() - dt.timedelta(hours=2)
    )
    assert flag_overdue_complaints()["acknowledge"] == 1
    assert flag_overdue_complaints()["acknowledge"] == 0


def test_schedule_is_declared_every_five_minutes():
    from django_celery_beat.models import PeriodicTask

    from crm.schedules import ensure_declared

    ensure_declared()
    task = PeriodicTask.objects.get(task="complaints.tasks.flag_overdue_complaints")
    assert task.crontab.minute == "*/5" and task.crontab.hour == "*"
