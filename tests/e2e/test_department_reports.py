"""Project departments report to their branch in the browser (seed 001; R80-R83, R74), on a fixed
period, 2026-12 (the departments due by the 22nd, the branch by the 25th): 虹桥's person submits
the department's part; suzhou's is in too; east's manager sees both parts on the branch report,
on time, with their sums, and returns 虹桥's with a reason; 虹桥 records the missing client and
submits again; the branch report shows the corrected part and sums and goes to the group; group
marketing's roll-up shows east with its departments in; the journey ends by downloading 虹桥's
客户信息统计表 and reading it back in the seed's columns. The browser and the live server run in
this process, so time_machine moves both."""

from io import BytesIO

import pytest
import time_machine
from openpyxl import load_workbook

from assessments.deptreports import services
from assessments.models import DepartmentReport, MonthlyReport
from clients.imports.spreadsheet import COLUMNS, EXPORT_ONLY_COLUMNS
from crm.figures import Period
from tests.assessments.dept_helpers import dept_staff
from tests.assessments.helpers import at
from tests.clients.factories import ClientFactory, ContactFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HEADERS = [*COLUMNS, *EXPORT_ONLY_COLUMNS]
HONGQIAO = ("上海虹桥商务区投资发展有限公司", "上海虹桥枢纽建设管理有限公司")
MISSED = "上海虹桥国际会展中心运营有限公司"  # the client the return asks for
SUZHOU = "苏州工业园区科技城开发有限公司"
REASON = "12月会展中心项目的新客户未建档,请补充后重新上报。"


def client(org, name, dcode):
    return ClientFactory(
        name=name,
        branch=org.branches["east"],
        department=org.departments[("east", dcode)],
        owner=org["east_staff"],
    )


def sums(page):
    return int(page.locator("[data-testid=parts-sum] [data-sum=new_clients]").inner_text())


