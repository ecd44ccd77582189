"""Sending through the group chat robots (R118-R120) against a local server that plays each
platform (crm/robots/receiver.py): it checks the path and key, verifies the signature, validates
the message against the platform's schema and answers success, an error code, a rate limit, an
HTTP error or nothing in time."""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest
from django.core.cache import cache

from crm import robots
from crm.robots import platforms, ratelimit
from crm.robots.models import ChatRobot
from crm.robots.receiver import ERROR, HTTP_500, RATE_LIMIT, TIMEOUT, Receiver
from crm.robots.services import robot_save

pytestmark = pytest.mark.django_db

SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"
KINDS = [platforms.WECOM, platforms.DINGTALK, platforms.FEISHU]


@pytest.fixture
def receiver(settings):
    settings.CRM_ROBOT_TIMEOUT = 0.5
    settings.CRM_SITE_URL = "https://crm.example.cn"
    cache.clear()
    with Receiver() as server:
        server.state.sleep = 1.5  # beyond the client's timeout
        yield server
    cache.clear()


def make_robot(
    org, receiver, kind, key="k1", *, secret=SECRET, unit="branch", branch="east", kinds=("overdue",)
):
    secret = secret if platforms.SIGNED[kind] else ""
    robot = ChatRobot(
        name=f"{kind}-{key}",
        kind=kind,
        unit=unit,
        branch=org.branches[branch] if unit != "group" else None,
        webhook_url=receiver.url(kind, key),
        notice_kinds=list(kinds),
    )
    robot_save(robot=robot, by=org["admin"], secret=secret)
    receiver.state.secrets[key] = secret
    return robot


def last(receiver):
    assert receiver.state.received, "the platform received nothing"
    return receiver.state.received[-1]


@pytest.mark.parametrize("kind", KINDS)
def test_success_in_the_platforms_format_signed_and_linked(org, receiver, kind):
    """R118: the message passes the platform's schema and signature check and links the record."""
    robot = make_robot(org, receiver, kind)
    robots.send(str(robot.pk), verb="complaint_overdue", title="投诉 TS-0001 已超期", url="/complaints/7/")
    got = last(receiver)
    assert got.verdict == "ok" and got.kind == kind
    text = json.dumps(got.body, ensure_ascii=False)
    assert "投诉 TS-0001 已超期" in text
    assert "https://crm.example.cn/complaints/7/" in text
    assert "逾期" in text  # the heading: the kind of notice


def test_dingtalk_signature_is_in_the_address(org, receiver):
    robot = make_robot(org, receiver, platforms.DINGTALK)
    url = platforms.signed_url(robot.kind, robot.webhook_url, SECRET, 1_700_000_000.123)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["timestamp"] == ["1700000000123"]
    assert query["sign"] == [platforms.dingtalk_sign(SECRET, "1700000000123")]
    assert query["access_token"] == ["k1"]


@pytest.mark.parametrize("kind", [platforms.DINGTALK, platforms.FEISHU])
def test_a_wrong_secret_fails_permanently(org, receiver, kind):
    robot = make_robot(org, receiver, kind)
    receiver.state.secrets["k1"] = "SEC-another-secret-the-platform-holds"
    with pytest.raises(robots.RobotError) as failure:
        robots.send(str(robot.pk), verb="complaint_overdue", title="x", url="/")
    assert last(receiver).verdict == "sign"
    assert failure.value.permanent and failure.value.retry_after is None


@pytest.mark.parametrize("kind", KINDS)
def test_error_code_is_a_failure(org, receiver, kind):
    robot = make_robot(org, receiver, kind)
    receiver.state.behaviour["k1"] = ERROR
    with pytest.raises(robots.RobotError) as failure:
        robots.send(str(robot.pk), verb="complaint_overdue", title="x", url="/")
    assert last(receiver).verdict == "error"
    assert failure.value.retry_after is None
    assert (
        str(last(receiver).answer.get("errcode", last(receiver).answer.get("code"))) in failure.value.message
    )


