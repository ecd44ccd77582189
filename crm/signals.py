"""Wiring of permissions: role groups after every migrate, branch groups for new branches."""

from django.db.models.signals import post_migrate, post_save
from django.dispatch import receiver

from .models import Branch


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
