"""The shared cache on Redis, degrading to none while Redis is away (issue 29, "Faults survived").

Every operation that cannot reach Redis (refused, timed out) behaves as a miss or a no-op: a read
answers its default, a write stores nothing and answers False, ``incr`` raises ValueError as for
a missing key (so the callers that fall back to ``set`` keep working), ``get_many`` answers {}.
Pages then compute what they would have read from the cache. The outage is logged at most once a
minute per process; short socket timeouts (settings) keep a dead Redis from holding a page, and
after a failure the cache is not asked again for a couple of seconds."""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
LOG_EVERY = 60.0  # seconds between two warnings of the same outage
RETRY_AFTER = 2.0  # seconds during which a cache found away is not asked again

_logged_at = 0.0


class ResilientRedisCache(RedisCache):
    _away_until = 0.0

    def _call(self, name, fallback, *args, **kwargs):
        if time.monotonic() < self._away_until:
            return fallback()
        try:
            return getattr(super(), name)(*args, **kwargs)
        except DOWN as exc:
            self._away_until = time.monotonic() + RETRY_AFTER
            _log(exc)
            return fallback()

    def get(self, key, default=None, version=None):
        return self._call("get", lambda: default, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", lambda: None, key, value, timeout, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", lambda: False, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", lambda: False, key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", lambda: False, key, version)

    def has_key(self, key, version=None):
        return self._call("has_key", lambda: False, key, version)

    def incr(self, key, delta=1, version=None):
        def missing():
            raise ValueError(f"Key '{key}' not found (the cache is away).")

        return self._call("incr", missing, key, delta, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", dict, keys, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", lambda: list(data), data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", lambda: None, keys, version)

    def clear(self):
        return self._call("clear", lambda: False)


def _log(exc) -> None:
    global _logged_at
    now = time.monotonic()
    if now - _logged_at >= LOG_EVERY:
        _logged_at = now
        logger.warning("the cache (Redis) cannot be reached; working without it: %s", exc)
