"""The working-day calendar (R11, R16) on 2026's real holidays and 调休 Saturdays."""

import datetime as dt
import logging

import pytest
from django.utils import timezone

from crm.calendar import add_working_days, add_working_hours, is_workday, working_days_between
from crm.models import HolidayOverride

pytestmark = pytest.mark.django_db
TZ = timezone.get_fixed_timezone(8 * 60)


def at(s):
    return dt.datetime.fromisoformat(s).replace(tzinfo=TZ)


def test_three_working_days_after_national_day_eve_is_the_adjusted_saturday():
    # 10-01..10-07 are National Day holidays; Saturday 10-10 is a 调休 working day.
    due = add_working_days(at("2026-09-30T10:00"), 3)
    assert timezone.localtime(due.at).date() == dt.date(2026, 10, 10)
    assert timezone.localtime(due.at).hour == 10
    assert due.provisional is False


def test_spring_festival_skipped_and_adjusted_saturdays_count():
    assert is_workday(dt.date(2026, 2, 14)) == (True, False)  # 调休 Saturday
    assert is_workday(dt.date(2026, 2, 17)) == (False, False)  # 春节
    assert is_workday(dt.date(2026, 2, 21)) == (False, False)  # ordinary Saturday in the holiday


def test_working_hours_roll_over_lunch_night_and_holidays():
    # 4 working hours from Wednesday 16:00: 2 h today, then 09:00-11:00 of the next working
    # day, which after 09-30 is 10-08.
    due = add_working_hours(at("2026-09-30T16:00"), 4)
    assert timezone.localtime(due.at) == at("2026-10-08T11:00")
    # Lunch 12:00-13:00 does not count.
    assert timezone.localtime(add_working_hours(at("2026-06-02T11:00"), 2).at) == at("2026-06-02T14:00")
    # Logged at night: the clock starts the next morning.
    assert timezone.localtime(add_working_hours(at("2026-06-02T21:00"), 1).at) == at("2026-06-03T10:00")


def test_override_table_wins_over_the_library():
    HolidayOverride.objects.create(date=dt.date(2026, 6, 3), is_workday=False, name="公司停电")
    assert is_workday(dt.date(2026, 6, 3)) == (False, False)
    assert timezone.localtime(add_working_days(at("2026-06-02T09:00"), 1).at).date() == dt.date(2026, 6, 4)


def test_year_without_data_falls_back_to_weekdays_and_is_provisional(caplog):
    from crm import calendar

    calendar._by_rule.clear()  # the warning is logged once per year and process
    with caplog.at_level(logging.WARNING, logger="crm.calendar"):
        due = add_working_days(at("2026-12-31T09:00"), 2)  # crosses into 2027
    assert due.provisional is True
    # New Year's Day (Fri 1st) is a holiday by rule: Mon 4th, Tue 5th.
    assert timezone.localtime(due.at).date() == dt.date(2027, 1, 5)
    assert "provisional" in caplog.text


def test_spring_festival_of_a_year_without_official_data_is_a_holiday():
    """R11 past chinesecalendar's last year: the Spring Festival of 2027 (6 February) and its
    observed days are holidays, deadlines over them provisional; the official schedule
    entered in the override table wins and makes them certain."""
    from crm.calendar import has_official_data, is_workday

    assert not has_official_data(2027) and has_official_data(2026)
    assert is_workday(dt.date(2027, 2, 8), {}) == (False, True)  # Monday of the festival
    assert is_workday(dt.date(2027, 2, 11), {}) == (True, True)
    due = add_working_days(at("2027-02-04T10:00"), 1)
    assert timezone.localtime(due.at).date() == dt.date(2027, 2, 11) and due.provisional
    # The administrator enters the official day: a 调休 Saturday becomes a working day.
    HolidayOverride.objects.create(date=dt.date(2027, 2, 20), is_workday=True, name="春节调休上班")
    assert is_workday(dt.date(2027, 2, 20)) == (True, False)


def test_working_days_between():
    assert working_days_between(dt.date(2026, 9, 30), dt.date(2026, 10, 10)) == 3


def test_administrators_are_warned_until_the_coming_years_schedule_is_entered(org):
    """R11: from November 2026 the next 60 days reach into 2027, which chinesecalendar does not
    know; administrators see a warning on every page until they enter 2027's schedule. Nobody
    else does, and in June (nothing missing ahead) nobody does."""
    import time_machine
    from django.urls import reverse

    from crm.calendar import years_awaiting_schedule

    assert years_awaiting_schedule(dt.date(2026, 6, 1)) == []
    assert years_awaiting_schedule(dt.date(2026, 12, 2)) == [2027]
    with time_machine.travel(at("2026-12-02T10:00"), tick=False):
        assert "2027 年的国务院节假日安排尚未录入" in org.web("admin").get(reverse("home")).content.decode()
        assert "calendar-missing" not in org.web("east_staff").get(reverse("home")).content.decode()
        HolidayOverride.objects.create(date=dt.date(2027, 2, 20), is_workday=True, name="春节调休上班")
        assert "calendar-missing" not in org.web("admin").get(reverse("home")).content.decode()
    with time_machine.travel(at("2026-06-01T10:00"), tick=False):
        HolidayOverride.objects.all().delete()
        assert "calendar-missing" not in org.web("admin").get(reverse("home")).content.decode()
