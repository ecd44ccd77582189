"""Global-search providers of the archive (crm.search.register); every one goes through restrict()."""

import re

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.search import register

from .models import Client, Contact
from .selectors import _contains, search_q


@register(_("客户"), order=10)
def search_clients(user, query, limit):
    qs = Client.objects.restrict(user, "view").filter(search_q(query)).select_related("branch")[:limit]
    return [
        {
            "title": c.name,
            "subtitle": f"{c.branch} · {c.get_grade_display()} · {c.credit_code}",
            "url": reverse("clients:client-detail", kwargs={"pk": c.pk}),
        }
        for c in qs
    ]


@register(_("联系人"), order=20)
def search_contacts(user, query, limit):
    q = _contains("name", query)
    digits = re.sub(r"\D", "", query)
    if len(digits) >= 4:
        q |= Q(phone_normalized__contains=digits)
    qs = Contact.objects.restrict(user, "view").filter(q).select_related("client")[:limit]
    return [
        {
            "title": str(c),
            "subtitle": f"{c.client.name} · {c.phone}",
            "url": reverse("clients:client-detail", kwargs={"pk": c.client_id}) + "#contacts",
        }
        for c in qs
    ]
