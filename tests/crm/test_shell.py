"""The UI and API shell: login, lockout (django-axes), home, search, error pages, token, me."""

import pytest
from axes.models import AccessAttempt
from django.test import Client as DjangoClient
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ROUTES_COVERED = ["home", "global-search", "api-me", "branch-list", "branch-detail"]


def login(username, password, ip="10.1.1.1"):
    client = DjangoClient(REMOTE_ADDR=ip)
    return client, client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_login_and_chinese_home(org):
    client, response = login("east_staff", PASSWORD)
    assert response.status_code == 302
    page = client.get(reverse("home"))
    text = page.content.decode()
    assert page.status_code == 200 and "工作台" in text and "华东区域分公司" in text


def test_home_panel_with_figures_only_renders_no_empty_rows(org):
    """A panel without "items" must not fall back to dict.items() in the template."""
    client, _ = login("east_staff", PASSWORD)
    text = client.get(reverse("home")).content.decode()
    assert '<a href=""></a>' not in text


def test_403_page_shows_the_reason_given_by_the_view(org):
    client, _ = login("east_staff", PASSWORD)
    response = client.get(reverse("clients:client-transfer-search"))
    assert response.status_code == 403
    assert "只有集团市场营销部可以转移客户。" in response.content.decode()


def test_anonymous_home_redirects_to_login(org):
    response = DjangoClient().get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_lockout_is_per_user_and_ip_and_cools_off(org, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login("east_staff", "wrong")
    _, locked = login("east_staff", PASSWORD)
    assert locked.status_code == 429 and "账号已临时锁定" in locked.content.decode()
    # Another user on the same office IP, and the same user elsewhere, are unaffected.
    assert login("east_manager", PASSWORD)[1].status_code == 302
    assert login("east_staff", PASSWORD, ip="10.9.9.9")[1].status_code == 302
    # After the cool-off the lock ends.
    from datetime import timedelta

    from django.utils import timezone

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(hours=1))
    assert login("east_staff", PASSWORD)[1].status_code == 302


def test_navigation_follows_role(org):
    staff = org.web("east_staff").get(reverse("home")).content.decode()
    admin = org.web("admin").get(reverse("home")).content.decode()
    assert "系统管理" not in staff
    assert "系统管理" in admin


def test_english_is_selectable(org):
    web = org.web("east_staff")
    web.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert 'lang="en"' in web.get(reverse("home")).content.decode()


def test_friendly_404(org):
    response = org.web("east_staff").get("/no-such-page/")
    assert response.status_code == 404 and "不在您的查阅范围内" in response.content.decode()


def test_search_page_answers(org):
    assert org.web("east_staff").get(reverse("global-search"), {"q": "华"}).status_code == 200
    assert org.web(None).get(reverse("global-search"), {"q": "华"}).status_code == 302


def test_api_token_and_me(org):
    api = org.api(None)
    bad = api.post(reverse("api-token"), {"username": "east_staff", "password": "nope"}, format="json")
    assert bad.status_code == 400
    token = api.post(reverse("api-token"), {"username": "east_staff", "password": PASSWORD}, format="json")
    assert token.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    me = api.get(reverse("api-me")).json()
    assert me["username"] == "east_staff" and me["role"] == "staff" and me["branch"]["code"] == "east"
    assert api.get(reverse("api-me")).status_code == 200
    assert org.api(None).get(reverse("api-me")).status_code in (401, 403)


def test_api_branches_restricted(org):
    staff = org.api("east_staff").get(reverse("branch-list")).json()
    assert staff["count"] == 1 and staff["results"][0]["code"] == "east"
    assert set(staff) == {"count", "next", "previous", "results"}
    assert org.api("leader").get(reverse("branch-list")).json()["count"] == 5
    south = org.branches["south"]
    assert org.api("east_staff").get(reverse("branch-detail", args=[south.pk])).status_code == 404
    assert org.api("norole").get(reverse("branch-list")).status_code == 403
    assert org.api(None).get(reverse("branch-list")).status_code in (401, 403)


def test_schema_is_valid():
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
