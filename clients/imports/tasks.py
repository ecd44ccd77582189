"""Tasks of the spreadsheet import (R36): thin, they take a job id and call the service."""

from celery import shared_task

from . import services as importing


@shared_task(name="clients.import_validate")
def import_validate(job_id: str) -> dict:
    """Read and check every row of an uploaded 客户信息统计表; saves nothing."""
    return importing.validate_job(job_id)


@shared_task(name="clients.import_commit")
def import_commit(job_id: str) -> dict:
    """Validate again and save all rows in one transaction, or none."""
    return importing.commit_job(job_id)
