"""The Celery application. Schedules live in django-celery-beat's tables (see the data
migration in crm/migrations), so that edits made in the admin survive a restart."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
