"""The weekly tracking check of client needs (seed 003: «每周对需求处理进度进行一次跟踪检查,及时更新
跟踪台账»; R70-R73): which needs a check finds (response overdue; open ten full working days),
as of the week's checkpoint whenever the job runs; one check per branch and week (a second run
changes nothing); a missed week caught up; a week across the National Day holiday and the Spring
Festival week on the working-day calendar; never a week before its checkpoint; the notices (each
owner once with their list, the manager a summary); the 协调解决 remarks and their history; the
ledger's states; the job through Celery (eager) and its schedule rows. The clock is moved for
every test (the dates are 2026's, with the official holiday schedule), never today's."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django_celery_beat.models import PeriodicTask

from clients import services as need_services
from clients.models import Need, NeedCheck, NeedCheckFinding
from clients.tracking import services, tasks
from clients.tracking.selectors import Clock
from clients.tracking.weeks import Week, last_due_week
from crm.celery import app as celery_app
from crm.models import Notification, StaleVersion
from tests.assessments.helpers import at

from .archive_helpers import make_need

pytestmark = pytest.mark.django_db

W50 = Week(2026, 50)  # Monday 7 December 2026
MONDAY_9 = at("2026-12-07T09:00")


def need_at(org, when: str, code: str = "east", urgency: str = "general", **kw) -> Need:
    with time_machine.travel(at(when), tick=False):
        return make_need(org, code, urgency=urgency, **kw)


def respond_at(need: Need, when: str) -> Need:
    with time_machine.travel(at(when), tick=False):
        return need_services.need_respond(need=need, by=need.owner, note="已电话答复客户")


def close_at(need: Need, when: str) -> Need:
    with time_machine.travel(at(when), tick=False):
        return need_services.need_close(need=need, by=need.owner, done=True, note="已办结")


def run(org, when: str, code: str = "east") -> list[NeedCheck]:
    with time_machine.travel(at(when), tick=False):
        return services.need_checks_catch_up(branch=org.branches[code])


def found(check: NeedCheck) -> dict[int, NeedCheckFinding]:
    return {f.need_id: f for f in check.findings.all()}


@pytest.fixture
def week50(org):
    """East's needs around 2026-W50, named by what the check must make of them."""
    n = {}
    n["fresh"] = need_at(org, "2026-12-01T10:00")  # general: due 8 Dec 10:00; 3 working days
    n["urgent_late"] = need_at(org, "2026-12-04T10:00", urgency="urgent")  # due 14:00 the same day
    n["long_open"] = need_at(org, "2026-11-16T10:00", urgency="important")  # 14 working days by Monday
    respond_at(n["long_open"], "2026-11-17T10:00")
    n["ten_days"] = need_at(org, "2026-11-20T15:00")  # exactly 10 full working days before Monday
    respond_at(n["ten_days"], "2026-11-23T10:00")
    n["nine_days"] = need_at(org, "2026-11-23T10:00")  # 9
    respond_at(n["nine_days"], "2026-11-24T10:00")
    n["done"] = need_at(org, "2026-11-16T11:00")
    close_at(n["done"], "2026-12-03T16:00")
    n["early_monday"] = need_at(org, "2026-12-07T08:30", urgency="urgent")  # due 12:30: not yet
    n["south"] = need_at(org, "2026-12-04T10:00", code="south", urgency="urgent")
    return n


# -- R71: what a check finds -------------------------------------------------------------------------


def test_the_check_finds_the_overdue_response_and_the_needs_open_ten_working_days(org, week50):
    made = run(org, "2026-12-07T09:05")
    assert [c.week for c in made] == ["2026-W50"]
    check = made[0]
    assert check.as_of == MONDAY_9 and check.branch == org.branches["east"] and not check.caught_up
    rows = found(check)
    n = week50
    assert set(rows) == {n["urgent_late"].pk, n["long_open"].pk, n["ten_days"].pk}
    assert rows[n["urgent_late"].pk].response_overdue and not rows[n["urgent_late"].pk].open_too_long
    assert rows[n["long_open"].pk].open_too_long and not rows[n["long_open"].pk].response_overdue
    assert rows[n["long_open"].pk].working_days_open == 14
    assert rows[n["ten_days"].pk].working_days_open == 10
    # Open at 09:00: every east need received and not closed by then (not 'done', not south's).
    assert check.open_count == 6
    assert rows[n["long_open"].pk].owner == org["east_staff"]
    assert rows[n["long_open"].pk].client_name == n["long_open"].client.name


