"""Shared helpers of the reporting tests: a moment in Asia/Shanghai, and records of a branch."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from clients.models import Client
from tests.clients.factories import ClientFactory, NeedFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def new_client(org, code: str, **kw) -> Client:
    return ClientFactory(branch=org.branches[code], owner=org[f"{code}_staff"], **kw)


def new_need(client, **kw):
    from clients.services import need_create

    return need_create(need=NeedFactory.build(client=client, **kw), by=client.owner)
