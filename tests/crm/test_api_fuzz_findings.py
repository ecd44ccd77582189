"""What the API fuzz run (tests/api_fuzz) found, each kept as a test of its own in the main
suite: these need only two branches' clients, not the demo the fuzz run seeds."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

from tests.clients.archive_helpers import make_client

USERS = ("east_staff", "south_staff")


@pytest.fixture
def people(org):
    """A token and a client of each branch; returns {username: (token, own client, other's)}."""
    east, south = make_client(org, "east"), make_client(org, "south")
    return {
        "east_staff": (Token.objects.create(user=org["east_staff"]).key, east, south),
        "south_staff": (Token.objects.create(user=org["south_staff"]).key, south, east),
    }


@pytest.mark.django_db
def test_no_branch_reads_the_others_client(org, people):
    """Directly, for the record (random ids almost never hit a row): each user's GET of the other
    branch's client is 404, of its own 200."""
    from rest_framework.test import APIClient

    for username in USERS:
        token, own, other = people[username]
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert api.get(f"/api/clients/{own.pk}/").status_code == 200
        assert api.get(f"/api/clients/{other.pk}/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("phone", ["0", "0-", "+860", "(0)"])
def test_a_phone_of_only_a_leading_zero_is_a_400(org, people, phone):
    """Found by the fuzz: a phone reduced to "0" crashed the validator (IndexError, a 500)."""
    from rest_framework.test import APIClient

    token, own, _other = people["east_staff"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api.post("/api/contacts/", {"client": own.pk, "name": "张三", "phone": phone}, format="json")
    assert response.status_code == 400
    assert "phone" in response.json()


@pytest.mark.django_db
def test_a_complaint_body_that_is_not_an_object_is_a_400(org, people):
    """Found by the fuzz: a JSON ``false`` as the body of POST /api/complaints/ was a 500."""
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {people['east_staff'][0]}")
    response = api.post("/api/complaints/", "false", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_an_api_path_no_route_matches_is_a_json_404(org, people):
    """Found by the fuzz: /api/clients/0.5/ (no route) answered the HTML 404 page."""
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {people['east_staff'][0]}")
    response = api.get("/api/clients/0.5/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()
