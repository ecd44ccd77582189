"""Wiring of permissions: role groups after every migrate, branch groups for new branches."""

from django.db.models.signals import post_migrate, post_save
from django.dispatch import Signal, receiver

from .models import Branch

# Rows of ``sender`` (a model) were written in bulk (``bulk_create``), which sends no
# ``post_save`` per row: what a save would invalidate (cached dashboards) listens here too.
rows_bulk_written = Signal()


@receiver(post_migrate)
def sync_roles_after_migrate(sender, **kwargs):
    # Permissions of every app exist once the last of ours has migrated.
    if sender.name != "assessments":
        return
    from .schedules import ensure_declared
    from .services import roles_sync

    roles_sync()
    ensure_declared()


@receiver(post_save, sender=Branch)
def branch_groups(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        from .services import branch_ensure_groups

        branch_ensure_groups(instance)


def _scope_sources():
    from .models import BranchGroupObjectPermission, BranchUserObjectPermission, Suspension, User

    return [Suspension, BranchGroupObjectPermission, BranchUserObjectPermission], User.groups.through


def _connect_scope_invalidation():
    """Access-control snapshots (crm.access.snapshot) are dropped when what they read changes."""
    from django.db.models.signals import m2m_changed, post_delete

    from .access import scope_changed

    models, user_groups = _scope_sources()
    for model in models:
        post_save.connect(scope_changed, sender=model, dispatch_uid=f"scope-save-{model.__name__}")
        post_delete.connect(scope_changed, sender=model, dispatch_uid=f"scope-delete-{model.__name__}")
    m2m_changed.connect(scope_changed, sender=user_groups, dispatch_uid="scope-user-groups")


_connect_scope_invalidation()
