"""ISO weeks (周次) and the moment each week's tracking check looks at (R71).

A week is named ``2026-W50`` (ISO 8601: weeks start on Monday; the first week of a year holds
its first Thursday). The check of a week is taken as of ``CHECK_TIME`` (09:00, Asia/Shanghai)
on the week's first working day on the mainland calendar (a Monday of a public holiday moves it
to the first working day after, a 调休 Saturday counts); a week without a working day (the Spring
Festival week) has no check."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from crm.calendar import WorkingDays
from crm.validators import year_in_range

_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$")

CHECK_TIME = dt.time(9, 0)


def _tz():
    return timezone.get_default_timezone()


@dataclass(frozen=True, order=True)
class Week:
    year: int
    week: int

    @classmethod
    def parse(cls, label: str) -> Week:
        """``"2026-W50"`` (what a browser's week input sends) -> Week; ValueError with a message."""
        match = _WEEK.match(str(label or "").strip().upper())
        message = _("周次格式应为“年-W周”,例如 2026-W50。")
        if not match:
            raise ValueError(message)
        year, week = int(match.group(1)), int(match.group(2))
        if not year_in_range(year):
            raise ValueError(message)
        try:
            dt.date.fromisocalendar(year, week, 1)
        except ValueError:
            raise ValueError(message) from None
        return cls(year, week)

    @classmethod
    def of(cls, day: dt.date) -> Week:
        year, week, _weekday = day.isocalendar()
        return cls(year, week)

    @classmethod
    def containing(cls, moment: dt.datetime) -> Week:
        return cls.of(timezone.localtime(moment, _tz()).date())

    @property
    def label(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"

    def __str__(self) -> str:
        return self.label

    @property
    def monday(self) -> dt.date:
        return dt.date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> dt.date:
        return self.monday + dt.timedelta(days=6)

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.monday, dt.time.min, tzinfo=_tz())

    @property
    def end(self) -> dt.datetime:
        """Exclusive: the next Monday at 00:00."""
        return self.start + dt.timedelta(days=7)

    def previous(self) -> Week:
        return Week.of(self.monday - dt.timedelta(days=7))

    def next(self) -> Week:
        return Week.of(self.monday + dt.timedelta(days=7))

    def checkpoint(self, calendar: WorkingDays | None = None) -> dt.datetime | None:
        """R71: 09:00 on the week's first working day; None for a week without one."""
        calendar = calendar or WorkingDays(self.monday, self.sunday)
        days = calendar.in_span(self.monday, self.sunday)
        if not days:
            return None
        return dt.datetime.combine(days[0], CHECK_TIME, tzinfo=_tz())


def last_due_week(now: dt.datetime, calendar: WorkingDays | None = None) -> Week:
    """The latest week whose checkpoint has passed at ``now`` (weeks without one skipped)."""
    week = Week.containing(now)
    calendar = calendar or WorkingDays(week.monday - dt.timedelta(days=35), week.sunday)
    for _i in range(60):
        at = week.checkpoint(calendar)
        if at is not None and at <= now:
            return week
        week = week.previous()
    return week  # unreachable on any real calendar: a working day within sixty weeks
