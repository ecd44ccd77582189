"""Redis stopped (issue 29, "Faults survived"): every page still answers, the cache degrading to
none (crm/cache.py) and a page that queues a job saying the queue is unavailable instead of
failing (crm.tasks.enqueue); when Redis returns, the sweep queues the work again and a real
worker does it, nothing lost. The test runs its own redis-server, never the shared one."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
import time

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from crm.models import Delivery
from crm.outbox.services import deliveries_sweep
from crm.services import notify
from tests.clients.factories import ClientFactory

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server"),
]

QUEUE_DOWN = "任务队列暂时不可用"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnRedis:
    """A redis-server of this test alone, on a free port, kept in memory only."""

    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping():
                    return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("the test's redis-server did not start")

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture(scope="module")
def own_redis():
    server = OwnRedis().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def celery_config(own_redis):
    return {"broker_url": own_redis.url, "task_ignore_result": True, "task_always_eager": False}


@pytest.fixture
def redis_settings(settings, own_redis):
    # Changing CACHES builds the cache again (Django's setting_changed handler), on our server.
    settings.CACHES = {
        "default": {
            "BACKEND": "crm.cache.ResilientRedisCache",
            "LOCATION": own_redis.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.CELERY_BROKER_URL = own_redis.url
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    if own_redis.process is None:
        own_redis.start()
    # The Celery apps read their broker once and keep a pool of connections: an earlier test of
    # this process may have connected them to the suite's Redis. Point them at ours, afresh.
    saved = _point_celery_at(own_redis.url)
    yield settings
    _point_celery_at(saved)
    if own_redis.process is None:
        own_redis.start()


def _point_celery_at(url):
    """Point the project's Celery app and the current one at ``url`` (or at each one's URL in a
    dict, as returned), with new connection pools; returns what they pointed at."""
    from celery import current_app

    from crm.celery import app as crm_app

    before = {}
    for app in {crm_app, current_app._get_current_object()}:
        before[app] = app.conf.broker_url
        app.conf.broker_url = url[app] if isinstance(url, dict) else url
        if app._pool is not None:
            app._pool.force_close_all()
            app._pool = None
        app.amqp._producer_pool = None
    return before


def _pages(org, target):
    return {
        "admin": [
            "/",
            reverse("clients:client-list"),
            reverse("clients:client-detail", args=[target.pk]),
            reverse("assessments:dashboard"),
            reverse("assessments:close-list"),
        ],
        "marketing": [
            "/",
            reverse("clients:client-list"),
            reverse("clients:client-detail", args=[target.pk]),
            reverse("assessments:dashboard"),
        ],
        "east_manager": [
            "/",
            reverse("clients:client-list"),
            reverse("clients:client-detail", args=[target.pk]),
            reverse("assessments:dashboard"),
        ],
        "east_staff": [
            "/",
            reverse("clients:client-list"),
            reverse("clients:client-detail", args=[target.pk]),
        ],
    }


def _take(org, pages):
    answers = {}
    for who, urls in pages.items():
        client = org.web(who)
        for url in urls:
            started = time.monotonic()
            answer = client.get(url)
            answers[(who, url)] = (answer.status_code, time.monotonic() - started)
    return answers


def _previous_period() -> str:
    day = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    return f"{day.year}-{day.month:02d}"


def test_pages_answer_with_redis_stopped_and_queued_work_runs_when_it_returns(
    org, redis_settings, own_redis, celery_app
):
    target = ClientFactory(branch=org.branches["east"], owner=org["east_staff"])
    # Made two months ago, so that last month is a period the monthly close may cover.
    Client.objects.filter(pk=target.pk).update(created_at=timezone.now() - dt.timedelta(days=62))
    pages = _pages(org, target)
    cache.set("crm:test:probe", "up", 60)
    assert cache.get("crm:test:probe") == "up"  # the cache is really our Redis
    up = _take(org, pages)
    assert {status for status, _took in up.values()} == {200}, up

    own_redis.stop()
    assert cache.get("crm:test:probe") is None  # a miss, not an error
    assert cache.add("crm:test:lock", 1, 10) is False
    with pytest.raises(ValueError):
        cache.incr("crm:test:counter")
    assert cache.get_many(["a", "b"]) == {}
    down = _take(org, pages)
    assert {key: status for key, (status, _took) in down.items() if status != 200} == {}
    assert max(took for _status, took in down.values()) < 10, down

    # A notice handed to the worker after commit: the broker is away, the delivery stays pending.
    notify(
        recipients=[org["east_staff"]],
        verb="complaint_overdue",
        title="投诉 TS-0009 已超期",
        url="/complaints/9/",
    )
    pending = list(Delivery.objects.filter(channel="email"))
    assert pending and {d.state for d in pending} == {Delivery.State.PENDING}

    # A form that queues a job: the monthly close by hand answers, saying the queue is away.
    admin = org.web("admin")
    answer = admin.post(reverse("assessments:close-list"), {"period": _previous_period()})
    assert answer.status_code == 302, answer.content[:300]
    told = [str(m) for m in get_messages(answer.wsgi_request)]
    assert any(QUEUE_DOWN in m for m in told), told

    own_redis.start()
    time.sleep(2.5)  # past crm.cache.RETRY_AFTER: the cache is asked again
    cache.set("crm:test:probe", "back", 60)
    assert cache.get("crm:test:probe") == "back"
    with start_worker(celery_app, perform_ping_check=False, shutdown_timeout=30):
        assert deliveries_sweep() >= len(pending)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = set(
                Delivery.objects.filter(pk__in=[d.pk for d in pending]).values_list("state", flat=True)
            )
            if states == {Delivery.State.SENT}:
                break
            time.sleep(0.2)
    assert states == {Delivery.State.SENT}, list(Delivery.objects.values_list("state", "last_error"))
    again = _take(org, pages)
    assert {status for status, _took in again.values()} == {200}
