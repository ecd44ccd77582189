"""Metrics for Prometheus (issue 29): only for a bearer of the token or an allowed address;
requests and latency per view, database time, queue lengths in the real Redis broker, jobs'
runs, failures and durations by task (Celery's own signals), imports waiting or running."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from crm import metrics
from crm.celery import app
from crm.tasks import health_heartbeat, notify_user

pytestmark = pytest.mark.django_db

ROUTES_COVERED = ["metrics"]

TOKEN = "scrape-token-for-the-test-0123456789"


def scrape(**extra) -> dict:
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **extra)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


@pytest.fixture(autouse=True)
def _token():
    with override_settings(METRICS_TOKEN=TOKEN, METRICS_ALLOWED_IPS=[]):
        yield


def test_without_a_token_or_address_setting_there_is_no_endpoint():
    with override_settings(METRICS_TOKEN="", METRICS_ALLOWED_IPS=[]):
        assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


def test_token_is_required_and_compared_whole(org):
    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics")["WWW-Authenticate"].startswith("Bearer")
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN[:-1]}").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401
    # Signing in is not a way in: the admin's session is no token.
    assert org.web("admin").get("/metrics").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_allowed_addresses_without_a_token():
    with override_settings(METRICS_TOKEN="", METRICS_ALLOWED_IPS=["10.8.0.0/16", "192.0.2.7"]):
        assert Client(REMOTE_ADDR="10.8.3.4").get("/metrics").status_code == 200
        assert Client(REMOTE_ADDR="192.0.2.7").get("/metrics").status_code == 200
        assert Client(REMOTE_ADDR="10.9.0.1").get("/metrics").status_code == 403
        # A forwarded header does not make an address.
        assert (
            Client(REMOTE_ADDR="10.9.0.1").get("/metrics", HTTP_X_FORWARDED_FOR="10.8.3.4").status_code == 403
        )


def test_requests_latency_and_database_time_per_view(org):
    before = scrape()
    client = org.web("east_staff")
    for _ in range(3):
        assert client.get("/clients/").status_code == 200
    client.get("/no-such-page/")
    after = scrape()
    view = "clients:client-list"
    assert (
        value(after, "crm_http_requests_total", view=view, method="GET", status="200")
        - value(before, "crm_http_requests_total", view=view, method="GET", status="200")
        == 3
    )
    assert (
        value(after, "crm_http_request_duration_seconds_count", view=view)
        - value(before, "crm_http_request_duration_seconds_count", view=view)
        == 3
    )
    assert (
        value(after, "crm_db_queries_total", view=view) - value(before, "crm_db_queries_total", view=view)
        >= 3
    )
    assert value(after, "crm_db_query_duration_seconds_total", view=view) > value(
        before, "crm_db_query_duration_seconds_total", view=view
    )
    assert value(after, "crm_http_requests_total", view="<unmatched>", method="GET", status="404") >= 1
    # The label is the route's name, never a path or what was typed.
    text = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    assert "/clients/" not in text and "no-such-page" not in text


def test_jobs_runs_failures_and_durations_by_task(org):
    fields = ["count", "sum_ms", "failures"] + [f"b{i}" for i in range(len(metrics.JOB_BUCKETS) + 1)]
    cache.delete_many(
        [metrics._job_key(t, f) for t in ("crm.health_heartbeat", "crm.tasks.notify_user") for f in fields]
    )
    health_heartbeat.apply()
    health_heartbeat.apply()
    result = notify_user.apply(args=[987654321, "x"])  # no such user: the job fails
    assert result.failed()
    samples = scrape()
    assert value(samples, "crm_job_runs_total", task="crm.health_heartbeat") == 2
    assert value(samples, "crm_job_failures_total", task="crm.health_heartbeat") == 0
    assert value(samples, "crm_job_failures_total", task="crm.tasks.notify_user") == 1
    assert value(samples, "crm_job_duration_seconds_count", task="crm.health_heartbeat") == 2
    assert value(samples, "crm_job_duration_seconds_bucket", task="crm.health_heartbeat", le="+Inf") == 2
    # Every task of the project is listed, those that never ran at zero.
    assert ("crm_job_runs_total", (("task", "clients.import_validate"),)) in samples


def test_queue_length_in_the_redis_broker():
    with app.connection_for_write() as conn:
        conn.default_channel.client.delete("celery")
    try:
        for _ in range(3):
            app.send_task("crm.health_heartbeat")
        samples = scrape()
        assert value(samples, "crm_queue_messages", queue="celery") == 3
        assert value(samples, "crm_metrics_errors", part="queues") == 0
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.client.delete("celery")


def test_queue_length_in_the_filesystem_broker(tmp_path):
    (tmp_path / "1_a.celery.msg").write_text("{}")
    (tmp_path / "2_b.celery.msg").write_text("{}")
    (tmp_path / ".3_c.celery.msg.tmp").write_text("{}")
    with override_settings(
        CELERY_BROKER_URL="crmfs://", CELERY_BROKER_TRANSPORT_OPTIONS={"data_folder_in": str(tmp_path)}
    ):
        assert metrics.queue_lengths() == {"celery": 2}


def test_imports_waiting_and_running(org):
    from clients.models import ImportJob

    ImportJob.objects.create(created_by=org["east_staff"], filename="a.xlsx", state="queued")
    ImportJob.objects.create(created_by=org["east_staff"], filename="b.xlsx", state="running")
    ImportJob.objects.create(created_by=org["east_staff"], filename="c.xlsx", state="running")
    ImportJob.objects.create(created_by=org["east_staff"], filename="d.xlsx", state="imported")
    samples = scrape()
    assert value(samples, "crm_imports_running", state="queued") == 1
    assert value(samples, "crm_imports_running", state="running") == 2


def test_a_part_that_cannot_be_read_is_counted_not_fatal():
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        samples = scrape()
    assert value(samples, "crm_metrics_errors", part="queues") == 1
    assert value(samples, "crm_metrics_errors", part="imports") == 0


def test_deliveries_failed_and_retrying_by_channel(org):
    """Notifications failed (issue 29), from the outbox's rows (R110)."""
    from crm.models import Delivery
    from crm.services import notify

    notify(recipients=[org["east_staff"], org["south_staff"], org["east_manager"]], verb="t", title="x")
    rows = list(Delivery.objects.filter(channel="email").order_by("pk"))
    assert len(rows) >= 2
    Delivery.objects.filter(pk=rows[0].pk).update(state=Delivery.State.FAILED, attempts=6)
    Delivery.objects.filter(pk=rows[1].pk).update(attempts=1)
    samples = scrape()
    assert value(samples, "crm_deliveries", channel="email", state="failed") == 1
    assert value(samples, "crm_deliveries", channel="email", state="retrying") == 1
    assert value(samples, "crm_metrics_errors", part="deliveries") == 0
