"""Every task of the project has a soft and a hard time limit (issue 23): a job stuck on a bad
input stops instead of keeping a worker busy, and ends in a state a person can read. The limits
stay below the broker's visibility timeout (a message is not delivered again while its first run
may still be going) and, for the import, below the time after which its job counts as stopped."""

from __future__ import annotations

from django.conf import settings

from clients.models import ImportJob
from crm.celery import app
from tests.crm.test_settings import run_check

PROJECT_APPS = ("crm", "clients", "complaints", "surveys", "assessments")


def project_tasks() -> dict:
    """The registered tasks whose code is in one of the project's apps, as the worker loads them
    (every app's tasks module and the extra CELERY_IMPORTS)."""
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if task.__module__.split(".")[0] in PROJECT_APPS}


def limits(task) -> tuple:
    soft = task.soft_time_limit if task.soft_time_limit is not None else app.conf.task_soft_time_limit
    hard = task.time_limit if task.time_limit is not None else app.conf.task_time_limit
    return soft, hard


def test_the_walk_finds_every_tasks_module():
    modules = {task.__module__ for task in project_tasks().values()}
    assert {
        "crm.tasks",
        "clients.tasks",
        "clients.access.tasks",
        "clients.imports.tasks",
        "complaints.tasks",
        "surveys.tasks",
        "assessments.tasks",
    } <= modules


def test_every_task_has_a_soft_and_a_hard_time_limit():
    tasks = project_tasks()
    assert len(tasks) >= 15
    missing = {name: limits(task) for name, task in tasks.items() if None in limits(task)}
    assert not missing
    for name, task in tasks.items():
        soft, hard = limits(task)
        assert 0 < soft < hard, name


def test_the_limits_stay_below_the_brokers_visibility_timeout():
    visibility = (getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}).get("visibility_timeout")
    # The suite runs on Redis (make test); the embedded default's filesystem broker never
    # delivers a message again, so it has no visibility timeout to stay under.
    assert visibility is not None, "the tests run with REDIS_URL set"
    for name, task in project_tasks().items():
        assert limits(task)[1] < visibility, name


def test_the_import_stops_before_its_job_counts_as_stopped():
    tasks = project_tasks()
    stale = ImportJob.STALE_AFTER.total_seconds()
    for name in ("clients.import_validate", "clients.import_commit"):
        soft, hard = limits(tasks[name])
        assert hard < stale, name
        # Longer than the default: a 10,000-row sheet needs up to a minute per step.
        assert soft > app.conf.task_soft_time_limit, name


def test_the_25th_jobs_parts_have_room_of_their_own():
    tasks = project_tasks()
    for name in ("assessments.tasks.monthly_close_part", "assessments.tasks.assessment_compute"):
        assert limits(tasks[name])[0] > app.conf.task_soft_time_limit, name


def test_a_soft_limit_not_below_the_hard_limit_refuses_to_start():
    result = run_check({"CELERY_TASK_SOFT_TIME_LIMIT": "200", "CELERY_TASK_TIME_LIMIT": "100"})
    assert result.returncode != 0
    assert "CELERY_TASK_SOFT_TIME_LIMIT" in result.stderr
