"""The access part of the archive became the package clients/access/: its hourly task is now
``clients.access.tasks.revoke_expired_grants``. Schedules made before keep working."""

from django.db import migrations

OLD = "clients.tasks_access.revoke_expired_grants"
NEW = "clients.access.tasks.revoke_expired_grants"


def forwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=OLD).update(task=NEW)


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=NEW).update(task=OLD)


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0005_search_text"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
