"""HTTP hardening shared by every page and endpoint: no response of ours is kept in a browser's
or a proxy's cache (a shared computer keeps no client data), and token requests are throttled
per address."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PAGES = [
    "home",
    "global-search",
    "notification-list",
    "clients:client-list",
    "complaints:complaint-list",
    "surveys:survey-list",
]
API = ["/api/me/", "/api/clients/", "/api/branches/", "/api/schema/"]
DOWNLOADS = ["clients:client-export", "clients:need-export"]


def _no_store(response) -> bool:
    directives = {part.strip().split("=")[0] for part in response.get("Cache-Control", "").split(",")}
    return "no-store" in directives


@pytest.mark.parametrize("name", PAGES)
def test_signed_in_pages_are_not_stored(org, name):
    response = org.web("east_manager").get(reverse(name))
    assert response.status_code == 200, name
    assert _no_store(response), (name, response.get("Cache-Control"))


@pytest.mark.parametrize("path", API)
def test_api_answers_are_not_stored(org, path):
    response = org.api("east_manager").get(path)
    assert response.status_code == 200, path
    assert _no_store(response), (path, response.get("Cache-Control"))


@pytest.mark.parametrize("name", DOWNLOADS)
def test_excel_downloads_are_not_stored(org, name):
    response = org.web("east_manager").get(reverse(name))
    assert response.status_code == 200, name
    assert "spreadsheet" in response["Content-Type"] or "excel" in response["Content-Type"]
    assert _no_store(response), (name, response.get("Cache-Control"))


def test_the_token_answer_and_the_login_page_are_not_stored(org, client):
    from tests.conftest import PASSWORD

    cache.delete("throttle_token_192.0.2.10")
    answer = APIClient().post(
        "/api/auth/token/", {"username": "east_staff", "password": PASSWORD}, REMOTE_ADDR="192.0.2.10"
    )
    assert answer.status_code == 200 and "token" in answer.json()
    assert _no_store(answer)
    assert _no_store(client.get(reverse("login")))


def _rate() -> int:
    number, _per = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"].split("/")
    return int(number)


def test_token_requests_are_throttled_per_address(org):
    """One address trying many usernames (one password each, so that django-axes, keyed on the
    username and address, never locks): the request after the rate's allowance answers 429,
    while another address is still answered."""
    address, other = "198.51.100.7", "198.51.100.8"
    cache.delete_many([f"throttle_token_{address}", f"throttle_token_{other}"])
    api = APIClient()
    allowed = _rate()
    for n in range(allowed):
        response = api.post(
            "/api/auth/token/", {"username": f"guess{n}", "password": "x"}, REMOTE_ADDR=address
        )
        assert response.status_code == 400, (n, response.status_code)
    refused = api.post("/api/auth/token/", {"username": "guess-last", "password": "x"}, REMOTE_ADDR=address)
    assert refused.status_code == 429
    assert "Retry-After" in refused
    assert (
        api.post("/api/auth/token/", {"username": "x", "password": "x"}, REMOTE_ADDR=other).status_code == 400
    )
    cache.delete_many([f"throttle_token_{address}", f"throttle_token_{other}"])
