"""Warranty repairs in the browser (seed 002; R94-R99): the front desk (east_staff) receives a
repair call and registers its form within the 10 minutes, passing it to the repair team; the
team's manager reports the repair done and closes it; the next morning the front desk records
the return visit, and east_manager's dashboard figures of repair return visits move. The clock
is fixed (the live server runs in this process, time_machine moves it)."""

import datetime as dt

import pytest
import time_machine

from complaints.repairs.models import RepairRequest
from tests.assessments.helpers import at
from tests.clients.factories import ClientFactory, ProjectFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOW = at("2026-11-10T09:00")


def _figure(page, key):
    return page.locator(f"[data-figure={key}]").first.inner_text().strip()


def test_the_front_desk_registers_a_repair_the_team_closes_it_and_the_visit_moves_the_figure(org, journey):
    with time_machine.travel(NOW, tick=True) as clock:
        client = ClientFactory(
            name="杭州滨江房地产开发有限公司", branch=org.branches["east"], owner=org["east_staff"]
        )
        project = ProjectFactory(
            client=client,
            name="滨江花园三期",
            completed_on=dt.date(2025, 12, 1),
            warranty_ends_on=dt.date(2027, 12, 1),
        )
        page = journey.login("east_manager")
        journey.go("/reports/dashboard/")
        assert _figure(page, "repair_visits_made") == "0"
        journey.shot("dashboard_before")

        # The front desk takes the call and fills the repair form.
        page = journey.login("east_staff")
        page.click("[data-testid=nav-repairs] a")
        page.click("[data-testid=repair-create]")
        page.select_option("#id_project", str(project.pk))
        page.fill("#id_reporter", "业主张先生")
        page.fill("#id_reporter_phone", "13812345678")
        page.select_option("#id_part", "doors_windows")
        page.fill("#id_location", "3号楼2单元501")
        page.fill("#id_description", "主卧铝合金窗关闭不严,刮风时漏雨。")
        journey.shot("repair_form")
        page.click("[data-testid=repair-save]")
        page.wait_for_load_state()
        assert page.locator(".alert-success").count() == 1
        repair = RepairRequest.objects.get()
        assert "保修期内" in page.locator("[data-testid=warranty]").inner_text()
        page.click('[data-step="register"]')
        page.click("[data-testid=step-submit]")
        page.wait_for_load_state()
        assert "10分钟内" in page.locator("[data-testid=registered-at]").inner_text()
        page.click('[data-step="dispatch"]')
        page.fill("#id_team", "门窗维修组")
        page.click("[data-testid=step-submit]")
        page.wait_for_load_state()
        assert "已转维修组" in page.locator("h1").inner_text()
        journey.shot("dispatched")

        # The afternoon: the team has repaired the window; its manager closes the repair.
        clock.move_to(at("2026-11-10T15:30"))
        page = journey.login("east_manager")
        journey.go(f"/complaints/repairs/{repair.pk}/")
        page.click('[data-step="complete"]')
        page.fill("#id_repair_note", "更换密封条和滑轮,淋水试验无渗漏。")
        page.click("[data-testid=step-submit]")
        page.wait_for_load_state()
        page.click('[data-step="close"]')
        page.click("[data-testid=step-submit]")
        page.wait_for_load_state()
        assert "已关闭" in page.locator("h1").inner_text()
        assert "2026-11-11 15:30" in page.locator("[data-testid=return-visits]").inner_text()
        journey.shot("closed")

        # The next morning the front desk calls the client back.
        clock.move_to(at("2026-11-11T09:30"))
        page = journey.login("east_staff")
        journey.go(f"/complaints/repairs/{repair.pk}/")
        page.click('[data-step="return_visit"]')
        page.select_option("#id_satisfaction", "very_satisfied")
        page.fill("#id_contact_name", "张先生")
        page.fill("#id_notes", "窗户关闭严密,业主对维修及时表示满意。")
        journey.shot("visit_form")
        page.click("[data-testid=step-submit]")
        page.wait_for_load_state()
        assert page.locator(".alert-success").count() == 1
        journey.shot("visited")

        page = journey.login("east_manager")
        journey.go("/reports/dashboard/")
        assert _figure(page, "repair_visits_made") == "1"
        assert _figure(page, "repair_visits_satisfied") == "1"
        assert _figure(page, "repairs_registered_on_time") == "1"
        assert "100" in _figure(page, "repair_satisfaction_rate")
        journey.shot("dashboard_after")
        page.click("a[data-figure=repair_visits_made]")
        page.wait_for_load_state()
        assert "滨江" in page.content()
        journey.shot("figure_list")
    visit = repair.visits.get()
    assert visit.on_time and visit.satisfaction == "very_satisfied"
