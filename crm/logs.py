"""Logs an operator can collect, and error reports (issue 29).

``LOG_FORMAT=json`` writes one JSON object per line: time, level, logger, message, and the
context of the request or job it came from: the request id (``X-Request-ID``) or ``job:<task
id>`` (crm/request_id.py), the signed-in user's id and their branch's id. The default
(``make run``) stays the plain text it was.

Never client data: a line carries ids and codes, not names; a request is logged by its route's
name (not its path or query string, where a search term can be a client's name), and an
exception by its type and the places in the code it went through, not its message (a database
error quotes the values it refused).

``SENTRY_DSN`` switches error reports on (``sentry_options``): no personal data
(send_default_pii=False), no local variables, no request bodies, cookies, query strings or
credentials (``sentry_before_send``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import traceback
from contextvars import ContextVar

from . import request_id

# (user id, branch id) of the signed-in user of the request running now.
_user: ContextVar[tuple[int | None, int | None]] = ContextVar("crm_log_user", default=(None, None))

# Fields a line may carry beside its message, set through ``extra=`` (the request line below).
EXTRA_FIELDS = ("view", "method", "status", "ms")


class ContextFilter(logging.Filter):
    """Puts the request or job id, the user id and the branch on every record."""

    def filter(self, record):
        if not getattr(record, "request_id", ""):
            record.request_id = request_id.get()
        user_id, branch_id = _user.get()
        if getattr(record, "user_id", None) is None:
            record.user_id = user_id
        if getattr(record, "branch_id", None) is None:
            record.branch_id = branch_id
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record):
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "user_id", "branch_id", *EXTRA_FIELDS):
            value = getattr(record, key, None)
            if value not in (None, ""):
                line[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            kind, _value, tb = record.exc_info
            line["exc_type"] = f"{kind.__module__}.{kind.__qualname__}"
            line["traceback"] = [f"{f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(tb)]
        return json.dumps(line, ensure_ascii=False, default=str)


request_logger = logging.getLogger("crm.requests")


class LogContextMiddleware:
    """After the authentication middleware: binds the user and branch for every line logged
    during the request, and (LOG_REQUESTS) logs one line per request."""

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.log_requests = settings.LOG_REQUESTS

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # Ids only: no query of its own, so no page's query budget changes.
            token = _user.set((user.pk, user.branch_id))
        else:
            token = _user.set((None, None))
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            if self.log_requests:
                from .metrics import view_label

                request_logger.info(
                    "request",
                    extra={
                        "view": view_label(request),
                        "method": request.method,
                        "status": response.status_code,
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
            return response
        finally:
            _user.reset(token)


# -- Sentry -------------------------------------------------------------------------------------

_SECRET_HEADERS = {"authorization", "cookie", "x-csrftoken", "proxy-authorization"}


def sentry_before_send(event, hint):
    """What leaves for the error reporter: the request's method, route and harmless headers,
    the user's id, the exception and its stack without local variables."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "query_string", "env"):
            request.pop(key, None)
        if isinstance(request.get("url"), str):
            request["url"] = request["url"].split("?", 1)[0]
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {k: v for k, v in headers.items() if k.lower() not in _SECRET_HEADERS}
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    for exception in (event.get("exception") or {}).get("values", []):
        for frame in (exception.get("stacktrace") or {}).get("frames", []):
            frame.pop("vars", None)
    for crumb in (event.get("breadcrumbs") or {}).get("values", []):
        # SQL breadcrumbs carry the query's parameters (a client's name, a phone).
        if crumb.get("category") == "query":
            crumb.pop("data", None)
    event.pop("extra", None)
    return event


def sentry_options(dsn: str, *, environment: str = "", traces_sample_rate: float = 0.0) -> dict:
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    return {
        "dsn": dsn,
        "environment": environment or None,
        "integrations": [DjangoIntegration(), CeleryIntegration()],
        "send_default_pii": False,
        "include_local_variables": False,
        "max_request_body_size": "never",
        "traces_sample_rate": traces_sample_rate,
        "before_send": sentry_before_send,
    }
