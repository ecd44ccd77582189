"""Periodic tasks live in django-celery-beat's tables, created by data migrations through this
helper (design.md "Time and schedules"): minute and hour are always given, since a bare
``day_of_month=25`` would fire every minute of that day. Existing rows are left alone, so
edits made in the admin survive."""


def ensure_periodic_task(
    apps, *, name, task, minute, hour, day_of_month="*", month_of_year="*", day_of_week="*", kwargs="{}"
):
    if minute in (None, "*") or hour in (None, "*") and day_of_month != "*":
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


def remove_periodic_task(apps, *, name):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()
