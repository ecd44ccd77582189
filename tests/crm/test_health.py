"""Health endpoints for the operator (issue 29): liveness and readiness, JSON for machines and a
page for people, without login and without any data of the archive. Checked against the real
parts (PostgreSQL, Redis), made to fail for real (a closed port, a missing migration row)."""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client, override_settings

from crm import health
from crm.tasks import health_heartbeat

pytestmark = pytest.mark.django_db

ROUTES_COVERED = ["health-live", "health-ready"]

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture(autouse=True)
def _fresh_heartbeats():
    cache.delete_many([health.WORKER_HEARTBEAT_KEY, health.BEAT_TICK_KEY])
    health._migrated_at = None
    yield
    cache.delete_many([health.WORKER_HEARTBEAT_KEY, health.BEAT_TICK_KEY])
    health._migrated_at = None


def beats():
    health_heartbeat()
    health.record_beat_tick()


def ready_json(client=None, **headers):
    response = (client or Client()).get("/health/ready", HTTP_ACCEPT="application/json", **headers)
    return response, json.loads(response.content)


def test_liveness_answers_anyone_in_json_and_as_a_page():
    response = Client().get("/health/live")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert json.loads(response.content)["status"] == "ok"
    assert response["Cache-Control"] == "no-store"
    page = Client().get("/health/live", HTTP_ACCEPT="text/html,application/xhtml+xml")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert "运行状态" in page.content.decode()


def test_readiness_checks_every_part_and_is_ready_when_all_answer():
    beats()
    response, body = ready_json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "migrations", "cache", "broker", "storage", "worker", "beat"}
    assert all(check["status"] == "ok" for check in body["checks"].values())
    assert body["checks"]["broker"]["note"] == "redis"
    assert body["checks"]["database"]["note"] == "postgresql"


def test_format_parameter_wins_over_accept():
    beats()
    assert (
        Client().get("/health/ready?format=json", HTTP_ACCEPT="text/html")["Content-Type"]
        == "application/json"
    )
    page = Client().get("/health/ready?format=html", HTTP_ACCEPT="application/json")
    assert page["Content-Type"].startswith("text/html")
    assert page.content.decode().count('data-testid="health-row"') == 7
    # A client that says nothing (a load balancer) gets JSON.
    assert Client().get("/health/ready")["Content-Type"] == "application/json"


def test_a_stale_worker_and_beat_are_reported_but_do_not_take_the_server_out():
    beats()
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11), tick=False):
        response, body = ready_json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["checks"]["worker"]["status"] == "stale"
    assert body["checks"]["beat"]["status"] == "stale"
    assert re.fullmatch(r"6\d\ds", body["checks"]["worker"]["note"])


def test_a_worker_never_seen_is_stale():
    health.record_beat_tick()
    _, body = ready_json()
    assert body["checks"]["worker"] == {
        "status": "stale",
        "ms": body["checks"]["worker"]["ms"],
        "note": "never",
    }
    assert body["checks"]["beat"]["status"] == "ok"


def test_beat_tick_falls_back_to_django_celery_beat_table():
    from django.utils import timezone
    from django_celery_beat.models import PeriodicTask

    PeriodicTask.objects.filter(task=health.HEARTBEAT_TASK).update(last_run_at=timezone.now())
    assert health.check_beat()[0] == "ok"
    PeriodicTask.objects.update(last_run_at=timezone.now() - dt.timedelta(hours=1))
    assert health.check_beat()[0] == "stale"


def test_beat_process_records_a_tick_when_it_sends_a_job():
    from celery.signals import beat_init

    from crm import celery as crm_celery
    from crm.celery import app

    app.send_task("crm.no_such_task_for_the_health_test")  # published by a web server: no tick
    assert cache.get(health.BEAT_TICK_KEY) is None
    beat_init.send(sender=None)
    try:
        before = time.time()
        app.send_task("crm.no_such_task_for_the_health_test")
        assert cache.get(health.BEAT_TICK_KEY) >= before
    finally:
        crm_celery._in_beat = False
        from kombu import Connection

        with Connection(app.conf.broker_url) as conn:
            conn.default_channel.client.delete("celery")


