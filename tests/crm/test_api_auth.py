"""API authentication hardening: 401 with WWW-Authenticate, expiring and revocable tokens, a
JSON lockout on the token endpoint, the schema and docs behind a login, and session-authenticated
calls from the pages still passing the CSRF check."""

from datetime import timedelta

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

# The permission matrix of these routes: anonymous 401, any signed-in user 204 (own token only).
ROUTES_COVERED = ["api-token-revoke"]


def _token(username="east_staff", ip="10.2.2.2"):
    api = APIClient(REMOTE_ADDR=ip)
    response = api.post(reverse("api-token"), {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    return response.json()["token"]


def _with(token):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


@pytest.mark.parametrize("auth", [None, "Token not-a-real-token", "Token "])
def test_missing_or_invalid_token_is_401_with_www_authenticate(org, auth):
    api = APIClient()
    if auth:
        api.credentials(HTTP_AUTHORIZATION=auth)
    response = api.get(reverse("branch-list"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_token_expires_after_api_token_days(org, settings):
    settings.API_TOKEN_DAYS = 30
    token = _token()
    assert _with(token).get(reverse("api-me")).status_code == 200
    Token.objects.filter(key=token).update(created=timezone.now() - timedelta(days=31))
    expired = _with(token).get(reverse("api-me"))
    assert expired.status_code == 401
    assert "token expired" in expired.json()["detail"]
    assert expired["WWW-Authenticate"].startswith("Token")
    # Asking again gives a new token, which works.
    fresh = _token()
    assert fresh != token and _with(fresh).get(reverse("api-me")).status_code == 200


def test_token_days_is_configurable(org, settings):
    token = _token()
    Token.objects.filter(key=token).update(created=timezone.now() - timedelta(days=3))
    settings.API_TOKEN_DAYS = 2
    assert _with(token).get(reverse("api-me")).status_code == 401
    settings.API_TOKEN_DAYS = 5
    assert _with(token).get(reverse("api-me")).status_code == 200


def test_user_revokes_own_token(org):
    token = _token()
    other = _token("east_manager")
    api = _with(token)
    assert api.post(reverse("api-token-revoke")).status_code == 204
    assert api.get(reverse("api-me")).status_code == 401
    assert not Token.objects.filter(key=token).exists()
    # Only the caller's own token goes.
    assert _with(other).get(reverse("api-me")).status_code == 200


def test_revoke_route_matrix(org):
    assert APIClient().post(reverse("api-token-revoke")).status_code == 401
    Token.objects.create(user=org["norole"])
    # A person with no role may still drop their own token; a session user too.
    assert org.api("norole").post(reverse("api-token-revoke")).status_code == 204
    assert not Token.objects.filter(user=org["norole"]).exists()
    assert org.api("leader").post(reverse("api-token-revoke")).status_code == 204


def test_locked_out_token_endpoint_answers_json_429(org, settings):
    api = APIClient(REMOTE_ADDR="10.3.3.3")
    url = reverse("api-token")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert (
            api.post(url, {"username": "east_staff", "password": "wrong"}, format="json").status_code == 400
        )
    api.post(url, {"username": "east_staff", "password": "wrong"}, format="json")
    locked = api.post(url, {"username": "east_staff", "password": PASSWORD}, format="json")
    assert locked.status_code == 429
    assert locked["Content-Type"].startswith("application/json")
    assert "锁定" in locked.json()["detail"]
    # The login page keeps its own HTML answer.
    page = DjangoClient(REMOTE_ADDR="10.3.3.3").post(
        reverse("login"), {"username": "east_staff", "password": PASSWORD}, REMOTE_ADDR="10.3.3.3"
    )
    assert page.status_code == 429 and "账号已临时锁定" in page.content.decode()


def test_schema_and_docs_need_a_login(org):
    assert APIClient().get(reverse("api-schema")).status_code == 401
    docs = DjangoClient().get(reverse("api-docs"))
    assert docs.status_code == 302 and docs["Location"].startswith("/accounts/login/")
    web = org.web("east_staff")
    assert web.get(reverse("api-schema")).status_code == 200
    page = web.get(reverse("api-docs"))
    assert page.status_code == 200 and b"<script>" not in page.content
    script = web.get(reverse("api-docs") + "?script")
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content
    assert _with(_token()).get(reverse("api-schema")).status_code == 200


def test_session_calls_from_pages_keep_the_csrf_check(org):
    """The pages call the API with their session cookie and the CSRF token; without the token a
    session write is refused (403), with it the call goes through."""
    web = DjangoClient(enforce_csrf_checks=True)
    web.force_login(org["east_staff"])
    assert web.get(reverse("api-me")).status_code == 200
    web.get(reverse("home"))
    csrf = web.cookies["csrftoken"].value
    assert web.post(reverse("api-token-revoke")).status_code == 403
    assert web.post(reverse("api-token-revoke"), HTTP_X_CSRFTOKEN=csrf).status_code == 204
