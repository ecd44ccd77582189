"""restrict() at the crm level (design.md, access control): a restricted list costs the same
number of queries as the unrestricted one, grants and suspensions included (R2-R5, R33)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.models import AccessLog, Client, Contact
from crm.access import can, scope_q
from crm.models import Suspension
from tests.clients.factories import ClientFactory, ContactFactory
from tests.clients.grants import make_grant

pytestmark = pytest.mark.django_db


def _count(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


@pytest.fixture
def archive(org):
    rows = {}
    for code in ("east", "south", "design"):
        rows[code] = [ClientFactory(branch=org.branches[code], owner=org[f"{code}_staff"]) for _ in range(3)]
        for client in rows[code]:
            ContactFactory(client=client)
    return rows


@pytest.mark.parametrize("persona", ["east_staff", "east_manager", "marketing", "auditor", "norole"])
def test_restricted_list_costs_what_the_unrestricted_costs(org, archive, persona):
    user = org[persona]
    make_grant(org, org["east_staff"], archive["south"][0], active=True)
    unrestricted = _count(lambda: list(Client.objects.select_related("branch").order_by("name")))
    # The first restrict() of a request loads the user's model permissions (Django's per-user
    # cache, at most two queries) and the access snapshot (branch permissions, suspension,
    # grants: at most three), once per request; every restricted list after it is one query.
    first = _count(
        lambda: list(Client.objects.restrict(user, "view").select_related("branch").order_by("name"))
    )
    assert first <= unrestricted + 5
    restricted = _count(
        lambda: list(Client.objects.restrict(user, "view").select_related("branch").order_by("name"))
    )
    # A user with no scope at all costs no query: the filter is known to be empty.
    assert restricted == unrestricted == 1 or (persona == "norole" and restricted == 0)
    contacts = _count(lambda: list(Contact.objects.restrict(user, "view").select_related("client")))
    assert contacts == (0 if persona == "norole" else 1)


def test_branch_scope_plus_active_grant_only(org, archive):
    user = org["east_staff"]
    granted = archive["south"][0]
    make_grant(org, user, granted, active=True)
    expired = archive["design"][0]
    make_grant(org, user, expired, active=False)
    seen = set(Client.objects.restrict(user, "view").values_list("pk", flat=True))
    assert seen == {c.pk for c in archive["east"]} | {granted.pk}
    # Grants are for viewing only (R5).
    assert set(Client.objects.restrict(user, "change").values_list("pk", flat=True)) == {
        c.pk for c in archive["east"]
    }
    # Related rows of the granted client come with it.
    assert Contact.objects.restrict(user, "view").filter(client=granted).count() == 1
    assert not Contact.objects.restrict(user, "view").filter(client=expired).exists()


def test_suspension_keeps_only_owned_and_costs_nothing_more(org, archive):
    user = org["east_staff"]
    make_grant(org, user, archive["south"][0], active=True)
    colleague_client = ClientFactory(branch=org.branches["east"], owner=org["east_manager"])
    Suspension.objects.create(
        branch=org.branches["east"], kind=Suspension.Kind.ARCHIVE, reason="考核结果为差",
        ends_at=timezone.now() + dt.timedelta(days=30),
    )  # fmt: skip
    seen = set(Client.objects.restrict(user, "view").values_list("pk", flat=True))
    assert seen == {c.pk for c in archive["east"]}  # the three east clients east_staff owns
    assert colleague_client.pk not in seen
    assert _count(lambda: list(Client.objects.restrict(user, "view"))) == 1
    # New records may still be entered (R33).
    assert Client.objects.restrict(user, "add").filter(pk=colleague_client.pk).exists()


def test_access_log_is_for_marketing_and_auditors_only(org):
    assert scope_q(AccessLog, org["marketing"], "view") is None
    assert scope_q(AccessLog, org["auditor"], "view") is None
    for persona in ("east_staff", "east_manager", "leader", "norole"):
        assert not can(org[persona], "view", AccessLog), persona
    # Nobody writes the log through restrict-based code (R4): it is written by record_reads only.
    for persona in ("marketing", "auditor", "leader", "east_staff"):
        for action in ("add", "change", "delete"):
            assert not can(org[persona], action, AccessLog), (persona, action)
