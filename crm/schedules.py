"""Periodic tasks live in django-celery-beat's tables, created by data migrations through this
helper (design.md "Time and schedules"): minute and hour are always given, since a bare
``day_of_month=25`` would fire every minute of that day. Existing rows are left alone, so
edits made in the admin survive."""


def ensure_periodic_task(
    apps, *, name, task, minute, hour, day_of_month="*", month_of_year="*", day_of_week="*", kwargs="{}"
):
    if minute in (None, "*") or hour in (None, ""):
        raise ValueError("give a minute and an hour")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute=str(minute),
        hour=str(hour),
        day_of_month=str(day_of_month),
        month_of_year=str(month_of_year),
        day_of_week=str(day_of_week),
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.get_or_create(
        name=name, defaults={"task": task, "crontab": schedule, "kwargs": kwargs}
    )


# Schedules declared in code by each app (``declare``) and created after every migrate, so
# that parallel apps need no data migrations of their own; admin edits are never overwritten.
_declared: list[dict] = []


def declare(*, name, task, minute, hour, day_of_month="*", month_of_year="*", day_of_week="*", kwargs="{}"):
    """Declare a periodic task at import time (e.g. in ``<app>/tasks.py``)."""
    if any(d["name"] == name for d in _declared):
        return
    _declared.append(
        dict(
            name=name,
            task=task,
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month_of_year,
            day_of_week=day_of_week,
            kwargs=kwargs,
        )
    )


def ensure_declared():
    """Create the declared schedules. Task modules declare at import, so import them all first
    (every app's ``tasks`` and the extra ``CELERY_IMPORTS``), as the worker would."""
    from importlib import import_module
    from importlib.util import find_spec

    from django.apps import apps
    from django.conf import settings

    modules = [f"{app.name}.tasks" for app in apps.get_app_configs()] + list(
        getattr(settings, "CELERY_IMPORTS", [])
    )
    for name in modules:
        try:
            if find_spec(name) is None:
                continue
        except ModuleNotFoundError:
            continue
        import_module(name)
    for spec in _declared:
        ensure_periodic_task(apps, **spec)


def remove_periodic_task(apps, *, name):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()
