"""The client page renders what is seen first (header, overview, the tabs' counts) and loads
each tab when it is opened, from the tab's own address: a fragment for htmx, a page of its own
without (a link, a reload). Every tab reads through restrict() and answers as the page does
for every role (style.md 10); a tab opened on the page is not logged as a second read (R4);
the print view holds every tab."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients import panels
from clients.models import AccessLog
from crm.models import Suspension
from tests.clients.factories import ContactFactory, ProjectFactory
from tests.permissions import GROUP_READERS

from .archive_helpers import make_client, make_need
from .grants import make_grant

pytestmark = pytest.mark.django_db

TAB_KEYS = (
    "contacts",
    "projects",
    "needs",
    "visits",
    "cultivation",
    "complaints",
    "analyses",
    "surveys",
    "history",
)
HX = {"HTTP_HX_REQUEST": "true"}


def tab_url(client, key):
    return reverse("clients:client-tab", kwargs={"pk": client.pk, "tab": key})


def page_url(client):
    return reverse("clients:client-detail", kwargs={"pk": client.pk})


def test_every_tab_is_registered():
    assert [t.key for t in panels.tabs()] == list(TAB_KEYS)


# ----------------------------------------------------------------------------- the matrix


@pytest.mark.parametrize("key", TAB_KEYS)
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_tab_matrix(org, key, headers):
    """Anonymous -> login, no role -> 403, own branch and group roles -> 200, another
    branch's staff -> 404, the same with an active grant -> 200 and an expired one -> 404."""
    c = make_client(org, "east")
    url = tab_url(c, key)
    response = org.web(None).get(url, **headers)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert org.web("norole").get(url, **headers).status_code == 403
    assert org.web("east_staff").get(url, **headers).status_code == 200
    assert org.web("east_manager").get(url, **headers).status_code == 200
    for reader in GROUP_READERS:
        assert org.web(reader).get(url, **headers).status_code == 200, reader
    assert org.web("south_staff").get(url, **headers).status_code == 404
    assert org.web("south_manager").get(url, **headers).status_code == 404
    grant = make_grant(org, org["south_staff"], c, active=True)
    assert org.web("south_staff").get(url, **headers).status_code == 200
    grant.ends_at = grant.starts_at
    grant.save(update_fields=["ends_at"])
    assert org.web("south_staff").get(url, **headers).status_code == 404


@pytest.mark.parametrize("key", TAB_KEYS)
def test_tab_of_a_suspended_branch(org, key):
    """R33: under an archive suspension a branch's people open only the clients they own."""
    Suspension.objects.create(
        branch=org.branches["east"],
        kind=Suspension.Kind.ARCHIVE,
        reason="考核结果为差",
        ends_at=timezone.now() + dt.timedelta(days=20),
    )
    colleagues = make_client(org, "east", owner=org["east_manager"])
    own = make_client(org, "east", owner=org["east_staff"])
    assert org.web("east_staff").get(tab_url(colleagues, key)).status_code == 404
    assert org.web("east_staff").get(tab_url(colleagues, key), **HX).status_code == 404
    assert org.web("east_staff").get(tab_url(own, key), **HX).status_code == 200


def test_unknown_tab_not_found(org):
    c = make_client(org, "east")
    assert org.web("east_staff").get(tab_url(c, "nothing")).status_code == 404
    assert org.web("east_staff").get(tab_url(c, "overview")).status_code == 404


# ----------------------------------------------------------------------------- what is rendered


def test_page_renders_the_overview_and_the_counts_not_the_tabs(org):
    c = make_client(org, integrity_good=True, credit_good=True)
    ContactFactory(client=c, name="王建国")
    ContactFactory(client=c, name="李秀英")
    ProjectFactory(client=c, name="太湖新城项目")
    make_need(org, client=c)
    html = org.web("east_staff").get(page_url(c)).content.decode()
    assert 'data-testid="suggestion"' in html and "诚信良好" in html
    assert 'id="count-contacts">2<' in html and 'id="count-projects">1<' in html
    assert 'id="count-needs">1<' in html and 'id="count-complaints">0<' in html
    assert "王建国" not in html and "太湖新城项目" not in html  # loaded when opened
    for key in TAB_KEYS:
        url = tab_url(c, key)
        assert f'href="{url}" hx-get="{url}" hx-target="#tab-pane" hx-push-url="true"' in html


