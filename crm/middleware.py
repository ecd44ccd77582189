"""Request middleware of the project (every page and the API pass through it)."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote_to_bytes

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.html import escape
from django.utils.translation import gettext as _

NUL = "\x00"
# Deeper JSON than any of our payloads (a few levels) but far from Python's recursion limit:
# ~330 nested arrays raised RecursionError in the parser (500 on every JSON endpoint).
MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def json_depth(body: bytes) -> int:
    """How deeply a JSON document nests arrays and objects, counted without parsing it (so
    without recursion): brackets inside strings are skipped."""
    depth = deepest = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub(b"", body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _is_utf8(raw: str) -> bool:
    """A query string or urlencoded body whose percent-escapes decode as UTF-8."""
    try:
        unquote_to_bytes(raw.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


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
    body contain a NUL character (``%00``, ``\\u0000``); whose query string or form fields are
    not valid UTF-8; or whose JSON body nests deeper than ``MAX_JSON_DEPTH``.

    PostgreSQL cannot hold NUL in a text value: a search, filter or form carrying one failed
    with a 500 ("A string literal cannot contain NUL") in every view that passed it to the
    database. Checking here, once, covers every page, form, filter and API endpoint, today's and
    future ones. Refused rather than stripped: no person types a NUL (it comes from a broken
    client or a probe), and stripping would silently search for or save something other than
    what was sent, while a 400 with a message says what is wrong (design.md: never 500 for bad
    input). File contents are not inspected (an .xlsx legitimately holds NUL bytes); other
    bodies (not a form, not JSON) are left to their views.

    Undecodable bytes: Django decodes the query string and form fields with ``errors="replace"``,
    so ``%FF`` was stored as U+FFFD, a character nobody typed; refused for the same reasons.
    Deep JSON: the parsers (ours here, DRF's in every view) recurse once per level; the depth is
    counted before anything parses, once for every JSON endpoint, the token endpoint included.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = self._problem(request)
        if problem:
            return self._refuse(request, problem)
        return self.get_response(request)

    def _problem(self, request) -> str | None:
        """What is wrong with the request's input ("nul", "encoding", "depth"), or None."""
        if NUL in request.path or _querydict_has_nul(request.GET):
            return "nul"
        if not _is_utf8(request.META.get("QUERY_STRING", "")):
            return "encoding"
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        content_type = request.content_type or ""
        charset = (request.content_params or {}).get("charset", "utf-8").lower().replace("_", "-")
        if content_type == "application/x-www-form-urlencoded" and charset in ("utf-8", "utf8"):
            try:
                body = request.body
            except RequestDataTooBig:
                return None  # refused later by the view's own parsing, with its own message
            try:
                if not _is_utf8(body.decode("ascii")):
                    return "encoding"
            except UnicodeDecodeError:
                return "encoding"  # raw bytes that a form never sends unescaped
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            if _querydict_has_nul(request.POST):
                return "nul"
            if content_type == "multipart/form-data" and any(
                "\ufffd" in value for values in request.POST.lists() for value in values[1]
            ):
                # The multipart parser has already replaced what it could not decode.
                return "encoding"
            if any(NUL in (f.name or "") for files in request.FILES.lists() for f in files[1]):
                return "nul"
            return None
        if content_type == "application/json" or content_type.endswith("+json"):
            try:
                body = request.body
            except RequestDataTooBig:
                return None  # refused later by the view's own parsing, with its own message
            if b"\x00" in body:
                return "nul"
            if json_depth(body) > MAX_JSON_DEPTH:
                return "depth"
            try:
                return "nul" if _has_nul(json.loads(body or b"null")) else None
            except (ValueError, UnicodeDecodeError):
                return None  # not JSON: the view's parser answers 400
        return None

    def _refuse(self, request, problem: str = "nul"):
        if problem == "depth":
            message = _("JSON 嵌套层数过多(最多 %(max)d 层)。") % {"max": MAX_JSON_DEPTH}
        elif problem == "encoding":
            message = _("请求中含有无法识别的字符编码(应为 UTF-8),请检查后重试。")
        else:
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
