"""The Celery application. Schedules live in django-celery-beat's tables (see the data
migration in crm/migrations), so that edits made in the admin survive a restart."""

import os
import time

from celery import Celery
from celery.signals import beat_init, before_task_publish, task_failure, task_postrun, task_prerun
from kombu.transport import TRANSPORT_ALIASES

from crm import request_id

# The embedded default broker of `make run` (see crm/fs_transport.py).
TRANSPORT_ALIASES.setdefault("crmfs", "crm.fs_transport:Transport")

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# A job's writes carry ``job:<task id>`` in their history rows, as a request's carry its
# X-Request-ID (crm/request_id.py). Tokens are kept per task so that a task run eagerly inside
# a request gives the request its own id back afterwards.
_request_id_tokens: dict[str, object] = {}
# When each running task started, for the job durations of /metrics (crm/metrics.py).
_started: dict[str, float] = {}


@task_prerun.connect
def _bind_job_id(task_id=None, **kwargs):
    _request_id_tokens[task_id] = request_id.set_id(f"job:{task_id}"[: request_id.MAX_LENGTH])
    _started[task_id] = time.perf_counter()


@task_postrun.connect
def _unbind_job_id(task_id=None, sender=None, **kwargs):
    token = _request_id_tokens.pop(task_id, None)
    if token is not None:
        request_id.reset(token)
    started = _started.pop(task_id, None)
    if started is not None and sender is not None:
        from crm import metrics

        metrics.record_job(sender.name, seconds=time.perf_counter() - started)


@task_failure.connect
def _count_failure(sender=None, **kwargs):
    if sender is not None:
        from crm import metrics

        metrics.record_job(sender.name, failed=True)


# Beat's last tick, for readiness (crm/health.py): beat marks its own process when it starts,
# and every job that process then publishes is a tick (the heartbeat job goes every two
# minutes). Jobs published by web servers and workers are not ticks.
_in_beat = False


@beat_init.connect
def _mark_beat_process(**kwargs):
    global _in_beat
    _in_beat = True


@before_task_publish.connect
def _beat_tick(**kwargs):
    if not _in_beat:
        return
    from crm import health

    try:
        health.record_beat_tick()
    except Exception:  # noqa: BLE001 - a cache outage must not stop beat sending jobs
        pass
