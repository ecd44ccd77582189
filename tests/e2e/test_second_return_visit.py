"""R18 in the browser (issue 13): a complaint about a key project, resolved and visited once,
waits for its second return visit. The page says what still stands between it and its closing
and offers no close button; once the second visit's window opens (the clock moves), the manager
records it, confirming the effect, and closes the complaint.

The browser and the live server run in this process, so time_machine moves the server's clock."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.utils import timezone

from complaints import services
from tests.clients.factories import ClientFactory, ProjectFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def test_the_complaint_waits_for_its_second_return_visit(org, journey, settings):
    settings.CRM_SECOND_RETURN_VISIT_WINDOW_DAYS = 14
    manager = org["east_manager"]
    with time_machine.travel(dt.datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI), tick=True) as clock:
        client = ClientFactory(
            name="上海虹桥商务区投资建设有限公司", branch=org.branches["east"], owner=org["east_staff"]
        )
        project = ProjectFactory(client=client, is_key=True, name="虹桥商务区办公楼项目")
        c = services.complaint_receive(
            by=org["east_staff"], client=client, project=project, category="engineering_quality",
            title="办公楼外墙渗水", content="三号楼外墙渗水,业主要求尽快处理。",
        )  # fmt: skip
        c = services.complaint_acknowledge(complaint=c, by=manager)
        c = services.complaint_investigate(complaint=c, by=manager)
        c = services.complaint_resolve(
            complaint=c, by=manager, finding="our_fault", resolution="返修外墙防水"
        )
        services.complaint_return_visit(complaint=c, by=manager, satisfaction="satisfied", notes="业主认可")
        second = c.return_visits.get(sequence=2)
        opens = timezone.localtime(second.opens_at)

        page = journey.login("east_manager")
        page.goto(f"{journey.base}/complaints/{c.pk}/")
        blockers = page.locator("[data-testid=closing-blockers]").inner_text()
        assert "第2次回访" in blockers and f"{opens:%Y-%m-%d}" in blockers, blockers
        assert page.locator('[data-step="close"]').count() == 0
        assert page.locator('[data-step="return_visit"]').count() == 0
        journey.shot("waiting_for_second_visit")

        clock.move_to(opens + dt.timedelta(days=1))
        page = journey.login("east_manager")  # six weeks later: a new session
        page.goto(f"{journey.base}/complaints/{c.pk}/")
        assert page.locator('[data-step="close"]').count() == 0
        page.click('[data-step="return_visit"]')
        page.wait_for_load_state()
        page.select_option("#id_satisfaction", "very_satisfied")
        page.fill("#id_notes", "复查外墙无渗漏,业主确认整改有效。")
        if page.locator("#id_effect_confirmed").count():
            page.check("#id_effect_confirmed")
        journey.shot("second_visit_form")
        page.click('[data-testid="step-submit"]')
        page.wait_for_load_state()
        assert page.locator(".alert-success").count() == 1
        assert page.locator("[data-testid=closing-blockers]").count() == 0
        page.click('[data-step="close"]')
        page.wait_for_load_state()
        journey.shot("close_form")
        page.click('[data-testid="step-submit"]')
        page.wait_for_load_state()
        assert "已关闭" in page.locator("h1").inner_text()
        journey.shot("closed")
    c.refresh_from_db()
    assert c.status == "closed" and c.return_visits.filter(visited_at__isnull=False).count() == 2
