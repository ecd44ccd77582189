"""Reads of the tracking ledger (需求跟踪台账, R70): each need's steps with their times, and whether
it was late at each checkpoint, read against one moment and the working-day calendar.

The two checkpoints (R70, R71):

* response (响应): answered by its deadline (R11) — 按期响应; answered after it — 逾期响应; not
  answered and the deadline passed — 逾期未响应; else 待响应.
* handling (办理): a need is 办理超期 once it has been open for ``standard`` full working days
  after the day it was received (default 10, ``CRM_NEED_CHECK_OPEN_DAYS``): the days strictly
  between the day it was received and the day it is read on are counted, so the day a check is
  made on is never counted (it has not been worked yet). Closed: 按期办结 / 超期办结 by the same
  count up to the day it was closed.

Why ten working days (seed 003): the seed sets every response in working days and checks
progress every week; the longest response window is a general need's 5 working days (R11). A
need still open after ten has had its whole response window and one more full working week, so it
is open at two weekly checks running after its deadline: the check is the place to ask why.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.calendar import WorkingDays

from ..models import Need

DEFAULT_OPEN_DAYS = 10

RESPONSE_STATES = {
    "on_time": _("按期响应"),
    "late": _("逾期响应"),
    "overdue": _("逾期未响应"),
    "pending": _("待响应"),
    "none": _("未响应"),
}
HANDLING_STATES = {
    "closed_on_time": _("按期办结"),
    "closed_late": _("超期办结"),
    "overdue": _("超期未办结"),
    "open": _("办理中"),
    "merged": _("已合并"),
}


def open_days_standard() -> int:
    """R71: how many full working days a need may stay open (``CRM_NEED_CHECK_OPEN_DAYS``)."""
    value = getattr(settings, "CRM_NEED_CHECK_OPEN_DAYS", None) or DEFAULT_OPEN_DAYS
    return max(1, int(value))


def _day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


class Clock:
    """The moment the ledger (or a check) is read against, with the working-day calendar read
    once: every row's flags at no query per row."""

    def __init__(self, now: dt.datetime | None = None, *, standard: int | None = None):
        self.now = now or timezone.now()
        self.today = _day(self.now)
        self.standard = standard or open_days_standard()
        self.calendar = WorkingDays(self.today - dt.timedelta(days=120), self.today)

    def working_days_open(self, received_at: dt.datetime, until: dt.datetime | None = None) -> int:
        """Full working days between the day received and the day ``until`` (now), both left out."""
        return self.calendar.between(_day(received_at), _day(until or self.now))

    def too_long(self, received_at: dt.datetime, until: dt.datetime | None = None) -> bool:
        return self.working_days_open(received_at, until) >= self.standard

    def threshold(self) -> dt.datetime:
        """A need received before this moment has been open too long at ``now`` (the start of
        the ``standard``-th working day before today): the same rule as ``too_long``, as a
        filter the database answers."""
        day = self.calendar.nth_before(self.today, self.standard)
        return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())

    # -- the two checkpoints of one need ------------------------------------------------------

    def response_state(self, need) -> str:
        if need.responded_at is not None:
            return "on_time" if need.responded_at <= need.response_due_at else "late"
        if need.status in Need.CLOSED:
            return "none"
        return "overdue" if need.response_due_at < self.now else "pending"

    def handling_state(self, need) -> str:
        if need.status == Need.Status.MERGED:
            return "merged"
        if need.status in Need.CLOSED:
            until = need.closed_at or self.now
            return "closed_late" if self.too_long(need.received_at, until) else "closed_on_time"
        return "overdue" if self.too_long(need.received_at) else "open"

    def annotate(self, needs) -> list:
        """Sets ``response_state``, ``handling_state`` (codes), their labels and
        ``working_days_open`` on each need (a page's rows, an export's, the API's)."""
        needs = list(needs)
        if needs:
            first = min(_day(n.received_at) for n in needs)
            self.calendar.in_span(first, self.today)  # one read of the calendar for all rows
        for n in needs:
            n.response_state = self.response_state(n)
            n.handling_state = self.handling_state(n)
            n.response_label = RESPONSE_STATES[n.response_state]
            n.handling_label = HANDLING_STATES[n.handling_state]
            until = n.closed_at if n.status in Need.CLOSED and n.closed_at else None
            n.working_days_open = self.working_days_open(n.received_at, until)
        return needs

    # -- filters (the ledger's 逾期 choice) ----------------------------------------------------

    def response_overdue_q(self) -> Q:
        return Q(responded_at__isnull=True, response_due_at__lt=self.now) & ~Q(status__in=Need.CLOSED)

    def handling_overdue_q(self) -> Q:
        return Q(status__in=Need.OPEN, received_at__lt=self.threshold())


def in_week_q(start: dt.datetime, end: dt.datetime) -> Q:
    """The needs the ledger lists for a week: recorded and received before it ended and not
    closed before it began (in handling during the week), or rated in it."""
    handled = Q(received_at__lt=end, created_at__lt=end) & (
        Q(closed_at__isnull=True) | Q(closed_at__gte=start)
    )
    return handled | Q(rated_at__gte=start, rated_at__lt=end)


def ledger(user):
    """The ledger's rows: every need in the user's scope (R70), a merged need included (its
    step is part of the record)."""
    return Need.objects.restrict(user, "view").select_related("client", "client__branch", "owner")