def test_tab_fragment_for_htmx_and_a_page_without(org):
    c = make_client(org)
    ContactFactory(client=c, name="王建国")
    web = org.web("east_staff")
    fragment = web.get(tab_url(c, "contacts"), **HX)
    html = fragment.content.decode()
    assert "王建国" in html and "<html" not in html and 'id="client-tabs"' not in html
    assert "HX-Request" in fragment["Vary"]
    page = web.get(tab_url(c, "contacts")).content.decode()
    assert "王建国" in page and 'id="client-tabs"' in page and "<html" in page
    assert 'class="nav-link active" role="tab" aria-selected="true" href="' + tab_url(c, "contacts") in page
    assert 'data-testid="suggestion"' not in page
    # The back button restores from the server: a history-restore request gets the whole page.
    restore = web.get(tab_url(c, "contacts"), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert 'id="client-tabs"' in restore.content.decode()


def test_print_view_holds_every_tab(org):
    c = make_client(org)
    ContactFactory(client=c, name="王建国")
    ProjectFactory(client=c, name="太湖新城项目")
    web = org.web("east_staff")
    page = web.get(page_url(c)).content.decode()
    assert f'href="{page_url(c)}?print=1"' in page
    html = web.get(page_url(c) + "?print=1").content.decode()
    assert "data-autoprint" in html and 'id="client-tabs"' not in html
    for key in ("overview", *TAB_KEYS):
        assert f'id="{key}" data-tab="{key}"' in html, key
    assert "王建国" in html and "太湖新城项目" in html and 'data-testid="grade-history"' in html


# ----------------------------------------------------------------------------- R4


def test_a_tab_opened_on_the_page_is_not_a_second_read(org):
    c = make_client(org)
    make_grant(org, org["south_staff"], c, active=True)
    web = org.web("south_staff")
    assert web.get(page_url(c)).status_code == 200
    for key in TAB_KEYS:
        assert web.get(tab_url(c, key), **HX).status_code == 200
    log = AccessLog.objects.get()
    assert (log.user, log.client, log.via, log.path) == (org["south_staff"], c, "page", page_url(c))
    assert log.grant is not None
    # A tab's address opened as a page (a link, a reload) is a page view: logged.
    web.get(tab_url(c, "needs"))
    assert AccessLog.objects.count() == 2


def test_a_tab_loaded_by_itself_is_logged(org):
    """Asking for tabs alone, with no page viewed, does not read unlogged: the first writes a
    row; a tab after the window writes another."""
    from clients.access.log import TAB_READ_WINDOW_SECONDS

    c = make_client(org)
    make_grant(org, org["south_staff"], c, active=True)
    web = org.web("south_staff")
    web.get(tab_url(c, "contacts"), **HX)
    web.get(tab_url(c, "needs"), **HX)
    log = AccessLog.objects.get()
    assert log.path == tab_url(c, "contacts") and log.grant is not None
    AccessLog.objects.update(at=timezone.now() - dt.timedelta(seconds=TAB_READ_WINDOW_SECONDS + 1))
    web.get(tab_url(c, "needs"), **HX)
    assert AccessLog.objects.count() == 2


def test_own_branch_and_group_reads_of_tabs_are_not_logged(org):
    c = make_client(org)
    for user in ("east_staff", "marketing", "auditor"):
        org.web(user).get(tab_url(c, "contacts"), **HX)
    assert not AccessLog.objects.exists()


# ----------------------------------------------------------------------------- query budgets

# The client page's first-seen part (header, overview, counts on the tabs): session, user (with
# its branch and unread count), permissions and branch scope, the branch's suspensions, grants,
# the client with every count and fact, its tags, the satisfaction fact.
PAGE_BUDGET = 8
# A tab loaded into the page: the page's first five, the client, the tab's rows (and theirs).
TAB_BUDGETS = {
    "contacts": 7,
    "projects": 8,  # the projects (with their design fee, R56) and their on-site service records (R60)
    "needs": 7,
    "visits": 8,
    "complaints": 8,
    "surveys": 9,
    "history": 9,
}


def _fill(org, client, n):
    """``n`` rows in every tab of ``client``."""
    from clients import services
    from clients.models import Visit

    for i in range(n):
        ContactFactory(client=client, name=f"联系人{i}")
        ProjectFactory(client=client, name=f"项目{i}")
        make_need(org, client=client)
        services.visit_record(visit=Visit(client=client, channel="visit", notes=f"走访{i}"), by=client.owner)
        services.client_set_grade(client=client, grade="ABC"[i % 3], reason=f"调整{i}", by=org["marketing"])


def _count(web, url, **headers):
    web.get(url, **headers)  # the session's first request stamps its activity
    with CaptureQueriesContext(connection) as ctx:
        response = web.get(url, **headers)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.mark.parametrize("user", ["east_staff", "marketing"])
def test_query_budgets_do_not_grow_with_the_rows(org, user):
    small, large = make_client(org), make_client(org)
    _fill(org, small, 1)
    _fill(org, large, 6)
    web = org.web(user)
    counts = {c: _count(web, page_url(c)) for c in (small, large)}
    assert counts[small] == counts[large] <= PAGE_BUDGET, counts
    for key, budget in TAB_BUDGETS.items():
        counts = {c: _count(web, tab_url(c, key), **HX) for c in (small, large)}
        assert counts[small] == counts[large] <= budget, (key, counts)


ROUTES_COVERED = ["clients:client-tab"]  # test_tab_matrix, test_tab_of_a_suspended_branch
