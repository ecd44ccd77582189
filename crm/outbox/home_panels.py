"""The administrator's home panel (R114): deliveries that failed in the last 7 days, a figure
that opens the deliveries page filtered to exactly them."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from crm.dashboard import register

from .access import is_administrator

DAYS = 7


def failed_recently(user):
    """The failed deliveries created in the last 7 days (today and the 6 before, Asia/Shanghai),
    and the URL of the list of exactly them."""
    from crm.models import Delivery

    since = timezone.localdate() - dt.timedelta(days=DAYS - 1)
    rows = Delivery.objects.restrict(user, "view").filter(
        state=Delivery.State.FAILED, created_at__date__gte=since
    )
    url = reverse("delivery-list") + "?" + urlencode({"state": "failed", "date_from": since.isoformat()})
    return rows, url


@register(order=5, roles=("admin",))
def failed_deliveries_panel(user):
    if not is_administrator(user):
        return None
    rows, url = failed_recently(user)
    count = rows.count()
    return {
        "title": _("通知投递"),
        "url": reverse("delivery-list"),
        "figures": [{"label": _("近 7 天发送失败"), "value": count, "url": url}],
        "items": [
            {
                "title": d.notice.title,
                "subtitle": f"{d.channel} → {d.target} · {d.last_error[:60]}",
                "url": url,
            }
            for d in rows.select_related("notice").order_by("-created_at")[:5]
        ],
    }
