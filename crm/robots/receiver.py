"""A local HTTP server that plays the three platforms' webhooks, for the demo
(``manage.py robot_receiver``) and the tests: it checks the path and the key, verifies the
signature, validates the message against the platform's schema (platforms.SCHEMAS) and answers as
the platform would; a robot's key can be told to answer an error, a rate limit, an HTTP error or
nothing in time (a timeout)."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import platforms

OK, ERROR, RATE_LIMIT, TIMEOUT, HTTP_500 = "ok", "error", "rate_limit", "timeout", "http_500"

# The platform's answers for each behaviour (codes as the platforms document them).
ERROR_CODES = {platforms.WECOM: 93000, platforms.DINGTALK: 300001, platforms.FEISHU: 19002}
SIGN_CODES = {platforms.DINGTALK: 310000, platforms.FEISHU: 19021}
SCHEMA_CODES = {platforms.WECOM: 40008, platforms.DINGTALK: 40035, platforms.FEISHU: 9499}
RATE_CODES = {platforms.WECOM: 45009, platforms.DINGTALK: 130101, platforms.FEISHU: 11232}
MAX_SKEW = 3600  # both signing platforms refuse a timestamp more than an hour off


@dataclass
class Received:
    kind: str
    key: str
    body: dict
    verdict: str  # "ok" or why it was refused
    answer: dict


@dataclass
class Platforms:
    """What the receiver knows: the secrets of the robots it plays (by key), the behaviour asked
    of each key (default: success) and what it received."""

    secrets: dict[str, str] = field(default_factory=dict)
    behaviour: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    sleep: float = 2.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # For a key not in ``secrets``: a callable key -> secret (the demo reads the database).
    lookup: Callable[[str], str] | None = None

    def secret_of(self, key: str) -> str:
        with self.lock:
            if key in self.secrets:
                return self.secrets[key]
        return self.lookup(key) if self.lookup else ""

    def answer(self, kind: str, code: int, message: str) -> dict:
        if kind == platforms.FEISHU:
            return {"code": code, "msg": message, "data": {}}
        return {"errcode": code, "errmsg": message}


def identify(path: str, query: dict) -> tuple[str | None, str]:
    """The platform and the robot's key of a request, from its path."""
    if platforms.PATHS[platforms.WECOM].match(path):
        return platforms.WECOM, query.get("key", [""])[0]
    if platforms.PATHS[platforms.DINGTALK].match(path):
        return platforms.DINGTALK, query.get("access_token", [""])[0]
    if platforms.PATHS[platforms.FEISHU].match(path):
        return platforms.FEISHU, path.rsplit("/", 1)[1]
    return None, ""


def check_signature(kind: str, secret: str, query: dict, body: dict, now: float) -> str | None:
    """Why the request's signature is wrong, or None."""
    if not secret or kind == platforms.WECOM:
        return None
    if kind == platforms.DINGTALK:
        timestamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
        if not timestamp.isdigit() or abs(int(timestamp) / 1000 - now) > MAX_SKEW:
            return "timestamp"
        return None if sign == platforms.dingtalk_sign(secret, timestamp) else "sign"
    timestamp, sign = str(body.get("timestamp", "")), body.get("sign", "")
    if not timestamp.isdigit() or abs(int(timestamp) - now) > MAX_SKEW:
        return "timestamp"
    return None if sign == platforms.feishu_sign(secret, timestamp) else "sign"


def make_handler(state: Platforms, *, echo=None):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet; the demo command prints what it received
            pass

        def _reply(self, status: int, answer: dict | None) -> None:
            data = json.dumps(answer or {}, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if status == 429:
                self.send_header("Retry-After", "30")
            self.end_headers()
            try:
                self.wfile.write(data)
            except OSError:
                pass  # the sender stopped waiting (a timeout)

        def do_GET(self):
            self._reply(405, {"errcode": 405, "errmsg": "POST only"})

        def do_POST(self):
            parts = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(parts.query)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            kind, key = identify(parts.path, query)
            if kind is None:
                self._reply(404, {"errcode": 404, "errmsg": "not found"})
                return
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                body = None
            with state.lock:
                behaviour = state.behaviour.get(key, OK)
            secret = state.secret_of(key)
            if behaviour == TIMEOUT:
                time.sleep(state.sleep)
            verdict, status = "ok", 200
            if not key:
                verdict, answer = "key", state.answer(kind, ERROR_CODES[kind], "invalid webhook key")
            elif body is None or not isinstance(body, dict):
                verdict, answer = "schema", state.answer(kind, SCHEMA_CODES[kind], "invalid json")
            elif problems := platforms.schema_errors(body, platforms.SCHEMAS[kind]):
                verdict = "schema: " + "; ".join(problems)
                answer = state.answer(kind, SCHEMA_CODES[kind], verdict[:200])
            elif bad := check_signature(kind, secret, query, body, time.time()):
                verdict, answer = bad, state.answer(kind, SIGN_CODES[kind], f"{bad} mismatch")
            elif behaviour == ERROR:
                verdict, answer = "error", state.answer(kind, ERROR_CODES[kind], "robot not available")
            elif behaviour == RATE_LIMIT:
                verdict, answer = "rate_limit", state.answer(kind, RATE_CODES[kind], "send too fast")
            elif behaviour == HTTP_500:
                verdict, answer, status = "http_500", {"errmsg": "internal error"}, 500
            else:
                answer = state.answer(kind, 0, "success" if kind == platforms.FEISHU else "ok")
            entry = Received(
                kind=kind,
                key=key,
                body=body if isinstance(body, dict) else {},
                verdict=verdict,
                answer=answer,
            )
            with state.lock:
                state.received.append(entry)
            if echo is not None:
                echo(entry)
            self._reply(status, answer)

    return Handler


class Receiver:
    """The server in a thread: ``with Receiver() as r: ... r.url(kind, key)``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, state: Platforms | None = None, echo=None):
        self.state = state or Platforms()
        self.server = ThreadingHTTPServer((host, port), make_handler(self.state, echo=echo))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, kind: str, key: str) -> str:
        base = f"http://127.0.0.1:{self.port}"
        if kind == platforms.WECOM:
            return f"{base}/cgi-bin/webhook/send?key={key}"
        if kind == platforms.DINGTALK:
            return f"{base}/robot/send?access_token={key}"
        return f"{base}/open-apis/bot/v2/hook/{key}"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def key_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return identify(parts.path, urllib.parse.parse_qs(parts.query))[1]
