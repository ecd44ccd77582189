"""Health of a running installation, for the operator's load balancer and monitoring (issue 29).

``/health/live`` says the process answers (liveness: restart it when it does not).
``/health/ready`` checks what a request needs (readiness: send it traffic only when these pass):
the database, migrations applied, the cache, the broker, the object store where uploads go; and
reports the background side: a worker ran the heartbeat job lately, beat sent a job lately.

The answer is JSON for machines (``?format=json``, ``Accept: application/json``, or any client
that does not ask for HTML) and a page for people (a browser's ``Accept: text/html``, or
``?format=html``). No login, so nothing in either is data: no counts, no names, no addresses or
URLs of the services, no error texts (they can carry a host or a password), only each part's
state and how long its check took.

States: ``ok``; ``fail`` (a part a request needs is down: readiness answers 503); ``stale`` (the
worker's heartbeat or beat's last job is older than its limit, or never seen: the answer stays
200, since the web servers still serve pages, and its overall state is ``degraded``).

The endpoints are answered by ``OperatorEndpointsMiddleware`` early in the chain, before the
host name is validated and before the HTTPS redirect (SECURE_REDIRECT_EXEMPT): a load balancer
calls a server by its address, on plain HTTP.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

# The worker writes the time of its last heartbeat job here; beat the time it last sent a job.
WORKER_HEARTBEAT_KEY = "crm:health:worker-heartbeat"
BEAT_TICK_KEY = "crm:health:beat-tick"
HEARTBEAT_TASK = "crm.health_heartbeat"

OK, FAIL, STALE = "ok", "fail", "stale"
LABELS = {
    "database": _("数据库"),
    "migrations": _("数据库迁移"),
    "cache": _("缓存"),
    "broker": _("任务队列"),
    "storage": _("文件存储"),
    "worker": _("后台任务进程"),
    "beat": _("定时调度"),
}
STATE_LABELS = {OK: _("正常"), FAIL: _("异常"), STALE: _("过期")}


@dataclass
class Check:
    name: str
    state: str
    ms: float
    # Whether readiness fails with it (the background side only reports).
    critical: bool = True
    # A word about the part (its kind or the age of a heartbeat), never an error text.
    note: str = ""

    def as_json(self) -> dict:
        out = {"status": self.state, "ms": round(self.ms, 1)}
        if self.note:
            out["note"] = self.note
        return out


def _timed(name, fn, *, critical=True) -> Check:
    started = time.perf_counter()
    try:
        state, note = fn()
    except Exception:  # noqa: BLE001 - any failure is a failed check; its text may carry secrets
        state, note = FAIL, ""
    return Check(name, state, (time.perf_counter() - started) * 1000, critical, note)


# -- the checks ---------------------------------------------------------------------------------


def check_database():
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return OK, connections[DEFAULT_DB_ALIAS].vendor


# Once every migration of this code is applied it stays so (until a restore of an older
# backup): a positive answer is trusted for this long, so that readiness does not read the
# migration files on every call.
_MIGRATED_TRUST_SECONDS = 300
_migrated_at: float | None = None


def check_migrations():
    global _migrated_at
    if _migrated_at is not None and time.monotonic() - _migrated_at < _MIGRATED_TRUST_SECONDS:
        return OK, ""
    from django.db.migrations.executor import MigrationExecutor

    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        _migrated_at = None
        return FAIL, "pending"
    _migrated_at = time.monotonic()
    return OK, ""


def check_cache():
    key = f"crm:health:probe:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    value = cache.get(key)
    cache.delete(key)
    return (OK if value == "1" else FAIL), ""


def check_broker():
    url = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
        return OK, "redis"
    folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in", "")
    if folder and os.path.isdir(folder) and os.access(folder, os.W_OK):
        return OK, "filesystem"
    return FAIL, "filesystem"


def _storages_for_uploads() -> list[str]:
    names = ["default"]
    attachments = getattr(settings, "CRM_ATTACHMENT_STORAGE", "attachments")
    if attachments in settings.STORAGES and attachments not in names:
        names.append(attachments)
    return names


def check_storage():
    from django.core.files.storage import FileSystemStorage, storages

    kinds = []
    for name in _storages_for_uploads():
        storage = storages[name]
        if isinstance(storage, FileSystemStorage):
            folder = storage.location
            # The folder is made on the first upload; its nearest existing parent must be writable.
            while folder and not os.path.exists(folder):
                folder = os.path.dirname(folder)
            if not (folder and os.path.isdir(folder) and os.access(folder, os.W_OK)):
                return FAIL, "local"
            kinds.append("local")
        else:
            # An object store answers a lookup (a HEAD on S3) only when it is up and the
            # credentials and bucket are right.
            storage.exists(f"health/{uuid.uuid4().hex}")
            kinds.append("object-store")
    return OK, ",".join(sorted(set(kinds)))


def _age_check(key: str, limit: int, fallback=None):
    stamp = cache.get(key)
    if stamp is None and fallback is not None:
        stamp = fallback()
    if stamp is None:
        return STALE, "never"
    age = max(0, time.time() - float(stamp))
    return (OK if age <= limit else STALE), f"{int(age)}s"


def check_worker():
    return _age_check(WORKER_HEARTBEAT_KEY, settings.HEALTH_WORKER_STALE_SECONDS)


def _beat_last_run_from_table():
    """django-celery-beat's record of the last job sent (written by beat every few minutes)."""
    from django.db.models import Max
    from django_celery_beat.models import PeriodicTask

    last = PeriodicTask.objects.filter(enabled=True).aggregate(last=Max("last_run_at"))["last"]
    return last.timestamp() if last else None


