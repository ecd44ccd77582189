"""The complaints tab of the client page (R19): every complaint of the client the user may see,
with its timeline and outcome, read through restrict()."""

from django.urls import reverse

from crm.access import can

from .models import Complaint
from .selectors import client_complaints


def client_tab_rows(user):
    """The complaints the tab's badge counts: those the user may view (the tab lists them)."""
    return Complaint.objects.restrict(user, "view")


def client_tab_context(request, client) -> dict:
    complaints = list(client_complaints(request.user, client))
    return {
        "complaints": complaints,
        "count": len(complaints),
        "open_count": sum(1 for c in complaints if c.is_open),
        "unreasonable_count": sum(1 for c in complaints if c.is_unreasonable),
        "can_add_complaint": can(request.user, "add", Complaint),
        "new_complaint_url": reverse("complaints:complaint-create") + f"?client={client.pk}",
    }
