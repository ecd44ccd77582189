"""Periodic job of the complaints app (R16, R18): thin, the service does the work."""

from celery import shared_task

from crm.schedules import declare

declare(
    name="complaints: flag overdue complaints and due return visits",
    task="complaints.tasks.flag_overdue_complaints",
    minute="*/5",
    hour="*",
)


@shared_task
def flag_overdue_complaints() -> dict:
    from .services import complaints_flag_overdue

    return complaints_flag_overdue()
