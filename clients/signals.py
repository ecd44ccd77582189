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
    ).values_list("content_object_id", flat=True)


def _connect_scope_invalidation():
    """A grant or a per-client permission that changes drops the access snapshots."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from crm.access import scope_changed

    from .models import AccessGrant, ClientUserObjectPermission

    for model in (AccessGrant, ClientUserObjectPermission):
        post_save.connect(scope_changed, sender=model, dispatch_uid=f"scope-save-{model.__name__}")
        post_delete.connect(scope_changed, sender=model, dispatch_uid=f"scope-delete-{model.__name__}")
    m2m_changed.connect(scope_changed, sender=AccessGrant.clients.through, dispatch_uid="scope-grant-clients")


_connect_scope_invalidation()


def _contact_changed(sender, instance, **kwargs):
    from .models import refresh_search_text

    refresh_search_text([instance.client_id])


def _connect_search_text():
    """A contact saved or deleted, one at a time or through a queryset (the admin's bulk delete),
    rebuilds its client's search text (derived data; see ``Client.search_text``)."""
    from django.db.models.signals import post_delete, post_save

    from .models import Contact

    post_save.connect(_contact_changed, sender=Contact, dispatch_uid="search-text-contact-save")
    post_delete.connect(_contact_changed, sender=Contact, dispatch_uid="search-text-contact-delete")


_connect_search_text()
