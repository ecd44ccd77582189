"""The 25th job (R28): the stored schedule, closing a period (missing reports frozen as 未上报,
on time or late), the roll-up, the notices, and idempotence: twice, from two threads at once on
PostgreSQL, a day late, after a missed month; reminders before the deadline."""

import threading

import pytest
import time_machine
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from assessments.models import ClosePart, MonthlyClose, MonthlyReport
from assessments.monthly import services
from assessments.obligations import reporting_branches
from crm import figures as fig
from crm.models import Notification
from crm.schedules import ensure_declared

from .helpers import at, new_client

DEC = fig.Period(2026, 12)


def _close(period, now, capture=None):
    """What the task does: open the closing and run each branch's part (with ``capture``, the
    work queued on commit, the notices, runs too)."""
    from contextlib import nullcontext

    with time_machine.travel(now, tick=False), capture(execute=True) if capture else nullcontext():
        close, pending = services.monthly_close_start(period=period)
        for branch_id in pending:
            services.monthly_close_part(close_id=close.pk, branch_id=branch_id)
        close.refresh_from_db()
        return close


@pytest.mark.django_db
def test_the_schedule_runs_on_the_25th_at_the_deadline_in_shanghai():
    ensure_declared()
    task = PeriodicTask.objects.get(name__startswith="assessments: close the monthly")
    cron = task.crontab
    assert (cron.minute, cron.hour, cron.day_of_month, cron.month_of_year) == ("0", "20", "25", "*")
    assert str(cron.timezone) == "Asia/Shanghai"
    reminders = PeriodicTask.objects.get(name__startswith="assessments: remind").crontab
    assert reminders.day_of_month == "20,24" and str(reminders.timezone) == "Asia/Shanghai"
    # The stored crontab is due on 25 December at 20:00 in Shanghai, not the 26th (UTC).
    schedule = cron.schedule
    with time_machine.travel(at("2026-12-25T19:00"), tick=False):
        remaining = schedule.remaining_estimate(at("2026-11-25T20:00"))
    assert 3500 <= remaining.total_seconds() <= 3700


@pytest.mark.django_db
def test_closing_freezes_the_missing_marks_on_time_and_late_and_builds_the_rollup(
    org, django_capture_on_commit_callbacks
):
    with time_machine.travel(at("2026-12-10T10:00"), tick=False):
        new_client(org, "east")
        new_client(org, "south")
        new_client(org, "south")
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        services.report_submit(
            report=services.report_open(branch=org.branches["east"], period=DEC), by=org["east_manager"]
        )
    close = _close(DEC, at("2026-12-25T20:00"), django_capture_on_commit_callbacks)
    assert close.state == "done" and close.done == close.total == reporting_branches().count()
    south = MonthlyReport.objects.get(branch=org.branches["south"], period="2026-12")
    assert south.status == "missing" and south.snapshot["values"]["new_clients"] == 2
    east = MonthlyReport.objects.get(branch=org.branches["east"], period="2026-12")
    assert east.timeliness == "on_time" and east.closed_at is not None
    by_branch = {row["branch"]: row for row in close.rollup["branches"]}
    assert by_branch[str(org.branches["east"])]["timeliness"] == "on_time"
    assert by_branch[str(org.branches["south"])]["timeliness"] == "missing"
    assert (
        close.rollup["totals"]["new_clients"]
        == sum(r["values"]["new_clients"] for r in close.rollup["branches"])
        == 3
    )
    # Group marketing is told once; the missing branches' managers once each.
    assert Notification.objects.filter(recipient=org["marketing"], key="monthly-close:2026-12").count() == 1
    assert (
        Notification.objects.filter(
            recipient=org["south_manager"], key__startswith="monthly-late:2026-12"
        ).count()
        == 1
    )
    assert not Notification.objects.filter(
        recipient=org["east_manager"], key__startswith="monthly-late:"
    ).exists()
    # A record of the period's last evening, after the close; south submits two days late:
    # late, and its snapshot is taken again up to the submission (R27: a report's window runs
    # from the previous freeze to its own), so the 25th's evening and the 27th's morning are
    # December's; January's report starts where December's froze.
    with time_machine.travel(at("2026-12-25T21:00"), tick=False):
        new_client(org, "south")
    with time_machine.travel(at("2026-12-27T08:00"), tick=False):
        new_client(org, "south")
    with time_machine.travel(at("2026-12-27T09:00"), tick=False):
        south = services.report_submit(report=south, by=org["south_manager"])
    assert south.timeliness == "late" and south.snapshot["values"]["new_clients"] == 4
    january = services.report_open(branch=org.branches["south"], period=DEC.next())
    assert services.report_window(january).start == at("2026-12-27T09:00")


@pytest.mark.django_db
def test_running_twice_changes_nothing_and_notifies_nobody_again(org, django_capture_on_commit_callbacks):
    first = _close(DEC, at("2026-12-25T20:00"), django_capture_on_commit_callbacks)
    snapshot = {r.pk: (r.snapshot, r.closed_at, r.status) for r in MonthlyReport.objects.all()}
    notes = Notification.objects.count()
    assert notes > 0
    second = _close(DEC, at("2026-12-26T09:00"), django_capture_on_commit_callbacks)
    assert second.pk == first.pk and MonthlyClose.objects.count() == 1
    assert {r.pk: (r.snapshot, r.closed_at, r.status) for r in MonthlyReport.objects.all()} == snapshot
    assert Notification.objects.count() == notes
    assert ClosePart.objects.count() == first.total
    # A part delivered twice (at-least-once) counts once.
    services.monthly_close_part(close_id=first.pk, branch_id=org.branches["east"].pk)
    first.refresh_from_db()
    assert first.done == first.total


