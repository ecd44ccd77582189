"""The weekly tracking check in the browser (seed 003: «每周对需求处理进度进行一次跟踪检查,及时更新跟踪
台账», «及时发现问题并协调解决»; R70-R73): the job has made this week's check of east; east_manager
opens the tracking ledger from the navigation, goes to the week's check, sees what it found,
records the 协调解决 of a finding, and exports the ledger's overdue needs to Excel, which holds
exactly the rows the page shows. The clock is fixed on Monday 7 December 2026 (the live server runs
in this process; time_machine moves it)."""

from io import BytesIO

import openpyxl
import pytest
import time_machine

from clients import services as need_services
from clients.models import Need, NeedCheck
from clients.tracking import services
from tests.assessments.helpers import at
from tests.clients.factories import ClientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOW = at("2026-12-07T10:00")
NAME = "杭州钱塘新城开发建设有限公司"
LONG = "希望在方案阶段增加海绵城市专项设计,并提供雨水回用计算书"
URGENT = "售楼处幕墙玻璃出现裂纹,要求立即派人到现场查看"


def _need(org, client, text, when, urgency):
    with time_machine.travel(at(when), tick=False):
        need = Need(client=client, category="service", urgency=urgency, description=text)
        return need_services.need_create(need=need, by=org["east_staff"])


def test_east_manager_records_the_coordination_of_the_weeks_check_and_exports_the_ledger(org, journey):
    client = ClientFactory(name=NAME, branch=org.branches["east"], owner=org["east_staff"], grade="A")
    long_open = _need(org, client, LONG, "2026-11-16T10:00", "important")
    with time_machine.travel(at("2026-11-17T10:00"), tick=False):
        need_services.need_respond(need=long_open, by=org["east_staff"], note="已安排给排水专业评估")
    _need(org, client, URGENT, "2026-12-04T16:00", "urgent")
    with time_machine.travel(NOW, tick=True):
        services.need_checks_catch_up(branch=org.branches["east"])
        check = NeedCheck.objects.get(branch=org.branches["east"])
        assert check.week == "2026-W50" and check.findings.count() == 2

        page = journey.login("east_manager")
        page.click("[data-testid=nav-need-ledger]")
        page.wait_for_url("**/clients/needs/tracking/")
        assert page.locator("[data-testid=ledger-row]").count() == 2
        journey.shot("ledger")
        page.click("[data-testid=checks]")
        page.wait_for_url("**/clients/needs/tracking/checks/")
        journey.shot("checks")
        row = page.locator("[data-testid=check-row]", has_text="2026-W50")
        assert row.count() == 1
        row.locator("[data-testid=check-link]").click()
        page.wait_for_url(f"**/clients/needs/tracking/checks/{check.pk}/")
        assert page.locator("[data-testid=found]").inner_text().strip() == "2"
        finding = page.locator("[data-testid=finding-row]", has_text="海绵城市")
        assert "办理超期" in finding.inner_text()
        assert "响应逾期" in page.locator("[data-testid=finding-row]", has_text="幕墙玻璃").inner_text()
        journey.shot("check")
        finding.locator("textarea").fill("已约给排水专业负责人周三与客户会商,周五前书面答复。")
        finding.locator("[data-testid=save-remark]").click()
        page.wait_for_url(f"**/clients/needs/tracking/checks/{check.pk}/#finding-*")
        finding = page.locator("[data-testid=finding-row]", has_text="海绵城市")
        assert "周五前书面答复" in finding.locator("[data-testid=remark]").inner_text()
        assert "周五前书面答复" in page.locator("[data-testid=timeline]").inner_text()
        journey.shot("remark_recorded")
        assert check.findings.get(need=long_open).remarked_by == org["east_manager"]

        journey.go("/clients/needs/tracking/?overdue=any&sort=received")
        shown = [
            page.locator("[data-testid=ledger-row]").nth(i).locator("[data-testid=need-link]").inner_text()
            for i in range(page.locator("[data-testid=ledger-row]").count())
        ]
        assert len(shown) == 2
        journey.shot("ledger_overdue")
        with page.expect_download() as download:
            page.click("[data-testid=export]")
        assert download.value.suggested_filename.startswith("需求跟踪台账")
        with open(download.value.path(), "rb") as saved:
            sheet = openpyxl.load_workbook(BytesIO(saved.read())).active
        rows = list(sheet.values)
        assert rows[0][2] == "需求内容"
        assert [r[2] for r in rows[1:]] == [LONG, URGENT]
        assert [r[2][:20] for r in rows[1:]] == [s.rstrip("…")[:20] for s in shown]
        assert rows[1][11] == "超期未办结" and rows[2][9] == "逾期未响应"
