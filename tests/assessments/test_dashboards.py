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
        # The month-by-month chart: each point is the list of the clients so graded then.
        for point in data["grade_history"]:
            for grade in ("A", "B", "C"):
                assert _count(web, point["urls"][grade]) == point[grade], (point["period"], grade)
                checked += 1
        page = web.get("/reports/dashboard/", {"period": "2026-12"}).content.decode()
        assert 'data-figure="history-2026-12-A"' in page and "/reports/dashboard/grades-at/" in page
    assert checked >= 3 + 36
    by_period = {p["period"]: p for p in data["grade_history"]}
    east_a = "east" if who == "east_manager" else None
    # The client graded B in May and A in December: B at the end of 2026-11, A at 2026-12.
    assert (by_period["2026-11"]["A"], by_period["2026-12"]["A"]) == (0, 1), east_a
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
    for bad in ({"period": "2026-13", "grade": "A"}, {"period": "2026-12", "grade": "D"}, {"grade": "A"}):
        assert web.get("/reports/dashboard/grades-at/", bad).status_code == 404, bad
    assert web.get("/reports/dashboard/", {"period": "2026-13"}).status_code == 200  # falls back, says why
    assert org.api("marketing").get("/api/dashboard/", {"period": "2026-13"}).status_code == 400


ROUTES_COVERED = (
    "assessments:dashboard",
    "assessments:dashboard-figure",
    "assessments:dashboard-transitions",
    "assessments:dashboard-grades-at",
    "api-dashboard",
)


def test_transitions_since_a_date(org):
    a = _data(org)
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        data = selectors.compute(org["marketing"], period=DEC, since=dt.date(2026, 6, 1))
    moved = {(r["from"], c["to"]): c["value"] for r in data["transitions"]["matrix"] for c in r["cells"]}
    assert moved[("B", "A")] == 1 and a.pk


def test_a_point_of_the_month_by_month_chart_lists_only_what_the_reader_may_see(org):
    _data(org)
    url = "/reports/dashboard/grades-at/"
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        params = {"period": "2026-12", "grade": "C"}
        assert org.web(None).get(url, params).status_code == 302
        for who in ("east_staff", "norole"):
            assert org.web(who).get(url, params).status_code == 403
        manager = org.web("east_manager")
        assert manager.get(url, {**params, "branch": org.branches["south"].pk}).status_code == 404
        mine = {c.branch for c in manager.get(url, params).context["clients"]}
        assert mine == {org.branches["east"]}
        group = {c.branch for c in org.web("leader").get(url, params).context["clients"]}
        assert group == {org.branches["east"], org.branches["south"]}
        south = org.web("marketing").get(url, {**params, "branch": org.branches["south"].pk})
        assert {c.branch for c in south.context["clients"]} == {org.branches["south"]}
        # Before the clients were created (May 2026), the list is empty, as the chart's point.
        assert org.web("marketing").get(url, {"period": "2026-04", "grade": "C"}).context["count"] == 0


def test_the_head_office_clients_are_a_column_of_their_own_on_every_surface(org):
    """The group HQ (集团总部) owns clients: it is a column of the dashboard, and every group total
    (grades, funnel, period figures, overdue visits, the Excel 合计) is the sum of its columns and
    the length of the list behind it."""
    from io import BytesIO

    from openpyxl import load_workbook

    _data(org)
    with time_machine.travel(at("2026-12-05T10:00"), tick=False):
        from tests.clients.factories import ClientFactory

        hq = ClientFactory(branch=org.branches["hq"], owner=org["marketing"], grade="A")
        new_need(hq)
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        web = org.web("marketing")
        data = web.get("/api/dashboard/", {"period": "2026-12"}).json()
        names = [b["name"] for b in data["branches"]]
        assert names[-1] == str(org.branches["hq"])
        hq_row = next(r for r in data["grades"]["rows"] if r["branch_id"] == org.branches["hq"].pk)
        assert {c["grade"]: c["value"] for c in hq_row["cells"]}["A"] == 1
        for total in data["grades"]["totals"]:
            column = sum(
                c["value"] for r in data["grades"]["rows"] for c in r["cells"] if c["grade"] == total["grade"]
            )
            assert total["value"] == column == _count(web, total["url"]), total
        assert data["grades"]["total"] == _count(web, data["grades"]["url"])
        for row in data["grades"]["rows"]:
            assert row["total"] == _count(web, row["url"]), row
        assert sum(s["value"] for s in data["funnel"]) == data["grades"]["total"]
        for f in data["figures"]:
            assert f["value"] == sum(b["value"] for b in f["branches"]) == _count(web, f["url"]), f["key"]
        needs = next(f for f in data["figures"] if f["key"] == "needs_received")
        assert needs["value"] == 3  # east, south and the HQ
        assert _count(web, data["overdue_visits"]["url"]) == data["overdue_visits"]["value"]
        sheet = load_workbook(BytesIO(web.get("/reports/dashboard/", {"export": "figures"}).content)).active
        rows = list(sheet.iter_rows(values_only=True))
        for row in rows[1:]:
            if row[0] == needs["label"]:
                assert row[1] == sum(row[2:]) == 3
                break
        else:
            raise AssertionError("the figure is missing from the export")
        grades = list(
            load_workbook(
                BytesIO(web.get("/reports/dashboard/", {"export": "grades"}).content)
            ).active.iter_rows(values_only=True)
        )
        assert grades[-1][4] == data["grades"]["total"] == sum(r[4] for r in grades[1:-1])
        # The head office does not report monthly: no status row of its own.
        assert str(org.branches["hq"]) not in [r["branch"] for r in data["report_status"]]