def test_the_check_day_itself_is_never_counted(org):
    """R70: the working days are full days between the day received and the check's day."""
    need = need_at(org, "2026-11-20T15:00")
    respond_at(need, "2026-11-20T16:00")
    clock = Clock(at("2026-12-04T23:59"))  # Friday night: nine full working days
    assert clock.working_days_open(need.received_at) == 9 and not clock.too_long(need.received_at)
    clock = Clock(MONDAY_9)  # Monday 09:00: Friday 4 December was the tenth
    assert clock.working_days_open(need.received_at) == 10 and clock.too_long(need.received_at)
    assert need.received_at < clock.threshold()  # the filter says the same as the count


def test_a_run_later_in_the_week_finds_what_was_there_at_the_checkpoint(org, week50):
    """R71: a run on Wednesday (the clock moved) makes Monday's check, as of Monday 09:00: the
    answer given on Tuesday and the need received on Tuesday do not change it."""
    n = week50
    respond_at(n["urgent_late"], "2026-12-08T10:00")
    close_at(n["long_open"], "2026-12-08T11:00")
    need_at(org, "2026-12-08T10:00", urgency="urgent")  # after the checkpoint
    made = run(org, "2026-12-09T15:00")
    assert [c.week for c in made] == ["2026-W50"]
    check = made[0]
    assert check.as_of == MONDAY_9
    rows = found(check)
    assert set(rows) == {n["urgent_late"].pk, n["long_open"].pk, n["ten_days"].pk}
    assert rows[n["urgent_late"].pk].responded_at is None  # not answered at 09:00 on Monday
    assert rows[n["urgent_late"].pk].response_overdue
    assert check.open_count == 6


def test_a_second_run_changes_nothing_and_notifies_nobody_again(org, week50):
    first = run(org, "2026-12-07T09:00")
    notices = Notification.objects.count()
    assert notices == 2  # east_staff's list and east_manager's summary
    assert run(org, "2026-12-07T09:30") == [] and run(org, "2026-12-10T09:30") == []
    assert NeedCheck.objects.filter(branch=org.branches["east"]).count() == 1
    assert NeedCheckFinding.objects.filter(need_check=first[0]).count() == 3
    assert Notification.objects.count() == notices
    check, created = services.need_check_make(
        branch=org.branches["east"], week=W50, now=at("2026-12-11T10:00")
    )
    assert check == first[0] and not created


def test_never_a_week_before_its_checkpoint(org, week50):
    """R71: at 08:59 on Monday the week's check is not due: the run makes the latest week whose
    checkpoint has passed (the previous one) and asked for this week refuses."""
    made = run(org, "2026-12-07T08:59")
    assert [c.week for c in made] == ["2026-W49"]
    with pytest.raises(ValidationError):
        services.need_check_make(branch=org.branches["east"], week=W50, now=at("2026-12-07T08:59"))
    assert not NeedCheck.objects.filter(week="2026-W50").exists()


def test_a_missed_week_is_caught_up_without_notices(org):
    """R71, R72: beat was down on 30 November: the run of 7 December makes W49 (as of its own
    checkpoint, recorded as caught up, no notices) and W50 (notified)."""
    late = need_at(org, "2026-11-26T10:00", urgency="urgent")  # due 14:00, answered 2 December
    respond_at(late, "2026-12-02T10:00")
    run(org, "2026-11-23T10:00")  # W48 was made
    Notification.objects.all().delete()
    made = run(org, "2026-12-07T09:30")
    assert [(c.week, c.caught_up) for c in made] == [("2026-W49", True), ("2026-W50", False)]
    w49, w50 = made
    assert w49.as_of == at("2026-11-30T09:00")
    assert set(found(w49)) == {late.pk} and found(w50) == {}
    assert w49.notified_at is None
    # W50 found nothing: nobody is told of anything, and nobody of the caught-up week.
    assert not Notification.objects.exists()


