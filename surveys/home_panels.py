"""Home-page panel of the surveys (crm.dashboard.register): the user's open follow-ups of
unsatisfied items (R21), read through restrict()."""

from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from crm.access import can
from crm.dashboard import register

from .models import FollowUp


@register(order=40, roles=("staff", "manager", "marketing"))
def survey_follow_ups_panel(user):
    if not can(user, "view", FollowUp):
        return None
    open_ = (
        FollowUp.objects.restrict(user, "view")
        .filter(status=FollowUp.Status.OPEN)
        .select_related("client")
        .order_by("-created_at")
    )
    if user.is_branch_user:
        open_ = open_.filter(owner=user)
    return {
        "title": _("满意度调查不满意项待跟进"),
        "url": reverse("surveys:followup-list") + ("?mine=1" if user.is_branch_user else ""),
        "items": [
            {
                "title": f.client.name,
                "subtitle": Truncator(f.items).chars(60),
                "url": reverse("surveys:survey-detail", kwargs={"pk": f.survey_id}),
            }
            for f in open_[:8]
        ],
        "empty": _("没有待跟进的不满意项。"),
    }
