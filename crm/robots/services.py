"""Writes and sends of the group chat robots (issue 28, R116-R120).

R116  A robot belongs to the group, a branch or a project department; its webhook is https to the
      platform's documented host (http only to this machine, for the demo and the tests); the
      signing secret is kept but never shown back in full; only administrators register, edit,
      deactivate or test robots, and every change is in the history.
R117  A notice goes to the active robots of the units of its recipients (their project department,
      their branch, and the group, to which everyone belongs) whose kinds of notice include the
      verb's kind; a verb of no kind goes to no robot; one robot gets one message per notice
      however many of its unit's people receive it.
R118  A message follows its platform's documented format: a heading (the kind of notice), the
      record's title and the link back to it (the site's address + the record's path; opening it
      needs a login); DingTalk signs the address (timestamp + HMAC-SHA256), Feishu the body; the
      responsible people are @-mentioned by the mobile of their own profile where the platform
      allows it (WeCom text messages, DingTalk).
R119  A robot sends at most CRM_ROBOT_RATE_PER_MINUTE messages a minute (企业微信 and 钉钉: 20);
      past that, and on the platform's own rate-limit answer, the send fails with retry_after
      (queued, never dropped). Every call has a timeout; an HTTP error, a timeout or an answer with
      errcode/code != 0 is a failure; failures no retry can cure (key or signature refused, robot
      deactivated or deleted) are permanent.
R120  No client's personal data reaches a chat: the message carries the title and the link only,
      never the notice's body, and anything in the title that looks like a phone number or an
      e-mail address is masked.
"""

from __future__ import annotations

import json
import logging
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.models import User

from . import platforms, ratelimit
from .errors import RobotError
from .kinds import NoticeKind, kind_of
from .models import ChatRobot

logger = logging.getLogger(__name__)

TEST_VERB = "robot_test"


def _timeout() -> float:
    return float(getattr(settings, "CRM_ROBOT_TIMEOUT", 5.0))


def _rate() -> int:
    return int(getattr(settings, "CRM_ROBOT_RATE_PER_MINUTE", 20))


# -- who receives a notice (R117) -----------------------------------------------------------------


def _users(people) -> list:
    """Users given as objects or ids (the outbox may hold either)."""
    objects, ids = [], []
    for person in people or ():
        if person is None:
            continue
        if isinstance(person, User):
            objects.append(person)
        else:
            try:
                ids.append(int(getattr(person, "pk", person)))
            except (TypeError, ValueError):
                continue
    if ids:
        objects += list(User.objects.filter(pk__in=ids).only("pk", "branch_id", "department_id", "phone"))
    return objects


def robot_targets(*, verb: str, recipients) -> list[str]:
    """R117: the ids (strings, in id order) of the active robots that a notice of ``verb`` sent to
    ``recipients`` (users or their ids) goes to."""
    kind = kind_of(verb)
    people = _users(recipients)
    if kind is None or not people:
        return []
    branches = {u.branch_id for u in people if u.branch_id}
    departments = {u.department_id for u in people if u.department_id}
    found = []
    for robot in ChatRobot.objects.filter(is_active=True).order_by("pk"):
        if kind not in (robot.notice_kinds or ()):
            continue
        if (
            robot.unit == ChatRobot.Unit.GROUP
            or (robot.unit == ChatRobot.Unit.BRANCH and robot.branch_id in branches)
            or (robot.unit == ChatRobot.Unit.DEPARTMENT and robot.department_id in departments)
        ):
            found.append(str(robot.pk))
    return found


# -- one message (R118-R120) ----------------------------------------------------------------------


def _link(url: str) -> str:
    """The record's address on this site. Only a path of this site is linked (a notice's ``url``
    is a path); anything else links the home page."""
    site = settings.CRM_SITE_URL.rstrip("/")
    if url and url.startswith("/") and not url.startswith("//"):
        return f"{site}{url}"
    return f"{site}/"


def _heading(verb: str) -> str:
    if verb == TEST_VERB:
        return _("测试消息")
    kind = kind_of(verb)
    return str(NoticeKind(kind).label) if kind else _("通知")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook answers where it is; a redirect is refused, never followed with the message."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _retry_after(headers, default: float) -> float:
    value = (headers or {}).get("Retry-After") if headers is not None else None
    try:
        return max(1.0, float(value))
    except (TypeError, ValueError):
        return default


