"""Home-page panels of the archive (crm.dashboard.register); every figure goes through restrict()."""

from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from crm.access import can
from crm.dashboard import register

from . import tasks  # noqa: F401  (declares the periodic job's schedule)
from .models import Client, Need, VisitPlan
from .selectors import (
    a_clients_without_plan,
    a_without_plan_url,
    grade_distribution,
    needs_due,
    overdue_visit_plans,
)


@register(order=10, roles=("staff", "manager", "marketing"))
def overdue_visits_panel(user):
    if not can(user, "view", VisitPlan):
        return None
    plans = list(overdue_visit_plans(user)[:8])
    today = timezone.localdate()
    return {
        "title": _("逾期拜访"),
        "url": reverse("clients:visit-overdue-list"),
        "items": [
            {
                "title": p.client.name,
                "subtitle": _("应于 %(d)s 拜访,逾期 %(n)d 天")
                % {"d": p.next_due_on, "n": (today - p.next_due_on).days},
                "url": reverse("clients:client-detail", kwargs={"pk": p.client_id}) + "#visits",
            }
            for p in plans
        ],
        "empty": _("没有逾期的拜访。"),
    }


@register(order=10.5)
def a_without_plan_panel(user):
    """R13: A clients without a visit plan, for their owner (own clients) and the branch
    manager (the branch's); the figure is the count of the list it links to."""
    if getattr(user, "role", None) not in ("staff", "manager") or not can(user, "view", Client):
        return None
    qs = a_clients_without_plan(user)
    url = a_without_plan_url(user)
    return {
        "title": _("无拜访计划的A类客户"),
        "url": url,
        "figures": [{"label": _("A类客户无拜访计划"), "value": qs.count(), "url": url}],
        "items": [
            {
                "title": c.name,
                "subtitle": c.branch.name,
                "url": reverse("clients:client-detail", kwargs={"pk": c.pk}) + "#visits",
            }
            for c in qs[:8]
        ],
    }


@register(order=11, roles=("staff", "manager", "marketing"))
def needs_due_panel(user):
    if not can(user, "view", Need):
        return None
    needs = list(needs_due(user)[:8])
    now = timezone.now()
    return {
        "title": _("待响应的客户需求"),
        "url": reverse("clients:need-list") + "?status=received",
        "items": [
            {
                "title": f"{n.client.name}:{Truncator(n.description).chars(20)}",
                "subtitle": (_("已逾期") if n.response_due_at < now else _("期限"))
                + " "
                + timezone.localtime(n.response_due_at).strftime("%Y-%m-%d %H:%M"),
                "url": reverse("clients:client-detail", kwargs={"pk": n.client_id}) + "#needs",
            }
            for n in needs
        ],
        "empty": _("没有即将到期的需求。"),
    }


@register(order=12)
def grade_panel(user):
    if not can(user, "view", Client):
        return None
    dist = grade_distribution(user)
    url = reverse("clients:client-list")
    return {
        "title": _("客户分级分布"),
        "url": url,
        "figures": [
            {"label": _("%(g)s类客户") % {"g": g}, "value": n, "url": f"{url}?grade={g}"}
            for g, n in dist.items()
        ],
    }


@register(order=5, roles=("leader",))
def approvals_panel(user):
    """R5: the access requests waiting for a group leader's decision."""
    from .models import AccessRequest

    pending = (
        AccessRequest.objects.restrict(user, "view")
        .filter(status=AccessRequest.Status.FORWARDED)
        .select_related("requester", "branch")
        .order_by("created_at")
    )
    url = reverse("clients:access-request-approval")
    return {
        "title": _("待审批的查阅申请"),
        "url": url,
        "figures": [{"label": _("待审批"), "value": pending.count(), "url": url}],
        "items": [
            {
                "title": f"#{r.pk} {r.requester.display_name}",
                "subtitle": r.branch.name,
                "url": reverse("clients:access-request-detail", kwargs={"pk": r.pk}),
            }
            for r in pending[:8]
        ],
        "empty": _("没有待审批的申请。"),
    }
