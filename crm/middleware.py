"""Request middleware of the project (every page and the API pass through it)."""

from __future__ import annotations

import json

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.html import escape
from django.utils.translation import gettext as _

NUL = "\x00"


def _has_nul(value) -> bool:
    """NUL anywhere in a decoded JSON document (keys and values, at any depth)."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _querydict_has_nul(qd) -> bool:
    return any(NUL in key or any(NUL in v for v in values) for key, values in qd.lists())


class RefuseNulMiddleware:
    """Refuse (400) a request whose path, query string, form fields, uploaded file names or JSON
    body contain a NUL character (``%00``, ``\\u0000``).

    PostgreSQL cannot hold NUL in a text value: a search, filter or form carrying one failed
    with a 500 ("A string literal cannot contain NUL") in every view that passed it to the
    database. Checking here, once, covers every page, form, filter and API endpoint, today's and
    future ones. Refused rather than stripped: no person types a NUL (it comes from a broken
    client or a probe), and stripping would silently search for or save something other than
    what was sent, while a 400 with a message says what is wrong (design.md: never 500 for bad
    input). File contents are not inspected (an .xlsx legitimately holds NUL bytes); other
    bodies (not a form, not JSON) are left to their views.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._carries_nul(request):
            return self._refuse(request)
        return self.get_response(request)

    def _carries_nul(self, request) -> bool:
        if NUL in request.path or _querydict_has_nul(request.GET):
            return True
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return False
        content_type = request.content_type or ""
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            if _querydict_has_nul(request.POST):
                return True
            return any(NUL in (f.name or "") for files in request.FILES.lists() for f in files[1])
        if content_type == "application/json" or content_type.endswith("+json"):
            try:
                body = request.body
            except RequestDataTooBig:
                return False  # refused later by the view's own parsing, with its own message
            if b"\x00" in body:
                return True
            try:
                return _has_nul(json.loads(body or b"null"))
            except (ValueError, UnicodeDecodeError):
                return False  # not JSON: the view's parser answers 400
        return False

    def _refuse(self, request):
        message = _("请求中含有不允许的空字符(NUL),请删除后重试。")
        if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
            return JsonResponse({"detail": message}, status=400)
        title = _("无法处理的输入")
        page = (
            '<!doctype html><html lang="zh-hans"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>"
            f'<p>{escape(message)}</p><p><a href="/">{escape(_("返回首页"))}</a></p></body></html>'
        )
        return HttpResponse(page, status=400, content_type="text/html; charset=utf-8")


class NoStoreMiddleware:
    """``Cache-Control: no-store`` (and ``private``) on every response a view of ours makes: the
    pages, the API answers (a token among them) and the downloads (Excel exports, attachments).
    A shared computer's browser, or a proxy in an office, must keep no copy of client data.

    Every dynamic response rather than only a signed-in user's: what an anonymous visitor gets
    is the login page (never worth caching), an API refusal, or the public survey page, whose
    secret link names a client and holds their answers. Static files are served by whitenoise
    before this middleware and keep their long cache lifetimes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "no-store" not in response.get("Cache-Control", ""):
            add_never_cache_headers(response)
        return response