def _post(robot: ChatRobot, body: dict, now: float) -> None:
    url = platforms.signed_url(robot.kind, robot.webhook_url, robot.secret, now)
    data = json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    timeout = _timeout()
    try:
        with _opener.open(request, timeout=timeout) as response:
            raw = response.read(65536)
    except urllib.error.HTTPError as error:
        code = error.code
        if code == 429:
            raise RobotError(_("平台限流(HTTP 429)"), retry_after=_retry_after(error.headers, 60.0)) from None
        if 300 <= code < 400:
            raise RobotError(
                _("平台返回了重定向(HTTP %(code)s),未发送") % {"code": code}, permanent=True
            ) from None
        # 4xx: the address or the message is refused and will be again; 5xx: the platform's trouble.
        raise RobotError(_("平台返回 HTTP %(code)s") % {"code": code}, permanent=400 <= code < 500) from None
    except TimeoutError:
        raise RobotError(_("平台 %(seconds)s 秒内未应答") % {"seconds": f"{timeout:g}"}) from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError | socket.timeout):
            raise RobotError(_("平台 %(seconds)s 秒内未应答") % {"seconds": f"{timeout:g}"}) from None
        raise RobotError(_("无法连接平台:%(reason)s") % {"reason": str(error.reason)[:120]}) from None
    except (OSError, ValueError) as error:
        raise RobotError(_("无法连接平台:%(reason)s") % {"reason": str(error)[:120]}) from None
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise RobotError(_("平台的应答不是 JSON")) from None
    outcome = platforms.read_answer(robot.kind, answer)
    if not outcome.ok:
        detail = f"{outcome.code}: {outcome.detail}" if outcome.code is not None else outcome.detail
        raise RobotError(
            _("平台返回错误 %(detail)s") % {"detail": detail[:200]},
            retry_after=outcome.retry_after,
            permanent=outcome.permanent,
        )


def robot_send(robot_id, *, verb: str, title: str, url: str, mention_users: Iterable = ()) -> None:
    """R118-R120: post one message through the robot, or raise RobotError. Only the title and the
    link go out; the mentioned people's own profile mobiles are @-ed where the platform can."""
    try:
        robot = ChatRobot.objects.get(pk=int(robot_id))
    except (ChatRobot.DoesNotExist, TypeError, ValueError):
        raise RobotError(_("群机器人不存在"), permanent=True) from None
    if not robot.is_active:
        raise RobotError(_("群机器人已停用"), permanent=True)
    with translation.override(settings.LANGUAGE_CODE):  # the group's chats read Chinese
        mobiles = tuple(platforms.mobiles_of(_users(mention_users))) if robot.kind != platforms.FEISHU else ()
        message = platforms.Message(
            heading=_heading(verb), title=title, link=_link(url), mobiles=mobiles, open_label=_("查看详情")
        )
        wait = ratelimit.take(robot.pk, _rate())
        if wait is not None:
            raise RobotError(
                _("该机器人本分钟的发送额度已用完,%(seconds)d 秒后重试") % {"seconds": wait}, retry_after=wait
            )
        now = time.time()
        _post(robot, platforms.payload(robot.kind, message, secret=robot.secret, now=now), now)


# -- administration (R116) ----------------------------------------------------------------------


@transaction.atomic
def robot_save(*, robot: ChatRobot, by, secret: str | None = None, clear_secret: bool = False) -> ChatRobot:
    """Register or edit a robot. ``secret``: a new signing secret (None or "" keeps the stored
    one, which is never sent back to be re-posted); ``clear_secret`` removes it."""
    if clear_secret:
        robot.secret = ""
    elif secret:
        robot.secret = secret.strip()
    if robot.pk is None:
        robot.created_by = by
    robot.full_clean()
    robot._history_user = by
    robot.save()
    return robot


@transaction.atomic
def robot_set_active(*, robot: ChatRobot, by, active: bool) -> ChatRobot:
    """Deactivate (or reactivate) a robot: a deactivated robot receives nothing and its queued
    messages fail permanently; the row and its history stay."""
    robot = ChatRobot.objects.select_for_update().get(pk=robot.pk)
    if robot.is_active != active:
        robot.is_active = active
        robot._history_user = by
        robot.save()
    return robot


def robot_send_test(*, robot: ChatRobot, by) -> ChatRobot:
    """Send a test message now (the administrator waits for the answer) and keep its outcome on
    the robot. The test mentions the administrator (their own profile mobile) where possible."""
    if not robot.is_active:
        raise ValidationError(_("群机器人已停用,不能发送测试消息。"))
    error = ""
    try:
        robot_send(
            robot.pk,
            verb=TEST_VERB,
            title=_("%(name)s:客户关系管理系统的测试消息") % {"name": robot.name},
            url="/",
            mention_users=[by],
        )
    except RobotError as failure:
        error = failure.message
    ChatRobot.objects.filter(pk=robot.pk).update(
        last_test_at=timezone.now(), last_test_ok=not error, last_test_error=error[:300]
    )
    robot.refresh_from_db()
    return robot
