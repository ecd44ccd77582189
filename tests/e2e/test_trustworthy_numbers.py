"""Numbers a person can trust (design.md, "Figures"; R26, R27, R33, R35), in the browser.

1. Group marketing reads the group dashboard in English, then switches back to Chinese with the
   page's language switcher: the Chinese page shows Chinese stage and figure labels, none left
   over in English from the cached English answer. Then it follows five figures by clicking them
   (a branch's grade cell, a grade total, a stage of the funnel chart, a period figure, and the
   head office's column: 集团总部 owns clients and is a column of its own), and every list behind
   a figure states the figure as its total.
2. East submits its monthly report with two new clients, one owned by the staff member, one by a
   colleague; then east's archive query is suspended (as a 差 rating does). The staff member
   opens the submitted report, follows 新增客户 and sees only his own client, with a note that
   another record is hidden; the list's Excel export holds his client alone; the colleague's
   client does not open by its URL either.

The browser and the live server run in this process, so time_machine moves the server's clock
too."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from io import BytesIO
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.core.cache import cache
from openpyxl import load_workbook

from assessments.monthly import services
from clients.models import Client
from crm import figures as fig
from crm.access import scope_changed
from crm.models import Role, Suspension, User
from crm.services import user_set_role
from tests.clients.factories import ClientFactory, NeedFactory
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


# ------------------------------------------------------------------------------------ helpers


def query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def number(locator) -> int:
    return int(locator.inner_text().strip().replace(",", ""))


def list_total(page) -> int:
    """The total a list page states: the archive lists' 共 N 条 (``list-total``), or the badge of
    a figure's list (``row-count``)."""
    total = page.locator("[data-testid=list-total]")
    if total.count():
        return int(total.first.get_attribute("data-count"))
    return number(page.locator("[data-testid=row-count]"))


def switch_language(page, code: str):
    """As a person does it: the language menu in the header (it submits itself on change)."""
    with page.expect_navigation():
        page.select_option("header select[name=language]", code)
    page.wait_for_load_state()


def funnel_labels(page) -> list[str]:
    return page.evaluate("() => Chart.getChart('chart-funnel').data.labels")


def english_words(page) -> list[str]:
    """English words in the page's main part (grades A/B/C and period labels have none)."""
    return re.findall(r"[A-Za-z]{2,}", page.locator("main").inner_text())


# ------------------------------------------------------------------ 1. the group's dashboard

DASHBOARD_NOW = at("2026-11-18T10:00")
DASHBOARD_PERIOD = "2026-11"  # 26 October to 25 November


def record_the_group(org) -> dict:
    """Clients of east, south and the head office, graded and staged, with needs received in the
    period: every figure the journey follows is more than zero."""
    east, south, hq = (org.branches[c] for c in ("east", "south", "hq"))
    made = {
        "east": [
            ClientFactory(
                name="上海虹桥枢纽开发建设有限公司", branch=east, owner=org["east_staff"], grade="A"
            ),
            ClientFactory(
                name="苏州高铁新城投资发展有限公司", branch=east, owner=org["east_staff"], grade="A"
            ),
            ClientFactory(
                name="杭州钱江新城建设管理有限公司",
                branch=east,
                owner=org["east_manager"],
                grade="B",
                stage="intended",
            ),
        ],
        "south": [
            ClientFactory(
                name="深圳湾科技园区开发有限公司", branch=south, owner=org["south_staff"], grade="A"
            ),
            ClientFactory(
                name="广州南沙新区城市建设有限公司",
                branch=south,
                owner=org["south_staff"],
                grade="C",
                stage="signed",
            ),
        ],
        "hq": [
            ClientFactory(
                name="中国城市更新投资集团有限公司",
                branch=hq,
                owner=org["marketing"],
                grade="B",
                stage="partner",
            ),
            ClientFactory(name="长三角一体化发展投资有限公司", branch=hq, owner=org["marketing"], grade="A"),
        ],
    }
    for client, text in (
        (made["east"][0], "希望提前提供枢纽二期施工组织方案"),
        (made["east"][2], "希望增派驻场造价工程师"),
        (made["south"][0], "希望增加夜间施工降噪措施"),
        (made["hq"][0], "希望集团统一协调城市更新项目设计资源"),
    ):
        NeedFactory(client=client, description=text, response_due_at=DASHBOARD_NOW + dt.timedelta(days=2))
    return made


