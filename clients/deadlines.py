"""Response deadlines of client needs (R11), below the models and the services: a need shows
how its deadline is computed (``Need.due_rule``) and the services compute it, from one rule.
This module imports no model of the app (the urgencies are their stable codes), so the models
and the services both import it without a circle."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils.translation import gettext as _

from crm.calendar import Deadline, add_working_days

# R11: urgent within N hours, important and general within N working days (configurable).
DEFAULT_NEED_DEADLINES = {
    "urgent": ("hours", 4),
    "important": ("days", 2),
    "general": ("days", 5),
}


def need_deadlines() -> dict:
    """R11 response deadlines, configurable through settings.CRM_NEED_DEADLINES, e.g.
    ``{"urgent": ("hours", 4), "important": ("days", 2), "general": ("days", 5)}``."""
    configured = getattr(settings, "CRM_NEED_DEADLINES", None) or {}
    return {**DEFAULT_NEED_DEADLINES, **{str(k): v for k, v in configured.items()}}


def need_due_at(*, urgency: str, received_at: dt.datetime) -> Deadline:
    """R11: urgent within N hours (clock hours, as the rule says: received at 17:00, due at
    21:00 the same day), important and general within N working days on the mainland calendar
    (holidays and 调休 weekends)."""
    unit, amount = need_deadlines()[str(urgency)]
    if unit == "hours":
        return Deadline(received_at + dt.timedelta(hours=amount), False)
    return add_working_days(received_at, amount)


def need_due_rule(urgency: str) -> str:
    """How the deadline of a need of ``urgency`` is computed, in words (shown beside it)."""
    unit, amount = need_deadlines()[str(urgency)]
    if unit == "hours":
        return _("收到后 %(n)s 小时内响应(按自然小时计)") % {"n": amount}
    return _("收到后 %(n)s 个工作日内响应(按国家法定节假日及调休安排计)") % {"n": amount}
