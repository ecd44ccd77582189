"""The kinds of notice a robot may receive, and which notify verbs belong to each (R117).

Every ``notify(verb=...)`` of the product is listed here or deliberately left out: a verb not
listed (an access request, a hand-over to one person, a transfer, a give-up) concerns one person
and goes to no group chat."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class NoticeKind(models.TextChoices):
    REMINDERS = "reminders", _("提醒")
    OVERDUE = "overdue", _("逾期")
    REPORT_STATUS = "report_status", _("报告状态")
    RATINGS = "ratings", _("评级与排名")
    CIRCULARS = "circulars", _("通报")


VERB_KINDS: dict[str, str] = {
    # reminders: something is due
    "monthly_reminder": NoticeKind.REMINDERS,
    "analysis_reminder": NoticeKind.REMINDERS,
    "visit_plan_missing": NoticeKind.REMINDERS,
    "need_check": NoticeKind.REMINDERS,
    "need_check_summary": NoticeKind.REMINDERS,
    "return_visit_due": NoticeKind.REMINDERS,
    "b_evaluation": NoticeKind.REMINDERS,
    "survey_campaign": NoticeKind.REMINDERS,
    # overdue: a deadline has passed
    "complaint_overdue": NoticeKind.OVERDUE,
    "visit_overdue": NoticeKind.OVERDUE,
    "improvement_overdue": NoticeKind.OVERDUE,
    # report status: reports submitted, returned, closed; submissions held
    "monthly_report": NoticeKind.REPORT_STATUS,
    "monthly_close": NoticeKind.REPORT_STATUS,
    "need_report": NoticeKind.REPORT_STATUS,
    "hold": NoticeKind.REPORT_STATUS,
    # ratings: rankings, assessments, regrading
    "ranking": NoticeKind.RATINGS,
    "assessment": NoticeKind.RATINGS,
    "regrading": NoticeKind.RATINGS,
    "regrading_list": NoticeKind.RATINGS,
    # circulars: what the group announces to every unit
    "circular": NoticeKind.CIRCULARS,
}


def kind_of(verb: str) -> str | None:
    """The kind of notice of ``verb``; None: no robot receives it."""
    return VERB_KINDS.get(verb)
