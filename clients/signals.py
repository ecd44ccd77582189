"""Registers the client grant scope with crm's access control (crm imports no app of ours)."""

from django.db.models import Q

from crm.access import register_grant_scope


@register_grant_scope
def granted_client_ids(user, now):
    """Clients the user holds an active grant for (R5): both the guardian per-client permission
    and an unexpired, unrevoked AccessGrant must exist."""
    from .models import AccessGrant, ClientUserObjectPermission

    active = AccessGrant.objects.filter(
        Q(user=user), Q(revoked_at__isnull=True), Q(starts_at__lte=now), Q(ends_at__gt=now)
    ).values("clients")
    return ClientUserObjectPermission.objects.filter(
        user=user, permission__codename="view_client", content_object_id__in=active
    ).values("content_object_id")
