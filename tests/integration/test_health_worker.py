"""The worker's side of readiness (crm/health.py) with a real worker on Redis: the heartbeat job
run by the worker turns the readiness check "ok", and the container's probe finds the worker."""

import json

import pytest
from django.core.cache import cache
from django.test import Client

from crm import health
from crm.tasks import health_heartbeat

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_heartbeat_run_by_a_real_worker_makes_it_ready(celery_worker, monkeypatch):
    cache.delete(health.WORKER_HEARTBEAT_KEY)
    assert health.check_worker()[0] == "stale"
    health_heartbeat.delay().get(timeout=20)
    body = json.loads(Client().get("/health/ready?format=json").content)
    assert body["checks"]["worker"]["status"] == "ok"
    # The container's probe pings this worker by its name over the broker.
    monkeypatch.setenv("CELERY_WORKER_NAME", celery_worker.hostname)
    assert health.probe_worker() is True
    monkeypatch.setenv("CELERY_WORKER_NAME", "celery@no-such-machine")
    assert health.probe_worker() is False