def check_beat():
    return _age_check(BEAT_TICK_KEY, settings.HEALTH_BEAT_STALE_SECONDS, _beat_last_run_from_table)


CRITICAL_CHECKS = [
    ("database", check_database),
    ("migrations", check_migrations),
    ("cache", check_cache),
    ("broker", check_broker),
    ("storage", check_storage),
]
BACKGROUND_CHECKS = [("worker", check_worker), ("beat", check_beat)]


def readiness() -> tuple[str, list[Check]]:
    """Every check, and the overall state: fail, degraded or ok."""
    checks = []
    for name, fn in CRITICAL_CHECKS:
        if name == "migrations" and checks[0].state != OK:
            # Without a database there is nothing to ask; the database check already says so.
            checks.append(Check(name, FAIL, 0.0))
            continue
        checks.append(_timed(name, fn))
    for name, fn in BACKGROUND_CHECKS:
        checks.append(_timed(name, fn, critical=False))
    if any(c.critical and c.state != OK for c in checks):
        overall = "fail"
    elif any(c.state != OK for c in checks):
        overall = "degraded"
    else:
        overall = OK
    return overall, checks


# -- heartbeats ---------------------------------------------------------------------------------


def record_worker_heartbeat() -> None:
    """Called by the heartbeat job (crm.tasks.health_heartbeat) in a worker."""
    cache.set(WORKER_HEARTBEAT_KEY, time.time(), timeout=None)


def record_beat_tick() -> None:
    """Called in beat's process for every job it sends (crm/celery.py)."""
    cache.set(BEAT_TICK_KEY, time.time(), timeout=None)


# -- the views ----------------------------------------------------------------------------------


def wants_html(request) -> bool:
    fmt = request.GET.get("format", "")
    if fmt in ("json", "html"):
        return fmt == "html"
    accept = request.headers.get("Accept", "")
    if "application/json" in accept:
        return False
    return "text/html" in accept


def _answer(request, *, overall: str, checks: list[Check], status: int, kind: str):
    if wants_html(request):
        rows = [
            {
                "label": LABELS[c.name],
                "state": c.state,
                "state_label": STATE_LABELS[c.state],
                "ms": round(c.ms, 1),
                "note": c.note,
                "critical": c.critical,
            }
            for c in checks
        ]
        response = render(
            request,
            "crm/health.html",
            {"overall": overall, "rows": rows, "kind": kind, "checked_at": timezone.now()},
            status=status,
        )
    else:
        body = {"status": overall, "checked_at": timezone.now().isoformat(timespec="seconds")}
        if checks:
            body["checks"] = {c.name: c.as_json() for c in checks}
        response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def live(request):
    """Liveness: the process answers; nothing else is asked."""
    return _answer(request, overall=OK, checks=[], status=200, kind="live")


@require_safe
def ready(request):
    """Readiness: 200 when every part a request needs answers (ok or degraded), 503 otherwise."""
    overall, checks = readiness()
    return _answer(
        request, overall=overall, checks=checks, status=503 if overall == "fail" else 200, kind="ready"
    )


# -- answered before the host check -------------------------------------------------------------

HEALTH_PATHS = {"/health/live/": live, "/health/live": live, "/health/ready/": ready, "/health/ready": ready}


def _input_check():
    from .middleware import RefuseNulMiddleware

    return RefuseNulMiddleware(lambda request: None)  # answers only a refusal


_INPUT_CHECK = _input_check()


class OperatorEndpointsMiddleware:
    """Answers the health endpoints and /metrics (crm/metrics.py) before any middleware that
    validates the host name, reads the session or needs a login: load balancers and Prometheus
    call a server by its address. Their routes are in crm/urls.py too, for reverse()."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = HEALTH_PATHS.get(request.path_info)
        if view is None and request.path_info in ("/metrics", "/metrics/"):
            from .metrics import metrics_view as view
        if view is None:
            return self.get_response(request)
        # Bad input is refused here as everywhere (NUL, undecodable bytes: crm.middleware).
        refused = _INPUT_CHECK(request)
        if refused is not None:
            return refused
        request.metrics_view_name = f"operator:{view.__name__}"
        return view(request)


# -- the container's own probe (manage.py healthprobe) ------------------------------------------


def probe_web(port: int = 8000) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=4) as answer:  # noqa: S310
            return answer.status == 200
    except OSError:
        return False


def probe_worker() -> bool:
    """This machine's worker answers a ping over the broker (its default name, celery@host)."""
    from celery import current_app as app

    name = os.environ.get("CELERY_WORKER_NAME") or f"celery@{socket.gethostname()}"
    return bool(app.control.ping(destination=[name], timeout=5))


def probe_beat() -> bool:
    state, _note = check_beat()
    return state == OK
