"""The cultivation journey (B→A, seed 001: «将B类客户培养成A类客户»; R42-R46): east_staff makes a
cultivation plan for a B client from its page (the goal, a measure with its due date and owner,
the review date); east_manager reviews it (the measure done, the next review date), then promotes
the client to A on the grading page with the reason; the plan ends as promoted, the half-year
evaluation and the grade change carry the reason, and the client page's tab shows both. The
clock is fixed (the live server runs in this process, time_machine moves it)."""

import pytest
import time_machine

from clients.models import BEvaluation, Client, CultivationPlan, GradeChange
from tests.assessments.helpers import at
from tests.clients.factories import ClientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOW = at("2026-09-10T10:00")
NAME = "宁波杭州湾新区开发建设有限公司"


def test_cultivation_journey(org, journey):
    with time_machine.travel(NOW, tick=True):
        client = ClientFactory(
            name=NAME, branch=org.branches["east"], owner=org["east_staff"], grade="B", address="浙江省宁波市"
        )
        tab = f"/clients/{client.pk}/tabs/cultivation/"

        # 1. east_staff makes the plan from the client page's tab.
        page = journey.login("east_staff")
        journey.go(f"/clients/{client.pk}/")
        page.click("[data-testid=tab-cultivation]")
        page.wait_for_selector("[data-testid=propose-plan]")
        journey.shot("client_tab_empty")
        page.click("[data-testid=propose-plan]")
        page.wait_for_url(f"**/clients/{client.pk}/cultivation/")
        page.fill("#id_goal", "年内签订第二个设计合同,达到A类客户条件。")
        page.fill("#id_next_review_on", "2026-10-10")
        page.fill("#id_m0_description", "每月上门拜访一次,跟踪新项目立项")
        page.fill("#id_m0_due_on", "2026-10-01")
        page.select_option("#id_m0_owner", str(org["east_staff"].pk))
        journey.shot("proposal_form")
        page.click("[data-testid=save]")
        page.wait_for_url("**/clients/cultivation/*/")
        plan = CultivationPlan.objects.get(client=client)
        assert plan.status == "open" and plan.measures.count() == 1
        assert page.locator("[data-testid=close-form]").count() == 0  # staff do not close
        journey.shot("plan_made")

        # 2. east_manager finds it in the branch's list and reviews it.
        page = journey.login("east_manager")
        journey.go("/clients/cultivation/")
        row = page.locator("[data-testid=plan-row]", has_text=NAME)
        assert row.count() == 1
        journey.shot("plan_list")
        row.click()
        page.wait_for_url(f"**/clients/cultivation/{plan.pk}/")
        page.fill("[data-testid=review-form] #id_reviewed_on", "2026-09-10")
        page.fill("[data-testid=review-form] #id_next_review_on", "2026-11-10")
        page.fill("[data-testid=review-form] #id_note", "已拜访两次,客户明年有两个住宅项目立项。")
        page.check("[data-testid=review-form] input[name=done]")
        page.click("[data-testid=review]")
        page.wait_for_load_state()
        assert page.locator("[data-testid=review-item]").count() == 1
        assert "客户明年有两个住宅项目立项" in page.locator("[data-testid=reviews]").inner_text()
        assert page.locator("[data-testid=measure-done]").count() == 1
        journey.shot("reviewed")

        # 3. east_manager promotes the client on the grading page, with the reason.
        journey.go(f"/clients/{client.pk}/grade/")
        assert page.locator("[data-testid=grade-plan]").count() == 1
        page.select_option("#id_grade", "A")
        page.fill("#id_reason", "签订第二个设计合同,诚信良好,近期合作需求明确。")
        journey.shot("grading_page")
        page.click("[data-testid=save]")
        page.wait_for_load_state()
        client.refresh_from_db()
        plan.refresh_from_db()
        assert client.grade == "A" and plan.status == "promoted"
        change = GradeChange.objects.get(client=client)
        evaluation = BEvaluation.objects.get(client=client)
        assert evaluation.outcome == "promote" and evaluation.grade_change == change
        assert change.reason == evaluation.reason == "签订第二个设计合同,诚信良好,近期合作需求明确。"

        # 4. the client page's tab and the plan show the outcome.
        journey.go(tab)
        text = page.locator("main").inner_text()
        assert "已培养为A类客户" in text and "培养为A类客户" in text
        journey.shot("client_tab_promoted")
        journey.go(f"/clients/cultivation/{plan.pk}/")
        timeline = page.locator("[data-testid=timeline]").inner_text()
        assert "制定培养计划" in timeline and "培养计划评审" in timeline and "培养计划结束" in timeline
        assert Client.objects.get(pk=client.pk).grade == "A"
        journey.shot("plan_promoted")
