"""Response headers: the Content-Security-Policy on every main page, the usual others, and no
inline script or on*= handler left in the templates."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

MAIN_PAGES = [
    "home",
    "global-search",
    "notification-list",
    "clients:client-list",
    "complaints:complaint-list",
    "surveys:survey-list",
    "api-docs",
]


def _csp(response):
    return dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip()
    )


@pytest.mark.parametrize("name", MAIN_PAGES)
def test_main_pages_send_the_csp_and_security_headers(org, name):
    response = org.web("leader").get(reverse(name))
    assert response.status_code == 200, name
    csp = _csp(response)
    assert csp["script-src"] == "'self'"
    assert csp["default-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'self'" and csp["form-action"] == "'self'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "camera=()" in response["Permissions-Policy"]
    if name != "api-docs":  # Swagger UI sets its own opener policy
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_login_page_and_api_send_the_csp(client):
    assert "script-src 'self'" in client.get(reverse("login"))["Content-Security-Policy"]
    assert "Content-Security-Policy" in client.get(reverse("api-me"))


def test_templates_have_no_inline_script_or_handlers():
    inline = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
    handler = re.compile(r"\son[a-z]+\s*=", re.I)
    offenders = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        text = path.read_text()
        if inline.search(text) or handler.search(text) or "javascript:" in text:
            offenders.append(str(path))
    assert not offenders