def test_a_month_from_the_department_to_the_group(org, journey):
    hongqiao_staff = dept_staff(org, "east", "pd-hongqiao")
    suzhou_staff = dept_staff(org, "east", "pd-suzhou")
    with time_machine.travel(at("2026-12-05T10:00"), tick=False):
        first = client(org, HONGQIAO[0], "pd-hongqiao")
        ContactFactory(client=first, name="赵建国", position="工程部经理", phone="13900001111")
        client(org, HONGQIAO[1], "pd-hongqiao")
        client(org, SUZHOU, "pd-suzhou")

    # 18 December: 虹桥's person opens the department's part from the navigation and submits it.
    with time_machine.travel(at("2026-12-18T10:00"), tick=True):
        page = journey.login(hongqiao_staff.username)
        page.click("[data-testid=nav-department-reports]")
        page.wait_for_load_state()
        assert page.locator("[data-testid=figure-new_clients]").inner_text().strip() == "2"
        journey.shot("department_draft")
        page.fill("#id_remarks", "本月新增客户2家。")
        page.click("[data-testid=submit]")
        page.wait_for_load_state()
        assert page.locator("[data-testid=status]").inner_text().strip() == "已上报"
        assert page.locator("[data-timeliness=on_time]").count() == 1
        journey.shot("department_submitted")
        services.part_submit(
            part=services.part_open(department=suzhou_staff.department, period=Period(2026, 12)),
            by=suzhou_staff,
        )

    # 19 December: east's manager reads both parts on the branch report and returns 虹桥's.
    with time_machine.travel(at("2026-12-19T09:00"), tick=True):
        page = journey.login("east_manager")
        journey.go("/reports/monthly/current/")
        table = page.locator("[data-testid=department-submissions]")
        hongqiao = org.departments[("east", "pd-hongqiao")]
        row = table.locator(f"tr[data-department='{hongqiao.pk}']")
        assert row.locator("[data-timeliness=on_time]").count() == 1
        assert table.locator("[data-timeliness=pending]").count() == 1  # 杭州: not yet, not late
        assert sums(page) == 3
        journey.shot("branch_parts")
        row.locator("input[name=reason]").fill(REASON)
        row.locator("button").click()
        page.wait_for_load_state()
        row = page.locator(f"[data-testid=department-submissions] tr[data-department='{hongqiao.pk}']")
        assert row.locator("[data-timeliness=returned]").count() == 1 and REASON in row.inner_text()
        assert sums(page) == 1  # only suzhou's part is in
        journey.shot("part_returned")

    # 20 December: 虹桥 records the missing client and submits again, from the notice.
    with time_machine.travel(at("2026-12-20T10:00"), tick=True):
        client(org, MISSED, "pd-hongqiao")
        page = journey.login(hongqiao_staff.username)
        journey.go("/notifications/")
        page.locator("a.list-group-item", has_text="被分公司退回").first.click()
        page.wait_for_load_state()
        assert REASON in page.locator("[data-testid=returned-alert]").inner_text()
        assert page.locator("[data-testid=figure-new_clients]").inner_text().strip() == "3"
        page.click("[data-testid=submit]")
        page.wait_for_load_state()
        history = page.locator("[data-testid=history]").inner_text()
        assert history.count("上报") >= 2 and "退回" in history and REASON in history
        journey.shot("resubmitted")
    part = DepartmentReport.objects.get(department=hongqiao, period="2026-12")
    assert part.on_time is True and part.values["new_clients"] == 3

    # 21 December: the branch report shows the corrected part and the sums, and goes up.
    with time_machine.travel(at("2026-12-21T15:00"), tick=True):
        page = journey.login("east_manager")
        journey.go("/reports/monthly/current/")
        assert sums(page) == 4
        assert page.locator("[data-testid=department-submissions] [data-timeliness=on_time]").count() == 2
        assert page.locator("[data-testid=figure-new_clients]").inner_text().strip() == "4"
        journey.shot("branch_report")
        page.click("[data-testid=submit-form] [data-testid=submit]")
        page.wait_for_load_state()
        assert MonthlyReport.objects.get(branch=org.branches["east"], period="2026-12").status == "submitted"

        # Group marketing's roll-up: east in, with two of its three departments.
        page = journey.login("marketing")
        journey.go("/reports/rollup/?period=2026-12")
        east = org.branches["east"]
        assert "2/3" in page.locator(f"[data-testid=departments-{east.pk}]").inner_text()
        journey.shot("rollup")

        # 虹桥's 客户信息统计表, read back in the seed's columns.
        journey.go(f"/reports/departments/{part.pk}/")
        with page.expect_download() as info:
            page.click("[data-testid=export]")
        journey.shot("export")
        book = load_workbook(BytesIO(open(info.value.path(), "rb").read()))
    assert book.sheetnames[:2] == ["统计数据", "客户信息统计表"]
    assert [c.value for c in book["统计数据"][1]] == ["项目", "虹桥商务区项目经理部"]
    figures = {r[0]: r[1] for r in book["统计数据"].iter_rows(min_row=2, values_only=True)}
    assert figures["新增客户"] == 3
    lines = list(book["客户信息统计表"].iter_rows(values_only=True))
    assert list(lines[0]) == HEADERS
    rows = [dict(zip(HEADERS, line, strict=True)) for line in lines[1:]]
    assert sorted(r["客户单位名称"] for r in rows) == sorted([*HONGQIAO, MISSED])
    assert [r["序号"] for r in rows] == [1, 2, 3]
    row = next(r for r in rows if r["客户单位名称"] == HONGQIAO[0])
    assert row["联系人"] == "赵建国" and row["职务"] == "工程部经理" and row["联系电话"] == "13900001111"
    assert row["所属分公司"] == "华东区域分公司" and row["项目经理部"] == "虹桥商务区项目经理部"
    assert row["统一社会信用代码"] == first.credit_code
    assert SUZHOU not in {r["客户单位名称"] for r in rows}
