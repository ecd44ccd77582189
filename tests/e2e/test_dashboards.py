"""The managers' dashboards in the browser (issue 16; R35, R5), on the demo data (seed_demo) with
the clock fixed in period 2026-11 (26 October to 25 November): marketing opens the group
dashboard and drills from a chart segment and from the table cells into the records behind
them, whose count is the figure (a grade cell, a period figure, a transition cell); east_manager
opens 看板 from the navigation and sees east only (another branch answers 404); a leader's home
shows the access request marketing forwarded, and no staff panels. The screenshots of both
dashboards are kept; every chart of them has data.

The browser and the live server run in this process, so time_machine moves the server's clock
too (the demo is seeded at the moved clock, as an install on that day would be)."""

import datetime as dt
import re
import zoneinfo
from io import StringIO
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command

from clients.access.services import access_request_create, access_request_forward
from clients.models import Client, Grade
from tests.clients.factories import ClientFactory
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=SHANGHAI)
PERIOD = "2026-11"
REASON = "华东在建项目与本公司深圳前海项目为同一开发商,需了解其过往合作情况与需求。"
CHARTS = ("chart-grades", "chart-history", "chart-funnel")


def load_demo():
    cache.clear()  # the dashboards' cache outlives the database between runs
    call_command("seed_demo", password=PASSWORD, stdout=StringIO())


def list_count(page) -> int:
    """The total of a list page: "共 N 条" under the table, nothing when it is empty."""
    found = re.search(r"共\s*(\d+)\s*条", page.locator("main").inner_text())
    if found:
        return int(found.group(1))
    assert page.locator("tbody tr td[colspan]").count() == 1, page.url  # the "no rows" line
    return 0


def query(url) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def chart_points(page, chart) -> list[int]:
    """Every value of every dataset of a chart."""
    return page.evaluate("id => Chart.getChart(id).data.datasets.flatMap(d => d.data)", chart)


def check_charts(page):
    """Every chart is drawn, from data that is not all zero."""
    for chart in CHARTS:
        assert page.evaluate("id => !!Chart.getChart(id)", chart), chart
        assert sum(chart_points(page, chart)) > 0, chart


def in_chinese(page):
    """No English words on the page (grades A/B/C and labels such as 2026H1 aside)."""
    words = re.findall(r"[A-Za-z]{2,}", page.locator("main").inner_text())
    assert not words, words


def test_group_dashboard_drills_to_the_records(org, journey):
    east, south = org.branches["east"], org.branches["south"]
    with time_machine.travel(NOW, tick=True):
        load_demo()
        page = journey.login("marketing")
        page.locator("nav a[href='/reports/dashboard/']").first.click()
        page.wait_for_load_state()
        assert page.url.endswith("/reports/dashboard/")
        assert "集团客户关系看板 · 2026-11" in page.locator("h1").inner_text()
        assert page.locator("#id_branch").count() == 1  # a group role may pick a branch
        rows = page.locator("[data-testid=grade-table] tbody tr")
        names = [t.split("\t")[0].strip() for t in rows.all_inner_texts()]
        assert str(east) in names and str(south) in names, names
        check_charts(page)
        in_chinese(page)
        off_diagonal = [
            (a, b)
            for a in Grade.values
            for b in Grade.values
            if a != b and int(page.locator(f"a[data-figure=move-{a}-{b}]").inner_text()) > 0
        ]
        assert off_diagonal, "the demo has no grade changes in the half year"
        journey.shot("group_dashboard")

        # A cell of the grade table opens the client list filtered the same way.
        cell = page.locator(f"a[data-figure=grade-{east.pk}-A]")
        expected = int(cell.inner_text())
        assert expected > 0
        cell.click()
        page.wait_for_url("**/clients/?*")
        assert query(page.url) == {"branch": str(east.pk), "grade": "A"}
        assert list_count(page) == expected
        journey.shot("grade_cell_list")
        page.go_back()
        page.wait_for_load_state()

        # A bar of the chart opens the same list: the first dataset (A) of the first branch.
        first = page.evaluate(
            """() => { const c = Chart.getChart('chart-grades'); const bar = c.getDatasetMeta(0).data[0];
                       return {x: bar.x, y: (bar.y + bar.base) / 2, branch: c.data.labels[0]}; }"""
        )
        first_row = page.locator("[data-testid=grade-table] tbody tr").first
        branch_id = first_row.locator("a[data-figure]").first.get_attribute("data-figure").split("-")[1]
        assert first["branch"] == first_row.locator("td").first.inner_text().strip()
        expected = int(page.locator(f"a[data-figure=grade-{branch_id}-A]").inner_text())
        assert expected > 0
        page.locator("canvas#chart-grades").click(position={"x": first["x"], "y": first["y"]})
        page.wait_for_url("**/clients/?*")
        assert query(page.url) == {"branch": branch_id, "grade": "A"}
        assert list_count(page) == expected
        page.go_back()
        page.wait_for_load_state()

        # A figure of the period opens its records: as many rows as the figure says.
        figure = page.locator("a[data-figure=needs_received]")
        expected = int(figure.inner_text())
        figure.click()
        page.wait_for_url("**/reports/dashboard/figures/needs_received/?*")
        assert query(page.url) == {"period": PERIOD}
        assert int(page.locator("[data-testid=row-count]").inner_text()) == expected
        assert expected > 0, "the demo received no needs in the period"
        assert page.locator("[data-testid=figure-rows] tbody tr").count() == expected
        journey.shot("figure_needs_received")
        page.go_back()
        page.wait_for_load_state()

        # A cell off the diagonal of the transition matrix opens the clients that moved.
        a, b = off_diagonal[0]
        cell = page.locator(f"a[data-figure=move-{a}-{b}]")
        expected = int(cell.inner_text())
        cell.click()
        page.wait_for_url("**/reports/dashboard/transitions/?*")
        params = query(page.url)
        assert (params["from"], params["to"]) == (a, b)
        assert int(page.locator("[data-testid=row-count]").inner_text()) == expected
        moved = page.locator("[data-testid=transition-clients] tbody tr")
        assert moved.count() == expected
        assert all(g == f"{b}类" for g in moved.locator("td:nth-child(3)").all_inner_texts())
        journey.shot("transition_clients")
        page.go_back()
        page.wait_for_load_state()

        # A point of the month-by-month chart opens the clients so graded at that period's end.
        point = page.evaluate(
            """() => { const c = Chart.getChart('chart-history'); const i = c.data.labels.length - 2;
                       const p = c.getDatasetMeta(1).data[i];
                       return {x: p.x, y: p.y, period: c.data.labels[i], value: c.data.datasets[1].data[i]}; }"""
        )
        assert point["value"] > 0, "no B client at the end of the last period but one"
        page.locator("summary", has_text="逐月数据").click()
        listed = page.locator(f"a[data-figure=history-{point['period']}-B]")
        assert int(listed.inner_text()) == point["value"]
        page.locator("canvas#chart-history").click(position={"x": point["x"], "y": point["y"]})
        page.wait_for_url("**/reports/dashboard/grades-at/?*")
        assert query(page.url) == {"period": point["period"], "grade": "B"}
        assert int(page.locator("[data-testid=row-count]").inner_text()) == point["value"]
        assert page.locator("[data-testid=transition-clients] tbody tr").count() == point["value"]
        journey.shot("grades_at_period_end")


