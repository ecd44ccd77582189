"""The group chat robots as a channel of the outbox (R111, R117-R120).

A notice goes to the robots of its recipients' units that take its kind (``robot_targets``), one
delivery per robot; the worker posts it (``send``), a platform's refusal or rate limit becoming
the outbox's ``DeliveryFailed`` with the same ``retry_after`` and ``permanent``, so a rate-limited
message waits its turn and is never dropped. A chat is shared by many people: the message is the
notice's title in the site's language and its link, never its body (R120). The responsible person
is @-mentioned where the notice has one recipient."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from crm.outbox import DeliveryFailed, channels

from . import RobotError, robot_targets, send

NAME = "robot"


def targets(notice, recipients) -> list[str]:
    return robot_targets(verb=notice.verb, recipients=recipients)


def deliver(delivery) -> None:
    notice = delivery.notice
    title, _body = notice.text(settings.LANGUAGE_CODE)
    people = [n.recipient for n in notice.notifications.select_related("recipient")[:2]]
    try:
        send(
            delivery.target,
            verb=notice.verb,
            title=title,
            url=notice.url,
            mention_users=people if len(people) == 1 else (),
        )
    except RobotError as error:
        raise DeliveryFailed(str(error), retry_after=error.retry_after, permanent=error.permanent) from error


def register() -> None:
    channels.register(NAME, targets=targets, send=deliver, label=_("群机器人"))
