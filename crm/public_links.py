"""Personal links that need no login (R22, R48): the mechanism the survey answer link and the
need-rating link share.

A link carries a random token signed with a salt of its own use, so a tampered or guessed link is
refused before any database lookup, and a survey's token opens no rating page (nor the other way
round); only the SHA-256 of the random part is stored, so a copy of the database opens nothing.
Each use keeps the hash and an expiry on its own row, and decides there whether the link is used.
The public pages are rate limited per address (a fixed window in the shared cache), the public
endpoints by DRF's ``public_answer`` throttle scope.
"""

from __future__ import annotations

import hashlib
import secrets

from django.core import signing
from django.core.cache import cache
from django.utils import timezone

PUBLIC_LIMIT = 30  # requests per address per minute, on all the public pages together


class LinkError(Exception):
    """A personal link that cannot be used: ``reason`` is ``used``, ``expired`` or ``invalid``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_token(salt: str) -> tuple[str, str]:
    """A new link's token (signed with ``salt``) and the hash to store."""
    raw = secrets.token_urlsafe(24)
    return signing.Signer(salt=salt).sign(raw), token_hash(raw)


def hash_of(token: str, salt: str) -> str:
    """The stored hash a link's token stands for, or LinkError("invalid") for a token not signed
    with ``salt`` (tampered, truncated, guessed, or another use's link)."""
    try:
        raw = signing.Signer(salt=salt).unsign(token)
    except signing.BadSignature:
        raise LinkError("invalid") from None
    return token_hash(raw)


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def rate_limited(request, *, limit: int = PUBLIC_LIMIT, window: int = 60) -> bool:
    """A fixed-window limit per address on the public pages (keyed in the shared cache)."""
    key = f"public-links:{client_ip(request)}:{int(timezone.now().timestamp()) // window}"
    if cache.add(key, 1, window + 5):
        return False
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, window + 5)
        return False
    return count > limit
