"""The improvement plan journey (seed 002: «拟定行动重点,提出有针对性的改善措施»; R102-R108):
east_manager opens the branch's priority matrix, turns its top priority into an improvement plan
(the measures with their 时间点, 部门 and 负责人), sees the plan's before and target, closes a measure
with its evidence; the plan's list shows the progress and the dashboard's satisfaction table links
the dimension to the plan. The clock is fixed (the live server runs in this process)."""

import pytest
import time_machine

from surveys.improvements.models import ImprovementPlan
from tests.assessments.helpers import at
from tests.surveys.conftest import ensure_shipped_templates
from tests.surveys.improvement_helpers import east_matrix

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOW = at("2026-09-10T10:00")


def test_manager_turns_the_top_priority_into_a_plan_and_closes_a_measure(org, journey):
    with time_machine.travel(NOW, tick=True):
        ensure_shipped_templates()
        east_matrix(org)

        # 1. The branch's matrix: customer service is the top priority; the manager makes its plan.
        page = journey.login("east_manager")
        journey.go("/surveys/matrix/")
        top = page.locator("tbody tr").first
        assert "客户服务" in top.inner_text() and "优先改进区" in top.inner_text()
        journey.shot("matrix")
        top.locator("[data-testid=make-plan]").click()
        page.wait_for_url("**/surveys/improvements/new/**")
        assert page.locator("#id_dimension option:checked").inner_text() == "客户服务"
        page.fill("#id_goal", "针对工程进展信息通报不及时,建立定期通报和客户意见反馈机制。")
        page.fill("#id_m0_description", "每两周向A类客户书面通报工程进展")
        page.select_option("#id_m0_client_group", "A")
        page.fill("#id_m0_due_on", "2026-09-30")
        page.fill("#id_m0_department", "项目经理部")
        page.select_option("#id_m0_owner", str(org["east_staff"].pk))
        page.fill("#id_m1_description", "建立客户意见反馈库,逐条回复")
        page.fill("#id_m1_due_on", "2026-10-31")
        page.fill("#id_m1_department", "经营部")
        page.select_option("#id_m1_owner", str(org["east_manager"].pk))
        journey.shot("plan_form")
        page.click("[data-testid=save]")
        page.wait_for_url("**/surveys/improvements/*/")
        plan = ImprovementPlan.objects.get()
        assert plan.dimension.code == "customer_service" and plan.measures.count() == 2
        assert page.inner_text("[data-testid=before]") == "50%"
        assert page.inner_text("[data-testid=target]") == "70%"
        journey.shot("plan_made")

        # 2. The manager closes the first measure with its evidence.
        first = plan.measures.order_by("due_on").first()
        page.select_option("[data-testid=complete-form] #id_measure", str(first.pk))
        page.fill("[data-testid=complete-form] #id_evidence", "已于9月10日起每两周书面通报,客户确认收到。")
        page.click("[data-testid=complete]")
        page.wait_for_load_state()
        assert page.locator("[data-testid=measure-done]").count() == 1
        assert "客户确认收到" in page.inner_text("[data-testid=measures]")
        assert "措施完成" in page.inner_text("[data-testid=timeline]")
        first.refresh_from_db()
        assert first.is_done and first.done_by == org["east_manager"]
        journey.shot("measure_done")

        # 3. The list shows the progress; the matrix and the dashboard link the dimension to it.
        journey.go("/surveys/improvements/")
        assert "1/2" in page.inner_text("[data-testid=plan-table]")
        journey.shot("plan_list")
        journey.go("/surveys/matrix/")
        assert page.locator("[data-testid=plan-link]").count() == 1
        journey.go("/reports/dashboard/")
        link = page.locator("[data-testid=dimension-plan]")
        assert link.count() == 1 and link.get_attribute("href") == f"/surveys/improvements/{plan.pk}/"
        journey.shot("dashboard")
