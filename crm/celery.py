"""The Celery application. Schedules live in django-celery-beat's tables (see the data
migration in crm/migrations), so that edits made in the admin survive a restart."""

import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

# The embedded default broker of `make run` (see crm/fs_transport.py).
TRANSPORT_ALIASES.setdefault("crmfs", "crm.fs_transport:Transport")

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