def test_the_heartbeat_job_is_scheduled_every_two_minutes():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.select_related("crontab").get(task=health.HEARTBEAT_TASK)
    assert (task.crontab.minute, task.crontab.hour) == ("*/2", "*")


@override_settings(CELERY_BROKER_URL=CLOSED_PORT_REDIS)
def test_broker_down_makes_the_server_not_ready():
    beats()
    response, body = ready_json()
    assert response.status_code == 503
    assert body["status"] == "fail" and body["checks"]["broker"]["status"] == "fail"
    # The broker's address is not told.
    assert "127.0.0.1" not in response.content.decode() and ":1/" not in response.content.decode()


def test_cache_down_makes_the_server_not_ready():
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": CLOSED_PORT_REDIS,
            }
        }
    ):
        response, body = ready_json()
    assert response.status_code == 503
    assert body["checks"]["cache"]["status"] == "fail"
    assert body["checks"]["database"]["status"] == "ok"


def test_storage_that_cannot_be_written_makes_the_server_not_ready(tmp_path):
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    storages = {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(a_file / "media")},
        },
        "attachments": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    beats()
    with override_settings(STORAGES=storages):
        response, body = ready_json()
    assert response.status_code == 503 and body["checks"]["storage"] == {
        "status": "fail",
        "ms": body["checks"]["storage"]["ms"],
        "note": "local",
    }


def test_a_pending_migration_makes_the_server_not_ready():
    beats()
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE id = (SELECT max(id) FROM django_migrations WHERE app = 'crm')"
        )
    response, body = ready_json()
    assert response.status_code == 503
    assert body["checks"]["migrations"] == {
        "status": "fail",
        "ms": body["checks"]["migrations"]["ms"],
        "note": "pending",
    }


def test_no_data_in_either_answer(org):
    """Nothing of the archive: no names of people, branches or clients, no counts, no addresses."""
    from clients.models import Client as ArchiveClient

    beats()
    texts = []
    for path in ("/health/live", "/health/ready"):
        for accept in ("application/json", "text/html"):
            texts.append(Client().get(path, HTTP_ACCEPT=accept).content.decode())
    names = [u.username for u in org.users.values()] + [
        u.full_name for u in org.users.values() if u.full_name
    ]
    names += [b.name for b in org.branches.values()]
    names += list(ArchiveClient.objects.values_list("name", flat=True)[:50])
    for text in texts:
        for name in names:
            assert name not in text, name
        for secret in ("postgres://", "redis://", "127.0.0.1", "password", "SECRET"):
            assert secret not in text
    _, body = ready_json()
    assert set(body) == {"status", "checked_at", "checks"}
    for check in body["checks"].values():
        assert set(check) <= {"status", "ms", "note"}
        assert re.fullmatch(r"[a-z0-9,-]*", check.get("note", "")), check


def test_answered_on_plain_http_by_address_where_pages_are_not():
    """The load balancer calls a server by its address, over HTTP: no host check, no redirect."""
    with override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["crm.example.com"]):
        client = Client()
        assert client.get("/health/live", HTTP_HOST="10.1.2.3:8000").status_code == 200
        assert client.get("/health/ready", HTTP_HOST="10.1.2.3:8000").status_code in (200, 503)
        assert client.get("/accounts/login/", HTTP_HOST="10.1.2.3:8000").status_code == 400
        assert client.get("/accounts/login/", HTTP_HOST="crm.example.com").status_code == 301


def test_only_get_and_head():
    response = Client().post("/health/ready")
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"  # require_safe
    assert Client().head("/health/live").status_code == 200


def test_probe_command_for_beat_and_web():
    health.record_beat_tick()
    call_command("healthprobe", "beat")
    cache.delete(health.BEAT_TICK_KEY)
    from django_celery_beat.models import PeriodicTask

    PeriodicTask.objects.update(last_run_at=None)
    with pytest.raises(CommandError):
        call_command("healthprobe", "beat")
    # No web server on this port.
    with pytest.raises(CommandError):
        call_command("healthprobe", "web", "--port", "1")
