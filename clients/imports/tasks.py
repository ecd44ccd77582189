"""Tasks of the spreadsheet import (R36): thin, they take a job id and call the service."""

from celery import shared_task

from crm.schedules import declare

from ..models import ImportJob
from . import services

# A 10,000-row sheet is checked in about 30 s and saved in about a minute; the limits leave room
# for a slower machine and stay below the time after which a job counts as stopped
# (ImportJob.STALE_AFTER), so that a step still allowed to run is never taken over by another
# delivery or retried by its user. At the soft limit the job ends failed, saying why.
IMPORT_TIME_LIMIT = int(ImportJob.STALE_AFTER.total_seconds()) - 30
IMPORT_SOFT_TIME_LIMIT = IMPORT_TIME_LIMIT - 30

declare(
    name="clients: delete old import uploads",
    task="clients.import_uploads_purge",
    minute=40,
    hour=2,
)


@shared_task(
    name="clients.import_validate",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=IMPORT_SOFT_TIME_LIMIT,
    time_limit=IMPORT_TIME_LIMIT,
)
def import_validate(job_id: str) -> None:
    """Read and check every row of an uploaded 客户信息统计表; saves nothing but the report.
    Idempotent, so a delivery repeated after a lost worker is safe."""
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is not None:
        services.import_validate(job=job)


@shared_task(
    name="clients.import_commit",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=IMPORT_SOFT_TIME_LIMIT,
    time_limit=IMPORT_TIME_LIMIT,
)
def import_commit(job_id: str) -> None:
    """Validate again and save all rows in one transaction, or none; idempotent (the job row
    is locked and claimed)."""
    services.import_commit(job_id=job_id)


@shared_task(name="clients.import_uploads_purge")
def import_uploads_purge() -> int:
    """Daily at 02:40 (Asia/Shanghai): delete uploads older than IMPORT_KEEP_DAYS."""
    return services.import_uploads_purge()
