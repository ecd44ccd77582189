"""Reads about grants (R5) that pages share: which clients a user sees only through an active
access grant, and under which grant. Such a client is marked in the archive list (授权查阅,
with the end date), can be filtered to, and its page shows a banner with the grant and hides
the write buttons a read-only grant cannot use."""

from __future__ import annotations

from django.utils import timezone

from crm.access import branch_ids, granted_client_ids, has_global, snapshot

from ..models import AccessGrant, Client


def active_grants_by_client(user, now=None) -> dict[int, AccessGrant]:
    """Client id -> the active grant of ``user`` that covers it (the one ending last)."""
    if not user.is_authenticated:
        return {}
    now = now or timezone.now()
    grants: dict[int, AccessGrant] = {}
    for grant in (
        AccessGrant.objects.filter(user=user, revoked_at__isnull=True, starts_at__lte=now, ends_at__gt=now)
        .prefetch_related("clients")
        .order_by("-ends_at")
    ):
        for client_id in (c.pk for c in grant.clients.all()):
            grants.setdefault(client_id, grant)
    return grants


def granted_only(user) -> dict[int, AccessGrant]:
    """The clients ``user`` sees only through an active grant (not by branch right, not as a
    group role), each with its grant."""
    if not user.is_authenticated or has_global(user, Client, "view"):
        return {}
    # The clients the access snapshot already holds as granted (a grant and its per-client
    # permission): none, the usual case, costs no query.
    if not granted_client_ids(user, snapshot(user)):
        return {}
    grants = active_grants_by_client(user)
    if not grants:
        return {}
    own = branch_ids(user, "view")
    outside = set(
        Client.objects.filter(pk__in=list(grants)).exclude(branch_id__in=own).values_list("pk", flat=True)
    )
    return {pk: grant for pk, grant in grants.items() if pk in outside}


def grant_of(user, client) -> AccessGrant | None:
    """The grant ``user`` reads ``client`` under, if that is their only way to it."""
    if not user.is_authenticated or has_global(user, Client, "view"):
        return None
    if client.branch_id in branch_ids(user, "view"):
        return None
    return active_grants_by_client(user).get(client.pk)
