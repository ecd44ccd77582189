"""Figures: one definition each, shared by the monthly report (R26, R27), the dashboards (R35)
and the half-year assessment (R32) (design.md, "Figures").

A figure counts records of one kind in a window (a reporting period, or any span) for a branch
(optionally one project department) and is computed through ``restrict(user, "view")``. Each is
defined once, by the app that owns its records, with :func:`register`; crm imports no app above
it. A figure's value is the length of its list: :func:`evaluate` returns both, so the number a
report shows and the records behind it cannot disagree. The monthly report freezes what
``evaluate`` returns; the dashboards read it live.

Periods (R26, R27): a reporting period runs from the 26th of last month to the 25th of this
month, Asia/Shanghai, and is named by the month of its 25th (``2026-12`` runs from 26 November
to 25 December). Reports are due on the 25th at ``CRM_MONTHLY_DEADLINE`` (the time the 25th job
closes the period).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from crm.validators import EARLIEST_DATE, LATEST_DATE, year_in_range

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


def _year_bounds() -> dict[str, int]:
    """The years the product accepts (crm.validators), for the parsers' messages."""
    return {"first": EARLIEST_DATE.year, "last": LATEST_DATE.year}


def _tz():
    return timezone.get_default_timezone()


@dataclass(frozen=True, order=True)
class Period:
    """A monthly reporting period, named by the month of its closing 25th."""

    year: int
    month: int

    @classmethod
    def parse(cls, label: str) -> Period:
        """``"2026-12"`` -> Period; a ValueError with a message for a person otherwise."""
        match = _PERIOD.match(str(label or "").strip())
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
            raise ValueError(_("期间格式应为“年-月”,例如 2026-12。"))
        if not year_in_range(int(match.group(1))):
            raise ValueError(_("期间的年份应在 %(first)d 至 %(last)d 年之间。") % _year_bounds())
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, moment: dt.datetime | dt.date | None = None) -> Period:
        """The period a moment falls in: the 26th and later belong to next month's period."""
        moment = moment or timezone.now()
        day = timezone.localtime(moment, _tz()).date() if isinstance(moment, dt.datetime) else moment
        period = cls(day.year, day.month)
        return period.next() if day.day >= 26 else period

    @classmethod
    def last_due(cls, moment: dt.datetime | None = None) -> Period:
        """The latest period whose deadline has passed at ``moment``."""
        moment = moment or timezone.now()
        period = cls.containing(moment)
        return period if period.deadline <= moment else period.previous()

    def previous(self) -> Period:
        return Period(self.year - 1, 12) if self.month == 1 else Period(self.year, self.month - 1)

    def next(self) -> Period:
        return Period(self.year + 1, 1) if self.month == 12 else Period(self.year, self.month + 1)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def __str__(self) -> str:
        return self.label

    @property
    def first_day(self) -> dt.date:
        prev = self.previous()
        return dt.date(prev.year, prev.month, 26)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.year, self.month, 25)

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first_day, dt.time.min, tzinfo=_tz())

    @property
    def end(self) -> dt.datetime:
        """Exclusive: the 26th at 00:00."""
        return dt.datetime.combine(self.last_day + dt.timedelta(days=1), dt.time.min, tzinfo=_tz())

    @property
    def deadline(self) -> dt.datetime:
        hour, minute = deadline_time()
        return dt.datetime.combine(self.last_day, dt.time(hour, minute), tzinfo=_tz())

    @property
    def quarter(self) -> int:
        return (self.month - 1) // 3 + 1

    def window(self, *, branch_id: int | None = None, department_id: int | None = None) -> Window:
        return Window(start=self.start, end=self.end, branch_id=branch_id, department_id=department_id)


_HALF = re.compile(r"^(\d{4})H([12])$")


