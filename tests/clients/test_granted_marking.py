"""Clients seen only through an active access grant (R5) are marked: the archive list shows
授权查阅 with the end date and can be filtered to them; their page shows a banner with the
grant and its end and hides the write buttons a read-only grant cannot use."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.access.selectors import grant_of, granted_only
from tests.clients.factories import ClientFactory
from tests.clients.grants import make_grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(org):
    theirs = ClientFactory(
        branch=org.branches["east"], owner=org["east_staff"], name="上海申虹投资发展有限公司"
    )
    ended = ClientFactory(
        branch=org.branches["east"], owner=org["east_staff"], name="上海虹桥商务区管理有限公司"
    )
    own = ClientFactory(
        branch=org.branches["south"], owner=org["south_staff"], name="深圳前海建设投资有限公司"
    )
    grant = make_grant(org, org["south_staff"], theirs, active=True)
    make_grant(org, org["south_staff"], ended, active=False)
    return theirs, ended, own, grant


def test_selectors_name_the_clients_seen_only_through_a_grant(org, setup):
    theirs, ended, own, grant = setup
    assert granted_only(org["south_staff"]) == {theirs.pk: grant}
    assert grant_of(org["south_staff"], theirs) == grant
    assert grant_of(org["south_staff"], own) is None and grant_of(org["south_staff"], ended) is None
    assert granted_only(org["marketing"]) == {} and grant_of(org["east_staff"], theirs) is None


def test_list_marks_granted_clients_and_filters_to_them(org, setup):
    theirs, _ended, own, grant = setup
    web = org.web("south_staff")
    response = web.get(reverse("clients:client-list"))
    rows = {c.pk: c for c in response.context["page"].object_list}
    assert rows[theirs.pk].access_grant == grant and rows[own.pk].access_grant is None
    html = response.content.decode()
    assert html.count('data-testid="granted-badge"') == 1
    from django.utils import translation

    from crm.templatetags.crm_tags import last_day

    with translation.override("zh-hans"):
        said = last_day(grant.ends_at)  # the grant's last day, as people say it
    assert f"授权查阅 至{said}" in html.replace("\n", "")
    assert 'data-testid="filter-granted"' in html
    only = web.get(reverse("clients:client-list"), {"granted": "only"})
    assert [c.pk for c in only.context["page"].object_list] == [theirs.pk]
    # Without grants the filter is not offered and nothing is marked.
    plain = org.web("east_staff").get(reverse("clients:client-list")).content.decode()
    assert "granted-badge" not in plain and "filter-granted" not in plain


def test_granted_clients_page_has_a_banner_and_no_write_buttons(org, setup):
    theirs, _ended, own, grant = setup
    web = org.web("south_staff")
    html = web.get(reverse("clients:client-detail", args=[theirs.pk])).content.decode()
    # The tabs with write buttons, as they are loaded into the page (htmx): none either.
    for tab in ("complaints", "surveys", "contacts"):
        html += web.get(
            reverse("clients:client-tab", args=[theirs.pk, tab]), HTTP_HX_REQUEST="true"
        ).content.decode()
    # The grant's last day as people say it (its end is the first instant after that day).
    last = timezone.localtime(grant.ends_at).date() - dt.timedelta(days=1)
    assert 'data-testid="grant-banner"' in html and f"{last.month}月{last.day}日" in html
    assert reverse("complaints:complaint-create") + f"?client={theirs.pk}" not in html
    assert reverse("surveys:survey-create") + f"?client={theirs.pk}" not in html
    assert reverse("clients:client-edit", args=[theirs.pk]) not in html
    # The own branch's client: no banner, the buttons are there.
    html = web.get(reverse("clients:client-detail", args=[own.pk])).content.decode()
    for tab in ("complaints", "surveys"):
        html += web.get(
            reverse("clients:client-tab", args=[own.pk, tab]), HTTP_HX_REQUEST="true"
        ).content.decode()
    assert "grant-banner" not in html
    assert reverse("complaints:complaint-create") + f"?client={own.pk}" in html
    assert reverse("surveys:survey-create") + f"?client={own.pk}" in html
