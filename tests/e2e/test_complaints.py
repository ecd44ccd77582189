"""The complaints journey (issue 5): east_staff logs a direct complaint and hands it to
east_manager, who acknowledges, investigates and resolves it as our fault with a corrective
action; the return visit is recorded; it closes; the client's page shows it. A complaint past
its deadline is marked overdue and its owner has a notification."""

import datetime as dt

import pytest
from django.utils import timezone

from complaints import services
from complaints.models import Complaint
from tests.clients.factories import ClientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def step(journey, name, fill=None, label=None):
    page = journey.page
    page.click(f'[data-step="{name}"]')
    page.wait_for_load_state()
    if fill:
        fill(page)
    journey.shot(label or name)
    page.click('[data-testid="step-submit"]')
    page.wait_for_load_state()
    assert page.locator(".alert-success").count() == 1, page.content()[:2000]


def test_complaint_from_logging_to_closing(org, journey):
    client = ClientFactory(
        name="上海临港新城开发建设有限公司", branch=org.branches["east"], owner=org["east_staff"]
    )
    page = journey.login("east_staff")
    page.click("text=登记投诉")
    page.wait_for_load_state()
    page.select_option("#id_client", str(client.pk))
    page.check("input[name=kind][value=direct]")
    page.select_option("#id_channel", "phone")
    page.select_option("#id_category", "engineering_quality")
    page.select_option("#id_severity", "high")
    page.select_option("#id_motive", "psychological")
    page.fill("#id_complainant", "刘经理")
    page.fill("#id_title", "地下车库顶板渗水")
    page.fill("#id_content", "业主工程部刘经理来电:地下车库B2层顶板多处渗水,雨天尤为明显。")
    journey.shot("log_form")
    page.click("[data-testid=complaint-form] button[type=submit]")
    page.wait_for_load_state()
    complaint = Complaint.objects.get()
    assert page.url.endswith(f"/complaints/{complaint.pk}/")
    assert "首问负责人" in page.locator(".alert-success").inner_text()
    journey.shot("logged")

    def hand_over(p):
        p.select_option("#id_to", str(org["east_manager"].pk))
        p.fill("#id_reason", "涉及结构防水整改,由经营部负责人牵头处理。")

    step(journey, "hand_over", hand_over)
    assert "张伟" in page.locator("[data-testid=owner-chain]").inner_text()
    assert page.locator('[data-step="acknowledge"]').count() == 0  # no longer the owner (R15)
    journey.shot("handed_over")

    page = journey.login("east_manager")
    journey.go(f"/complaints/{complaint.pk}/")
    step(journey, "acknowledge")
    step(journey, "investigate")

    def resolve(p):
        p.check("input[name=finding][value=our_fault]")
        p.fill("#id_resolution", "顶板裂缝注浆堵漏,重做防水层,监理验收合格;每周跟踪至业主满意。")

    step(journey, "resolve", resolve)
    assert "我方责任" in page.locator("[data-testid=finding]").inner_text()
    journey.shot("resolved")

    def visit(p):
        p.select_option("#id_satisfaction", "satisfied")
        p.fill("#id_contact_name", "刘经理")
        p.fill("#id_notes", "业主确认渗水已处理,对处理过程满意。")

    step(journey, "return_visit", visit)
    step(journey, "close")
    assert "已关闭" in page.locator("h1").inner_text()
    timeline = page.locator("[data-testid=timeline]").inner_text()
    for kind in ("受理投诉", "移交", "确认投诉", "开始调查", "处理完成", "回访", "关闭"):
        assert kind in timeline
    journey.shot("closed")

    journey.go(f"/clients/{client.pk}/")
    page.click("[data-testid=tab-complaints]")
    page.locator("#tab-pane #complaints").wait_for()  # the tab, loaded when opened
    tab = page.locator("[data-testid=client-complaints]")
    assert "地下车库顶板渗水" in tab.inner_text() and "已关闭" in tab.inner_text()
    journey.shot("client_page")


def test_overdue_complaint_is_marked_and_owner_notified(org, journey):
    client = ClientFactory(
        name="苏州工业园区城市更新有限公司", branch=org.branches["east"], owner=org["east_staff"]
    )
    late = services.complaint_receive(
        by=org["east_staff"],
        client=client,
        category="response_timeliness",
        severity="urgent",
        title="保修报修无人上门",
        content="空调冷凝水管漏水,报修后无人上门。",
        received_at=timezone.now() - dt.timedelta(hours=1),
    )
    services.complaints_flag_overdue()
    page = journey.login("east_staff")
    assert page.locator("[data-testid=unread-count]").inner_text() == "1"
    journey.go("/complaints/?overdue=true")
    row = page.locator("[data-testid=complaint-table] tbody tr").first
    assert "保修报修无人上门" in row.inner_text() and "超期" in row.inner_text()
    assert "table-danger" in row.get_attribute("class")
    journey.shot("queue_overdue")
    journey.go("/notifications/")
    assert f"投诉 {late.code} 超过确认期限" in page.content()
    journey.shot("notification")
    journey.go(f"/complaints/{late.pk}/")
    assert page.locator("[data-testid=overdue-alert]").is_visible()
    journey.shot("overdue_detail")