def test_catching_up_goes_back_at_most_eight_weeks(org):
    run(org, "2026-09-07T10:00")  # W37
    made = run(org, "2026-12-07T09:30")
    assert len(made) == services.CATCH_UP_WEEKS
    assert made[-1].week == "2026-W50" and made[0].week == "2026-W43"


def test_a_week_across_national_day(org):
    """R71 on the working-day calendar: 2026-W41 (5-11 October) begins with three holidays, so
    its check is as of Thursday 8 October 09:00; the 调休 Sunday 20 September counts, the
    holidays do not; a general need received on 28 September is not yet due on 8 October."""
    long_open = need_at(org, "2026-09-14T10:00")  # 12 working days by 8 October (17 Sept Thu: 9)
    respond_at(long_open, "2026-09-15T10:00")
    nine = need_at(org, "2026-09-17T10:00")
    respond_at(nine, "2026-09-18T10:00")
    general = need_at(org, "2026-09-28T10:00")  # due after 5 working days: 10 October 10:00
    assert general.response_due_at == at("2026-10-10T10:00")
    assert [c.week for c in run(org, "2026-09-28T09:30")] == ["2026-W40"]
    assert run(org, "2026-10-05T10:00") == []  # Monday 5 October is a holiday: W41 not yet due
    assert last_due_week(at("2026-10-07T23:00")) == Week(2026, 40)
    made = run(org, "2026-10-08T09:30")
    assert [c.week for c in made] == ["2026-W41"]
    check = made[0]
    assert check.as_of == at("2026-10-08T09:00")
    rows = found(check)
    assert set(rows) == {long_open.pk}
    assert rows[long_open.pk].working_days_open == 12
    assert Clock(check.as_of).working_days_open(nine.received_at) == 9


def test_the_spring_festival_week_has_no_check(org):
    """2026-W08 (16-22 February) has no working day: no check, and none is owed (the run after
    it makes W09's, as of Tuesday 24 February, the first working day)."""
    assert Week(2026, 8).checkpoint() is None
    with pytest.raises(ValidationError):
        services.need_check_make(branch=org.branches["east"], week=Week(2026, 8), now=at("2026-03-01T10:00"))
    run(org, "2026-02-09T10:00")  # W07
    made = run(org, "2026-02-24T09:30")
    assert [c.week for c in made] == ["2026-W09"]
    assert made[0].as_of == at("2026-02-24T09:00")


def test_weeks_are_iso_weeks():
    assert Week.parse("2026-W53").monday == dt.date(2026, 12, 28)
    assert Week.of(dt.date(2027, 1, 1)) == Week(2026, 53)
    assert Week(2026, 53).next() == Week(2027, 1)
    for bad in ("2026-W54", "2025-W53", "2026-50", "", "x"):
        with pytest.raises(ValueError):
            Week.parse(bad)


# -- R72: notices ------------------------------------------------------------------------------------


def test_each_owner_is_told_once_with_their_list_and_the_manager_a_summary(org, week50):
    other = need_at(org, "2026-12-03T10:00", urgency="urgent", owner=org["east_manager"])
    run(org, "2026-12-07T09:00")
    staff = Notification.objects.get(recipient=org["east_staff"])
    assert "3 条" in staff.title and "2026-W50" in staff.title
    assert week50["long_open"].client.name in staff.body and "已办理14个工作日" in staff.body
    assert staff.body.count("· ") == 3
    check = NeedCheck.objects.get()
    assert staff.url.endswith(f"/clients/needs/tracking/checks/{check.pk}/?owner={org['east_staff'].pk}")
    manager = Notification.objects.filter(recipient=org["east_manager"]).order_by("verb")
    assert [m.verb for m in manager] == ["need_check", "need_check_summary"]
    assert other.client.name in manager[0].body
    summary = manager[1]
    assert "4 条需协调解决" in summary.title and "响应逾期 2 条" in summary.body
    assert not Notification.objects.filter(recipient=org["south_manager"]).exists()
    assert services.need_check_notify(check=check) == 0  # the keys: nobody twice


