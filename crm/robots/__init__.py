"""Group chat robots (企业微信群机器人, 钉钉自定义机器人, 飞书自定义机器人): issue 28, R116-R120.

The outbox plugs in with its channel registry::

    from crm import robots
    outbox.channels.register(
        "robot",
        targets=lambda notice, recipients: robots.robot_targets(verb=notice.verb, recipients=recipients),
        send=lambda delivery: robots.send(delivery.target, verb=..., title=..., url=..., mention_users=...),
    )

translating :class:`RobotError` into the outbox's ``DeliveryFailed`` (same ``retry_after`` and
``permanent``). This module imports nothing that needs the app registry, so the app can be
listed in INSTALLED_APPS; the two entry points load the services when called."""

from __future__ import annotations

from .errors import RobotError

__all__ = ["RobotError", "robot_targets", "send"]


def robot_targets(*, verb: str, recipients) -> list[str]:
    """The ids (as strings) of the active robots a notice of ``verb`` to ``recipients`` goes to (R117)."""
    from .services import robot_targets as targets

    return targets(verb=verb, recipients=recipients)


def send(robot_id: str, *, verb: str, title: str, url: str, mention_users=()) -> None:
    """Post one message through robot ``robot_id``; raises RobotError on any failure (R118-R120)."""
    from .services import robot_send

    robot_send(robot_id, verb=verb, title=title, url=url, mention_users=mention_users)
