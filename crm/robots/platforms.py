"""What each chat platform expects: its webhook address, its message format, its signature, its
answers. Pure functions (no database, no network), shared by the sender (services), the local
receiver that plays the platforms (receiver.py: the demo and the tests) and the form's checks.

The formats, as the platforms document them:

* 企业微信群机器人 (WeCom group robot): ``POST https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=<key>``
  with ``{"msgtype": "markdown", "markdown": {"content": ...}}`` (content at most 4096 bytes).
  Markdown messages can only @ by userid (``<@userid>``); a mention by mobile number needs a
  ``text`` message with ``mentioned_mobile_list``, so a message that mentions someone is sent as
  text. No signature (the key in the address is the secret). Answer ``{"errcode": 0, "errmsg":
  "ok"}``; 45009 is the rate limit (20 messages a minute per robot).
* 钉钉自定义机器人 (DingTalk custom robot): ``POST https://oapi.dingtalk.com/robot/send?access_token=<token>``
  with ``{"msgtype": "markdown", "markdown": {"title", "text"}, "at": {"atMobiles": [...]}}``;
  an @ only shows when the text contains ``@<mobile>``. Signed ("加签"): ``timestamp`` in
  milliseconds, ``sign = urlencode(base64(HMAC-SHA256(key=secret, msg=timestamp + "\\n" +
  secret)))``, appended as ``&timestamp=&sign=``. Answer ``{"errcode": 0, "errmsg": "ok"}``;
  130101 is "send too fast" (20 a minute).
* 飞书自定义机器人 (Feishu custom bot): ``POST https://open.feishu.cn/open-apis/bot/v2/hook/<id>``
  (Lark: open.larksuite.com) with ``{"msg_type": "post", "content": {"post": {"zh_cn": {"title",
  "content": [[...]]}}}}``; signed: ``timestamp`` in seconds, ``sign = base64(HMAC-SHA256(key=
  timestamp + "\\n" + secret, msg=""))``, both in the body. Answer ``{"code": 0, "msg": "success"}``;
  11232 is the rate limit. A custom bot can only @ by open_id, which the product does not hold,
  so Feishu messages mention nobody.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import urllib.parse
from dataclasses import dataclass

WECOM = "wecom"
DINGTALK = "dingtalk"
FEISHU = "feishu"

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

# The documented webhook host and path of each platform, and the query parameter or path part
# that carries the robot's key.
HOSTS = {
    WECOM: ("qyapi.weixin.qq.com",),
    DINGTALK: ("oapi.dingtalk.com",),
    FEISHU: ("open.feishu.cn", "open.larksuite.com"),
}
PATHS = {
    WECOM: re.compile(r"^/cgi-bin/webhook/send$"),
    DINGTALK: re.compile(r"^/robot/send$"),
    FEISHU: re.compile(r"^/open-apis/bot/v2/hook/[A-Za-z0-9_-]+$"),
}
KEY_PARAMS = {WECOM: "key", DINGTALK: "access_token", FEISHU: None}
SIGNED = {WECOM: False, DINGTALK: True, FEISHU: True}

# Error codes of the platforms' answers: a rate limit (retry after the pause) and those that no
# retry can cure (the key or the signature is refused, the message is malformed).
RATE_LIMIT_CODES = {WECOM: {45009}, DINGTALK: {130101, 410100}, FEISHU: {11232}}
RATE_LIMIT_PAUSE = {WECOM: 60.0, DINGTALK: 60.0, FEISHU: 10.0}
PERMANENT_CODES = {
    WECOM: {93000, 93004, 40008, 40058, 44004},  # invalid webhook key, robot removed, bad message
    DINGTALK: {300001, 310000, 400101, 400102, 40035},  # token unknown, sign/keyword/IP, robot off
    FEISHU: {9499, 19001, 19002, 19021, 19022, 19024},  # bad request, sign mismatch, IP not allowed
}

MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Anything that looks like a phone number (mobile, landline with area code, 400/800 lines) or an
# e-mail address: scrubbed from a title before it goes to a chat (R120).
_PHONE_LIKE = re.compile(
    r"(?<!\d)(?:\+?86[- ]?)?(?:1[3-9]\d[- ]?\d{4}[- ]?\d{4}|0\d{2,3}[- ]?\d{7,8}|[48]00[- ]?\d{3}[- ]?\d{4})(?!\d)"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
WECOM_MAX_BYTES = 4096


def allowed_hosts(kind: str, extra=()) -> tuple[str, ...]:
    return HOSTS[kind] + tuple(extra)


def webhook_problem(kind: str, url: str, *, extra_hosts=()) -> str | None:
    """Why ``url`` is not a webhook of ``kind`` (R116), or None: https to the platform's
    documented host (or a host of CRM_ROBOT_EXTRA_HOSTS, for a private deployment), or http only
    to this machine (the demo's receiver and the tests); the platform's path; the key present."""
    if kind not in HOSTS:
        return "kind"
    try:
        parts = urllib.parse.urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return "malformed"
    if parts.username or parts.password:
        return "malformed"
    if parts.scheme == "http":
        if host not in LOCAL_HOSTS:
            return "scheme"
    elif parts.scheme == "https":
        if host not in allowed_hosts(kind, extra_hosts) and host not in LOCAL_HOSTS:
            return "host"
    else:
        return "scheme"
    if not PATHS[kind].match(parts.path):
        return "path"
    param = KEY_PARAMS[kind]
    if param and not urllib.parse.parse_qs(parts.query).get(param, [""])[0].strip():
        return "key"
    return None


def mask_url(url: str) -> str:
    """The address with its key hidden (the key is as secret as a password: whoever holds it
    can post to the group): ``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1b2c…8d30``."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "…"
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    masked_query = "&".join(f"{k}={mask_secret(v)}" for k, v in query)
    path = parts.path
    if "/hook/" in path:
        head, _, tail = path.rpartition("/")
        path = f"{head}/{mask_secret(tail)}"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, masked_query, ""))


