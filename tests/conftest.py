"""Shared fixtures: personas (style.md 11) built as the demo builds them, a logged-in client
per persona, and the Celery plugin for real-worker tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client as DjangoClient
from rest_framework.test import APIClient

from crm.seed import seed_organisation

pytest_plugins = ("celery.contrib.pytest",)

PASSWORD = "test-pass-2026"


def pytest_configure(config):
    _move_the_clock()
    _a_redis_database_per_worker()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # A dashboard read twice around a change shows the change, however slow the machine: the
    # previous answer is served only by the tests that ask for it (tests/assessments/
    # test_dashboard_refresh.py); servers the tests start inherit it.
    settings.DASHBOARD_WAIT_SECONDS = None
    os.environ["DASHBOARD_WAIT_SECONDS"] = "off"
    # Uploads (imports) of the tests go to a folder of this run, not the project's media/.
    import tempfile

    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="crm-test-media-")
    # whitenoise warns on every request when the collected-static folder is missing.
    os.makedirs(settings.STATIC_ROOT, exist_ok=True)


FUZZ = Path(__file__).parent / "api_fuzz"


def pytest_ignore_collect(collection_path, config):
    """The API fuzz run seeds the demo into its test database once (tests/api_fuzz/conftest.py),
    so it runs in a session of its own: ``pytest tests/api_fuzz``. A run over the whole suite
    leaves it out (``make test`` runs both)."""
    if collection_path != FUZZ:
        return None
    pointed = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    return not any(path == FUZZ or FUZZ in path.parents for path in pointed)


def _a_redis_database_per_worker():
    """Under ``pytest -n 2`` (``make test``) each worker gets a Redis database of its own for the
    cache and the broker: a test that clears the cache, or a real worker's queue, must not see
    the other process's keys or tasks (the second worker uses the database 8 above)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or not settings.REDIS_URL:
        return
    import re

    index = int(worker[2:])
    match = re.match(r"^(redis://[^/]+)/?(\d*)$", settings.REDIS_URL)
    if match is None or index == 0:
        return
    url = f"{match.group(1)}/{(int(match.group(2) or 0) + 8 * index) % 16}"
    settings.REDIS_URL = url
    settings.CACHES["default"]["LOCATION"] = url
    settings.CELERY_BROKER_URL = url


def _move_the_clock():
    """``CRM_TEST_CLOCK=2027-01-01`` (or ``2027-01-01T09:30``, Asia/Shanghai) runs the whole suite
    with the clock at that moment, ticking from there: ``make test-dates`` runs it at the dates
    where a test that depends on today would break (a 25th, 31 December, 1 January, a Spring
    Festival day). The browser's and the worker's own processes keep the real clock."""
    moment = os.environ.get("CRM_TEST_CLOCK")
    if not moment:
        return
    import datetime as dt
    import zoneinfo

    import time_machine

    at = dt.datetime.fromisoformat(moment if "T" in moment else f"{moment}T10:00")
    time_machine.travel(at.replace(tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")), tick=True).start()


class Personas:
    """The organisation of the demo: ``org.branches["east"]``, ``org.users["east_staff"]``, ...
    plus ``norole`` (a signed-in person with no role) and helpers to log them in."""

    def __init__(self):
        self.org = seed_organisation(password=PASSWORD)
        from crm.models import User

        self.norole = User.objects.create_user("norole", password=PASSWORD, full_name="无角色用户")
        self.users = dict(self.org.users)
        self.users["norole"] = self.norole
        self.branches = self.org.branches
        self.departments = self.org.departments

    def __getitem__(self, username):
        return self.users[username]

    def web(self, username: str | None) -> DjangoClient:
        client = DjangoClient()
        if username:
            client.force_login(self.users[username])
        return client

    def api(self, username: str | None) -> APIClient:
        client = APIClient()
        if username:
            client.force_authenticate(self.users[username])
        return client


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's default language (Chinese) whatever an earlier test on the
    same process left active (a page read in English activates English for the thread)."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def org(db) -> Personas:
    return Personas()


@pytest.fixture(scope="session")
def celery_config():
    url = settings.REDIS_URL or "redis://127.0.0.1:6379/15"
    return {"broker_url": url, "result_backend": url, "task_ignore_result": False, "task_always_eager": False}


@pytest.fixture(scope="session")
def celery_worker_parameters():
    return {"perform_ping_check": True, "shutdown_timeout": 30}
