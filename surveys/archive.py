"""What the surveys add to the client archive (R8, R25): the client page's tab and the
satisfaction fact the quadrant reads. Registered from SurveysConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from clients.facts import fact, register_fact
from clients.panels import register_tab

from .models import FollowUp, Survey
from .selectors import client_satisfaction


def tab_context(request, client):
    surveys = (
        Survey.objects.restrict(request.user, "view")
        .filter(client=client)
        .select_related("template", "project", "branch")
        .order_by("-created_at")
    )
    rows = list(surveys[:20])
    follow_ups = list(
        FollowUp.objects.restrict(request.user, "view").filter(client=client, status=FollowUp.Status.OPEN)
    )
    return {
        "surveys": rows,
        "count": len(rows),
        "survey_follow_ups": follow_ups,
        "satisfaction": fact("satisfaction", client),
    }


def tab_rows(user):
    """The surveys the tab's badge counts: those the user may view."""
    return Survey.objects.restrict(user, "view")


register_tab("surveys", _("满意度调查"), "surveys/_client_tab.html", tab_context, order=60, count=tab_rows)
register_fact("satisfaction", client_satisfaction)
