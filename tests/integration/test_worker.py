"""A Celery task executed by a real worker on Redis (celery.contrib.pytest's worker)."""

import pytest

from crm.models import Notification
from crm.tasks import notify_user

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_real_worker_runs_notify_task(org, celery_worker):
    user = org["east_staff"]
    result = notify_user.delay(user.pk, "月度上报提醒", "请于25日前提交", key="worker-test")
    assert result.get(timeout=20) == 1
    assert Notification.objects.filter(recipient=user, key="worker-test").count() == 1
    # At-least-once delivery: the same message again changes nothing.
    assert notify_user.delay(user.pk, "月度上报提醒", key="worker-test").get(timeout=20) == 0
