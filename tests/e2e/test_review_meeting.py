"""The half-year review meeting journey (seed 001, 三(二)Ⅱ4: «集团公司市场营销部每半年组织各分子公司召开
一次“客户关系管理工作研讨会”通报半年来客户关系维护成果»; «对于考核结果优良的部门,由集团公司市场营销部撰文
上报集团领导»; R87-R93): group marketing records the round's meeting with a decision, generates
the circular from the round, edits and issues it; east's manager finds it unread on his home
page and opens it, and group marketing sees his read receipt; group marketing writes up east's
commendation from its indicators and sends it; the leader's home shows it. The clock is fixed
(the live server runs in this process, time_machine moves it)."""

import pytest
import time_machine

from assessments.models import Circular, CircularReceipt, LeaderReport, ReviewMeeting
from tests.assessments.meeting_helpers import NOW, rated_round

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_marketing_holds_the_meeting_issues_the_circular_and_reports_to_the_leader(org, journey):
    rated_round(org)
    with time_machine.travel(NOW, tick=True):
        page = journey.login("marketing")
        page.on("dialog", lambda dialog: dialog.accept())
        journey.go("/reports/review-meetings/")
        journey.shot("meetings")
        page.click("[data-testid=record-meeting-2026H1]")
        page.wait_for_url("**/record/")
        assert "华东分公司" in page.locator("[data-testid=ratings]").inner_text()
        page.fill("#id_m-held_on", "2026-07-18")
        page.fill("#id_m-place", "集团总部三楼第一会议室")
        for who in ("marketing", "leader", "east_manager", "south_manager"):
            page.check(f"[data-testid=attendee-choices] input[value='{org[who].pk}']")
        page.fill("#id_m-minutes", "通报上半年考核结果和客户分级排名,讨论下半年工作重点。")
        page.fill("#id_m-d0_text", "华南分公司核实更正抽查不准确的档案")
        page.select_option("#id_m-d0_owner", str(org["south_manager"].pk))
        page.fill("#id_m-d0_due_on", "2026-08-31")
        journey.shot("meeting_form")
        page.click("[data-testid=record-meeting]")
        page.wait_for_url("**/review-meetings/*/")
        meeting = ReviewMeeting.objects.get()
        assert "华南分公司核实更正抽查不准确的档案" in page.locator("[data-testid=decisions]").inner_text()
        assert page.locator("[data-testid=ranking]").is_visible()
        journey.shot("meeting")

        page.click("[data-testid=generate-circular]")
        page.wait_for_url("**/circulars/*/")
        body = page.locator("#id_text").input_value()
        assert "华东分公司:优良" in body and "华南分公司:差" in body
        head, tail = body.rsplit("集团公司市场营销部", 1)
        page.fill("#id_text", f"{head}希望各单位对照考核指标查找不足。\n\n集团公司市场营销部{tail}")
        journey.shot("circular_draft")
        page.click("[data-testid=save-circular]")
        page.wait_for_load_state()
        assert "通报已保存" in page.content()
        page.click("[data-testid=issue-circular]")
        page.wait_for_load_state()
        circular = Circular.objects.get(meeting=meeting)
        assert circular.is_issued and "对照考核指标" in circular.body
        assert "华东分公司 (0/" in page.locator("[data-testid=receipts]").inner_text()
        journey.shot("issued")

        page = journey.login("east_manager")
        panel = page.locator(".card", has_text="未读的集团通报")
        assert circular.title in panel.inner_text()
        journey.shot("manager_home")
        panel.get_by_text(circular.title).click()
        page.wait_for_url(f"**/circulars/{circular.pk}/")
        assert page.locator("[data-testid=circular-body]").is_visible()
        assert page.locator("[data-testid=my-receipt]").is_visible()
        journey.shot("manager_reads")
        assert CircularReceipt.objects.get(circular=circular, user=org["east_manager"]).read_at is not None

        page = journey.login("marketing")
        page.on("dialog", lambda dialog: dialog.accept())
        journey.go(f"/reports/review-meetings/circulars/{circular.pk}/")
        receipts = page.locator("[data-testid=receipts]").inner_text()
        assert org["east_manager"].display_name in page.locator("[data-testid=read]").first.inner_text()
        assert "华东分公司 (1/" in receipts
        journey.shot("receipt_seen")

        journey.go(f"/reports/review-meetings/{meeting.pk}/")
        page.locator("[data-testid=to-leaders-east] [data-testid=draft-commendation]").click()
        page.wait_for_url("**/to-leaders/*/")
        text = page.locator("#id_text").input_value()
        assert "考核结果为优良" in text and "一、信息上报" in text
        page.fill("#id_text", text + "\n特此报告。")
        page.click("[data-testid=save-leader-report]")
        page.wait_for_load_state()
        page.click("[data-testid=send-leader-report]")
        page.wait_for_load_state()
        report = LeaderReport.objects.get(kind="commendation")
        assert report.is_sent and report.text.endswith("特此报告。")
        journey.shot("commendation_sent")

        page = journey.login("leader")
        panel = page.locator(".card", has_text="待阅的上报材料")
        assert report.title in panel.inner_text()
        journey.shot("leader_home")
        panel.get_by_text(report.title).click()
        page.wait_for_url(f"**/to-leaders/{report.pk}/")
        assert "特此报告" in page.locator("[data-testid=leader-report-body]").inner_text()
        journey.shot("leader_reads")
        journey.go("/")
        assert "没有待阅的上报材料" in page.content()
