from django.db import migrations

from crm.schedules import ensure_periodic_task, remove_periodic_task


def forwards(apps, schema_editor):
    ensure_periodic_task(
        apps, name="清理已读通知(每周一 03:30)", task="crm.tasks.purge_old_notifications",
        minute=30, hour=3, day_of_week=1,
    )


def backwards(apps, schema_editor):
    remove_periodic_task(apps, name="清理已读通知(每周一 03:30)")


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(forwards, backwards)]
