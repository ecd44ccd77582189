"""Global search over complaints (crm.search), through restrict()."""

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.access import can
from crm.search import register

from .models import Complaint


@register(_("客户投诉"), order=30)
def search_complaints(user, query, limit):
    if not can(user, "view", Complaint):
        return []
    q = Q(title__icontains=query) | Q(client__name__icontains=query) | Q(complainant_phone__icontains=query)
    code = query.upper().removeprefix("TS")
    if code.isdigit():
        q |= Q(pk=int(code))
    qs = Complaint.objects.restrict(user, "view").filter(q).select_related("client")[:limit]
    return [
        {
            "title": f"{c.code} {c.title}",
            "subtitle": f"{c.client.name} · {c.get_status_display()}",
            "url": reverse("complaints:complaint-detail", kwargs={"pk": c.pk}),
        }
        for c in qs
    ]