def test_group_dashboard_in_both_languages_and_its_figures_are_their_lists(org, journey):
    east, hq = org.branches["east"], org.branches["hq"]
    with time_machine.travel(DASHBOARD_NOW, tick=True):
        cache.clear()  # the dashboards' cache outlives the database between runs
        made = record_the_group(org)
        everyone = [c for clients in made.values() for c in clients]

        # Marketing opens the dashboard from the navigation, and reads it in English first: the
        # English answer is the one now in the cache.
        page = journey.login("marketing")
        page.locator("nav a[href='/reports/dashboard/']").first.click()
        page.wait_for_load_state()
        assert page.url.endswith("/reports/dashboard/")
        switch_language(page, "en")
        assert page.url.endswith("/reports/dashboard/")
        assert page.locator("html").get_attribute("lang") == "en"
        assert "Potential client" in funnel_labels(page)
        assert "New clients" in page.locator("main").inner_text()
        journey.shot("dashboard_english")

        # ... then back to Chinese: Chinese labels, nothing English left over from the cache.
        switch_language(page, "zh-hans")
        assert page.url.endswith("/reports/dashboard/")
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        assert f"集团客户关系看板 · {DASHBOARD_PERIOD}" in page.locator("h1").inner_text()
        labels = funnel_labels(page)
        assert "潜在客户" in labels and "合作伙伴客户" in labels, labels
        main = page.locator("main").inner_text()
        assert "新增客户" in main and "收到需求" in main
        html = page.content()
        for english in ("Potential client", "Partner client", "New clients", "Needs received"):
            assert english not in html, english
        assert not english_words(page), english_words(page)
        rows = page.locator("[data-testid=grade-table] tbody tr")
        names = [t.split("\t")[0].strip() for t in rows.all_inner_texts()]
        assert names[-1] == "集团总部", names  # the head office: a column of its own, last
        journey.shot("dashboard_chinese")

        def follow(locator, url_glob: str, label: str) -> dict:
            """Click a figure, check its list states the same total, come back."""
            expected = number(locator)
            assert expected > 0, label
            locator.click()
            page.wait_for_url(url_glob)
            assert list_total(page) == expected, (label, page.url)
            journey.shot(label)
            params = query(page.url)
            page.go_back()
            page.wait_for_load_state()
            return {"expected": expected, "params": params}

        # 1. A grade cell of a branch: east's A clients.
        seen = follow(page.locator(f"a[data-figure=grade-{east.pk}-A]"), "**/clients/?*", "east_grade_A")
        assert seen["params"] == {"branch": str(east.pk), "grade": "A"}
        assert seen["expected"] == 2

        # 2. A grade total: the group's A clients, the head office's included.
        seen = follow(page.locator("a[data-figure=grade-total-A]"), "**/clients/?*", "total_grade_A")
        assert seen["params"] == {"grade": "A"}
        assert seen["expected"] == sum(1 for c in everyone if c.grade == "A") == 4

        # 3. A stage of the funnel: its bar in the chart opens the clients at that stage.
        bar = page.evaluate(
            """() => { const c = Chart.getChart('chart-funnel'); const i = c.data.labels.indexOf('潜在客户');
                       const b = c.getDatasetMeta(0).data[i];
                       return {x: (b.x + b.base) / 2, y: b.y, value: c.data.datasets[0].data[i]}; }"""
        )
        expected = sum(1 for c in everyone if c.stage == "potential")
        assert bar["value"] == expected == 4
        page.locator("canvas#chart-funnel").click(position={"x": bar["x"], "y": bar["y"]})
        page.wait_for_url("**/clients/?*")
        assert query(page.url) == {"stage": "potential"}
        assert list_total(page) == expected
        journey.shot("funnel_potential")
        page.go_back()
        page.wait_for_load_state()

        # 4. A figure of the period: the needs received, every branch and the head office.
        seen = follow(
            page.locator("a[data-figure=needs_received]"),
            "**/reports/dashboard/figures/needs_received/?*",
            "needs_received",
        )
        assert seen["params"] == {"period": DASHBOARD_PERIOD}
        assert seen["expected"] == 4

        # 5. The head office's column: its clients, counted as a column of its own.
        seen = follow(page.locator(f"a[data-figure=grade-{hq.pk}-total]"), "**/clients/?*", "hq_column")
        assert seen["params"] == {"branch": str(hq.pk)}
        assert seen["expected"] == len(made["hq"]) == 2

        # The grand total is the sum of the columns, the head office's included.
        assert number(page.locator("a[data-figure=grade-total-all]")) == len(everyone)


# ------------------------------------------------ 2. a suspended branch's submitted report

REPORT_NOW = at("2026-12-20T10:00")
REPORT_PERIOD = fig.Period(2026, 12)
MINE = "上海张江科学城建设管理有限公司"
THEIRS = "苏州独墅湖科教创新区开发有限公司"
REASON = "2026H1 客户关系维护成效考核结果为“差”"


def colleague_of(org) -> User:
    """A second member of east's business department (the demo has one staff member a branch)."""
    user = User.objects.create_user("east_staff2", password=PASSWORD, full_name="陈晓东")
    return user_set_role(
        user=user, role=Role.STAFF, branch=org.branches["east"], department=org.departments[("east", "biz")]
    )