@dataclass(frozen=True, order=True)
class HalfYear:
    """A half year (R30-R34): ``2026H1`` is 1 January to 30 June, ``2026H2`` 1 July to 31
    December, Asia/Shanghai. Its client analysis report is due by ``CRM_ANALYSIS_DUE`` (1 June,
    31 December); its assessment opens once it has ended."""

    year: int
    half: int

    @classmethod
    def parse(cls, label: str) -> HalfYear:
        match = _HALF.match(str(label or "").strip())
        if not match or int(match.group(1)) < 2000:
            raise ValueError(_("半年度格式应为“年H1/H2”,例如 2026H2。"))
        if not year_in_range(int(match.group(1))):
            raise ValueError(_("半年度的年份应在 %(first)d 至 %(last)d 年之间。") % _year_bounds())
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, moment: dt.datetime | dt.date | None = None) -> HalfYear:
        moment = moment or timezone.now()
        day = timezone.localtime(moment, _tz()).date() if isinstance(moment, dt.datetime) else moment
        return cls(day.year, 1 if day.month <= 6 else 2)

    @classmethod
    def last_ended(cls, moment: dt.datetime | None = None) -> HalfYear:
        return cls.containing(moment).previous()

    def previous(self) -> HalfYear:
        return HalfYear(self.year, 1) if self.half == 2 else HalfYear(self.year - 1, 2)

    def next(self) -> HalfYear:
        return HalfYear(self.year, 2) if self.half == 1 else HalfYear(self.year + 1, 1)

    @property
    def label(self) -> str:
        return f"{self.year}H{self.half}"

    def __str__(self) -> str:
        return self.label

    @property
    def start(self) -> dt.datetime:
        return dt.datetime(self.year, 1 if self.half == 1 else 7, 1, tzinfo=_tz())

    @property
    def end(self) -> dt.datetime:
        return self.next().start

    @property
    def analysis_due(self) -> dt.datetime:
        """The end of the day the branch's client analysis report is due (R31)."""
        month, day = (int(x) for x in settings.CRM_ANALYSIS_DUE[self.half - 1].split("-"))
        return dt.datetime.combine(
            dt.date(self.year, month, day) + dt.timedelta(days=1), dt.time.min, tzinfo=_tz()
        )

    def periods(self) -> list[Period]:
        """The monthly reporting periods whose 25th falls in the half year."""
        first = 1 if self.half == 1 else 7
        return [Period(self.year, m) for m in range(first, first + 6)]

    def window(self, *, branch_id: int | None = None, department_id: int | None = None) -> Window:
        return Window(start=self.start, end=self.end, branch_id=branch_id, department_id=department_id)


