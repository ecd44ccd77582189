"""Home-page panel of the need analysis meetings (R68): the open decisions the person owns, by
due date, the overdue ones said so. Read through restrict()."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.dashboard import register

from .services import open_decisions_of


@register(order=6, roles=("manager", "staff"))
def decisions_panel(user):
    decisions = list(open_decisions_of(user)[:8])
    if not decisions:
        return None
    today = timezone.localdate()
    return {
        "title": _("我的需求分析会议决定事项"),
        "url": reverse("assessments:need-report-list"),
        "items": [
            {
                "title": d.text[:60],
                "subtitle": (_("已逾期") if d.due_on < today else _("完成期限"))
                + " "
                + d.due_on.isoformat()
                + " · "
                + f"{d.meeting.report.branch} {d.meeting.report.quarter}",
                "url": reverse("assessments:need-report-detail", kwargs={"pk": d.meeting.report_id}),
            }
            for d in decisions
        ],
    }
