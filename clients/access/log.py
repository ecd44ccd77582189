"""The access log of R4: every read of another branch's client (page, API retrieve, export)
is written here with the grant it was made under. Call it from every view that shows a
client's archive to a user: reads of one's own branch and by the group roles are not logged
(they read by right, R3), everything else is."""

from __future__ import annotations

from django.utils import timezone

from crm.access import has_global

from ..models import AccessGrant, AccessLog, Client


def record_reads(user, clients, *, via: str, path: str = "") -> int:
    """Log ``user``'s reads of those ``clients`` that belong to another branch. Returns how many."""
    clients = [c for c in clients if c.branch_id != user.branch_id]
    if not clients or has_global(user, Client, "view"):
        return 0
    now = timezone.now()
    grants = {}
    for grant in (
        AccessGrant.objects.filter(user=user, revoked_at__isnull=True, starts_at__lte=now, ends_at__gt=now)
        .prefetch_related("clients")
        .order_by("-ends_at")
    ):
        for client_id in (c.pk for c in grant.clients.all()):
            grants.setdefault(client_id, grant)
    rows = [
        AccessLog(
            user=user,
            user_branch_id=user.branch_id,
            client=c,
            grant=grants.get(c.pk),
            via=via,
            path=path[:300],
            at=now,
        )
        for c in clients
    ]
    AccessLog.objects.bulk_create(rows)
    return len(rows)
