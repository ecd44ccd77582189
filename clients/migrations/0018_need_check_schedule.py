"""The weekly tracking check's schedules (R71), rows of django-celery-beat with the crontab's own
time zone Asia/Shanghai: Monday 09:00, and a daily catch-up at 09:30 that makes a check whose
week starts on a holiday (its checkpoint is 09:00 on the first working day) or that a stopped
beat missed. Rows edited in the admin are left alone."""

from django.db import migrations

from crm.schedules import ensure_periodic_task, remove_periodic_task

TASK = "clients.tracking.tasks.need_checks_weekly"
WEEKLY = "需求跟踪检查(每周一 09:00)"
DAILY = "需求跟踪检查补做(每日 09:30)"


def forwards(apps, schema_editor):
    ensure_periodic_task(apps, name=WEEKLY, task=TASK, minute=0, hour=9, day_of_week=1)
    ensure_periodic_task(apps, name=DAILY, task=TASK, minute=30, hour=9, day_of_week="*")


def backwards(apps, schema_editor):
    remove_periodic_task(apps, name=WEEKLY)
    remove_periodic_task(apps, name=DAILY)


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0017_need_tracking"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