@pytest.mark.django_db
def test_catching_up_after_a_missed_month(org):
    _close(fig.Period(2026, 10), at("2026-10-25T20:00"))
    with time_machine.travel(at("2026-11-10T10:00"), tick=False):
        new_client(org, "east")
    with time_machine.travel(at("2026-12-25T21:00"), tick=False):
        new_client(org, "east")  # after December's deadline: January's
    with time_machine.travel(at("2026-12-26T06:30"), tick=False):
        due = services.periods_to_close()
    assert [p.label for p in due] == ["2026-11", "2026-12"]
    for period in due:
        _close(period, at("2026-12-26T06:30"))
    with time_machine.travel(at("2026-12-27T06:30"), tick=False):
        assert services.periods_to_close() == []
    # East recorded a client in November and did not report: missing. The other branches had
    # nothing to report: recorded as 无变化, on time (R26). The late run froze at the deadlines,
    # as a run on time would have (R28).
    november = {r.branch.code: r for r in MonthlyReport.objects.filter(period="2026-11")}
    assert november.pop("east").status == "missing"
    assert {r.status for r in november.values()} == {"no_change"}
    assert all(
        r.timeliness == "on_time" and r.frozen_at == fig.Period(2026, 11).deadline for r in november.values()
    )
    december = MonthlyReport.objects.get(period="2026-12", branch=org.branches["east"])
    assert december.status == "no_change" and december.values["new_clients"] == 0
    assert december.window_start == fig.Period(2026, 11).deadline
    assert december.frozen_at == DEC.deadline


@pytest.mark.django_db
def test_a_period_is_not_closed_before_its_deadline(org):
    from django.core.exceptions import ValidationError

    with time_machine.travel(at("2026-12-25T19:59"), tick=False), pytest.raises(ValidationError):
        services.monthly_close_start(period=DEC)
    assert not MonthlyClose.objects.exists()


@pytest.mark.django_db
def test_reminders_go_to_branches_that_have_not_submitted_once_a_day(org):
    with time_machine.travel(at("2026-12-20T09:00"), tick=False):
        services.report_submit(
            report=services.report_open(branch=org.branches["east"], period=DEC), by=org["east_manager"]
        )
        sent = services.monthly_reminders()
        assert services.monthly_reminders() == 0
    reminded = set(
        Notification.objects.filter(verb="monthly_reminder").values_list("recipient__username", flat=True)
    )
    assert (
        "east_manager" not in reminded and {"south_manager", "design_manager", "install_manager"} <= reminded
    )
    assert sent == len(reminded)
    with time_machine.travel(at("2026-12-24T09:00"), tick=False):
        assert services.monthly_reminders() == sent
    with time_machine.travel(at("2026-12-25T21:00"), tick=False):
        assert services.monthly_reminders() == 0


@pytest.mark.django_db(transaction=True)
def test_two_workers_closing_at_once_make_one_result(org):
    """PostgreSQL: two threads run the whole job for the same period at the same moment."""
    errors = []
    barrier = threading.Barrier(2)

    def run():
        from django.db import connections

        try:
            barrier.wait()
            _close(DEC, at("2026-12-25T20:05"))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    close = MonthlyClose.objects.get()
    assert close.state == "done" and close.done == close.total
    assert MonthlyReport.objects.filter(period="2026-12").count() == close.total
    assert Notification.objects.filter(key="monthly-close:2026-12").count() == 1
    assert Notification.objects.filter(key__startswith="monthly-late:2026-12").count() == (
        Notification.objects.filter(key__startswith="monthly-late:2026-12")
        .values("recipient")
        .distinct()
        .count()
    )


@pytest.mark.django_db
def test_running_a_closed_month_again_by_hand_says_it_changed_nothing(org):
    _close(DEC, at("2026-12-25T20:00"))
    with time_machine.travel(at("2026-12-26T09:00"), tick=False):
        web = org.web("marketing")
        response = web.post(reverse("assessments:close-list"), {"period": DEC.label}, follow=True)
    said = [str(m) for m in response.context["messages"]]
    assert any("本次重复执行未做任何更改" in m and "2026-12-25 20:00" in m for m in said), said
    assert MonthlyClose.objects.get(period=DEC.label).state == "done"


@pytest.mark.django_db
def test_a_month_before_the_first_record_is_not_closed(org):
    """Closing 2000-01 made four reports and a hold on every branch: refused, nothing made."""
    from django.core.exceptions import ValidationError

    with time_machine.travel(at("2026-09-10T10:00"), tick=False):
        new_client(org, "east")
    with time_machine.travel(at("2026-12-26T09:00"), tick=False):
        for label in ("2000-01", "2026-08"):
            with pytest.raises(ValidationError, match="早于系统中最早的记录"):
                services.monthly_close_start(period=fig.Period.parse(label))
        response = org.api("marketing").post(
            "/api/monthly-reports/close/", {"period": "2000-01"}, format="json"
        )
        assert response.status_code == 400 and "早于" in str(response.json())
        assert services.first_period() == fig.Period(2026, 9)
        close, pending = services.monthly_close_start(period=fig.Period(2026, 9))  # the first: fine
    assert pending and not MonthlyReport.objects.filter(period__in=("2000-01", "2026-08")).exists()
    assert not MonthlyClose.objects.filter(period__in=("2000-01", "2026-08")).exists()