def mask_secret(value: str) -> str:
    """At most the first and last four characters of a secret, never the whole of it."""
    if not value:
        return ""
    if len(value) <= 10:
        return "…" * 3
    return f"{value[:4]}…{value[-4:]}"


def scrub(text: str) -> str:
    """The text without anything that looks like a phone number or an e-mail address (R120)."""
    return _EMAIL.sub("***", _PHONE_LIKE.sub("***", text or "")).strip()


def mobiles_of(users) -> list[str]:
    """The mobile numbers of the people to @: each user's own profile phone (never a client's
    contact), where it is a mainland mobile number; in the order given, once each."""
    found: list[str] = []
    for user in users:
        phone = re.sub(r"[\s-]", "", getattr(user, "phone", "") or "")
        if phone.startswith("+86"):
            phone = phone[3:]
        if MOBILE.match(phone) and phone not in found:
            found.append(phone)
    return found


# -- signatures ---------------------------------------------------------------------------------


def dingtalk_sign(secret: str, timestamp_ms: str) -> str:
    """DingTalk's 加签: base64 of HMAC-SHA256 keyed by the secret over ``timestamp\\nsecret``
    (not yet url-encoded)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: str) -> str:
    """Feishu's 签名校验: base64 of HMAC-SHA256 keyed by ``timestamp\\nsecret`` over nothing."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_url(kind: str, url: str, secret: str, now: float) -> str:
    if kind == DINGTALK and secret:
        timestamp = str(int(now * 1000))
        sign = urllib.parse.quote_plus(dingtalk_sign(secret, timestamp))
        return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"
    return url


# -- messages -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """What a robot says: a heading (the kind of notice), the record's title and the link to it,
    and the mobile numbers to @. Nothing else: no body, no client's contact or phone (R120)."""

    heading: str
    title: str
    link: str
    mobiles: tuple[str, ...] = ()
    open_label: str = "查看详情"


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>])", r"\\\1", text)


def _truncate_bytes(text: str, limit: int) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode(errors="ignore") + "…"


def payload(kind: str, message: Message, *, secret: str = "", now: float = 0.0) -> dict:
    """The JSON body of one message in ``kind``'s documented format."""
    title = scrub(message.title)
    if kind == WECOM:
        if message.mobiles:
            content = f"【{message.heading}】{title}\n{message.open_label}:{message.link}"
            return {
                "msgtype": "text",
                "text": {
                    "content": _truncate_bytes(content, 2048),
                    "mentioned_mobile_list": list(message.mobiles),
                },
            }
        content = f"**{_md_escape(message.heading)}**\n> {_md_escape(title)}\n[{message.open_label}]({message.link})"
        return {"msgtype": "markdown", "markdown": {"content": _truncate_bytes(content, WECOM_MAX_BYTES)}}
    if kind == DINGTALK:
        ats = " ".join(f"@{m}" for m in message.mobiles)
        text = f"#### {_md_escape(message.heading)}\n> {_md_escape(title)}\n\n[{message.open_label}]({message.link})"
        if ats:
            text += f"\n\n{ats}"
        return {
            "msgtype": "markdown",
            "markdown": {"title": f"{message.heading}:{title}"[:100], "text": text},
            "at": {"atMobiles": list(message.mobiles), "isAtAll": False},
        }
    if kind == FEISHU:
        body: dict = {}
        if secret:
            timestamp = str(int(now))
            body = {"timestamp": timestamp, "sign": feishu_sign(secret, timestamp)}
        body.update(
            {
                "msg_type": "post",
                "content": {
                    "post": {
                        "zh_cn": {
                            "title": message.heading,
                            "content": [
                                [{"tag": "text", "text": title}],
                                [{"tag": "a", "text": message.open_label, "href": message.link}],
                            ],
                        }
                    }
                },
            }
        )
        return body
    raise ValueError(kind)


# -- answers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    ok: bool
    code: int | None = None
    detail: str = ""
    retry_after: float | None = None
    permanent: bool = False