@pytest.mark.parametrize("kind", KINDS)
def test_rate_limit_answer_sets_retry_after(org, receiver, kind):
    """R119: the platform's rate-limit code (45009, 130101, 11232) means: queue and retry later."""
    robot = make_robot(org, receiver, kind)
    receiver.state.behaviour["k1"] = RATE_LIMIT
    with pytest.raises(robots.RobotError) as failure:
        robots.send(str(robot.pk), verb="complaint_overdue", title="x", url="/")
    assert failure.value.retry_after and failure.value.retry_after > 0
    assert not failure.value.permanent


@pytest.mark.parametrize("kind", KINDS)
def test_timeout_is_a_transient_failure(org, receiver, kind):
    robot = make_robot(org, receiver, kind)
    receiver.state.behaviour["k1"] = TIMEOUT
    started = time.monotonic()
    with pytest.raises(robots.RobotError) as failure:
        robots.send(str(robot.pk), verb="complaint_overdue", title="x", url="/")
    assert time.monotonic() - started < 1.4  # gave up at the client's timeout, not the server's sleep
    assert not failure.value.permanent and "0.5" in failure.value.message


def test_http_500_is_transient_and_unknown_path_permanent(org, receiver):
    robot = make_robot(org, receiver, platforms.WECOM)
    receiver.state.behaviour["k1"] = HTTP_500
    with pytest.raises(robots.RobotError) as failure:
        robots.send(str(robot.pk), verb="complaint_overdue", title="x", url="/")
    assert not failure.value.permanent and "500" in failure.value.message
    ChatRobot.objects.filter(pk=robot.pk).update(
        webhook_url=f"http://127.0.0.1:{receiver.port}/cgi-bin/webhook/other?key=k1"
    )
    with pytest.raises(robots.RobotError) as failure:
        robots.send(str(robot.pk), verb="complaint_overdue", title="x", url="/")
    assert failure.value.permanent and "404" in failure.value.message


def test_connection_refused_is_transient(org, receiver):
    robot = make_robot(org, receiver, platforms.WECOM)
    ChatRobot.objects.filter(pk=robot.pk).update(webhook_url="http://127.0.0.1:9/cgi-bin/webhook/send?key=k1")
    with pytest.raises(robots.RobotError) as failure:
        robots.send(str(robot.pk), verb="complaint_overdue", title="x", url="/")
    assert not failure.value.permanent


def test_inactive_or_missing_robot_fails_permanently(org, receiver):
    robot = make_robot(org, receiver, platforms.WECOM)
    ChatRobot.objects.filter(pk=robot.pk).update(is_active=False)
    for robot_id in (str(robot.pk), "999999", "abc"):
        with pytest.raises(robots.RobotError) as failure:
            robots.send(robot_id, verb="complaint_overdue", title="x", url="/")
        assert failure.value.permanent
    assert receiver.state.received == []


@pytest.mark.parametrize("kind", [platforms.WECOM, platforms.DINGTALK])
def test_responsible_person_is_mentioned_by_their_own_mobile(org, receiver, kind):
    """R118: the mention uses the user's own profile mobile; WeCom switches to a text message
    (markdown cannot @ by mobile), DingTalk puts it in ``at.atMobiles`` and in the text."""
    staff = org["east_staff"]
    staff.phone = "138-0013-8000"
    staff.save(update_fields=["phone"])
    no_mobile = org["east_manager"]  # no phone on the profile: mentioned by nobody
    robot = make_robot(org, receiver, kind)
    robots.send(
        str(robot.pk),
        verb="complaint_overdue",
        title="投诉已超期",
        url="/c/1/",
        mention_users=[staff, no_mobile.pk],
    )
    body = last(receiver).body
    assert last(receiver).verdict == "ok"
    if kind == platforms.WECOM:
        assert body["msgtype"] == "text" and body["text"]["mentioned_mobile_list"] == ["13800138000"]
    else:
        assert body["at"]["atMobiles"] == ["13800138000"] and "@13800138000" in body["markdown"]["text"]


def test_wecom_without_mentions_is_markdown(org, receiver):
    robot = make_robot(org, receiver, platforms.WECOM)
    robots.send(str(robot.pk), verb="monthly_reminder", title="请于 25 日前提交月报", url="/reports/")
    body = last(receiver).body
    assert body["msgtype"] == "markdown" and "**提醒**" in body["markdown"]["content"]


PERSONAL = "联系人王建国 手机 13912345678 邮箱 wang.jg@client.cn 座机 021-68881234"


