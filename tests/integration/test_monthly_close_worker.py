"""The 25th job through a real Celery worker on Redis (R28): the fan-out of one task per branch,
the database count of finished parts, and the roll-up built once when the last part is done."""

import datetime as dt
import time

import pytest

from assessments.models import MonthlyClose, MonthlyReport
from assessments.obligations import reporting_branches
from assessments.tasks import monthly_close
from crm.figures import Period
from crm.models import Notification

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_worker_closes_every_branch_and_builds_the_rollup_once(org, celery_worker):
    period = Period.last_due()  # its deadline has passed, whatever today is
    # East recorded a client in the period and did not report; the others had nothing new.
    from clients.models import Client
    from tests.clients.factories import ClientFactory

    east = ClientFactory(branch=org.branches["east"], owner=org["east_staff"])
    Client.objects.filter(pk=east.pk).update(created_at=period.deadline - dt.timedelta(days=3))
    assert monthly_close.delay(period.label).get(timeout=30) == [period.label]
    deadline = time.monotonic() + 60
    close = None
    while time.monotonic() < deadline:
        close = MonthlyClose.objects.filter(period=period.label).first()
        if close and close.state == MonthlyClose.State.DONE:
            break
        time.sleep(0.2)
    assert close is not None and close.state == "done", close and (close.done, close.total)
    branches = reporting_branches().count()
    assert close.total == close.done == branches
    statuses = dict(MonthlyReport.objects.filter(period=period.label).values_list("branch__code", "status"))
    assert statuses.pop("east") == "missing"
    assert set(statuses.values()) == {"no_change"} and len(statuses) == branches - 1  # R26: 无变化
    assert close.rollup["totals"] is not None and len(close.rollup["branches"]) == branches
    # Delivered again (at least once): the same result, no second notice.
    assert monthly_close.delay(period.label).get(timeout=30) == [period.label]
    time.sleep(1)
    assert MonthlyClose.objects.count() == 1
    assert Notification.objects.filter(key=f"monthly-close:{period.label}").count() == 1
