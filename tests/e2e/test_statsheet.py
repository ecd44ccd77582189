"""The 客户信息统计表 in the browser (R74, R75), on a fixed period, 2026-12: east_manager downloads his
branch's monthly report and reads back, beside the figures, the clients new or changed in the
report's window in the seed's columns; then one project department's part. After the half-year
re-grading, design's staff member (no client of design moved) follows the notice of the new
A/B/C list to the branch's archive list and downloads it: design's clients only, A before B
before C. The browser and the live server run in this process, so time_machine moves both."""

from io import BytesIO

import pytest
import time_machine
from openpyxl import load_workbook

from assessments.review import services as review
from clients.imports.spreadsheet import COLUMNS, EXPORT_ONLY_COLUMNS
from clients.services import client_update
from crm.figures import HalfYear
from tests.assessments.helpers import at
from tests.clients.factories import ClientFactory, ContactFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HEADERS = [*COLUMNS, *EXPORT_ONLY_COLUMNS]
NEW = ("上海虹桥商务区投资发展有限公司", "苏州工业园区科技城开发有限公司")
EDITED = "上海浦东老客户开发有限公司"
QUIET = "上海嘉定未变更置业有限公司"


def download(page, journey, label):
    with page.expect_download() as info:
        page.click("[data-testid=export]")
    journey.shot(label)
    return load_workbook(BytesIO(open(info.value.path(), "rb").read()))


def table(sheet):
    lines = list(sheet.iter_rows(values_only=True))
    assert list(lines[0]) == HEADERS
    return [dict(zip(HEADERS, line, strict=True)) for line in lines[1:]]


def test_a_branch_downloads_its_client_information_statistics_form(org, journey):
    east = org.branches["east"]
    hongqiao, suzhou = org.departments[("east", "pd-hongqiao")], org.departments[("east", "pd-suzhou")]
    with time_machine.travel(at("2026-11-10T10:00"), tick=False):
        edited = ClientFactory(name=EDITED, branch=east, department=suzhou, owner=org["east_staff"])
        ClientFactory(name=QUIET, branch=east, owner=org["east_staff"])
    with time_machine.travel(at("2026-12-05T10:00"), tick=False):
        first = ClientFactory(name=NEW[0], branch=east, department=hongqiao, owner=org["east_staff"])
        ContactFactory(client=first, name="赵建国", position="工程部经理", phone="13900001111")
        ClientFactory(name=NEW[1], branch=east, department=suzhou, owner=org["east_staff"])
        client_update(client=edited, by=org["east_staff"], data={"address": "上海市浦东新区张杨路500号"})
    with time_machine.travel(at("2026-12-20T10:00"), tick=True):
        page = journey.login("east_manager")
        page.locator("a[href='/reports/monthly/current/']").first.click()
        page.wait_for_load_state()
        journey.shot("report")
        book = download(page, journey, "downloaded")
        assert book.sheetnames[:2] == ["统计数据", "客户信息统计表"]
        figures = {r[0]: r[1] for r in book["统计数据"].iter_rows(min_row=2, values_only=True)}
        assert figures["新增客户"] == 2 and figures["档案变更客户"] == 1
        rows = table(book["客户信息统计表"])
        assert sorted(r["客户单位名称"] for r in rows) == sorted([*NEW, EDITED])
        assert [r["序号"] for r in rows] == [1, 2, 3]
        row = next(r for r in rows if r["客户单位名称"] == NEW[0])
        assert row["联系人"] == "赵建国" and row["职务"] == "工程部经理" and row["联系电话"] == "13900001111"
        assert row["所属分公司"] == "华东区域分公司" and row["项目经理部"] == "虹桥商务区项目经理部"
        assert row["填报人"] == "李娜" and row["统一社会信用代码"] == first.credit_code
        assert next(r for r in rows if r["客户单位名称"] == EDITED)["单位地址"] == "上海市浦东新区张杨路500号"

        # One project department's part: its figures and its clients.
        page.select_option("#id_department", str(suzhou.pk))
        page.wait_for_url(f"**department={suzhou.pk}**")
        journey.shot("department")
        book = download(page, journey, "department_downloaded")
        assert [c.value for c in book["统计数据"][1]] == ["项目", "苏州工业园项目经理部"]
        assert sorted(r["客户单位名称"] for r in table(book["客户信息统计表"])) == sorted([NEW[1], EDITED])


def test_every_branch_follows_the_notice_of_its_new_list(org, journey, django_capture_on_commit_callbacks):
    design = org.branches["design"]
    ClientFactory(
        name="上海建筑设计研究院合作方有限公司", branch=design, owner=org["design_staff"], grade="B"
    )
    ClientFactory(name="上海城投设计咨询有限公司", branch=design, owner=org["design_staff"], grade="A")
    moved = ClientFactory(
        name="杭州未来科技城开发有限公司", branch=org.branches["east"], owner=org["east_staff"]
    )
    summary = review.summary_open(HalfYear(2026, 1))
    review.regrading_propose(
        summary=summary, by=org["marketing"], client=moved, to_grade="A", reason="二期项目已立项,合作需求明确"
    )
    review.regrading_apply(summary=summary, by=org["marketing"])

    page = journey.login("design_staff")
    journey.go("/notifications/")
    notice = page.locator("a.list-group-item", has_text="重新分级后的A、B、C类客户清单")
    assert notice.count() == 1
    assert "调整本单位客户 0 家" in notice.inner_text()
    journey.shot("notice")
    notice.click()
    page.wait_for_url(f"**/clients/?branch={design.pk}&sort=grade")
    journey.shot("list")
    book = download(page, journey, "list_downloaded")
    rows = table(book.active)
    assert [(r["客户单位名称"], r["客户分级"]) for r in rows] == [
        ("上海城投设计咨询有限公司", "A"),
        ("上海建筑设计研究院合作方有限公司", "B"),
    ]
    assert {r["所属分公司"] for r in rows} == {"建筑设计专业分公司"}
