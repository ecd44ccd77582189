"""The managers' dashboards (R35): each figure equals the list behind it, everything through
restrict (a manager's branch only; a suspended branch counts what its people may see), the cache
drops what changed, the API gives the same figures with their URLs, bounded queries."""

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache

from assessments.dashboards import selectors
from clients.services import client_set_grade
from crm import figures as fig
from crm.models import Suspension

from .helpers import at, new_client, new_need

pytestmark = pytest.mark.django_db

DEC = fig.Period(2026, 12)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def _data(org):
    with time_machine.travel(at("2026-05-01T10:00"), tick=False):
        a = new_client(org, "east")
        new_client(org, "east", stage="signed")
        new_client(org, "south")
        client_set_grade(client=a, grade="B", by=org["marketing"], reason="合作稳定")
    with time_machine.travel(at("2026-12-05T10:00"), tick=False):
        client_set_grade(client=a, grade="A", by=org["marketing"], reason="重点项目")
        new_need(new_client(org, "east"))
        new_need(new_client(org, "south"))
    return a


def _count(web, url) -> int:
    response = web.get(url)
    assert response.status_code == 200, url
    context = response.context
    if "page" in context:
        return context["page"].paginator.count
    return context["count"]


@pytest.mark.parametrize("who", ["marketing", "east_manager"])
def test_every_figure_equals_the_list_behind_it(org, who):
    _data(org)
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        web = org.web(who)  # signed in at the moved clock (sessions expire when idle)
        data = web.get("/api/dashboard/", {"period": "2026-12"}).json()
        checked = 0
        for row in data["grades"]["rows"]:
            for cell in row["cells"]:
                assert _count(web, cell["url"]) == cell["value"], cell
                checked += 1
        for cell in data["grades"]["totals"] + data["funnel"]:
            assert _count(web, cell["url"]) == cell["value"], cell
        for f in data["figures"]:
            assert _count(web, f["url"]) == f["value"], f
        for row in data["transitions"]["matrix"]:
            for cell in row["cells"]:
                assert _count(web, cell["url"]) == cell["value"], cell
        assert _count(web, data["overdue_visits"]["url"]) == data["overdue_visits"]["value"]
    assert checked >= 3
    moved = {(r["from"], c["to"]): c["value"] for r in data["transitions"]["matrix"] for c in r["cells"]}
    assert moved[("B", "A")] == 1  # graded B in May, A in December
    figures = {f["key"]: f["value"] for f in data["figures"]}
    assert figures["needs_received"] == (2 if who == "marketing" else 1)


def test_a_manager_sees_their_branch_only(org):
    _data(org)
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        mine = org.api("east_manager").get("/api/dashboard/").json()
        assert [b["name"] for b in mine["branches"]] == [str(org.branches["east"])]
        assert (
            org.api("east_manager").get("/api/dashboard/", {"branch": org.branches["south"].pk}).status_code
            == 400
        )
        assert (
            org.web("east_manager")
            .get("/reports/dashboard/", {"branch": org.branches["south"].pk})
            .status_code
            == 404
        )
        group = org.api("leader").get("/api/dashboard/", {"branch": org.branches["south"].pk}).json()
        assert [b["name"] for b in group["branches"]] == [str(org.branches["south"])]
    for who in ("east_staff", "norole"):
        assert org.web(who).get("/reports/dashboard/").status_code == 403
        assert org.api(who).get("/api/dashboard/").status_code == 403
    assert org.api(None).get("/api/dashboard/").status_code == 401


def test_a_suspended_branch_counts_only_what_its_people_may_see(org):
    with time_machine.travel(at("2026-12-05T10:00"), tick=False):
        mine = new_client(org, "east")
        mine.owner = org["east_manager"]
        mine.save()
        new_client(org, "east")
        new_client(org, "east")
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        before = org.api("east_manager").get("/api/dashboard/").json()
        assert sum(c["value"] for c in before["grades"]["totals"]) == 3
        Suspension.objects.create(
            branch=org.branches["east"], kind="archive", reason="考核结果为差", ends_at=at("2027-01-20T10:00")
        )
        from crm.access import scope_changed

        scope_changed()
        after = org.api("east_manager").get("/api/dashboard/").json()
    assert sum(c["value"] for c in after["grades"]["totals"]) == 1


def test_the_cache_serves_until_what_it_counts_changes(org, django_assert_max_num_queries):
    _data(org)
    user = org["marketing"]
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        first = selectors.dashboard(user, period=DEC)
        with django_assert_max_num_queries(2):
            assert selectors.dashboard(user, period=DEC) == first
        new_client(org, "design")
        second = selectors.dashboard(user, period=DEC)
    figures = {f["key"]: f["value"] for f in second["figures"]}
    assert figures["new_clients"] == {f["key"]: f["value"] for f in first["figures"]}["new_clients"] + 1


def test_the_dashboard_reads_a_bounded_number_of_queries(org, django_assert_max_num_queries):
    _data(org)
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        cache.clear()
        with django_assert_max_num_queries(70):
            selectors.compute(org["marketing"], period=DEC)
        web = org.web("marketing")
        web.get("/reports/dashboard/")
        with django_assert_max_num_queries(25):
            page = web.get("/reports/dashboard/")  # cached figures
    assert page.status_code == 200 and "chart-grades" in page.content.decode()


def test_tables_export_to_excel(org):
    from io import BytesIO

    from openpyxl import load_workbook

    _data(org)
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        web = org.web("marketing")
        data = web.get("/api/dashboard/").json()
        for table in ("grades", "history", "transitions", "figures", "funnel"):
            response = web.get("/reports/dashboard/", {"export": table})
            assert response.status_code == 200, table
            sheet = load_workbook(BytesIO(response.content)).active
            assert sheet.max_row >= 2, table
        sheet = load_workbook(BytesIO(web.get("/reports/dashboard/", {"export": "grades"}).content)).active
        rows = {r[0]: r[1:4] for r in sheet.iter_rows(min_row=2, values_only=True)}
        for row in data["grades"]["rows"]:
            assert list(rows[row["branch"]]) == [c["value"] for c in row["cells"]]
        assert web.get("/reports/dashboard/", {"export": "nope"}).status_code == 404


def test_bad_filters(org):
    web = org.web("marketing")
    assert (
        web.get(
            "/reports/dashboard/transitions/", {"start": "x", "end": "2026-12-01", "from": "A", "to": "B"}
        ).status_code
        == 404
    )
    assert (
        web.get(
            "/reports/dashboard/transitions/",
            {"start": "2026-12-01", "end": "2026-01-01", "from": "A", "to": "B"},
        ).status_code
        == 404
    )
    assert web.get("/reports/dashboard/figures/nope/").status_code == 404
    assert web.get("/reports/dashboard/", {"period": "2026-13"}).status_code == 200  # falls back, says why
    assert org.api("marketing").get("/api/dashboard/", {"period": "2026-13"}).status_code == 400


ROUTES_COVERED = (
    "assessments:dashboard",
    "assessments:dashboard-figure",
    "assessments:dashboard-transitions",
    "api-dashboard",
)


def test_transitions_since_a_date(org):
    a = _data(org)
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        data = selectors.compute(org["marketing"], period=DEC, since=dt.date(2026, 6, 1))
    moved = {(r["from"], c["to"]): c["value"] for r in data["transitions"]["matrix"] for c in r["cells"]}
    assert moved[("B", "A")] == 1 and a.pk