def read_answer(kind: str, answer) -> Outcome:
    """What the platform's JSON answer (HTTP 200) means: errcode/code 0 is success, anything
    else a failure; its rate-limit codes carry the pause, the codes no retry can cure are
    permanent."""
    if not isinstance(answer, dict):
        return Outcome(False, None, "not a JSON object")
    if kind == FEISHU:
        code = answer.get("code", answer.get("StatusCode"))
        detail = str(answer.get("msg", answer.get("StatusMessage", "")))
    else:
        code = answer.get("errcode")
        detail = str(answer.get("errmsg", ""))
    if not isinstance(code, int):
        return Outcome(False, None, f"no error code in the answer: {str(answer)[:200]}")
    if code == 0:
        return Outcome(True, 0, detail)
    if code in RATE_LIMIT_CODES[kind]:
        return Outcome(False, code, detail, retry_after=RATE_LIMIT_PAUSE[kind])
    return Outcome(False, code, detail, permanent=code in PERMANENT_CODES[kind])


# -- the message schemas (the receiver checks every body against its platform's) ------------------

_STR = {"type": "string", "minLength": 1}
SCHEMAS = {
    WECOM: {
        "type": "object",
        "required": ["msgtype"],
        "oneOf": [
            {
                "properties": {
                    "msgtype": {"enum": ["markdown"]},
                    "markdown": {
                        "type": "object",
                        "required": ["content"],
                        "properties": {"content": {**_STR, "maxBytes": WECOM_MAX_BYTES}},
                        "additionalProperties": False,
                    },
                },
                "required": ["msgtype", "markdown"],
                "additionalProperties": False,
            },
            {
                "properties": {
                    "msgtype": {"enum": ["text"]},
                    "text": {
                        "type": "object",
                        "required": ["content"],
                        "properties": {
                            "content": {**_STR, "maxBytes": 2048},
                            "mentioned_list": {"type": "array", "items": _STR},
                            "mentioned_mobile_list": {"type": "array", "items": _STR},
                        },
                        "additionalProperties": False,
                    },
                },
                "required": ["msgtype", "text"],
                "additionalProperties": False,
            },
        ],
    },
    DINGTALK: {
        "type": "object",
        "required": ["msgtype", "markdown"],
        "properties": {
            "msgtype": {"enum": ["markdown"]},
            "markdown": {
                "type": "object",
                "required": ["title", "text"],
                "properties": {"title": _STR, "text": _STR},
                "additionalProperties": False,
            },
            "at": {
                "type": "object",
                "properties": {
                    "atMobiles": {"type": "array", "items": _STR},
                    "atUserIds": {"type": "array", "items": _STR},
                    "isAtAll": {"type": "boolean"},
                },
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    },
    FEISHU: {
        "type": "object",
        "required": ["msg_type", "content"],
        "properties": {
            "timestamp": _STR,
            "sign": _STR,
            "msg_type": {"enum": ["post"]},
            "content": {
                "type": "object",
                "required": ["post"],
                "properties": {
                    "post": {
                        "type": "object",
                        "required": ["zh_cn"],
                        "properties": {
                            "zh_cn": {
                                "type": "object",
                                "required": ["title", "content"],
                                "properties": {
                                    "title": _STR,
                                    "content": {
                                        "type": "array",
                                        "items": {
                                            "type": "array",
                                            "items": {
                                                "type": "object",
                                                "required": ["tag"],
                                                "properties": {
                                                    "tag": {"enum": ["text", "a", "at"]},
                                                    "text": {"type": "string"},
                                                    "href": _STR,
                                                    "user_id": _STR,
                                                },
                                                "additionalProperties": False,
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    }
                },
            },
        },
        "additionalProperties": False,
    },
}

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "integer": int}


def schema_errors(value, schema: dict, path: str = "$") -> list[str]:
    """A small validator for the subset of JSON Schema the message schemas use (type, required,
    properties, additionalProperties, items, enum, minLength, oneOf, and ``maxBytes``: the
    platforms count UTF-8 bytes). No third-party validator is needed by the demo receiver."""
    errors: list[str] = []
    expected = schema.get("type")
    if expected and not isinstance(value, _TYPES[expected]):
        return [f"{path}: expected {expected}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in {schema['enum']}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{path}: empty")
        if "maxBytes" in schema and len(value.encode()) > schema["maxBytes"]:
            errors.append(f"{path}: longer than {schema['maxBytes']} bytes")
    if isinstance(value, dict):
        for name in schema.get("required", ()):
            if name not in value:
                errors.append(f"{path}.{name}: missing")
        props = schema.get("properties", {})
        for name, item in value.items():
            if name in props:
                errors += schema_errors(item, props[name], f"{path}.{name}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}.{name}: not allowed")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += schema_errors(item, schema["items"], f"{path}[{i}]")
    if "oneOf" in schema:
        matches = [schema_errors(value, option, path) for option in schema["oneOf"]]
        if sum(1 for m in matches if not m) != 1:
            errors.append(
                f"{path}: matches none of the message types ({'; '.join(e for m in matches for e in m)})"
            )
    return errors
