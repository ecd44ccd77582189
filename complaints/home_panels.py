"""The complaints panel of the home page: the user's open and overdue complaints (restricted)."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import can
from crm.dashboard import register

from .models import Complaint


@register(order=40, roles=("staff", "manager", "marketing"))
def complaints_panel(user):
    if not can(user, "view", Complaint):
        return None
    now = timezone.now()
    scope = Complaint.objects.restrict(user, "view")
    mine = scope.open().filter(owner=user)
    base = reverse("complaints:complaint-list")
    figures = [
        {"label": _("我负责的未办结"), "value": mine.count(), "url": f"{base}?mine=true&open=true"},
        {"label": _("超期"), "value": scope.overdue(now).count(), "url": f"{base}?overdue=true"},
        {"label": _("未办结"), "value": scope.open().count(), "url": f"{base}?open=true"},
    ]
    items = [
        {
            "title": f"{c.code} {c.title}",
            "subtitle": f"{c.client.name} · {c.get_status_display()}"
            + (" · " + _("超期") if c.is_overdue else ""),
            "url": reverse("complaints:complaint-detail", kwargs={"pk": c.pk}),
        }
        for c in mine.select_related("client").order_by("resolve_due_at")[:5]
    ]
    return {"title": _("客户投诉"), "figures": figures, "items": items, "url": base}
