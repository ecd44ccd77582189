"""The quarterly client need analysis report journey (seed 003, 三(四): «根据需求分类、评估和整合结果,
撰写客户需求分析报告 ... 定期召开需求分析会议,对需求分析报告进行讨论和审核»; R65-R69): east_manager
opens last quarter's report, finds its parts pre-filled from the quarter's needs, edits one,
records the need analysis meeting with a decision, submits the report and records the meeting's
conclusion; group marketing reads it and follows a figure to its list. The clock is fixed (the
live server runs in this process, time_machine moves it)."""

import pytest
import time_machine

from assessments.models import NeedAnalysisReport
from clients import services as archive
from clients.models import Need
from tests.assessments.helpers import at
from tests.clients.factories import ClientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

IN_Q3 = at("2026-08-12T10:00")
NOW = at("2026-10-09T10:00")
NAME = "宁波北仑港城置业有限公司"
EDIT = "BIM深化设计需求集中在施工图阶段,多为首次合作后的派生需求。"


def _needs(org):
    client = ClientFactory(name=NAME, branch=org.branches["east"], owner=org["east_staff"], grade="A")
    with time_machine.travel(IN_Q3, tick=False):
        for category, urgency, value in (("product", "urgent", "high"), ("service", "important", "medium"),
                                         ("service", "general", "")):  # fmt: skip
            need = Need(
                client=client,
                category=category,
                urgency=urgency,
                description=f"{category}需求:施工图阶段提供BIM管线综合",
                value_assessment=value,
                feasibility=value,
            )
            archive.need_create(need=need, by=org["east_staff"])


def test_a_branch_writes_its_need_analysis_report_and_marketing_reads_it(org, journey):
    _needs(org)
    with time_machine.travel(NOW, tick=True):
        page = journey.login("east_manager")
        journey.go("/reports/need-analysis/")
        page.select_option("#id_open_quarter", "2026Q3")
        journey.shot("list")
        page.click("[data-testid=open-report]")
        page.wait_for_url("**/reports/need-analysis/*/")
        report = NeedAnalysisReport.objects.get(branch=org.branches["east"], quarter="2026Q3")
        assert page.locator("[data-testid=prefilled-overview]").is_visible()
        assert "收到客户需求 3 条" in page.locator("#id_overview").input_value()
        assert "紧急 1 条、重要 1 条、一般 1 条" in page.locator("#id_analysis").input_value()
        assert page.locator("a[data-figure=needs_received]").first.inner_text().strip() == "3"
        journey.shot("prefilled")

        text = page.locator("#id_analysis").input_value().replace("(请补充)", EDIT)
        page.fill("#id_analysis", text)
        page.click("[data-testid=save-report]")
        page.wait_for_load_state()
        assert "报告内容已保存" in page.content()
        report.refresh_from_db()
        assert EDIT in report.analysis and "收到客户需求 3 条" in report.overview
        assert page.locator("[data-testid=prefilled-analysis]").count() == 0
        journey.shot("saved")

        page.fill("#id_m-held_on", "2026-10-09")
        page.fill("#id_m-place", "华东区域分公司三楼会议室")
        for who in ("east_manager", "east_staff", "marketing"):
            page.check(f"[data-testid=attendee-choices] input[value='{org[who].pk}']")
        page.fill("#id_m-minutes", "逐项讨论报告五个部分,核对响应及时率和完成率明细。")
        page.fill("#id_m-d0_text", "对BIM深化需求出具实施方案并报价")
        page.select_option("#id_m-d0_owner", str(org["east_staff"].pk))
        page.fill("#id_m-d0_due_on", "2026-10-23")
        journey.shot("meeting_form")
        page.click("[data-testid=record-meeting]")
        page.wait_for_load_state()
        meeting = page.locator("[data-testid=meeting]")
        assert "对BIM深化需求出具实施方案并报价" in meeting.inner_text()
        assert "进行中" in meeting.locator("[data-testid=decision]").inner_text()
        journey.shot("meeting_recorded")

        page.click("[data-testid=submit-report]")
        page.wait_for_load_state()
        assert page.locator("h1 [data-testid=status]").inner_text().strip() == "待会议审核"
        journey.shot("submitted")
        page.select_option("#id_r-meeting", str(report.meetings.get().pk))
        page.check("#id_r-outcome_0")
        page.click("[data-testid=record-review]")
        page.wait_for_load_state()
        assert page.locator("h1 [data-testid=status]").inner_text().strip() == "审核通过"
        assert page.locator("[data-testid=accepted]").is_visible()
        assert "提交需求分析会议审核" in page.locator("[data-testid=timeline]").inner_text()
        journey.shot("accepted")
        report.refresh_from_db()
        assert report.status == "accepted" and report.values["needs_received"] == 3

        page = journey.login("marketing")
        journey.go("/reports/need-analysis/")
        row = page.locator("[data-testid=report-row]", has_text="2026Q3")
        assert row.count() == 1 and "审核通过" in row.inner_text()
        row.locator("[data-testid=report-link]").click()
        page.wait_for_url(f"**/reports/need-analysis/{report.pk}/")
        assert EDIT in page.locator("[data-testid=text-analysis]").inner_text()
        assert page.locator("[data-testid=parts-form]").count() == 0
        journey.shot("marketing_reads")
        page.click("a[data-figure=needs_received-value-high]")
        page.wait_for_load_state()
        assert page.locator("[data-testid=row-count]").inner_text().strip() == "1"
        assert NAME in page.locator("[data-testid=figure-rows]").inner_text()
        journey.shot("figure_list")
