"""Warranty repairs (报修, seed 002; R94-R101): the workflow with every step in the timeline and
the history, the 10-minute registration measured, return visits by R18's own rule (the clock
moved across a weekend and the National Day holiday), reopening, paid service outside the
warranty, the complaint offered on a repeated repair or an unsatisfied visit, stale edits, and
the figures equal to their lists."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from complaints import services as complaint_services
from complaints.models import Complaint, DeadlinePolicy
from complaints.repairs import figures as repair_figures
from complaints.repairs import services
from complaints.repairs.models import RepairEvent, RepairRequest
from crm import figures as fig
from crm.models import StaleVersion
from tests.clients.factories import ProjectFactory

from .conftest import at, make_client

pytestmark = pytest.mark.django_db


def make_project(org, *, key=False, warranty=dt.date(2028, 12, 31), branch_code="east"):
    client = make_client(org, branch_code)
    return ProjectFactory(
        client=client,
        is_key=key,
        completed_on=dt.date(2025, 12, 1),
        warranty_ends_on=warranty,
        name="滨江花园三期",
    )


def receive(org, project, *, received_at=None, by="east_staff", **kw):
    kw.setdefault("reporter", "业主张先生")
    kw.setdefault("part", "doors_windows")
    kw.setdefault("location", "3号楼2单元501")
    kw.setdefault("description", "主卧铝合金窗关闭不严,刮风漏雨。")
    return services.repair_receive(by=org[by], project=project, received_at=received_at, **kw)


def walk_to_closed(org, repair, *, by="east_staff"):
    user = org[by]
    repair = services.repair_register(repair=repair, by=user)
    repair = services.repair_dispatch(repair=repair, by=user, team="门窗维修组")
    repair = services.repair_complete(repair=repair, by=user, repair_note="更换密封条和滑轮,调试正常。")
    return services.repair_close(repair=repair, by=user)


def test_registration_within_ten_minutes_is_measured(org):
    """R95: «规定前台在接报后10分钟之内填写有关报修表格同步转至维修组»."""
    project = make_project(org)
    with time_machine.travel(at(2026, 11, 10, 10, 0), tick=False):
        quick = receive(org, project)
        slow = receive(org, project)
        assert timezone.localtime(quick.register_due_at) == at(2026, 11, 10, 10, 10)
    with time_machine.travel(at(2026, 11, 10, 10, 9), tick=False):
        quick = services.repair_register(repair=quick, by=org["east_staff"])
    with time_machine.travel(at(2026, 11, 10, 10, 12), tick=False):
        assert slow.register_overdue
        slow = services.repair_register(repair=slow, by=org["east_staff"])
    assert quick.registered_on_time is True and slow.registered_on_time is False
    assert "超过10分钟" in slow.events.get(kind="registered").note
    window = fig.Window(at(2026, 11, 1, 0, 0), at(2026, 12, 1, 0, 0), branch_id=org.branches["east"].pk)
    result = fig.evaluate(org["east_manager"], window, only=[
        "repairs_received", "repairs_registered_on_time", "repair_registration_rate"])  # fmt: skip
    assert result.values["repairs_received"] == 2
    assert [r["id"] for r in result.lists["repairs_registered_on_time"]] == [quick.pk]
    assert result.values["repair_registration_rate"] == 0.5


def test_the_whole_workflow_is_in_the_timeline_and_the_history(org):
    project = make_project(org)
    repair = receive(org, project)
    assert repair.status == "received" and repair.is_paid is False and repair.code.startswith("BX")
    repair = walk_to_closed(org, repair)
    visit = services.repair_return_visit(repair=repair, by=org["east_staff"], satisfaction="satisfied")
    assert visit.sequence == 1 and visit.on_time
    kinds = list(repair.events.values_list("kind", flat=True))
    assert kinds == ["received", "registered", "dispatched", "repaired", "closed", "return_visit"]
    statuses = list(
        RepairRequest.history.filter(id=repair.pk).order_by("history_date").values_list("status", flat=True)
    )
    assert statuses[:5] == ["received", "registered", "dispatched", "repaired", "closed"]
    # A non-key project has no second visit: nothing more is due.
    repair.refresh_from_db()
    assert services.next_visit(repair) is None and "return_visit" not in services.allowed_steps(
        org["east_staff"], repair
    )


def test_first_visit_within_24_hours_across_the_national_day_with_a_second_for_key_projects(org):
    """R98 = R18: the same due dates as a complaint resolved at the same moment (one rule)."""
    project = make_project(org, key=True)
    repair = receive(org, project, received_at=at(2026, 9, 29, 9, 0))
    # Closed on Wed 30 Sep 17:00, the eve of the National Day holiday (1-7 Oct).
    with time_machine.travel(at(2026, 9, 30, 17, 0), tick=False):
        repair = walk_to_closed(org, repair)
        complaint = complaint_services.complaint_receive(
            by=org["east_staff"],
            client=project.client,
            project=project,
            category="engineering_quality",
            content="x",
        )
        for step in ("acknowledge", "investigate"):
            getattr(complaint_services, f"complaint_{step}")(complaint=complaint, by=org["east_staff"])
        complaint_services.complaint_resolve(complaint=complaint, by=org["east_staff"], finding="our_fault",
                                             resolution="返修")  # fmt: skip
    visits = list(repair.visits.order_by("sequence"))
    dues = [timezone.localtime(v.due_at) for v in visits]
    # Clock hours, not working hours: the first is due on the holiday itself.
    assert dues == [at(2026, 10, 1, 17, 0), at(2026, 11, 30, 17, 0)]
    assert dues == [timezone.localtime(v.due_at) for v in complaint.return_visits.order_by("sequence")]
    assert dues == DeadlinePolicy.current().return_visit_dues(at(2026, 9, 30, 17, 0), key_project=True)
    # The next morning (a holiday) the front desk calls the client: on time.
    with time_machine.travel(at(2026, 10, 1, 9, 30), tick=False):
        first = services.repair_return_visit(
            repair=repair, by=org["east_staff"], satisfaction="very_satisfied"
        )
        assert first.on_time
        # The second (effect) visit opens as R18's does, not the day after the first.
        with pytest.raises(ValidationError, match="起可登记"):
            services.repair_return_visit(repair=repair, by=org["east_staff"], satisfaction="satisfied")
    with time_machine.travel(at(2026, 11, 29, 10, 0), tick=False):
        second = services.repair_return_visit(
            repair=repair, by=org["east_staff"], satisfaction="satisfied", effect_confirmed=True
        )
    assert second.sequence == 2 and second.on_time and second.effect_confirmed


def test_a_visit_after_a_weekend_is_late(org):
    """Closed Friday 18:00: due Saturday 18:00, not Monday (the client is asked within 24 hours)."""
    project = make_project(org)
    repair = receive(org, project, received_at=at(2026, 11, 13, 9, 0))
    with time_machine.travel(at(2026, 11, 13, 18, 0), tick=False):
        repair = walk_to_closed(org, repair)
    assert timezone.localtime(repair.visits.get().due_at) == at(2026, 11, 14, 18, 0)
    with time_machine.travel(at(2026, 11, 16, 9, 0), tick=False):
        visit = services.repair_return_visit(repair=repair, by=org["east_staff"], satisfaction="satisfied")
    assert visit.on_time is False
    window = fig.Window(at(2026, 11, 1, 0, 0), at(2026, 12, 1, 0, 0))
    values = fig.evaluate(org["marketing"], window, only=[
        "repair_visits_due", "repair_visits_on_time", "repair_visit_on_time_rate"]).values  # fmt: skip
    assert (
        values["repair_visits_due"],
        values["repair_visits_on_time"],
        values["repair_visit_on_time_rate"],
    ) == (1, 0, 0)


def test_a_visit_is_refused_before_the_closing_or_without_satisfaction(org):
    project = make_project(org)
    repair = walk_to_closed(org, receive(org, project))
    with pytest.raises(ValidationError) as refused:
        services.repair_return_visit(repair=repair, by=org["east_staff"], satisfaction="")
    assert "satisfaction" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.repair_return_visit(repair=repair, by=org["east_staff"], satisfaction="satisfied",
                                     visited_at=repair.closed_at - dt.timedelta(hours=1))  # fmt: skip
    assert "visited_at" in refused.value.message_dict
    assert not repair.visits.filter(visited_at__isnull=False).exists()


def test_reopen_when_the_same_problem_returns_and_the_first_time_fix_rate(org):
    """R97: a reopened repair goes back to its team and no longer counts as fixed first time."""
    project = make_project(org)
    with time_machine.travel(at(2026, 11, 2, 9, 0), tick=False):
        fixed = walk_to_closed(org, receive(org, project))
        again = walk_to_closed(org, receive(org, project))
    with time_machine.travel(at(2026, 11, 9, 9, 0), tick=False):
        again = services.repair_reopen(repair=again, by=org["east_staff"], reason="窗户再次漏雨")
        assert again.status == "dispatched" and again.reopen_count == 1 and again.closed_at is None
        assert not again.visits.filter(visited_at__isnull=True).exists()  # the pending visit is dropped
        again = services.repair_complete(repair=again, by=org["east_staff"], repair_note="更换整樘窗扇")
        again = services.repair_close(repair=again, by=org["east_staff"])
    assert list(again.events.values_list("kind", flat=True)).count("closed") == 2
    window = fig.Window(at(2026, 11, 1, 0, 0), at(2026, 12, 1, 0, 0))
    result = fig.evaluate(org["east_manager"], window, only=[
        "repairs_closed", "repairs_fixed_first_time", "repair_first_time_fix_rate"])  # fmt: skip
    assert {r["id"] for r in result.lists["repairs_closed"]} == {fixed.pk, again.pk}
    assert [r["id"] for r in result.lists["repairs_fixed_first_time"]] == [fixed.pk]
    assert result.values["repair_first_time_fix_rate"] == 0.5


def test_paid_service_outside_the_warranty(org):
    """R94: after the warranty, or without one, a repair is paid service."""
    with time_machine.travel(at(2026, 11, 2, 9, 0), tick=False):
        inside = receive(org, make_project(org, warranty=dt.date(2026, 11, 2)))
        after = receive(org, make_project(org, warranty=dt.date(2026, 11, 1)))
        none = receive(org, make_project(org, warranty=None))
    assert (inside.is_paid, after.is_paid, none.is_paid) == (False, True, True)
    assert after.events.get(kind="received").note == "有偿维修(不在保修期内)"
    window = fig.Window(at(2026, 11, 1, 0, 0), at(2026, 12, 1, 0, 0))
    rows = repair_figures.repairs_paid(org["marketing"], window)
    assert {r["id"] for r in rows} == {after.pk, none.pk}


def test_a_repeated_repair_offers_a_complaint_linked_to_it(org):
    """R101: the complaint names the repair's client and project and links to it; the repair's
    own description is not copied."""
    project = make_project(org)
    repair = walk_to_closed(org, receive(org, project))
    assert not services.offers_complaint(repair)
    with pytest.raises(ValidationError, match="只有返修过或回访不满意"):
        services.repair_open_complaint(repair=repair, by=org["east_staff"], content="业主不满")
    repair = services.repair_reopen(repair=repair, by=org["east_staff"], reason="再次漏雨")
    assert services.offers_complaint(repair) and "complaint" in services.allowed_steps(
        org["east_staff"], repair
    )
    complaint = services.repair_open_complaint(
        repair=repair, by=org["east_staff"], content="同一窗户两次维修仍漏雨,业主要求更换。", severity="high"
    )
    repair.refresh_from_db()
    assert repair.complaint == complaint and complaint.repair == repair
    assert (complaint.client, complaint.project, complaint.owner) == (
        project.client,
        project,
        org["east_staff"],
    )
    assert repair.description not in complaint.content
    assert repair.events.filter(kind="complaint", note=complaint.code).exists()
    with pytest.raises(ValidationError, match="已转为投诉"):
        services.repair_open_complaint(repair=repair, by=org["east_staff"], content="再来一次")
    assert Complaint.objects.count() == 1


def test_an_unsatisfied_visit_offers_a_complaint(org):
    repair = walk_to_closed(org, receive(org, make_project(org)))
    services.repair_return_visit(repair=repair, by=org["east_staff"], satisfaction="unsatisfied")
    repair = RepairRequest.objects.get(pk=repair.pk)
    assert services.offers_complaint(repair)
    window = fig.Window(timezone.now() - dt.timedelta(days=1), timezone.now() + dt.timedelta(days=1))
    values = fig.evaluate(org["east_staff"], window, only=[
        "repair_visits_made", "repair_visits_satisfied", "repair_satisfaction_rate"]).values  # fmt: skip
    assert (
        values["repair_visits_made"],
        values["repair_visits_satisfied"],
        values["repair_satisfaction_rate"],
    ) == (1, 0, 0)


@pytest.mark.parametrize(
    "status,step",
    [("received", "dispatch"), ("received", "close"), ("registered", "complete"), ("dispatched", "close"),
     ("received", "reopen"), ("dispatched", "return_visit")],
)  # fmt: skip
def test_illegal_steps_are_refused_and_change_nothing(org, status, step):
    repair = receive(org, make_project(org))
    user = org["east_staff"]
    if status in ("registered", "dispatched"):
        repair = services.repair_register(repair=repair, by=user)
    if status == "dispatched":
        repair = services.repair_dispatch(repair=repair, by=user, team="土建维修组")
    before = RepairRequest.objects.filter(pk=repair.pk).values().get()
    events = RepairEvent.objects.filter(repair=repair).count()
    call = {
        "dispatch": lambda: services.repair_dispatch(repair=repair, by=user, team="x"),
        "close": lambda: services.repair_close(repair=repair, by=user),
        "complete": lambda: services.repair_complete(repair=repair, by=user, repair_note="x"),
        "reopen": lambda: services.repair_reopen(repair=repair, by=user, reason="x"),
        "return_visit": lambda: services.repair_return_visit(
            repair=repair, by=user, satisfaction="satisfied"
        ),
    }[step]
    with pytest.raises(ValidationError):
        call()
    assert RepairRequest.objects.filter(pk=repair.pk).values().get() == before
    assert RepairEvent.objects.filter(repair=repair).count() == events


def test_required_facts_and_steps_say_what_is_missing(org):
    project = make_project(org)
    with pytest.raises(ValidationError) as refused, transaction.atomic():
        receive(org, project, location="  ", part="roof")
    assert {"location", "part"} <= set(refused.value.message_dict)
    repair = services.repair_register(repair=receive(org, project), by=org["east_staff"])
    with pytest.raises(ValidationError) as refused:
        services.repair_dispatch(repair=repair, by=org["east_staff"], team=" ")
    assert "team" in refused.value.message_dict
    assert RepairRequest.objects.count() == 1


def test_another_branch_and_group_readers_may_not_work_a_repair(org):
    repair = receive(org, make_project(org))
    for who in ("south_staff", "leader", "auditor"):
        with pytest.raises(ValidationError):
            services.repair_register(repair=repair, by=org[who])
    assert services.repair_register(repair=repair, by=org["marketing"]).status == "registered"


def test_a_stale_edit_is_refused(org):
    repair = receive(org, make_project(org))
    stale = RepairRequest.objects.get(pk=repair.pk)
    services.repair_register(repair=repair, by=org["east_staff"])
    with pytest.raises(StaleVersion), transaction.atomic():
        services.repair_update(repair=stale, by=org["east_staff"], location="5号楼")
    repair.refresh_from_db()
    assert repair.location == "3号楼2单元501"
    fresh = RepairRequest.objects.get(pk=repair.pk)
    services.repair_update(repair=fresh, by=org["east_staff"], location="5号楼1单元101")
    assert repair.events.filter(kind="updated").exists()


def test_the_half_year_analysis_product_aspect_counts_repairs(org):
    """R99 -> R30/R31: the product aspect of the branch's client analysis is pre-filled with the
    repair figures of the half year (the same registry's figures, not a count of its own)."""
    from assessments.review.services import analysis_figures

    project = make_project(org)
    with time_machine.travel(at(2026, 11, 2, 9, 0), tick=False):
        walk_to_closed(org, receive(org, project))
        services.repair_reopen(
            repair=walk_to_closed(org, receive(org, project)), by=org["east_staff"], reason="再次漏雨"
        )
    repairs = analysis_figures(org.branches["east"].pk, fig.HalfYear.parse("2026H2"))["product"]["repairs"]
    assert repairs["repairs_received"] == 2 and repairs["repairs_registered_on_time"] == 2
    assert repairs["repairs_closed"] == 1 and repairs["repairs_fixed_first_time"] == 1
    assert repairs["repair_first_time_fix_rate"] == 1.0
    assert (
        analysis_figures(org.branches["south"].pk, fig.HalfYear.parse("2026H2"))["product"]["repairs"][
            "repairs_received"
        ]
        == 0
    )