_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter, Asia/Shanghai: ``2026Q3`` is 1 July to 30 September (the label the
    rankings of R29 use too). The rhythm of seed 003's needs management: every client's needs
    collected at least once a quarter, a satisfaction survey each quarter, and the quarterly
    需求分析报告 and its meeting (R65)."""

    year: int
    number: int

    @classmethod
    def parse(cls, label: str) -> Quarter:
        match = _QUARTER.match(str(label or "").strip().upper())
        if not match or int(match.group(1)) < 2000:
            raise ValueError(_("季度格式应为“年Q1-Q4”,例如 2026Q3。"))
        if not year_in_range(int(match.group(1))):
            raise ValueError(_("季度的年份应在 %(first)d 至 %(last)d 年之间。") % _year_bounds())
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, moment: dt.datetime | dt.date | None = None) -> Quarter:
        moment = moment or timezone.now()
        day = timezone.localtime(moment, _tz()).date() if isinstance(moment, dt.datetime) else moment
        return cls(day.year, (day.month - 1) // 3 + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.number}"

    def __str__(self) -> str:
        return self.label

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> dt.date:
        return self.next().first_day - dt.timedelta(days=1)

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first_day, dt.time.min, tzinfo=_tz())

    @property
    def end(self) -> dt.datetime:
        """Exclusive: the first day of the next quarter at 00:00."""
        return self.next().start

    def window(self, *, branch_id: int | None = None, department_id: int | None = None) -> Window:
        return Window(start=self.start, end=self.end, branch_id=branch_id, department_id=department_id)


def deadline_time() -> tuple[int, int]:
    """``CRM_MONTHLY_DEADLINE`` ("HH:MM", Asia/Shanghai): when reports are due on the 25th."""
    hour, minute = (int(x) for x in settings.CRM_MONTHLY_DEADLINE.split(":"))
    return hour, minute


@dataclass(frozen=True)
class Window:
    """What a figure counts over: [start, end) and one branch (None: every branch in scope),
    optionally one project department of it (0: records of no department)."""

    start: dt.datetime
    end: dt.datetime
    branch_id: int | None = None
    department_id: int | None = None

    @property
    def last_day(self) -> dt.date:
        return timezone.localtime(self.end - dt.timedelta(microseconds=1), _tz()).date()

    def whole_branch(self) -> Window:
        return Window(self.start, self.end, self.branch_id, None)


@dataclass(frozen=True)
class Column:
    key: str
    label: Promise | str
    # How a stored value is shown: text, datetime, date, or a mapping code -> label.
    kind: str = "text"
    choices: dict | None = None


@dataclass(frozen=True)
class Figure:
    """A count and the list behind it.

    ``collect(user, window)`` returns the rows: dicts with ``id`` (the record's), ``url`` (its
    page), ``department_id`` (for the department parts) and the ``columns``' keys, all
    JSON-serialisable, read through ``restrict(user, "view")``. ``flow`` figures count what
    happened in the window (a report whose flows are all 0 says 无变化); the others are standing
    figures (e.g. clients whose needs collection is overdue at the end of the window).
    ``breakdown``: columns by whose values the figure is also counted (e.g. complaints by kind).
    """

    key: str
    label: Promise | str
    section: str
    order: int
    collect: Callable[..., list[dict]]
    columns: tuple[Column, ...]
    help: Promise | str = ""
    flow: bool = True
    breakdown: tuple[str, ...] = ()
    # The model whose records the rows are (their ``id``): the lists behind a frozen report
    # are read again through ``model.objects.restrict(reader, "view")`` (:func:`visible`).
    model: type | None = None


@dataclass(frozen=True)
class Rate:
    """A rate of two figures of the same window (R12): numerator / denominator, None when the
    denominator is 0."""

    key: str
    label: Promise | str
    section: str
    order: int
    numerator: str
    denominator: str
    help: Promise | str = ""


SECTIONS: dict[str, Promise | str] = {}
_figures: dict[str, Figure] = {}
_rates: dict[str, Rate] = {}


def section(code: str, label) -> None:
    SECTIONS.setdefault(code, label)


def register(item: Figure | Rate) -> Figure | Rate:
    target = _figures if isinstance(item, Figure) else _rates
    target[item.key] = item
    return item


def figures() -> list[Figure]:
    return sorted(_figures.values(), key=lambda f: f.order)


def rates() -> list[Rate]:
    return sorted(_rates.values(), key=lambda r: r.order)


def figure(key: str) -> Figure | None:
    return _figures.get(key)


def keys() -> list[str]:
    return [f.key for f in figures()] + [r.key for r in rates()]


def jsonable(value):
    if isinstance(value, dt.datetime):
        return timezone.localtime(value, _tz()).isoformat(timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def detail_url(name: str) -> Callable[[int], str]:
    """``pk -> reverse(name, kwargs={"pk": pk})`` at the cost of a format: a figure's list of a
    whole group runs to 100,000 rows, and reverse() per row cost seconds."""
    from django.urls import reverse

    marker = 987654321
    head, _sep, tail = reverse(name, kwargs={"pk": marker}).partition(str(marker))
    return lambda pk: f"{head}{pk}{tail}"


class Counted(list):
    """What ``rows_of`` returns while counting only (:func:`counting`): no rows, the count per
    branch, in one GROUP BY query. ``len()`` is the count."""

    def __init__(self, by_branch: dict[str, int]):
        super().__init__()
        self.by_branch = by_branch

    def __len__(self):
        return sum(self.by_branch.values())


_counting: list[bool] = [False]


class counting:
    """``with counting(): evaluate(...)``: the figures' values per branch without their lists
    (the dashboards count; the monthly report and the lists behind the figures need the rows)."""

    def __enter__(self):
        self.previous = _counting[0]
        _counting[0] = True

    def __exit__(self, *exc):
        _counting[0] = self.previous


def rows_of(queryset, *, url: Callable[[dict], str], department: str, **columns: str) -> list[dict]:
    """The rows of a figure from a restricted queryset, in one query: ``columns`` maps a row
    key to a ``values()`` path; ``department`` is the path of the record's department."""
    branch = queryset.model.scope.branch
    if _counting[0]:
        from django.db.models import Count

        path = "pk" if branch == "pk" else f"{branch}_id"
        grouped = queryset.order_by().values(path).annotate(n=Count("pk", distinct=True))
        return Counted({str(row[path]): row["n"] for row in grouped})
    paths = {
        "id": "pk",
        "branch_id": "pk" if branch == "pk" else f"{branch}_id",
        "department_id": department,
        **columns,
    }
    out = []
    for values in queryset.values(*paths.values()):
        row = {key: jsonable(values[path]) for key, path in paths.items()}
        row["url"] = url(row)
        out.append(row)
    return out


def narrow(queryset, window: Window, *, department: str, at: str | None = None):
    """``queryset`` (already restricted) narrowed to the window's branch and department, and,
    with ``at``, to records whose ``at`` lies in [start, end)."""
    if at:
        queryset = queryset.filter(**{f"{at}__gte": window.start, f"{at}__lt": window.end})
    if window.branch_id is not None:
        path = queryset.model.scope.branch
        queryset = queryset.filter(**{"pk" if path == "pk" else f"{path}_id": window.branch_id})
    if window.department_id is not None:
        if window.department_id:
            queryset = queryset.filter(**{department: window.department_id})
        else:
            queryset = queryset.filter(**{f"{department}__isnull": True})
    return queryset


