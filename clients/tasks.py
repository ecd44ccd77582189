"""Periodic jobs of the archive (thin: they call services). Schedules are declared here and
created in django-celery-beat's tables after migrate (crm.schedules)."""

from celery import shared_task

from crm.schedules import declare

from . import services

declare(
    name="clients: notify overdue visits (R13)",
    task="clients.tasks.notify_overdue_visits",
    minute=0,
    hour=8,
)


@shared_task
def notify_overdue_visits() -> int:
    """R13: daily at 08:00 (Asia/Shanghai); idempotent through notify keys."""
    return services.visit_overdue_notify()
