"""Thin tasks (style.md 6): load by id, call a service."""

import datetime as dt
import logging
from contextvars import ContextVar

from celery import shared_task
from django.utils import timezone

from .schedules import declare

logger = logging.getLogger(__name__)

# The request being answered, so that a job that cannot be queued can say so on its page.
_request: ContextVar = ContextVar("crm_enqueue_request", default=None)


def enqueue(task, *args, countdown: float | None = None, **kwargs) -> bool:
    """Hand ``task`` to the broker; False, instead of an error, when the broker (Redis) is away.
    The work is not lost: its rows stay as they were (a delivery pending, a closing's part not
    done) and the periodic sweep that already exists for them queues it again; the page that
    asked tells its user once."""
    try:
        if countdown is None:
            task.delay(*args, **kwargs)
        else:
            task.apply_async(args, kwargs, countdown=countdown)
        return True
    except Exception:  # kombu's OperationalError, redis' ConnectionError, a refused socket
        logger.warning("could not queue %s; its sweep will queue it again", getattr(task, "name", task))
        request = _request.get()
        if request is not None and not getattr(request, "_crm_queue_down_told", False):
            from django.contrib import messages
            from django.utils.translation import gettext as _

            request._crm_queue_down_told = True
            messages.warning(request, _("任务队列暂时不可用,稍后将自动执行。"), fail_silently=True)
        return False


class EnqueueRequestMiddleware:
    """Remembers the request for ``enqueue`` (after the messages middleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


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