def test_a_suspended_staff_member_sees_only_his_own_rows_of_a_submitted_report(org, journey):
    east = org.branches["east"]
    biz = org.departments[("east", "biz")]
    with time_machine.travel(REPORT_NOW, tick=True) as clock:
        colleague = colleague_of(org)
        mine = ClientFactory(name=MINE, branch=east, department=biz, owner=org["east_staff"])
        theirs = ClientFactory(name=THEIRS, branch=east, department=biz, owner=colleague)

        # The manager submits the report, before any suspension: both clients are frozen in it.
        report = services.report_open(branch=east, period=REPORT_PERIOD)
        report = services.report_submit(report=report, by=org["east_manager"])
        report.refresh_from_db()
        assert report.values["new_clients"] == 2

        # Before the suspension the staff member sees both rows (the control).
        page = journey.login("east_staff")
        journey.go(f"/reports/monthly/{report.pk}/")
        page.click("[data-testid=figure-new_clients]")
        page.wait_for_url(f"**/reports/monthly/{report.pk}/figures/new_clients/*")
        assert list_total(page) == 2
        assert page.locator("[data-testid=hidden-rows]").count() == 0
        journey.shot("before_suspension")

        # East's archive query is suspended for a month, as a 差 rating does.
        clock.move_to(at("2026-12-21T09:00"))
        Suspension.objects.create(
            branch=east,
            kind=Suspension.Kind.ARCHIVE,
            reason=REASON,
            starts_at=dt.datetime.now(tz=SHANGHAI),
            ends_at=at("2027-01-21T09:00"),
        )
        scope_changed()

        # The staff member opens the report: the figure as frozen, and the suspension's banner.
        page = journey.login("east_staff")
        journey.go(f"/reports/monthly/{report.pk}/")
        assert REASON in page.locator("[data-testid=suspension]").inner_text()
        link = page.locator("[data-testid=figure-new_clients]")
        assert number(link) == 2  # the report says what was submitted
        journey.shot("report_suspended")

        # ... follows 新增客户: his own client only, and a note that one record is hidden.
        link.click()
        page.wait_for_url(f"**/reports/monthly/{report.pk}/figures/new_clients/*")
        rows = page.locator("[data-testid=figure-rows] tbody tr")
        assert rows.count() == 1
        assert MINE in rows.first.inner_text() and "李娜" in rows.first.inner_text()
        assert THEIRS not in page.content() and "陈晓东" not in page.content()
        assert list_total(page) == 1
        hidden = page.locator("[data-testid=hidden-rows]")
        assert "另有 1 条记录" in hidden.inner_text()
        assert list_total(page) + int(re.search(r"另有 (\d+) 条", hidden.inner_text()).group(1)) == 2
        journey.shot("figure_own_rows_only")

        # ... exports the list: the workbook holds his client alone.
        with page.expect_download() as info:
            page.click("[data-testid=export]")
        download = info.value
        assert download.suggested_filename.endswith(".xlsx"), download.suggested_filename
        sheet = load_workbook(BytesIO(Path(download.path()).read_bytes()), read_only=True).active
        lines = [line for line in sheet.iter_rows(values_only=True) if any(v not in (None, "") for v in line)]
        cells = [str(v) for line in lines for v in line if v is not None]
        assert len(lines) == 2, lines  # the header and his client
        assert MINE in lines[1], lines
        assert not any(THEIRS in c or "陈晓东" in c for c in cells), lines

        # ... and the colleague's client does not open by its URL either; his own does.
        response = page.goto(f"{journey.base}/clients/{theirs.pk}/")
        assert response.status == 404
        assert THEIRS not in page.content()
        assert page.locator("[data-testid=no-access-suspended]").count() == 1
        journey.shot("colleague_client_refused")
        response = page.goto(f"{journey.base}/clients/{mine.pk}/")
        assert response.status == 200 and MINE in page.locator("h1").inner_text()
        assert Client.objects.filter(pk=theirs.pk).exists()  # hidden, not gone


@pytest.mark.parametrize("width,height", [(1366, 860), (390, 844)])
def test_the_rollup_shows_every_column_on_a_laptop_and_a_phone(org, journey, width, height):
    """The roll-up's 27 figure columns scroll sideways under a branch column that stays in view,
    with a cue that says so; every cell is a link to its list."""
    with time_machine.travel(at("2026-12-20T10:00"), tick=True):
        ClientFactory(branch=org.branches["east"], owner=org["east_staff"])
        journey.page.set_viewport_size({"width": width, "height": height})
        page = journey.login("marketing")
        journey.go("/reports/rollup/?period=2026-12")
        table = page.locator("[data-testid=rollup-table]")
        columns = table.locator("thead th[data-column]").count()
        assert columns == len(fig.figures()) + len(fig.rates()), columns  # every figure and rate
        assert page.locator("[data-testid=scroll-cue]").is_visible() or width >= 1600
        first = table.locator("tbody tr").first.locator("td").first
        assert first.evaluate("td => getComputedStyle(td).position") == "sticky"
        scroller = page.locator(".crm-rollup-scroll")
        wide = scroller.evaluate("el => el.scrollWidth > el.clientWidth")
        assert wide, "the table should scroll sideways at this width"
        left = first.bounding_box()["x"]
        scroller.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
        page.wait_for_timeout(100)
        assert abs(first.bounding_box()["x"] - left) < 2, "the branch column moved away"
        journey.shot(f"rollup_{width}_scrolled")
        links = table.locator("tbody td[data-value] a[data-figure]").count()
        assert links == columns * table.locator("tbody tr").count()