def test_an_owner_who_left_is_not_told_and_the_summary_says_so(org, week50):
    org["east_staff"].is_active = False
    org["east_staff"].save()
    run(org, "2026-12-07T09:00")
    assert not Notification.objects.filter(recipient=org["east_staff"]).exists()
    summary = Notification.objects.get(recipient=org["east_manager"], verb="need_check_summary")
    assert "负责人已停用" in summary.body


# -- R73: 协调解决 ---------------------------------------------------------------------------------------


def _finding(org, week50) -> NeedCheckFinding:
    run(org, "2026-12-07T09:00")
    return NeedCheckFinding.objects.get(need=week50["long_open"])


def test_the_manager_records_the_coordination_and_its_history_is_kept(org, week50):
    finding = _finding(org, week50)
    manager = org["east_manager"]
    saved = services.need_check_remark(finding=finding, by=manager, remark="已召集设计、施工协调会")
    assert saved.remark == "已召集设计、施工协调会" and saved.remarked_by == manager and saved.version == 2
    services.need_check_remark(
        finding=saved, by=manager, remark="客户确认方案,周五前办结", expected_version=2
    )
    history = list(finding.history.order_by("history_id"))
    assert [h.history_change_reason for h in history] == [
        "跟踪检查发现",
        "协调解决:已召集设计、施工协调会",
        "协调解决:客户确认方案,周五前办结",
    ]
    assert history[-1].history_user == manager
    with pytest.raises(StaleVersion):
        services.need_check_remark(finding=finding, by=manager, remark="旧版本上的修改", expected_version=2)
    with pytest.raises(ValidationError):
        services.need_check_remark(finding=finding, by=manager, remark="   ")
    finding.refresh_from_db()
    assert finding.remark == "客户确认方案,周五前办结" and finding.version == 3


@pytest.mark.parametrize(
    "persona,error", [("east_staff", PermissionDenied), ("marketing", PermissionDenied),
                      ("leader", PermissionDenied), ("south_manager", Http404)]
)  # fmt: skip
def test_only_the_branch_manager_records_it(org, week50, persona, error):
    finding = _finding(org, week50)
    with pytest.raises(error):
        services.need_check_remark(finding=finding, by=org[persona], remark="由我来协调")
    finding.refresh_from_db()
    assert finding.remark == "" and finding.version == 1


# -- R70: the ledger's states --------------------------------------------------------------------------


def test_the_ledger_states_at_each_checkpoint(org, week50):
    n = week50
    respond_at(n["fresh"], "2026-12-09T10:00")  # after its deadline of 8 December 10:00
    clock = Clock(at("2026-12-10T10:00"))
    rows = {x.pk: x for x in clock.annotate(Need.objects.filter(client__branch=org.branches["east"]))}
    assert rows[n["fresh"].pk].response_state == "late"
    assert rows[n["long_open"].pk].response_state == "on_time"
    assert rows[n["early_monday"].pk].response_state == "overdue"
    assert rows[n["long_open"].pk].handling_state == "overdue"
    assert rows[n["nine_days"].pk].handling_state == "overdue"  # 12 working days by 10 December
    assert rows[n["fresh"].pk].handling_state == "open" and rows[n["fresh"].pk].working_days_open == 6
    assert rows[n["done"].pk].handling_state == "closed_late"  # closed after 12 full working days
    quick = need_at(org, "2026-12-01T10:00")
    close_at(quick, "2026-12-02T10:00")
    assert Clock(at("2026-12-10T10:00")).annotate([Need.objects.get(pk=quick.pk)])[0].handling_state == (
        "closed_on_time"
    )
    overdue = set(Need.objects.filter(clock.handling_overdue_q()).values_list("pk", flat=True))
    assert overdue == {n["long_open"].pk, n["ten_days"].pk, n["nine_days"].pk}


# -- R71: the job and its schedules ---------------------------------------------------------------------


@pytest.fixture
def eager():
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = old


