"""Tasks of access grants (R5): revoking expired grants. Thin: the service does the work."""

from celery import shared_task

from crm.schedules import declare

declare(
    name="clients: revoke expired access grants (R5)",
    task="clients.access.tasks.revoke_expired_grants",
    minute=5,
    hour="*",
)


@shared_task
def revoke_expired_grants() -> int:
    """Every hour at minute 5 (Asia/Shanghai). Idempotent: a second run revokes nothing."""
    from .services import grant_revoke_expired

    return grant_revoke_expired()
