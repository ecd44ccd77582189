"""Home-page panel of the improvement plans (crm.dashboard.register; R105): overdue measures,
read through restrict(). A manager sees those of their branch's plans (group marketing: every
plan's), a branch's staff the measures they are the person of."""

from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from crm.access import can
from crm.dashboard import register

from .models import ImprovementMeasure
from .services import overdue_measures


@register(order=42, roles=("staff", "manager", "marketing"))
def improvement_overdue_panel(user):
    if not can(user, "view", ImprovementMeasure):
        return None
    today = timezone.localdate()
    qs = overdue_measures(ImprovementMeasure.objects.restrict(user, "view"), today)
    if user.role == "staff":
        qs = qs.filter(owner=user)
    qs = qs.select_related("plan", "plan__branch", "plan__dimension", "owner").order_by("due_on", "pk")
    url = reverse("surveys:improvement-list") + "?overdue=1" + ("&mine=1" if user.role == "staff" else "")
    return {
        "title": _("逾期未完成的改进措施"),
        "url": url,
        "items": [
            {
                "title": f"{m.plan.dimension.name} · {m.plan.scope_label}",
                "subtitle": _("%(owner)s,时间点 %(due)s:%(text)s")
                % {
                    "owner": m.owner.display_name,
                    "due": m.due_on,
                    "text": Truncator(m.description).chars(40),
                },
                "url": reverse("surveys:improvement-detail", kwargs={"pk": m.plan_id}),
            }
            for m in qs[:8]
        ],
        "empty": _("没有逾期的改进措施。"),
    }
