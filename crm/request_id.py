"""The id of the request (or job) behind a write, so that every history row says which request
made it (hardening: audit). A page, API or admin request takes the caller's ``X-Request-ID``
when it is sane, else a new uuid4 hex, and answers with it in the same header; a Celery task
runs as ``job:<task id>`` (crm/celery.py). The id lives in a context variable, which the
historical records read through their ``request_id`` default (crm.models.HistoryContext)."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
MAX_LENGTH = 64  # the history column's length
# A proxy's id is kept only if it is short and plain: it ends up in the database and in logs.
SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

_current: ContextVar[str] = ContextVar("crm_request_id", default="")


def get() -> str:
    """The id of the request or job running now; "" outside of both (shell, migrations)."""
    return _current.get()


def set_id(value: str):
    """Bind ``value`` as the current id; returns the token for ``reset``."""
    return _current.set(value)


def reset(token) -> None:
    _current.reset(token)


def choose(incoming: str | None) -> str:
    """The caller's id when it is sane, else a new one."""
    if incoming and SANE.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Right after SecurityMiddleware, so every later middleware and view (and the history rows
    they write) sees the id; ``request.request_id`` holds it too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = choose(request.headers.get(HEADER))
        token = _current.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = request.request_id
        return response