def test_the_cached_dashboard_answers_in_the_readers_language(org):
    _data(org)
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        web = org.web("marketing")
        english = web.get("/api/dashboard/", HTTP_ACCEPT_LANGUAGE="en").json()
        chinese = web.get("/api/dashboard/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
        page = web.get("/reports/dashboard/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert english["funnel"][0]["label"] == "Potential client"
    assert chinese["funnel"][0]["label"] == "潜在客户"
    labels = {f["key"]: f["label"] for f in chinese["figures"]}
    assert labels["new_clients"] == "新增客户"
    assert "新增客户" in page and "Potential client" not in page and "New clients" not in page
    # The page says its period figures are live, and where the frozen ones are.
    assert 'data-testid="live-note"' in page and "实时数据" in page


def test_the_cache_key_follows_the_readers_scope(org):
    """A suspension changes what a manager may see at once, not when the cache expires."""
    with time_machine.travel(at("2026-12-05T10:00"), tick=False):
        new_client(org, "east")
        new_client(org, "east")
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        user = org["east_manager"]
        assert sum(c["value"] for c in selectors.dashboard(user, period=DEC)["grades"]["totals"]) == 2
        Suspension.objects.create(
            branch=org.branches["east"], kind="archive", reason="考核结果为差", ends_at=at("2027-01-20T10:00")
        )
        user.refresh_from_db()  # a new request: the scope is read again; no dashboard bump happened
        assert sum(c["value"] for c in selectors.dashboard(user, period=DEC)["grades"]["totals"]) == 0


def test_a_chosen_branch_shows_its_own_satisfaction(org):
    from surveys import services as surveys
    from surveys.models import SurveyTemplate
    from tests.surveys.conftest import ensure_shipped_templates, make_client, scores_for

    ensure_shipped_templates()
    template = SurveyTemplate.objects.get(code="standard")
    with time_machine.travel(at("2026-12-10T10:00"), tick=False):
        for code, low in (("east", ()), ("south", tuple(range(40)))):
            client = make_client(org, code)
            survey = surveys.survey_create(by=org[f"{code}_staff"], client=client, template=template)
            surveys.survey_enter_paper(
                survey=survey,
                by=org[f"{code}_staff"],
                scores=scores_for(template, low=low),
                respondent="张工",
            )
    with time_machine.travel(at("2026-12-20T10:00"), tick=False):
        web = org.web("marketing")
        group = web.get("/api/dashboard/").json()["satisfaction"]["rows"]
        east = web.get("/api/dashboard/", {"branch": org.branches["east"].pk}).json()["satisfaction"]["rows"]
        south = web.get("/api/dashboard/", {"branch": org.branches["south"].pk}).json()["satisfaction"][
            "rows"
        ]
    first = {r["dimension"]: r for r in group}
    for r in east:
        assert r["actual"] == 1.0, r  # east answered 5 everywhere
        assert r["answers"] < first[r["dimension"]]["answers"]
    assert all(r["actual"] == 0.0 for r in south)  # south answered 1 everywhere
