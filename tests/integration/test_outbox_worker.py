"""The outbox with a real Celery worker on Redis (R109, R110, R114): a page's request whose
mail server hangs answers as fast as with the server up (nothing is sent inside it); the
worker retries with backoff and delivers when the server returns; spent attempts end failed,
and an administrator's re-send is delivered."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.access import services as access
from crm.models import Delivery
from crm.services import notify
from tests.clients.factories import ClientFactory
from tests.crm.outbox.mailserver import HangingServer, MailServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _smtp(settings, port):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 2


def _wait(predicate, seconds=60, what=""):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(
        f"timed out: {what} {list(Delivery.objects.values_list('state', 'attempts', 'last_error'))}"
    )


def _forward(org, req) -> float:
    started = time.monotonic()
    answer = org.web("marketing").post(
        reverse("clients:access-request-step", args=[req.pk, "forward"]), {"note": "同意"}
    )
    took = time.monotonic() - started
    assert answer.status_code == 302, answer.content[:300]
    return took


def test_a_hanging_mail_server_does_not_slow_the_request_and_the_notice_arrives(org, celery_worker, settings):
    settings.CRM_OUTBOX_BACKOFF_SECONDS = 0.5
    settings.CRM_OUTBOX_BACKOFF_MAX_SECONDS = 1
    settings.CRM_OUTBOX_MAX_ATTEMPTS = 30
    up = MailServer().start()
    port = up.port
    _smtp(settings, port)
    target = ClientFactory(branch=org.branches["east"], owner=org["east_staff"])
    ends = timezone.localdate()
    first = access.access_request_create(
        requester=org["south_staff"], clients=[target], reason="投标", ends_on=ends
    )
    second = access.access_request_create(
        requester=org["south_staff"], clients=[target], reason="复核", ends_on=ends
    )
    _forward(org, first)  # warm-up: the first request of a process pays for imports
    _wait(lambda: not Delivery.objects.exclude(state="sent").exists(), what="sent with the server up")
    received_up = len(up.received)
    assert received_up >= 3
    # With the server up: how long the page takes.
    third = access.access_request_create(
        requester=org["south_staff"], clients=[target], reason="三", ends_on=ends
    )
    with_server = _forward(org, third)
    _wait(lambda: not Delivery.objects.exclude(state="sent").exists(), what="third sent")
    up.stop()
    # The server hangs: the same page, as fast (a synchronous send would wait EMAIL_TIMEOUT).
    down = HangingServer(port).start()
    try:
        without_server = _forward(org, second)
        assert without_server < with_server + 1.0 and without_server < settings.EMAIL_TIMEOUT, (
            with_server,
            without_server,
        )
        forwarded = Delivery.objects.filter(notice__key=f"access-request:{second.pk}:forwarded:requester")
        assert forwarded.count() == 1
        _wait(
            lambda: forwarded.filter(attempts__gte=2, state="pending").exists(),
            what="retried while the server hangs",
        )
        assert "timed out" in forwarded.get().last_error or "Error" in forwarded.get().last_error
    finally:
        down.stop()
    back = MailServer(port).start()
    try:
        _wait(
            lambda: forwarded.filter(state="sent").exists(),
            seconds=90,
            what="delivered when the server returns",
        )
        assert any(org["south_staff"].email in m["to"] for m in back.received)
    finally:
        back.stop()


def test_spent_attempts_fail_and_the_administrators_resend_delivers(org, celery_worker, settings):
    settings.CRM_OUTBOX_BACKOFF_SECONDS = 0.2
    settings.CRM_OUTBOX_BACKOFF_MAX_SECONDS = 0.5
    settings.CRM_OUTBOX_MAX_ATTEMPTS = 2
    probe = MailServer().start()
    port = probe.port
    probe.stop()  # nothing listens there now: connection refused
    _smtp(settings, port)
    notify(recipients=[org["east_staff"]], verb="monthly_reminder", title="请上报月报", key="worker-fail")
    delivery = Delivery.objects.get(notice__key="worker-fail")
    _wait(lambda: Delivery.objects.filter(pk=delivery.pk, state="failed").exists(), what="failed")
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and "refused" in delivery.last_error.lower()
    server = MailServer(port).start()
    try:
        answer = org.api("admin").post(f"/api/deliveries/{delivery.pk}/resend/")
        assert answer.status_code == 200
        _wait(lambda: Delivery.objects.filter(pk=delivery.pk, state="sent").exists(), what="re-sent")
        assert [m["to"] for m in server.received] == [[org["east_staff"].email]]
    finally:
        server.stop()
