"""A per-robot budget of messages a minute (R119), kept in the shared cache: Redis in compose and
CI, the file cache of ``make run`` (web and worker share it), or local memory in a single process.

A sliding-window counter: the count of the current minute plus the previous minute's count
weighted by how much of it still lies within the last 60 seconds. ``incr`` first and give the
unit back when over budget, so that on Redis (atomic incr) two workers cannot both take the
last message of the minute; on the file cache incr is read-then-write, so two processes at the
same instant may exceed the budget by one, which the platform's own rate-limit answer (also a
retry_after) then covers."""

from __future__ import annotations

import math
import time

from django.core.cache import cache

WINDOW = 60.0


def _key(robot_id, window: int) -> str:
    return f"robots:rate:{robot_id}:{window}"


def _count(key: str) -> int:
    try:
        return int(cache.get(key) or 0)
    except (TypeError, ValueError):
        return 0


def take(robot_id, limit: int, *, now: float | None = None) -> float | None:
    """Take one message from the robot's budget: None when it may be sent now, else the seconds
    to wait until it may."""
    if limit <= 0:
        return None
    now = time.time() if now is None else now
    window = int(now // WINDOW)
    elapsed = (now - window * WINDOW) / WINDOW  # 0..1 into the current window
    key = _key(robot_id, window)
    cache.add(key, 0, timeout=int(WINDOW * 3))
    try:
        current = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=int(WINDOW * 3))
        current = 1
    previous = _count(_key(robot_id, window - 1))
    if previous * (1 - elapsed) + current <= limit:
        return None
    try:
        cache.decr(key)
    except ValueError:
        pass
    return wait_for(previous, current - 1, limit, elapsed)


def wait_for(previous: int, current: int, limit: int, elapsed: float) -> float:
    """Seconds until ``previous * (1 - t) + current + 1 <= limit`` for t in this window, or, when
    the current window alone is full, until the next one (where this one's count is "previous")."""
    room = limit - current - 1
    if room >= 0 and previous > 0:
        t = 1 - room / previous  # the fraction of the window at which the weighted count fits
        return max(1.0, math.ceil((t - elapsed) * WINDOW))
    # The current window is full: in the next one, this window's count weighs in as "previous".
    t = 1 - (limit - 1) / current if current else 0.0
    return max(1.0, math.ceil((1 - elapsed + max(t, 0.0)) * WINDOW))
