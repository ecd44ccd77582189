"""Notices reach the group chat robots through the outbox (R111, R117-R120): a notice becomes one
delivery per robot of the recipients' units, the worker's send posts it to a local server that
plays each platform, and the delivery row shows each outcome: sent; an error code retried, then
failed with its error; a rate limit waiting its turn (never dropped); a timeout retried."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from crm.models import Delivery
from crm.outbox.services import delivery_send
from crm.robots import platforms
from crm.robots.receiver import ERROR, HTTP_500, RATE_LIMIT, TIMEOUT
from crm.services import notify
from tests.crm.test_robots_send import KINDS, make_robot, receiver  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def _notify(org, *, key="n1"):
    return notify(
        recipients=[org["east_staff"]],
        verb="complaint_overdue",
        title="投诉 TS-0001 已超期",
        body="联系人王先生 13800138000",
        url="/complaints/1/",
        key=key,
        email=False,
    )


def _robot_delivery():
    return Delivery.objects.get(channel="robot")


def _send_now(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    return delivery_send(delivery_id=delivery.pk)


@pytest.mark.parametrize("kind", KINDS)
def test_a_notice_is_posted_to_the_units_robot_and_the_row_is_sent(org, receiver, kind):  # noqa: F811
    robot = make_robot(org, receiver, kind)
    make_robot(org, receiver, kind, key="other", branch="south")  # another branch's: not told
    _notify(org)
    delivery = _robot_delivery()
    assert delivery.target == str(robot.pk) and delivery.state == "pending"
    assert _send_now(delivery) == "sent"
    delivery.refresh_from_db()
    assert delivery.sent_at is not None and delivery.attempts == 1
    got = [r for r in receiver.state.received if r.key == "k1"]
    assert len(got) == 1 and got[0].verdict == "ok"
    posted = str(got[0].body)
    assert "TS-0001" in posted and "/complaints/1/" in posted
    assert "13800138000" not in posted and "王先生" not in posted  # R120: never the body
    assert not [r for r in receiver.state.received if r.key == "other"]


def test_an_error_code_fails_at_once_and_an_http_error_is_retried_then_fails(org, receiver, settings):  # noqa: F811
    settings.CRM_OUTBOX_MAX_ATTEMPTS = 2
    make_robot(org, receiver, platforms.DINGTALK)
    receiver.state.behaviour["k1"] = ERROR  # the platform refuses the robot: trying again cannot help
    _notify(org)
    delivery = _robot_delivery()
    assert _send_now(delivery) == "failed"
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and "300001" in delivery.last_error
    receiver.state.behaviour["k1"] = HTTP_500
    _notify(org, key="n2")
    delivery = Delivery.objects.filter(channel="robot").latest("pk")
    assert _send_now(delivery) == "pending"
    delivery.refresh_from_db()
    assert "500" in delivery.last_error
    assert _send_now(delivery) == "failed"
    delivery.refresh_from_db()
    assert delivery.state == "failed" and delivery.attempts == 2 and "500" in delivery.last_error


def test_a_rate_limit_waits_its_turn(org, receiver):  # noqa: F811
    make_robot(org, receiver, platforms.WECOM)
    receiver.state.behaviour["k1"] = RATE_LIMIT
    _notify(org)
    delivery = _robot_delivery()
    with time_machine.travel(dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC), tick=False):
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert delivery_send(delivery_id=delivery.pk) == "pending"
        delivery.refresh_from_db()
        assert "45009" in delivery.last_error
        assert delivery.next_attempt_at > timezone.now()  # queued for later, not dropped
    receiver.state.behaviour["k1"] = "ok"
    assert _send_now(delivery) == "sent"


def test_a_timeout_is_retried(org, receiver):  # noqa: F811
    make_robot(org, receiver, platforms.FEISHU)
    receiver.state.behaviour["k1"] = TIMEOUT
    _notify(org)
    delivery = _robot_delivery()
    assert _send_now(delivery) == "pending"
    delivery.refresh_from_db()
    assert delivery.last_error
    receiver.state.behaviour.pop("k1")
    assert _send_now(delivery) == "sent"


def test_a_verb_without_a_kind_goes_to_no_robot(org, receiver):  # noqa: F811
    make_robot(org, receiver, platforms.WECOM)
    notify(recipients=[org["east_staff"]], verb="access_request_forwarded", title="t", email=False)
    assert not Delivery.objects.filter(channel="robot").exists()
