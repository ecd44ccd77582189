"""Metrics for Prometheus at ``/metrics`` (issue 29), for the operator only: a bearer token
(METRICS_TOKEN) or an address in METRICS_ALLOWED_IPS (the scraper's own address as the server
sees it: scrape each web server directly, not through the load balancer). With neither set the
endpoint does not exist (404).

Two kinds of figures:

- per web process, measured as requests pass (``RequestMetricsMiddleware``: a counter, a
  histogram and a timer around the database calls, microseconds per request): requests and
  latency per view, database time and queries per view. Under gunicorn with several worker
  processes, prometheus_client's multiprocess mode keeps each process's figures in files under
  PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py), and the scrape adds them up.
- for the whole installation, computed at scrape time (``InstallationCollector``): queue lengths
  in the broker, jobs' runs, failures and durations by task (written by the workers through the
  shared cache, crm/celery.py, so that any web server tells them for workers on any machine),
  imports queued and running. These are the same on every web server: aggregate them with
  ``max`` across instances, not ``sum``.

No figure carries data of the archive: labels are view and task names, methods and status codes.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from functools import cache as memoize
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

# -- per web process ----------------------------------------------------------------------------

REQUESTS = Counter(
    "crm_http_requests", "Requests answered, by view, method and status code.", ["view", "method", "status"]
)
LATENCY = Histogram(
    "crm_http_request_duration_seconds",
    "Time to answer a request, by view.",
    ["view"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
DB_TIME = Counter("crm_db_query_duration_seconds", "Time spent in database calls, by view.", ["view"])
DB_QUERIES = Counter("crm_db_queries", "Database calls, by view.", ["view"])

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
UNMATCHED = "<unmatched>"


def view_label(request) -> str:
    """The route's name (``clients:client-detail``), never the path: a path carries ids and a
    query string can carry what a user typed."""
    name = getattr(request, "metrics_view_name", None)
    if name:
        return name
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else UNMATCHED


class RequestMetricsMiddleware:
    """First in the chain, so the time includes every middleware. The cost per request is two
    clock reads per database call and three metric updates."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        db = [0.0, 0]

        def timed(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                db[0] += time.perf_counter() - started
                db[1] += 1

        started = time.perf_counter()
        with connection.execute_wrapper(timed):
            response = self.get_response(request)
        elapsed = time.perf_counter() - started
        view = view_label(request)
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(view, method, str(response.status_code)).inc()
        LATENCY.labels(view).observe(elapsed)
        if db[1]:
            DB_TIME.labels(view).inc(db[0])
            DB_QUERIES.labels(view).inc(db[1])
        request.metrics_elapsed = elapsed
        return response


# -- jobs, recorded by the workers in the shared cache ------------------------------------------

JOB_BUCKETS = (0.1, 0.5, 1, 5, 15, 60, 300, 900)
_JOB_PREFIX = "crm:metrics:job"


def _job_key(task: str, field: str) -> str:
    return f"{_JOB_PREFIX}:{task}:{field}"


def _add(key: str, delta: int) -> None:
    cache.add(key, 0, timeout=None)
    try:
        cache.incr(key, delta)
    except ValueError:  # evicted between the two calls
        cache.set(key, delta, timeout=None)


def record_job(task: str, *, seconds: float | None = None, failed: bool = False) -> None:
    """Called in the worker (crm/celery.py): a run ended after ``seconds``, or failed. A cache
    outage loses the figure, never the job."""
    try:
        if failed:
            _add(_job_key(task, "failures"), 1)
        if seconds is not None:
            _add(_job_key(task, "count"), 1)
            _add(_job_key(task, "sum_ms"), int(round(seconds * 1000)))
            bucket = next((i for i, bound in enumerate(JOB_BUCKETS) if seconds <= bound), len(JOB_BUCKETS))
            _add(_job_key(task, f"b{bucket}"), 1)
    except Exception:  # noqa: BLE001 - metrics never break a job
        pass


@memoize
def job_names() -> tuple[str, ...]:
    """The project's tasks (Celery's own are left out), every module the worker loads included."""
    from .celery import app

    app.loader.import_default_modules()
    return tuple(sorted(name for name in app.tasks if not name.startswith("celery.")))


# -- the installation, at scrape time -----------------------------------------------------------


def queue_names() -> list[str]:
    from .celery import app

    names = {app.conf.task_default_queue or "celery"}
    for queue in app.conf.task_queues or ():
        names.add(queue.name)
    return sorted(names)


def queue_lengths() -> dict[str, int]:
    """Messages waiting in each queue of the broker."""
    url = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            out = {}
            for name in queue_names():
                # Kombu keeps a queue's priorities in keys of their own: name, name\x06\x163, ...
                keys = [name] + [f"{name}\x06\x16{p}" for p in (1, 2, 3, 4, 5, 6, 7, 8, 9)]
                pipe = client.pipeline()
                for key in keys:
                    pipe.llen(key)
                out[name] = sum(pipe.execute())
            return out
        finally:
            client.close()
    folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in", ""))
    files = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    return {name: sum(1 for f in files if f.endswith(f".{name}.msg")) for name in queue_names()}


class InstallationCollector:
    """Figures of the whole installation, read when Prometheus scrapes. A part that cannot be
    read is left out and counted in crm_metrics_errors."""

    def collect(self):
        errors = GaugeMetricFamily(
            "crm_metrics_errors",
            "Parts of the installation that could not be read at this scrape.",
            labels=["part"],
        )
        parts = (
            ("queues", self._queues),
            ("jobs", self._jobs),
            ("imports", self._imports),
            ("deliveries", self._deliveries),
        )
        for part, fn in parts:
            try:
                yield from fn()
                errors.add_metric([part], 0)
            except Exception:  # noqa: BLE001 - a scrape shows what it can
                errors.add_metric([part], 1)
        yield errors

    def _queues(self):
        family = GaugeMetricFamily(
            "crm_queue_messages", "Jobs waiting in the broker, by queue.", labels=["queue"]
        )
        for name, length in queue_lengths().items():
            family.add_metric([name], length)
        return [family]

    def _jobs(self):
        names = job_names()
        fields = ["count", "sum_ms", "failures"] + [f"b{i}" for i in range(len(JOB_BUCKETS) + 1)]
        values = cache.get_many([_job_key(n, f) for n in names for f in fields])
        runs = CounterMetricFamily(
            "crm_job_runs", "Jobs that ended (done or failed), by task.", labels=["task"]
        )
        failures = CounterMetricFamily("crm_job_failures", "Jobs that failed, by task.", labels=["task"])
        durations = HistogramMetricFamily(
            "crm_job_duration_seconds", "Time a job took, by task.", labels=["task"]
        )
        for name in names:
            get = lambda f, n=name: int(values.get(_job_key(n, f)) or 0)  # noqa: E731
            runs.add_metric([name], get("count"))
            failures.add_metric([name], get("failures"))
            cumulative, buckets = 0, []
            for i, bound in enumerate([*JOB_BUCKETS, float("inf")]):
                cumulative += get(f"b{i}")
                buckets.append(("+Inf" if bound == float("inf") else str(bound), cumulative))
            durations.add_metric([name], buckets, get("sum_ms") / 1000)
        return [runs, failures, durations]

    def _imports(self):
        from django.apps import apps
        from django.db.models import Count

        # By name: crm sits below the apps and imports none of them (design.md, layers).
        ImportJob = apps.get_model("clients", "ImportJob")  # noqa: N806
        family = GaugeMetricFamily(
            "crm_imports_running", "Spreadsheet imports waiting or running, by state.", labels=["state"]
        )
        counts = dict(
            ImportJob.objects.filter(state__in=ImportJob.RUNNING_STATES)
            .values_list("state")
            .annotate(n=Count("pk"))
            .values_list("state", "n")
        )
        for state in ImportJob.RUNNING_STATES:
            family.add_metric([str(state)], counts.get(state, 0))
        return [family]

    def _deliveries(self):
        """Notifications the outbox could not deliver (R110), by channel: failed for good, and
        waiting for a retry after a failure."""
        from django.db.models import Count

        from .models import Delivery

        family = GaugeMetricFamily(
            "crm_deliveries",
            "Notification deliveries failed or being retried, by channel.",
            labels=["channel", "state"],
        )
        rows = (
            Delivery.objects.filter(state=Delivery.State.FAILED)
            .values_list("channel")
            .annotate(n=Count("pk"))
            .values_list("channel", "n")
        )
        for channel, n in rows:
            family.add_metric([channel, "failed"], n)
        retrying = (
            Delivery.objects.filter(state=Delivery.State.PENDING, attempts__gt=0)
            .values_list("channel")
            .annotate(n=Count("pk"))
            .values_list("channel", "n")
        )
        for channel, n in retrying:
            family.add_metric([channel, "retrying"], n)
        return [family]


_installation = CollectorRegistry(auto_describe=False)
_installation.register(InstallationCollector())


def process_registry():
    """This process's figures, or every gunicorn process's in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


# -- access -------------------------------------------------------------------------------------


@memoize
def _allowed_networks(spec: tuple[str, ...]):
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def allowed_networks():
    return _allowed_networks(tuple(settings.METRICS_ALLOWED_IPS))


def token_matches(request) -> bool:
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return (
        bool(token)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(given.strip().encode(), token.encode())
    )


def address_allowed(request) -> bool:
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in allowed_networks())


@require_safe
def metrics_view(request):
    """The exposition text, for a bearer of METRICS_TOKEN or an address in METRICS_ALLOWED_IPS."""
    if not settings.METRICS_TOKEN and not settings.METRICS_ALLOWED_IPS:
        return HttpResponse(status=404)
    if not (token_matches(request) or address_allowed(request)):
        if settings.METRICS_TOKEN:
            response = HttpResponse(status=401)
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        return HttpResponse(status=403)
    body = generate_latest(process_registry()) + generate_latest(_installation)
    response = HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
