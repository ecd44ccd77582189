"""Home-page panels of the half-year review meeting and what the group sends back (R87-R93):
what awaits a leader (commendations and forwarded summaries not read yet), the circulars a
person has not read, the meeting decisions a person owns. Read through restrict()."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.dashboard import register

from . import services
from .models import Circular


@register(order=1, roles=("leader",))
def leader_panel(user):
    """R93: what group marketing sent the leader and the leader has not read yet."""
    waiting = list(services.unread_for(user)[:8])
    return {
        "title": _("待阅的上报材料"),
        "url": reverse("assessments:leader-report-list"),
        "items": [
            {
                "title": r.title,
                "subtitle": f"{r.get_kind_display()} · {timezone.localtime(r.sent_at):%Y-%m-%d}",
                "url": reverse("assessments:leader-report-detail", kwargs={"pk": r.pk}),
            }
            for r in waiting
        ],
        "empty": _("没有待阅的上报材料。"),
    }


@register(order=5, roles=("manager", "staff"))
def circulars_panel(user):
    """R89, R90: the issued circulars the person has not opened yet."""
    unread = list(
        Circular.objects.restrict(user, "view")
        .filter(receipts__user=user, receipts__read_at__isnull=True)
        .order_by("-issued_at")[:5]
    )
    if not unread:
        return None
    return {
        "title": _("未读的集团通报"),
        "url": reverse("assessments:circular-list"),
        "items": [
            {
                "title": c.title,
                "subtitle": _("印发于 %(day)s") % {"day": f"{timezone.localtime(c.issued_at):%Y-%m-%d}"},
                "url": reverse("assessments:circular-detail", kwargs={"pk": c.pk}),
            }
            for c in unread
        ],
    }


@register(order=6, roles=("manager", "staff", "marketing"))
def review_decisions_panel(user):
    """R87: the open decisions of the half-year review meeting the person owns."""
    decisions = list(services.open_decisions_of(user)[:8])
    if not decisions:
        return None
    today = timezone.localdate()
    return {
        "title": _("我的研讨会决定事项"),
        "url": reverse("assessments:review-meeting-list"),
        "items": [
            {
                "title": d.text[:60],
                "subtitle": (_("已逾期") if d.due_on < today else _("完成期限")) + " " + d.due_on.isoformat(),
                "url": reverse("assessments:review-meeting-detail", kwargs={"pk": d.meeting_id}),
            }
            for d in decisions
        ],
    }
