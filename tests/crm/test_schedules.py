"""Periodic tasks live in django-celery-beat's tables after migrate, always with minute and hour."""

import pytest
from django_celery_beat.models import PeriodicTask

from crm.schedules import ensure_declared

pytestmark = pytest.mark.django_db

EXPECTED = {
    "crm.tasks.purge_old_notifications",
    "clients.tasks.notify_overdue_visits",
    "clients.access.tasks.revoke_expired_grants",
    "complaints.tasks.flag_overdue_complaints",
    "surveys.tasks.open_quarterly_campaign",
}


def test_schedules_exist_with_minute_and_hour():
    tasks = {t.task: t for t in PeriodicTask.objects.select_related("crontab")}
    assert EXPECTED <= set(tasks)
    for task in tasks.values():
        assert task.crontab is not None and task.crontab.minute != "*", task.name
        assert task.crontab.timezone.key == "Asia/Shanghai" if hasattr(task.crontab.timezone, "key") else True


def test_admin_edits_survive_a_second_migrate():
    task = PeriodicTask.objects.get(task="clients.access.tasks.revoke_expired_grants")
    task.enabled = False
    task.save()
    ensure_declared()
    task.refresh_from_db()
    assert task.enabled is False
    assert PeriodicTask.objects.filter(task="clients.access.tasks.revoke_expired_grants").count() == 1


def test_schedules_made_before_the_access_package_follow_the_renamed_task(db):
    """clients/access/ became a package: a schedule stored under the old task name is moved."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("clients.migrations.0006_rename_grant_task")
    PeriodicTask.objects.filter(task=migration.NEW).update(task=migration.OLD)
    migration.forwards(apps, None)
    assert not PeriodicTask.objects.filter(task=migration.OLD).exists()
    assert PeriodicTask.objects.filter(task=migration.NEW).count() == 1
