"""Notices reach a group chat through a real Celery worker on Redis (issue 28, R110, R117-R119):
the notice's robot delivery is handed to the worker after commit and posted to a local server
that plays the platform; a rate-limited message waits and is delivered when the platform takes
it again, nothing dropped."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from crm.models import Delivery
from crm.robots import platforms
from crm.robots.receiver import RATE_LIMIT, Receiver
from crm.services import notify
from tests.crm.test_robots_send import make_robot

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _wait_sent(seconds=60) -> Delivery:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        row = Delivery.objects.filter(channel="robot").first()
        if row is not None and row.state == Delivery.State.SENT:
            return row
        time.sleep(0.2)
    raise AssertionError(list(Delivery.objects.values_list("channel", "state", "attempts", "last_error")))


def test_the_worker_posts_a_notice_to_the_robot_after_a_rate_limit(org, celery_worker, settings):
    settings.CRM_ROBOT_TIMEOUT = 2
    settings.CRM_OUTBOX_BACKOFF_SECONDS = 0.5
    settings.CRM_OUTBOX_BACKOFF_MAX_SECONDS = 1
    cache.clear()
    with Receiver() as receiver:
        make_robot(org, receiver, platforms.FEISHU)  # its rate-limit pause is 10 s
        receiver.state.behaviour["k1"] = RATE_LIMIT
        notify(
            recipients=[org["east_staff"]],
            verb="complaint_overdue",
            title="投诉 TS-0002 已超期",
            url="/complaints/2/",
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not receiver.state.received:
            time.sleep(0.2)
        assert receiver.state.received, "the worker posted nothing"
        row = Delivery.objects.get(channel="robot")
        assert row.state != Delivery.State.SENT and "11232" in row.last_error
        receiver.state.behaviour.pop("k1")  # the platform takes messages again
        row = _wait_sent()
        assert row.attempts >= 2 and row.sent_at is not None
        ok = [r for r in receiver.state.received if r.verdict == "ok"]
        assert len(ok) == 1 and "TS-0002" in str(ok[0].body)
