"""Kinds of notice (groups of verbs) that a person chooses a channel for (R112), and the
mandatory verbs nobody can switch off: the end of an access grant, a suspension or hold and a
branch's assessment (which may suspend its archive queries)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

KINDS: dict[str, tuple] = {
    "reminders": (
        _("提醒与逾期"),
        {
            "visit_overdue",
            "visit_plan_missing",
            "need_check",
            "need_check_summary",
            "return_visit_due",
            "complaint_overdue",
            "improvement_overdue",
            "monthly_reminder",
            "analysis_reminder",
            "need_unsatisfied",
            "survey_unsatisfied",
        },
    ),
    "reports": (
        _("报表与考核"),
        {"monthly_report", "monthly_close", "need_report", "ranking", "round_failed"},
    ),
    "records": (
        _("客户、需求与投诉"),
        {
            "complaint",
            "client_transfer",
            "cultivation",
            "give_up",
            "b_evaluation",
            "regrading",
            "regrading_list",
            "need_decision",
            "improvement",
            "survey_campaign",
        },
    ),
    "access": (_("查阅申请"), {"access_request"}),
    "other": (_("其他消息"), set()),
}

# R112: always in the app and by e-mail, whatever the person chose.
MANDATORY_VERBS = frozenset({"access_grant", "hold", "assessment", "suspension"})


def kind_of(verb: str) -> str:
    for kind, (_label, verbs) in KINDS.items():
        if verb in verbs:
            return kind
    return "other"


def kind_choices() -> list[tuple[str, str]]:
    return [(kind, label) for kind, (label, _verbs) in KINDS.items()]