@dataclass
class Result:
    """What :func:`evaluate` returns, and what a submitted report freezes (``as_json``)."""

    values: dict[str, int | float | None] = field(default_factory=dict)
    lists: dict[str, list[dict]] = field(default_factory=dict)
    breakdowns: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    departments: dict[str, dict[str, int]] = field(default_factory=dict)
    branches: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def no_change(self) -> bool:
        """无变化 (R26): nothing happened in the period (every flow figure is 0)."""
        return all(not self.values.get(f.key) for f in figures() if f.flow)

    def as_json(self) -> dict:
        return {
            "values": self.values,
            "lists": self.lists,
            "breakdowns": self.breakdowns,
            "departments": self.departments,
        }

    @classmethod
    def from_json(cls, data: dict | None) -> Result:
        data = data or {}
        return cls(
            values=dict(data.get("values", {})),
            lists=dict(data.get("lists", {})),
            breakdowns=dict(data.get("breakdowns", {})),
            departments=dict(data.get("departments", {})),
        )


def visible(reader, key: str, rows: list[dict]) -> list[dict]:
    """The rows of a figure that ``reader`` may see now: the ids frozen in a report (or computed
    by a job) read again through ``restrict(reader, "view")``, so a suspension, an ended grant or
    a new role applies to a frozen list as everywhere else (R4, R33). One query."""
    f = figure(key)
    if f is None or f.model is None:
        return []
    ids = [row["id"] for row in rows]
    if not ids:
        return []
    allowed = set(f.model.objects.restrict(reader, "view").filter(pk__in=ids).values_list("pk", flat=True))
    return [row for row in rows if row["id"] in allowed]


def rate_of(values: dict, rate: Rate):
    denominator = values.get(rate.denominator) or 0
    if not denominator:
        return None
    return round((values.get(rate.numerator) or 0) / denominator, 4)


def evaluate(user, window: Window, *, only: Iterable[str] | None = None) -> Result:
    """Every figure (or ``only`` these) for ``user`` in ``window``: values, the lists behind them,
    the breakdowns and the department parts. One query per figure (a few for some)."""
    wanted = set(only) if only is not None else None
    result = Result()
    for fig in figures():
        if wanted is not None and fig.key not in wanted:
            continue
        rows = fig.collect(user, window)
        result.values[fig.key] = len(rows)
        if isinstance(rows, Counted):
            result.branches[fig.key] = rows.by_branch
            continue
        result.lists[fig.key] = rows
        for column in fig.breakdown:
            counts: dict[str, int] = {}
            for row in rows:
                counts[str(row.get(column) or "")] = counts.get(str(row.get(column) or ""), 0) + 1
            result.breakdowns.setdefault(fig.key, {})[column] = counts
        parts: dict[str, int] = {}
        for row in rows:
            dept = str(row.get("department_id") or 0)
            parts[dept] = parts.get(dept, 0) + 1
        result.departments[fig.key] = parts
        per_branch: dict[str, int] = {}
        for row in rows:
            per_branch[str(row.get("branch_id"))] = per_branch.get(str(row.get("branch_id")), 0) + 1
        result.branches[fig.key] = per_branch
    for rate in rates():
        if wanted is not None and rate.key not in wanted:
            continue
        result.values[rate.key] = rate_of(result.values, rate)
    return result


def department_values(result: Result, department_id: int | None) -> dict:
    """The department's part of a report (R26): each figure counted over its records only."""
    return _part(result.departments, str(department_id or 0))


def branch_values(result: Result, branch_id: int) -> dict:
    """One branch's figures out of a group-wide evaluation."""
    return _part(result.branches, str(branch_id))


def _part(parts_by_key: dict, part: str) -> dict:
    values = {key: parts.get(part, 0) for key, parts in parts_by_key.items()}
    for rate in rates():
        values[rate.key] = rate_of(values, rate)
    return values


def totals(values_list: Iterable[dict]) -> dict:
    """The sum of several branches' figures, rates recomputed from the summed counts."""
    out: dict = {f.key: 0 for f in figures()}
    for values in values_list:
        for f in figures():
            out[f.key] += values.get(f.key) or 0
    for rate in rates():
        out[rate.key] = rate_of(out, rate)
    return out


def display(column: Column, value) -> str:
    """A stored row value as a person reads it."""
    if value in (None, ""):
        return ""
    if column.choices is not None:
        if isinstance(value, list):
            return "、".join(str(column.choices.get(v, v)) for v in value)
        return str(column.choices.get(value, value))
    if column.kind == "datetime":
        return str(value).replace("T", " ")[:16]
    return str(value)
