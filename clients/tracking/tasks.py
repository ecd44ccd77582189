"""The weekly tracking check's job (R71, R72): thin, the services do the work. Its schedules are
rows of django-celery-beat made by the data migration clients 0018 (Monday 09:00 and a daily
catch-up at 09:30, Asia/Shanghai). One task per branch, so more workers finish sooner and a
branch that fails is retried alone; every part is idempotent."""

from celery import shared_task


@shared_task
def need_checks_weekly() -> int:
    """R71: queue each active branch's part; returns how many were queued."""
    from crm.models import Branch

    ids = list(
        Branch.objects.filter(is_active=True).order_by("sort_order", "code").values_list("pk", flat=True)
    )
    for branch_id in ids:
        need_check_branch.delay(branch_id)
    return len(ids)


@shared_task(acks_late=True, autoretry_for=(Exception,), max_retries=3, retry_backoff=True)
def need_check_branch(branch_id: int) -> list[str]:
    """R71, R72: the checks of one branch due and not made (catching up), with their notices."""
    from crm.models import Branch

    from .services import need_checks_catch_up

    branch = Branch.objects.filter(pk=branch_id, is_active=True).first()
    if branch is None:
        return []
    return [check.week for check in need_checks_catch_up(branch=branch)]
