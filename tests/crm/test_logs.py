"""Logs as JSON lines and error reports (issue 29): each line carries the request or job id, the
user id and the branch, and never client data; Sentry is switched on by SENTRY_DSN alone and
receives no request body, cookie, query string or personal data."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sentry_sdk
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from crm.logs import ContextFilter, JsonFormatter
from crm.tasks import notify_user

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
CLIENT_NAME = "苏州金鼎置业有限公司"
PHONE = "13912345678"


@pytest.fixture
def json_lines():
    """Every line logged while the test runs, as the JSON handler writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(old_level)


@override_settings(LOG_REQUESTS=True)
def test_a_request_line_carries_request_user_and_branch_but_no_client_data(org, json_lines):
    staff = org["east_staff"]
    client = org.web("east_staff")
    response = client.get("/clients/", {"q": CLIENT_NAME}, HTTP_X_REQUEST_ID="req-log-test-1")
    assert response.status_code == 200
    lines = [line for line in json_lines() if line["logger"] == "crm.requests"]
    assert len(lines) == 1
    line = lines[0]
    assert set(line) == {
        "time",
        "level",
        "logger",
        "message",
        "request_id",
        "user_id",
        "branch_id",
        "view",
        "method",
        "status",
        "ms",
    }
    assert line["request_id"] == "req-log-test-1" == response["X-Request-ID"]
    assert line["user_id"] == staff.pk and line["branch_id"] == org.branches["east"].pk
    assert (line["view"], line["method"], line["status"]) == ("clients:client-list", "GET", 200)
    assert line["time"].endswith("+00:00") and line["level"] == "INFO"
    raw = json.dumps(json_lines(), ensure_ascii=False)
    assert CLIENT_NAME not in raw and "/clients/" not in raw


@override_settings(LOG_REQUESTS=True)
def test_an_anonymous_request_has_no_user(json_lines):
    Client().get("/accounts/login/")
    (line,) = [line for line in json_lines() if line["logger"] == "crm.requests"]
    assert "user_id" not in line and "branch_id" not in line and line["request_id"]


def test_an_exception_is_logged_by_type_and_place_not_by_message(json_lines):
    try:
        raise ValueError(f"duplicate key value (name)=({CLIENT_NAME}) phone {PHONE}")
    except ValueError:
        logging.getLogger("crm.test").exception("could not save")
    (line,) = json_lines()
    assert line["exc_type"] == "builtins.ValueError"
    assert any("test_logs.py" in frame for frame in line["traceback"])
    raw = json.dumps(line, ensure_ascii=False)
    assert CLIENT_NAME not in raw and PHONE not in raw


def test_a_job_line_carries_the_job_id(org, json_lines):
    result = notify_user.apply(args=[987654321, "x"])  # no such user: Celery logs the failure
    assert result.failed()
    lines = [line for line in json_lines() if line.get("level") == "ERROR"]
    assert lines, json_lines()
    assert all(line["request_id"] == f"job:{result.id}" for line in lines)


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


def test_log_format_switch():
    code = "import django, logging; django.setup(); logging.getLogger('crm.x').warning('hello %s', 'there')"
    json_run = run_python(code, LOG_FORMAT="json")
    (line,) = [json.loads(x) for x in json_run.stderr.splitlines() if x.startswith("{")]
    assert line["message"] == "hello there" and line["logger"] == "crm.x" and line["level"] == "WARNING"
    text_run = run_python(code, LOG_FORMAT="")
    assert text_run.stderr.strip().splitlines()[-1] == "hello there"  # the readable default
    bad = run_python(code, LOG_FORMAT="xml")
    assert bad.returncode != 0 and "LOG_FORMAT must be text or json" in bad.stderr


def test_sentry_is_switched_on_by_one_variable_without_personal_data():
    code = (
        "import django, sentry_sdk; django.setup(); c = sentry_sdk.get_client(); o = c.options;"
        "print(c.is_active(), o['send_default_pii'], o['include_local_variables'], o['max_request_body_size'],"
        " o['before_send'].__module__ + '.' + o['before_send'].__name__)"
    )
    on = run_python(code, SENTRY_DSN="https://public@sentry.example.invalid/1")
    assert on.stdout.split() == ["True", "False", "False", "never", "crm.logs.sentry_before_send"], on.stderr
    off = run_python(
        "import django, sentry_sdk; django.setup(); print(sentry_sdk.get_client().is_active())", SENTRY_DSN=""
    )
    assert off.stdout.split() == ["False"], off.stderr


# -- a real error report, captured instead of sent ---------------------------------------------


@csrf_exempt
def boom(request):
    request.POST.get("name")  # the body was read, as a form view would
    raise RuntimeError("something broke")


def fine(request):
    return HttpResponse("ok")


urlpatterns = [path("boom/", boom), path("fine/", fine)]


class Captured(sentry_sdk.transport.Transport):
    events: list = []

    def capture_envelope(self, envelope):
        event = envelope.get_event()
        if event is not None:
            Captured.events.append(event)


@pytest.fixture
def sentry_captured():
    from crm.logs import sentry_options

    Captured.events = []
    sentry_sdk.init(**{**sentry_options("https://public@sentry.example.invalid/1"), "transport": Captured})
    yield Captured.events
    sentry_sdk.init()  # no DSN: reports off again


def wsgi_post(path_qs: str, body: str, cookie: str, **headers) -> str:
    """A request through the WSGI application, as gunicorn gives it (Sentry hooks in there)."""
    from urllib.parse import urlsplit
    from wsgiref.util import setup_testing_defaults

    from crm.wsgi import application

    parts = urlsplit(path_qs)
    raw = body.encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": parts.path,
        "QUERY_STRING": parts.query,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(raw)),
        "wsgi.input": io.BytesIO(raw),
        "HTTP_HOST": "localhost",
        "HTTP_COOKIE": cookie,
        **{f"HTTP_{k.upper()}": v for k, v in headers.items()},
    }
    setup_testing_defaults(environ)
    statuses = []
    # As Django's test client does: the test's transaction stays open across the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        b"".join(application(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return statuses[0]


@override_settings(ROOT_URLCONF=__name__)
def test_error_report_leaves_out_body_cookies_query_and_secrets(org, sentry_captured):
    from urllib.parse import urlencode

    signed_in = Client()
    signed_in.force_login(org["east_staff"])
    cookie = "; ".join(f"{k}={v.value}" for k, v in signed_in.cookies.items())
    status = wsgi_post(
        f"/boom/?q={PHONE}",
        urlencode({"name": CLIENT_NAME, "phone": PHONE}),
        cookie,
        authorization="Token secret-token-value",
    )
    assert status.startswith("500")
    sentry_sdk.flush()
    assert sentry_captured, "no event reached the transport"
    event = sentry_captured[-1]
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    request = event["request"]
    assert request["method"] == "POST" and request["url"].endswith("/boom/")
    assert "data" not in request and "cookies" not in request and "query_string" not in request
    headers = {k.lower() for k in request.get("headers", {})}
    assert headers and not headers & {"authorization", "cookie"}
    assert set(event.get("user", {})) <= {"id"}
    raw = json.dumps(event, ensure_ascii=False, default=str)
    for secret in (
        CLIENT_NAME,
        PHONE,
        "secret-token-value",
        cookie.split("=")[-1],
        org["east_staff"].username,
    ):
        assert secret not in raw, secret
