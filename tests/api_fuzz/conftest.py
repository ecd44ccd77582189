"""The fuzz run's world: the demo, seeded once per test database (per xdist worker) at a fixed
moment, so that every operation is called against real rows of every kind (reports, rounds,
rankings, surveys, follow-ups ...) rather than only its 404.

The demo is committed to this run's test database, which other tests would find in their way:
this folder therefore runs in a pytest session of its own (``make test`` runs it after the
rest; the root conftest leaves it out of any run not pointed at it). Each test still runs in a
transaction rolled back at its end, and each case in a savepoint, so that no case sees what
another wrote."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command

# The demo's "today" and the moment every case is called at (the clock does not tick: the same
# requests give the same answers on every run and on any date).
NOW = dt.datetime(2026, 12, 20, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), time_machine.travel(NOW, tick=False), open("/dev/null", "w") as out:
        call_command("seed_demo", verbosity=0, stdout=out)


@pytest.fixture(autouse=True)
def _at_the_demo_moment():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Cached dashboards and throttle counters of an earlier run under the same ids must not
    be served: start every test from an empty cache."""
    from django.core.cache import cache

    cache.clear()
