"""The design fee and on-site service journey (seed 000: «项目竣工后,清理余下设计费用 ... 顺利结清
设计费»; «施工阶段的现场服务记录管理»; R56-R60): a completed east project with part of its design
fee collected is on east_staff's list of completed projects not settled; east_staff opens it,
records the rest of the fee, the project is settled (收齐结清) and leaves the list; on a project
under construction east_staff records an on-site service (the problem and how it was handled),
which the project page and the client's projects tab show. The clock is fixed (the live server
runs in this process, time_machine moves it)."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from clients.models import FeeCollection, SiteService
from clients.projects import services as fees
from tests.assessments.helpers import at
from tests.clients.factories import ClientFactory, ProjectFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOW = at("2026-06-10T10:00")
CLIENT = "宁波东部新城开发投资集团有限公司"
DONE = "东部新城文化中心"
BUILDING = "东部新城人才公寓二期"


def _projects(org):
    client = ClientFactory(name=CLIENT, branch=org.branches["east"], owner=org["east_staff"], grade="A")
    done = ProjectFactory(
        client=client,
        name=DONE,
        phase="completed",
        signed_on=dt.date(2024, 9, 1),
        started_on=dt.date(2024, 10, 8),
        completed_on=dt.date(2026, 2, 28),
        design_fee=Decimal("860000"),
        manager_name="陈建国",
    )
    fees.fee_collection_record(
        project=done, by=org["east_staff"], amount=Decimal("600000"), collected_on=dt.date(2025, 6, 30)
    )
    building = ProjectFactory(
        client=client,
        name=BUILDING,
        phase="construction",
        signed_on=dt.date(2025, 5, 1),
        started_on=dt.date(2025, 7, 1),
        design_fee=Decimal("420000"),
    )
    return client, done, building


def test_design_fee_and_site_service_journey(org, journey):
    with time_machine.travel(NOW, tick=True):
        client, done, building = _projects(org)

        # 1. the completed project is on the list of projects not settled, 260,000 outstanding.
        page = journey.login("east_staff")
        journey.go("/clients/projects/unsettled/")
        row = page.locator("[data-testid=unsettled-table] tr", has_text=DONE)
        assert row.count() == 1 and "26.00" in row.inner_text()  # 万元
        journey.shot("unsettled_before")

        # 2. east_staff opens it and records the rest of the fee.
        page.click(f"[data-testid=unsettled-row]:has-text('{DONE}')")
        page.wait_for_url(f"**/clients/projects/{done.pk}/")
        assert "未结清" in page.locator("[data-testid=fee-status]").inner_text()
        journey.shot("project_before")
        form = page.locator("[data-testid=collection-form]")
        form.locator("#id_amount").fill("260000")
        form.locator("#id_collected_on").fill("2026-06-09")
        form.locator("#id_note").fill("设计费尾款,甲方财务转账")
        page.click("[data-testid=collect]")
        page.wait_for_load_state()
        assert "收齐结清" in page.locator("[data-testid=fee-status]").inner_text()
        assert page.locator("[data-testid=collection-form]").count() == 0
        assert "设计费尾款" in page.locator("[data-testid=collections]").inner_text()
        journey.shot("project_settled")
        done.refresh_from_db()
        assert done.fee_settlement == "collected" and done.fee_settled_on == dt.date(2026, 6, 9)
        assert FeeCollection.objects.filter(project=done).count() == 2

        # 3. it has left the list.
        journey.go("/clients/projects/unsettled/")
        assert page.locator("[data-testid=unsettled-row]", has_text=DONE).count() == 0
        journey.shot("unsettled_after")

        # 4. on the project under construction, an on-site service record.
        journey.go(f"/clients/{client.pk}/tabs/projects/")
        page.click(f"[data-testid=project-link]:has-text('{BUILDING}')")
        page.wait_for_url(f"**/clients/projects/{building.pk}/")
        page.click("[data-testid=site-service-add]")
        page.wait_for_url(f"**/clients/projects/{building.pk}/site-services/add/")
        page.fill("#id_our_people", "张工(结构)、李工(给排水)")
        page.fill("#id_problem", "地下室后浇带位置与施工单位排布冲突,施工方要求调整。")
        page.fill("#id_handling", "现场复核后出具设计变更通知单,后浇带东移1.5米,当日交底。")
        page.select_option("#id_status", "closed")
        journey.shot("site_service_form")
        page.click("[data-testid=save]")
        page.wait_for_url(f"**/clients/projects/{building.pk}/**")
        services_table = page.locator("[data-testid=site-services]").inner_text()
        assert "后浇带" in services_table and "已解决" in services_table
        journey.shot("project_site_services")
        record = SiteService.objects.get(project=building)
        assert record.status == "closed" and record.closed_on == dt.date(2026, 6, 10)
        assert record.recorded_by == org["east_staff"]

        # 5. the client's projects tab shows fee / collected / settled and the service record.
        journey.go(f"/clients/{client.pk}/tabs/projects/")
        table = page.locator("[data-testid=projects-table]").inner_text()
        assert "收齐结清" in table and "86.00" in table
        assert "后浇带" in page.locator("[data-testid=client-site-services]").inner_text()
        journey.shot("client_projects_tab")
