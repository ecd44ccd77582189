"""Tasks of the spreadsheet import (R36): thin, they take a job id and call the service."""

from celery import shared_task

from crm.schedules import declare

from . import services

declare(
    name="clients: delete old import uploads",
    task="clients.import_uploads_purge",
    minute=40,
    hour=2,
)


@shared_task(name="clients.import_validate", acks_late=True, reject_on_worker_lost=True)
def import_validate(job_id: str) -> None:
    """Read and check every row of an uploaded 客户信息统计表; saves nothing but the report.
    Idempotent, so a delivery repeated after a lost worker is safe."""
    from ..models import ImportJob

    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is not None:
        services.import_validate(job=job)


@shared_task(name="clients.import_commit", acks_late=True, reject_on_worker_lost=True)
def import_commit(job_id: str) -> None:
    """Validate again and save all rows in one transaction, or none; idempotent (the job row
    is locked and claimed)."""
    services.import_commit(job_id=job_id)


@shared_task(name="clients.import_uploads_purge")
def import_uploads_purge() -> int:
    """Daily at 02:40 (Asia/Shanghai): delete uploads older than IMPORT_KEEP_DAYS."""
    return services.import_uploads_purge()
