"""Grants for tests, made through the real workflow of R5 (request -> forward -> approve)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from clients.access.services import access_request_approve, access_request_create, access_request_forward
from clients.models import AccessGrant, Client


def make_grant(org, user, client: Client, *, active: bool) -> AccessGrant:
    """Give ``user`` (a branch user of another branch) an approved grant to ``client``: filed by
    the user, forwarded by group marketing, approved by the group leader. With
    ``active=False`` the grant's period is moved into the past (ended, not yet revoked)."""
    request = access_request_create(
        requester=user,
        clients=[client],
        reason="投标前需了解该客户的合作历史与信用情况",
        ends_on=timezone.localdate() + dt.timedelta(days=30),
    )
    access_request_forward(access_request=request, by=org["marketing"], note="同意,提交领导审批")
    grant = access_request_approve(access_request=request, by=org["leader"], note="同意")
    if not active:
        now = timezone.now()
        grant.starts_at = now - dt.timedelta(days=40)
        grant.ends_at = now - dt.timedelta(days=10)
        grant.save(update_fields=["starts_at", "ends_at"])
    return grant