@pytest.mark.parametrize("kind", KINDS)
def test_no_client_personal_data_reaches_the_chat(org, receiver, kind):
    """R120: a notice whose body holds a contact's name and phone: the body never goes out, and
    a phone or e-mail in the title is masked; the message names the record and links to it."""
    from crm.services import notify

    robot = make_robot(org, receiver, kind)
    note = notify(
        recipients=[org["east_staff"]],
        verb="complaint_overdue",
        title="投诉 TS-0042 已超期(来电 13912345678)",
        body=PERSONAL,
        url="/complaints/42/",
        email=False,
    )[0]
    robots.send(str(robot.pk), verb=note.verb, title=note.title, url=note.url, mention_users=[note.recipient])
    posted = json.dumps(last(receiver).body, ensure_ascii=False)
    for secret_bit in ("王建国", "13912345678", "wang.jg@client.cn", "68881234", PERSONAL):
        assert secret_bit not in posted
    assert "TS-0042" in posted and "/complaints/42/" in posted


def test_our_budget_of_20_a_minute_queues_the_21st(org, receiver, settings):
    """R119: the 21st message within a minute is not sent: RobotError with retry_after; the
    budget is per robot (another robot still sends)."""
    settings.CRM_ROBOT_RATE_PER_MINUTE = 20
    robot = make_robot(org, receiver, platforms.WECOM)
    other = make_robot(org, receiver, platforms.WECOM, key="k2")
    for i in range(20):
        robots.send(str(robot.pk), verb="complaint_overdue", title=f"投诉 {i}", url="/")
    with pytest.raises(robots.RobotError) as failure:
        robots.send(str(robot.pk), verb="complaint_overdue", title="投诉 20", url="/")
    assert failure.value.retry_after and 1 <= failure.value.retry_after <= 120
    assert not failure.value.permanent
    assert len(receiver.state.received) == 20
    robots.send(str(other.pk), verb="complaint_overdue", title="另一个群", url="/")
    assert len(receiver.state.received) == 21


def test_sliding_window_budget(settings):
    cache.clear()
    start = 1_800_000_000.0 - (1_800_000_000.0 % 60)  # the start of a window
    for i in range(20):
        assert ratelimit.take("t", 20, now=start + 50 + i * 0.1) is None
    wait = ratelimit.take("t", 20, now=start + 55)
    assert wait is not None and wait >= 1
    # Early in the next window most of the previous minute still counts...
    assert ratelimit.take("t", 20, now=start + 61) is not None
    # ...a whole minute after the burst, it does not.
    assert ratelimit.take("t", 20, now=start + 115) is None
    cache.clear()


def test_schema_rejects_what_the_platforms_refuse():
    schema = platforms.SCHEMAS
    assert (
        platforms.schema_errors({"msgtype": "markdown", "markdown": {"content": "x"}}, schema["wecom"]) == []
    )
    assert platforms.schema_errors({"msgtype": "markdown", "markdown": {}}, schema["wecom"])
    assert platforms.schema_errors(
        {"msgtype": "markdown", "markdown": {"content": "x" * 5000}}, schema["wecom"]
    )
    assert platforms.schema_errors({"msgtype": "markdown", "markdown": {"title": "t"}}, schema["dingtalk"])
    assert platforms.schema_errors({"msg_type": "interactive", "content": {}}, schema["feishu"])


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.filebased.FileBasedCache",  # the make run shape
        "django.core.cache.backends.locmem.LocMemCache",
    ],
)
def test_budget_on_the_embedded_caches(settings, tmp_path, backend):
    """R119 on the caches of the embedded default: the 21st message of a minute waits."""
    from django.core.cache import caches

    settings.CACHES = {
        "default": {"BACKEND": backend, "LOCATION": str(tmp_path / "cache")}
    }  # resets the handler
    assert type(caches["default"]).__module__.split(".")[-1] in ("filebased", "locmem")
    start = 1_900_000_020.0 - (1_900_000_020.0 % 60)
    assert all(ratelimit.take("fs", 20, now=start + 1 + i) is None for i in range(20))
    assert ratelimit.take("fs", 20, now=start + 30) is not None
    assert ratelimit.take("other", 20, now=start + 30) is None
