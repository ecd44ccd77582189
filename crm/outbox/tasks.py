"""Thin tasks of the outbox (style.md 6): send one delivery, sweep the due ones, the digest."""

from celery import shared_task

from crm.schedules import declare

# R110: the safety net for lost messages and dead workers (every two minutes).
declare(name="outbox: sweep due deliveries", task="crm.outbox.tasks.deliveries_sweep", minute="*/2", hour="*")
# R115: hourly; each person's digest goes at the first run after CRM_DIGEST_TIME, once a day.
declare(name="outbox: daily digests", task="crm.outbox.tasks.digests_send", minute="5", hour="*")


@shared_task
def deliver(delivery_id: int) -> str | None:
    from .services import delivery_send

    return delivery_send(delivery_id=delivery_id)


@shared_task
def deliveries_sweep() -> int:
    from .services import deliveries_sweep as sweep

    return sweep()


@shared_task
def digests_send() -> int:
    from .services import digest_send_due

    return digest_send_due()