def test_branch_dashboard_shows_east_only(org, journey):
    east, south = org.branches["east"], org.branches["south"]
    with time_machine.travel(NOW, tick=True):
        load_demo()
        page = journey.login("east_manager")
        page.locator("nav a", has_text="看板").first.click()
        page.wait_for_load_state()
        assert page.url.endswith("/reports/dashboard/")
        assert "分公司客户关系看板 · 2026-11" in page.locator("h1").inner_text()
        assert page.locator("#id_branch").count() == 0
        rows = page.locator("[data-testid=grade-table] tbody tr")
        assert rows.count() == 1
        assert rows.first.inner_text().startswith(str(east))
        assert page.locator(f"a[data-figure^=grade-{south.pk}-]").count() == 0
        check_charts(page)
        in_chinese(page)
        assert page.evaluate("() => Chart.getChart('chart-grades').data.labels") == [str(east)]
        journey.shot("branch_dashboard")

        # The A cell: east's A clients, as many as the cell says.
        cell = page.locator(f"a[data-figure=grade-{east.pk}-A]")
        expected = int(cell.inner_text())
        cell.click()
        page.wait_for_url("**/clients/?*")
        assert list_count(page) == expected
        assert Client.objects.filter(branch=east, grade="A").count() == expected

        response = page.goto(f"{journey.base}/reports/dashboard/?branch={south.pk}")
        assert response.status == 404


def test_leader_home_shows_the_requests_to_approve(org, journey):
    east = org.branches["east"]
    with time_machine.travel(NOW, tick=True):
        target = ClientFactory(name="上海临港新片区开发建设有限公司", branch=east, owner=org["east_staff"])
        request = access_request_create(
            requester=org["south_staff"],
            clients=[target],
            reason=REASON,
            ends_on=NOW.date() + dt.timedelta(days=30),
        )
        access_request_forward(access_request=request, by=org["marketing"], note="理由充分,请领导审批。")

        page = journey.login("leader")
        assert page.url.endswith("/")
        headers = page.locator(".card-header").all_inner_texts()
        panel = page.locator(".card", has=page.locator(".card-header", has_text="待审批的查阅申请"))
        assert panel.count() == 1, headers
        assert panel.locator(".figure").inner_text().strip() == "1"
        item = panel.locator("li")
        assert item.count() == 1
        assert f"#{request.pk}" in item.inner_text() and org.branches["south"].name in item.inner_text()
        assert not any("逾期拜访" in h or "待响应的客户需求" in h for h in headers), headers
        journey.shot("leader_home")
        item.locator("a").click()
        page.wait_for_url(f"**/requests/{request.pk}/")
        assert REASON in page.locator("main").inner_text()

        # The leader's navigation has the group's dashboard too.
        page.locator("nav a", has_text="看板").first.click()
        page.wait_for_load_state()
        assert "集团客户关系看板" in page.locator("h1").inner_text()
        # The four branches and the head office, whose clients are a column of their own.
        rows = page.locator("[data-testid=grade-table] tbody tr")
        assert rows.count() == 5 and "集团总部" in rows.last.inner_text()
