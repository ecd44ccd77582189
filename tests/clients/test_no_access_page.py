"""The no-access page (R4, R5): opening another branch's client answers 404 with a Chinese
page that offers an access request for it, the same page as for an id that does not exist (no
existence oracle); the project's own 404 and 403 pages also in development (DEBUG=True)."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from django.urls import reverse

from crm.error_pages import access_request_url
from tests.clients.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def theirs(org):
    return ClientFactory(
        branch=org.branches["east"],
        owner=org["east_staff"],
        name="上海浦江城市建设投资有限公司",
        address="上海市徐汇区龙华中路596号",
    )


def _page(org, username, pk):
    return org.web(username).get(reverse("clients:client-detail", args=[pk]))


def _normalised(response, pk):
    """The page with the requested id and the per-request tokens (CSRF, CSP nonce) taken out."""
    html = response.content.decode()
    html = html.replace(f"clients={pk}", "clients=<ID>").replace(f"/clients/{pk}/", "/clients/<ID>/")
    html = re.sub(r"[A-Za-z0-9]{64}", "<TOKEN>", html)
    return re.sub(r'nonce="[^"]*"', 'nonce=""', html)


@pytest.mark.parametrize("debug", [False, True])
def test_another_branchs_client_shows_the_chinese_no_access_page(org, theirs, debug):
    with override_settings(DEBUG=debug):
        response = _page(org, "south_staff", theirs.pk)
    assert response.status_code == 404
    html = response.content.decode()
    assert "不在您的客户档案范围内" in html and "申请查阅该客户" in html
    assert "Page not found" not in html and "Traceback" not in html
    link = reverse("clients:access-request-create") + f"?clients={theirs.pk}"
    assert f'href="{link}"' in html
    # Nothing of the record: not its name, address, branch or owner.
    branch = org.branches["east"]
    for secret in (theirs.name, theirs.address, branch.name, str(branch), org["east_staff"].full_name):
        assert secret not in html


@pytest.mark.parametrize("debug", [False, True])
def test_a_missing_id_looks_exactly_like_an_out_of_scope_one(org, theirs, debug):
    missing = theirs.pk + 1000
    with override_settings(DEBUG=debug):
        out_of_scope = _page(org, "south_staff", theirs.pk)
        absent = _page(org, "south_staff", missing)
    assert out_of_scope.status_code == absent.status_code == 404
    assert [t.name for t in out_of_scope.templates][:1] == [t.name for t in absent.templates][:1]
    assert _normalised(out_of_scope, theirs.pk) == _normalised(absent, missing)


def test_the_link_prefills_the_request_form_with_name_and_branch_only(org, theirs):
    response = org.web("south_staff").get(reverse("clients:access-request-create"), {"clients": theirs.pk})
    assert response.status_code == 200
    assert response.context["selected"] == [theirs]
    html = response.content.decode()
    assert theirs.name in html and str(theirs.branch) in html
    assert theirs.address not in html and theirs.credit_code not in html
    # An id of one's own branch or one that does not exist prefills nothing.
    own = ClientFactory(branch=org.branches["south"], owner=org["south_staff"])
    for pk in (own.pk, theirs.pk + 1000, "x"):
        page = org.web("south_staff").get(reverse("clients:access-request-create"), {"clients": pk})
        assert page.context["selected"] == []


def test_offer_only_to_branch_users_on_client_pages(org, theirs, rf):
    request = rf.get("/")
    request.user = org["south_staff"]
    assert access_request_url(request) is None  # not a client page
    # Group roles see every client; an unknown id is the plain project 404 for them.
    with override_settings(DEBUG=True):
        response = _page(org, "marketing", theirs.pk + 1000)
    assert response.status_code == 404
    assert "申请查阅该客户" not in response.content.decode()
    assert "页面或记录不存在" in response.content.decode()


@override_settings(DEBUG=True)
def test_project_pages_in_development(org):
    web = org.web("south_staff")
    unknown = web.get("/no-such-page/")
    assert unknown.status_code == 404 and "页面或记录不存在" in unknown.content.decode()
    # A role refusal: the project's 403 page, with its message.
    refused = org.web("norole").get(reverse("clients:client-list"))
    assert refused.status_code == 403 and "无权访问" in refused.content.decode()
    # The API keeps its JSON answers.
    api = org.api("south_staff").get(reverse("client-detail", args=[999999]))
    assert api.status_code == 404 and api["Content-Type"].startswith("application/json")
