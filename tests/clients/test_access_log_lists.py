"""R4 on the archive's HTML lists: a granted client of another branch shown in the archive list
(/clients/) or the needs list is a read of its archive, logged as the API's list of the same
data is: one row per client and request, with the grant. Their Excel exports are logged too.
Reads of one's own branch and by the group roles write nothing (issue 22)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clients.models import AccessLog
from tests.clients.factories import ClientFactory, NeedFactory
from tests.clients.grants import make_grant

pytestmark = pytest.mark.django_db

CLIENTS = reverse("clients:client-list")
NEEDS = reverse("clients:need-list")


@pytest.fixture
def granted(org):
    """An east client with three needs, granted to south_staff; and a client of south's own."""
    client = ClientFactory(branch=org.branches["east"], owner=org["east_staff"])
    NeedFactory.create_batch(3, client=client)
    own = ClientFactory(branch=org.branches["south"], owner=org["south_staff"])
    NeedFactory(client=own)
    grant = make_grant(org, org["south_staff"], client, active=True)
    return client, own, grant


def _rows(client):
    return list(AccessLog.objects.filter(client=client).order_by("pk"))


def _shown(response):
    return [getattr(r, "client_id", r.pk) for r in response.context["page"].object_list]


def test_the_archive_list_logs_a_granted_client_once_per_request(org, granted):
    client, own, grant = granted
    web = org.web("south_staff")
    response = web.get(CLIENTS)
    assert response.status_code == 200 and client.pk in _shown(response)
    (row,) = _rows(client)
    assert (row.user, row.grant, row.via, row.path) == (org["south_staff"], grant, "page", CLIENTS)
    assert row.user_branch == org.branches["south"]
    assert _rows(own) == []
    # Each request is a read of its own; a page that does not show the client logs nothing.
    assert _shown(web.get(CLIENTS, {"granted": "only"})) == [client.pk]
    assert len(_rows(client)) == 2
    assert _shown(web.get(CLIENTS, {"branch": own.branch_id})) == [own.pk]
    assert len(_rows(client)) == 2


def test_the_needs_list_logs_a_granted_client_once_however_many_needs(org, granted):
    client, own, grant = granted
    response = org.web("south_staff").get(NEEDS)
    assert response.status_code == 200 and _shown(response).count(client.pk) == 3
    (row,) = _rows(client)
    assert (row.grant, row.via, row.path) == (grant, "page", NEEDS)
    assert _rows(own) == []


def test_the_html_lists_log_as_the_api_lists_do(org, granted):
    client, _own, grant = granted
    org.api("south_staff").get(reverse("client-list"))
    org.api("south_staff").get(reverse("need-list"))
    org.web("south_staff").get(CLIENTS)
    org.web("south_staff").get(NEEDS)
    rows = _rows(client)
    assert [r.via for r in rows] == ["api", "api", "page", "page"]
    assert {r.grant for r in rows} == {grant}


def test_the_exports_of_both_lists_are_logged(org, granted):
    client, own, grant = granted
    web = org.web("south_staff")
    assert web.get(reverse("clients:client-export")).status_code == 200
    assert web.get(reverse("clients:need-export")).status_code == 200
    rows = _rows(client)
    assert [(r.via, r.grant) for r in rows] == [("export", grant), ("export", grant)]
    assert _rows(own) == []


@pytest.mark.parametrize("username", ["east_staff", "east_manager", "marketing", "leader", "auditor"])
def test_own_branch_and_group_roles_write_nothing(org, granted, username):
    client, _own, _grant = granted
    web = org.web(username)
    assert client.pk in _shown(web.get(CLIENTS))
    assert client.pk in _shown(web.get(NEEDS))
    assert _rows(client) == []


def test_an_ended_grant_shows_and_logs_nothing(org):
    client = ClientFactory(branch=org.branches["east"], owner=org["east_staff"])
    NeedFactory(client=client)
    make_grant(org, org["south_staff"], client, active=False)
    web = org.web("south_staff")
    assert client.pk not in _shown(web.get(CLIENTS))
    assert client.pk not in _shown(web.get(NEEDS))
    assert _rows(client) == []
