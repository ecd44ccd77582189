"""Thin tasks (style.md 6): load by id, call a service."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from .schedules import declare


@shared_task
def notify_user(user_id: int, title: str, body: str = "", url: str = "", key: str = "") -> int:
    from .models import User
    from .services import notify

    user = User.objects.get(pk=user_id)
    return len(notify(recipients=[user], verb="message", title=title, body=body, url=url, key=key))


@shared_task
def purge_old_notifications(days: int = 180) -> int:
    """Read notifications older than ``days`` are removed; unread ones stay."""
    from .models import Notification

    cutoff = timezone.now() - dt.timedelta(days=days)
    deleted, _ = Notification.objects.filter(read_at__isnull=False, created_at__lt=cutoff).delete()
    return deleted


# The worker's heartbeat for readiness (crm/health.py): sent by beat every two minutes, so
# that /health/ready can say when no worker has run a job lately, and when beat stopped.
declare(name="crm: worker heartbeat", task="crm.health_heartbeat", minute="*/2", hour="*")


@shared_task(name="crm.health_heartbeat", ignore_result=True)
def health_heartbeat() -> None:
    from .health import record_worker_heartbeat

    record_worker_heartbeat()
