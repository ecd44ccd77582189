"""The hold on a branch's submissions (R33), defined once.

R33: «a branch that does not submit what is owed (reports, archive forms, evaluations, summary)
loses the use of the system's submissions, and its pending approvals are held, until it submits;
then everything resumes by itself». The hold is a ``Suspension`` row of kind "submissions" that
the review keeps in step with what the branch owes (assessments: ``holds_sync``), its reason
naming each overdue item and its due date.

What a hold refuses is this module's :data:`REFUSES`, and nothing else. What is owed (monthly
reports, the client analysis report, the work summary) is never refused, overdue or not:
submitting it is how the hold ends. Pages show the hold wherever it applies (the branch's
banner, the leaders' approval queue and the request itself) before anyone clicks, and the
services refuse through :func:`require_no_hold`, so the message a person reads is the same
everywhere. crm imports no app above it: the owed items come from the row's reason.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Suspension

REFUSES = {
    "access_request": gettext_lazy("提交查阅申请"),
    "access_approval": gettext_lazy("审批该单位待批的查阅申请"),
}


def active_hold(branch_id: int | None, now: dt.datetime | None = None) -> Suspension | None:
    if not branch_id:
        return None
    return (
        Suspension.objects.active(now or timezone.now())
        .filter(branch_id=branch_id, kind=Suspension.Kind.SUBMISSIONS)
        .order_by("-starts_at")
        .first()
    )


def held_branch_ids(now: dt.datetime | None = None) -> set[int]:
    """The branches under a hold now (one query, for the leaders' queue)."""
    return set(
        Suspension.objects.active(now or timezone.now())
        .filter(kind=Suspension.Kind.SUBMISSIONS)
        .values_list("branch_id", flat=True)
    )


def hold_message(hold: Suspension, action: str, *, branch=None) -> str:
    """What a person reads where the hold applies: which branch, what it owes, what is refused."""
    return _("%(branch)s%(owed)s,在补交之前暂停%(action)s;补交后自动恢复。") % {
        "branch": branch or hold.branch,
        "owed": hold.reason,
        "action": REFUSES[action],
    }


def require_no_hold(branch_id: int | None, action: str) -> None:
    """Refuse ``action`` (a key of :data:`REFUSES`) while the branch is held."""
    if action not in REFUSES:
        raise ValueError(f"a hold does not refuse {action!r}")
    hold = active_hold(branch_id)
    if hold is not None:
        raise ValidationError(hold_message(hold, action))
