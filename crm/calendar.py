"""The working-day calendar (R11, R16): mainland China public holidays and 调休 working
weekends from chinesecalendar, corrected by the admin's HolidayOverride rows.

A year chinesecalendar has no data for (it stops at 2026) takes the statutory holidays that the
``holidays`` package computes for China by rule (New Year, Spring Festival, Qingming, Labour
Day, Dragon Boat, Mid-Autumn, National Day, with their observed days); the State Council's 调休
working weekends cannot be computed, so such a result is marked ``provisional`` and a warning
is logged (once per year and process), until an administrator enters the year's official
schedule in the override table (``HolidayOverride``), which then wins.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import NamedTuple

import chinese_calendar
import holidays
from django.utils import timezone

logger = logging.getLogger(__name__)

# Office hours: 09:00-12:00 and 13:00-18:00, eight working hours a day.
WORK_PERIODS = ((dt.time(9, 0), dt.time(12, 0)), (dt.time(13, 0), dt.time(18, 0)))


class Deadline(NamedTuple):
    at: dt.datetime
    provisional: bool


def _overrides(start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    from .models import HolidayOverride

    return dict(HolidayOverride.objects.filter(date__range=(start, end)).values_list("date", "is_workday"))


_by_rule: dict[int, holidays.HolidayBase] = {}


def has_official_data(year: int) -> bool:
    """Whether chinesecalendar carries the State Council's schedule for ``year``."""
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def rule_holidays(year: int) -> holidays.HolidayBase:
    """China's statutory holidays of ``year`` computed by rule (no 调休 working weekends)."""
    if year not in _by_rule:
        logger.warning(
            "No official holiday data for %s; statutory holidays by rule, no 调休 (provisional).", year
        )
        _by_rule[year] = holidays.China(years=year)
    return _by_rule[year]


def years_awaiting_schedule(today: dt.date | None = None) -> list[int]:
    """The years of the coming 60 days whose official schedule is neither in chinesecalendar
    nor entered in the override table: deadlines in them are provisional until an
    administrator enters it (the base layout warns administrators on every page)."""
    from .models import HolidayOverride

    today = today or timezone.localdate()
    years = sorted({today.year, (today + dt.timedelta(days=60)).year})
    missing = [y for y in years if not has_official_data(y)]
    entered = (
        set(
            HolidayOverride.objects.filter(date__year__in=missing)
            .dates("date", "year")
            .values_list("date__year", flat=True)
        )
        if missing
        else set()
    )
    return [y for y in missing if y not in entered]


def is_workday(day: dt.date, overrides: dict[dt.date, bool] | None = None) -> tuple[bool, bool]:
    """(is a working day, provisional)."""
    if overrides is None:
        overrides = _overrides(day, day)
    if day in overrides:
        return overrides[day], False
    try:
        return chinese_calendar.is_workday(day), False
    except NotImplementedError:
        return day.weekday() < 5 and day not in rule_holidays(day.year), True


def add_working_days(moment: dt.datetime, days: int) -> Deadline:
    """The same time of day on the ``days``-th working day after ``moment``'s date."""
    local = timezone.localtime(moment)
    overrides = _overrides(local.date(), local.date() + dt.timedelta(days=days * 3 + 30))
    day, left, provisional = local.date(), days, False
    while left > 0:
        day += dt.timedelta(days=1)
        working, guessed = is_workday(day, overrides)
        provisional |= guessed
        if working:
            left -= 1
    return Deadline(local.replace(year=day.year, month=day.month, day=day.day), provisional)


def add_working_hours(moment: dt.datetime, hours: float) -> Deadline:
    """``moment`` plus ``hours`` of office time (WORK_PERIODS on working days)."""
    tz = timezone.get_current_timezone()
    local = timezone.localtime(moment)
    left = dt.timedelta(hours=hours)
    overrides = _overrides(local.date(), local.date() + dt.timedelta(days=int(hours) + 30))
    day, provisional = local.date(), False
    cursor = local
    while True:
        working, guessed = is_workday(day, overrides)
        provisional |= guessed
        if working:
            for start, end in WORK_PERIODS:
                p_start = timezone.make_aware(dt.datetime.combine(day, start), tz)
                p_end = timezone.make_aware(dt.datetime.combine(day, end), tz)
                if cursor >= p_end:
                    continue
                begin = max(cursor, p_start)
                if begin + left <= p_end:
                    return Deadline(begin + left, provisional)
                left -= p_end - begin
                cursor = p_end
        day += dt.timedelta(days=1)
        cursor = timezone.make_aware(dt.datetime.combine(day, dt.time(0, 0)), tz)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]."""
    overrides = _overrides(start, end)
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        if is_workday(day, overrides)[0]:
            count += 1
    return count


class WorkingDays:
    """The working days of a span, read once (one query of the override table), for a list's
    rows at no query per row: how many working days lie strictly between two dates, and the
    working days of a week. Asked about a date outside the span, it reads a wider one."""

    def __init__(self, start: dt.date, end: dt.date):
        self._load(start, end)

    def _load(self, start: dt.date, end: dt.date) -> None:
        import bisect

        self._bisect = bisect
        self.start, self.end = start, end
        overrides = _overrides(start, end)
        days, day = [], start
        while day <= end:
            if is_workday(day, overrides)[0]:
                days.append(day)
            day += dt.timedelta(days=1)
        self.days = days

    def _cover(self, first: dt.date, last: dt.date) -> None:
        if first < self.start or last > self.end:
            self._load(min(first, self.start), max(last, self.end))

    def between(self, after: dt.date, before: dt.date) -> int:
        """Working days strictly after ``after`` and strictly before ``before`` (0 if none)."""
        if before <= after + dt.timedelta(days=1):
            return 0
        self._cover(after, before)
        lo = self._bisect.bisect_right(self.days, after)
        hi = self._bisect.bisect_left(self.days, before)
        return max(0, hi - lo)

    def in_span(self, first: dt.date, last: dt.date) -> list[dt.date]:
        """The working days of [first, last], in order."""
        self._cover(first, last)
        lo = self._bisect.bisect_left(self.days, first)
        hi = self._bisect.bisect_right(self.days, last)
        return self.days[lo:hi]

    def nth_before(self, day: dt.date, n: int) -> dt.date:
        """The ``n``-th working day before ``day`` (n=1: the last working day before it)."""
        span = n * 3 + 30
        while True:
            earlier = self.in_span(day - dt.timedelta(days=span), day - dt.timedelta(days=1))
            if len(earlier) >= n:
                return earlier[-n]
            span *= 2
