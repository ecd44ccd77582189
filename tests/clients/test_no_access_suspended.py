"""A branch whose archive query is suspended after a 差 rating (R33): its manager opening a client
of his own branch that he is not the account owner of is told about the suspension, why and
until when, not that the client belongs to another branch, and is offered no access request
(none can be filed meanwhile). The page is the same for every id he cannot open (no existence
oracle, R4); his own clients still open; when the suspension ends the page opens again
(issue 22)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import Suspension
from tests.clients.factories import ClientFactory

pytestmark = pytest.mark.django_db

REASON = "2026H1 客户关系维护成效考核结果为“差”"


@pytest.fixture
def suspended(org):
    ends = timezone.localtime().replace(microsecond=0) + dt.timedelta(days=20)
    return Suspension.objects.create(
        branch=org.branches["south"], kind=Suspension.Kind.ARCHIVE, reason=REASON, ends_at=ends
    )


def _page(org, username, pk):
    return org.web(username).get(reverse("clients:client-detail", args=[pk]))


def _body(response) -> str:
    html = response.content.decode()
    return html[html.index("<main") :]


def test_a_suspended_manager_opening_a_colleagues_client_is_told_about_the_suspension(org, suspended):
    colleagues = ClientFactory(branch=org.branches["south"], owner=org["south_staff"])
    response = _page(org, "south_manager", colleagues.pk)
    assert response.status_code == 404
    html = _body(response)
    box = html[html.index('data-testid="no-access-suspended"') :]
    box = box[: box.index("</div>")]  # the page's own text, not the layout's banner
    until = timezone.localtime(suspended.ends_at)
    assert REASON in box and f"{until.month}月{until.day}日" in box and until.strftime("%H:%M") in box
    assert "本人负责" in box
    # Not the other-branch page: no "not in your archive", no access request offered.
    assert "不在您的客户档案范围内" not in html and 'data-testid="no-access"' not in html
    assert "申请查阅该客户" not in html and reverse("clients:access-request-create") not in html
    assert colleagues.name not in html


def test_the_suspension_page_is_the_same_for_every_id(org, suspended):
    colleagues = ClientFactory(branch=org.branches["south"], owner=org["south_staff"])
    theirs = ClientFactory(branch=org.branches["east"], owner=org["east_staff"])
    ids = (colleagues.pk, theirs.pk, theirs.pk + 1000)
    pages = [(_page(org, "south_manager", pk), pk) for pk in ids]
    assert {p.status_code for p, _pk in pages} == {404}

    def normalised(response, pk):
        text = _body(response).replace(f"/clients/{pk}/", "/clients/<ID>/")
        return re.sub(r'nonce="[^"]*"', "", re.sub(r"[A-Za-z0-9]{64}", "<TOKEN>", text))

    bodies = {normalised(p, pk) for p, pk in pages}
    assert len(bodies) == 1


def test_own_clients_still_open_and_the_page_opens_again_when_the_suspension_ends(org, suspended):
    mine = ClientFactory(branch=org.branches["south"], owner=org["south_manager"])
    colleagues = ClientFactory(branch=org.branches["south"], owner=org["south_staff"])
    assert _page(org, "south_manager", mine.pk).status_code == 200
    suspended.ends_at = timezone.now() - dt.timedelta(minutes=1)
    suspended.save()
    assert _page(org, "south_manager", colleagues.pk).status_code == 200


def test_without_a_suspension_another_branchs_client_still_offers_a_request(org, suspended):
    theirs = ClientFactory(branch=org.branches["south"], owner=org["south_staff"])
    response = _page(org, "east_manager", theirs.pk)  # east is not suspended
    html = _body(response)
    assert response.status_code == 404 and 'data-testid="no-access"' in html
    assert "申请查阅该客户" in html and 'data-testid="no-access-suspended"' not in html