def test_the_weekly_job_through_celery_makes_one_check_per_branch(org, week50, eager):
    from crm.models import Branch

    active = Branch.objects.filter(is_active=True).count()
    with time_machine.travel(at("2026-12-07T09:00:05"), tick=False):
        assert tasks.need_checks_weekly.delay().get() == active
        assert tasks.need_checks_weekly.delay().get() == active
    assert NeedCheck.objects.filter(week="2026-W50").count() == active
    assert NeedCheck.objects.count() == active
    south = NeedCheck.objects.get(branch=org.branches["south"])
    assert set(found(south)) == {week50["south"].pk}
    assert tasks.need_check_branch.delay(org.branches["east"].pk).get() == []  # made already


def test_the_schedules_are_rows_with_minute_hour_day_of_week_and_shanghai():
    rows = {
        t.name: t.crontab
        for t in PeriodicTask.objects.select_related("crontab").filter(
            task="clients.tracking.tasks.need_checks_weekly"
        )
    }
    weekly, daily = rows["需求跟踪检查(每周一 09:00)"], rows["需求跟踪检查补做(每日 09:30)"]
    assert (weekly.minute, weekly.hour, weekly.day_of_week) == ("0", "9", "1")
    assert (daily.minute, daily.hour, daily.day_of_week) == ("30", "9", "*")
    assert str(weekly.timezone) == str(daily.timezone) == "Asia/Shanghai"


def test_a_deleted_need_leaves_its_finding_with_what_it_was(org, week50):
    check = run(org, "2026-12-07T09:00")[0]
    week50["urgent_late"].delete()
    finding = check.findings.get(need__isnull=True)
    assert finding.description == week50["urgent_late"].description and finding.response_overdue
    assert check.findings.count() == 3  # the check's record keeps it


def test_demo_seed_makes_the_past_weeks_checks_by_the_rules(org):
    """The demo (seed): four weeks' checks of each demo branch through the service, idempotent."""
    from clients.tracking.seed import seed_need_checks

    for when, urgency in (("2026-11-02T10:00", "general"), ("2026-12-03T10:00", "urgent")):
        need_at(org, when, urgency=urgency)
    with time_machine.travel(at("2026-12-09T10:00"), tick=False):
        first = seed_need_checks(org)
        again = seed_need_checks(org)
    assert first.startswith("16 need tracking checks") and again.startswith("0 need tracking checks")
    east = list(NeedCheck.objects.filter(branch=org.branches["east"]).order_by("week_start"))
    assert [c.week for c in east] == ["2026-W47", "2026-W48", "2026-W49", "2026-W50"]
    assert all(c.made_at - c.as_of <= dt.timedelta(minutes=2) for c in east)
    for check in east:  # each check is what the service finds as of its checkpoint
        _count, rows = services.findings_at(check.branch_id, check.as_of)
        assert {r["need"].pk for r in rows} == set(check.findings.values_list("need_id", flat=True))
    assert NeedCheckFinding.objects.exclude(remark="").filter(remarked_by=org["east_manager"]).exists()


def test_the_demo_has_four_weeks_of_checks_by_the_rules(org):
    """The whole demo (``seed_demo``'s archive part), on whatever day it is built: four weeks of
    checks per demo branch, each what the service finds as of its checkpoint, the latest week's
    owners told, east_manager's remarks recorded, and a second seed adds nothing."""
    from clients import seed as demo

    demo.seed(org.org)
    checks = NeedCheck.objects.all()
    assert checks.count() == 16
    assert set(checks.values_list("branch__code", flat=True)) == {"east", "south", "design", "install"}
    for check in checks:
        _count, rows = services.findings_at(check.branch_id, check.as_of)
        assert {r["need"].pk for r in rows} == set(check.findings.values_list("need_id", flat=True))
        assert check.as_of <= check.made_at
    assert NeedCheckFinding.objects.exists()
    latest = NeedCheck.objects.order_by("-week_start").first().week
    assert Notification.objects.filter(verb="need_check", title__contains=latest).exists()
    assert NeedCheckFinding.objects.filter(remarked_by=org["east_manager"]).count() == 3
    before = (NeedCheck.objects.count(), NeedCheckFinding.objects.count(), Notification.objects.count())
    demo.seed(org.org)
    assert (
        NeedCheck.objects.count(),
        NeedCheckFinding.objects.count(),
        Notification.objects.count(),
    ) == before
