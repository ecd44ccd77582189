"""Session hardening: a new key at login, idle and absolute limits, deactivated users out at once."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _login(client, username="east_staff"):
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _signed_in(client):
    response = client.get(reverse("home"))
    return response.status_code == 200


def test_login_issues_a_new_session_key(org):
    client = DjangoClient()
    client.get(reverse("login"))
    client.session.save()  # a session that exists before the login (fixation attempt)
    client.cookies["sessionid"] = client.session.session_key
    before = client.cookies["sessionid"].value
    _login(client)
    after = client.cookies["sessionid"].value
    assert after and after != before
    assert not Session.objects.filter(session_key=before).exists()


def test_session_ends_after_idle_minutes(org, settings):
    settings.SESSION_IDLE_MINUTES = 30
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = _login(DjangoClient())
        clock.shift(timedelta(minutes=29))
        assert _signed_in(client)  # activity resets the idle clock
        clock.shift(timedelta(minutes=29))
        assert _signed_in(client)
        clock.shift(timedelta(minutes=31))
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_session_ends_after_max_hours_however_active(org, settings):
    settings.SESSION_IDLE_MINUTES = 30
    settings.SESSION_MAX_HOURS = 12
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = _login(DjangoClient())
        for _ in range(11 * 3):  # a request every 20 minutes for 11 hours
            clock.shift(timedelta(minutes=20))
            assert _signed_in(client)
        clock.shift(timedelta(minutes=61))
        assert not _signed_in(client)
        # A new login starts a new session with a new clock.
        _login(client)
        assert _signed_in(client)


def test_limits_come_from_the_environment(monkeypatch):
    import importlib

    import crm.settings

    monkeypatch.setenv("SESSION_IDLE_MINUTES", "10")
    monkeypatch.setenv("SESSION_MAX_HOURS", "2")
    monkeypatch.setenv("API_TOKEN_DAYS", "7")
    try:
        reloaded = importlib.reload(crm.settings)
        assert reloaded.SESSION_IDLE_MINUTES == 10 and reloaded.SESSION_COOKIE_AGE == 600
        assert reloaded.SESSION_MAX_HOURS == 2 and reloaded.API_TOKEN_DAYS == 7
    finally:
        monkeypatch.undo()
        importlib.reload(crm.settings)


def test_deactivated_user_is_out_at_once_on_pages_and_api(org):
    user = org["east_staff"]
    web = _login(DjangoClient())
    key = web.cookies["sessionid"].value
    api = APIClient()
    token = api.post(reverse("api-token"), {"username": "east_staff", "password": PASSWORD}, format="json")
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    session_api = APIClient()
    session_api.cookies["sessionid"] = key
    assert _signed_in(web) and api.get(reverse("api-me")).status_code == 200
    assert session_api.get(reverse("api-me")).status_code == 200

    user.is_active = False
    user.save(update_fields=["is_active"])

    response = web.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Session.objects.filter(session_key=key).exists()  # flushed, not merely ignored
    assert api.get(reverse("api-me")).status_code == 401
    assert session_api.get(reverse("api-me")).status_code == 401
    assert Token.objects.filter(user=user).exists()  # kept, refused while the user is inactive
