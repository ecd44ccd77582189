"""The one failure a robot's send raises (R119)."""

from __future__ import annotations


class RobotError(Exception):
    """A message that did not reach the chat: an HTTP error, a timeout, the platform's error
    answer (errcode != 0) or this side's rate limit. ``retry_after`` (seconds) says when to try
    again (a rate limit: queue the message, never drop it); ``permanent`` says that trying again
    cannot help (the robot is gone or deactivated, the platform refuses the key or the
    signature): the delivery is failed at once."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.permanent = permanent

    def __repr__(self):
        return f"RobotError({self.message!r}, retry_after={self.retry_after!r}, permanent={self.permanent!r})"
