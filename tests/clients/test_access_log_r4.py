"""R4: every read of another branch's record under a grant is logged, once per request, with
the grant: the client's page and API, its contacts and visits through the API (list and
detail), its complaints (page and API) and surveys, the export. Reads of one's own branch and
by the group roles are not logged."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from clients.access.log import foreign_client_ids, log_reads
from clients.models import AccessLog
from tests.clients.factories import ClientFactory, ContactFactory, NeedFactory, VisitFactory
from tests.clients.grants import make_grant
from tests.complaints.conftest import make_complaint

pytestmark = pytest.mark.django_db


@pytest.fixture
def granted(org):
    """An east client, its contacts and visits, and an active grant of it to south_staff."""
    client = ClientFactory(branch=org.branches["east"], owner=org["east_staff"])
    ContactFactory.create_batch(3, client=client)
    VisitFactory.create_batch(2, client=client)
    grant = make_grant(org, org["south_staff"], client, active=True)
    return client, grant


def _rows(client):
    return list(AccessLog.objects.filter(client=client).order_by("pk"))


# ----------------------------------------------------------------------------- the service


def test_log_reads_maps_records_to_their_client_and_logs_once_per_request(org, granted):
    client, grant = granted
    contacts = list(client.contacts.select_related("client"))
    request = RequestFactory().get(f"/api/contacts/?client={client.pk}")
    request.user = org["south_staff"]
    assert foreign_client_ids(request.user, contacts) == [client.pk]
    assert log_reads(request, contacts, via="api") == 1
    assert log_reads(request, [client], via="api") == 0  # the same request: already logged
    (row,) = _rows(client)
    assert (row.user, row.grant, row.via) == (org["south_staff"], grant, "api")
    assert row.path == f"/api/contacts/?client={client.pk}"
    # Own branch and group roles read by right (R3): nothing logged.
    for username in ("east_staff", "marketing"):
        own = RequestFactory().get("/x/")
        own.user = org[username]
        assert log_reads(own, contacts, via="api") == 0
    assert len(_rows(client)) == 1


# ----------------------------------------------------------------------------- the API


@pytest.mark.parametrize("resource", ["contact", "visit"])
def test_api_list_of_a_granted_clients_rows_is_logged_with_the_grant(org, granted, resource):
    client, grant = granted
    api = org.api("south_staff")
    response = api.get(reverse(f"{resource}-list"), {"client": client.pk})
    assert response.status_code == 200 and response.data["count"] >= 2
    (row,) = _rows(client)  # one row for the request, however many records it shows
    assert (row.user, row.grant, row.via) == (org["south_staff"], grant, "api")
    first = response.data["results"][0]["id"]
    assert api.get(reverse(f"{resource}-detail", args=[first])).status_code == 200
    assert len(_rows(client)) == 2


def test_api_client_list_and_detail_are_logged(org, granted):
    client, grant = granted
    api = org.api("south_staff")
    assert api.get(reverse("client-detail", args=[client.pk])).status_code == 200
    assert api.get(reverse("client-list")).status_code == 200
    assert [r.via for r in _rows(client)] == ["api", "api"]
    assert {r.grant for r in _rows(client)} == {grant}


def test_own_branch_reads_write_nothing(org, granted):
    client, _grant = granted
    api = org.api("east_staff")
    api.get(reverse("contact-list"), {"client": client.pk})
    api.get(reverse("client-detail", args=[client.pk]))
    org.web("east_staff").get(reverse("clients:client-detail", args=[client.pk]))
    org.api("marketing").get(reverse("visit-list"), {"client": client.pk})
    assert _rows(client) == []


# ----------------------------------------------------------------------------- pages


def test_complaint_page_and_api_of_a_granted_client_are_logged(org, granted):
    client, grant = granted
    complaint = make_complaint(org, "east", client=client)
    response = org.web("south_staff").get(reverse("complaints:complaint-detail", args=[complaint.pk]))
    assert response.status_code == 200
    (row,) = _rows(client)
    assert (row.grant, row.via, row.path) == (grant, "page", f"/complaints/{complaint.pk}/")
    assert org.api("south_staff").get(reverse("complaint-detail", args=[complaint.pk])).status_code == 200
    assert [r.via for r in _rows(client)] == ["page", "api"]


def test_client_page_is_logged_once_per_request(org, granted):
    client, grant = granted
    make_complaint(org, "east", client=client)  # the page's complaints tab reads it too
    response = org.web("south_staff").get(reverse("clients:client-detail", args=[client.pk]))
    assert response.status_code == 200
    (row,) = _rows(client)
    assert (row.grant, row.via) == (grant, "page")


# ----------------------------------------------------------------------------- exports


def test_exports_of_a_granted_clients_rows_are_logged(org, granted):
    client, grant = granted
    make_complaint(org, "east", client=client)
    own = ClientFactory(branch=org.branches["south"], owner=org["south_staff"])
    make_complaint(org, "south", client=own)
    web = org.web("south_staff")
    response = web.get(reverse("complaints:complaint-list"), {"export": "xlsx"})
    assert response.status_code == 200
    (row,) = _rows(client)
    assert (row.grant, row.via) == (grant, "export")
    assert _rows(own) == []
    NeedFactory(client=client)
    assert web.get(reverse("clients:need-export")).status_code == 200
    assert [r.via for r in _rows(client)] == ["export", "export"]
    # Own branch: nothing.
    org.web("east_staff").get(reverse("complaints:complaint-list"), {"export": "xlsx"})
    assert len(_rows(client)) == 2
