"""A complaint past its deadline on ``make run``'s shape (R14, R16): east_staff logs an urgent
complaint received two hours ago; the administrator runs the overdue check from the admin's
schedule page (the web process sends it through the filesystem broker; the worker process does
the work); the worker's flag and notifications reach the pages of east_staff and east_manager
within seconds; east_staff opens the notification and acknowledges the complaint."""

import datetime as dt
import re
import time

import pytest

pytestmark = pytest.mark.e2e

TASK = "complaints: flag overdue complaints and due return visits"
WORKER_TIMEOUT = 15  # seconds for the worker's result to show on a page


def notification_arrives(journey, title: str) -> None:
    """Reload the notification list until ``title`` is on it (the worker writes it)."""
    page = journey.page
    deadline = time.monotonic() + WORKER_TIMEOUT
    while True:
        journey.go("/notifications/")
        if title in page.locator("main").inner_text():
            return
        assert time.monotonic() < deadline, f"no notification {title!r} after {WORKER_TIMEOUT} s"
        page.wait_for_timeout(500)


def test_overdue_complaint_flagged_by_the_worker(journey, embedded):
    # 1. east_staff logs an urgent complaint received two hours ago (confirmation is due in 10 min).
    page = journey.login("east_staff")
    journey.go("/complaints/")
    page.get_by_role("link", name="登记投诉").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").first.inner_text() == "登记投诉"
    client = page.locator("#id_client option:not([value=''])").first
    client_name = client.inner_text().strip()
    page.select_option("#id_client", client.get_attribute("value"))
    page.check("input[name=kind][value=direct]")
    page.select_option("#id_channel", "phone")
    page.select_option("#id_category", "response_timeliness")
    page.select_option("#id_severity", "urgent")
    page.fill("#id_complainant", "赵主任")
    page.fill("#id_complainant_phone", "13905711234")
    now = dt.datetime.strptime(page.input_value("#id_received_at"), "%Y-%m-%dT%H:%M")  # the server's now
    page.fill("#id_received_at", (now - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_title", "报修电梯故障两小时无人到场")
    page.fill("#id_content", "业主物业部赵主任来电:3号楼电梯困人故障报修后两小时无人到场处理。")
    journey.shot("log_form")
    page.click("[data-testid=complaint-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/complaints/\d+/$"))
    detail = page.url.removeprefix(journey.base)
    code = page.locator("h1").first.inner_text().split()[0]
    assert f"投诉 {code} 已登记,您是首问负责人。" in page.locator(".alert-success").inner_text()
    assert "已超过确认期限" in page.locator("[data-testid=overdue-alert]").inner_text()
    journey.shot("logged_overdue")
    title = f"投诉 {code} 超过确认期限"

    # 2. the administrator runs the overdue check from the schedule page of the admin.
    page = journey.login("admin")
    journey.go("/admin/django_celery_beat/periodictask/")
    row = page.locator("#result_list tbody tr", has_text=TASK)
    assert row.count() == 1, page.locator("#result_list").inner_text()
    row.locator("input[name=_selected_action]").check()
    page.select_option("select[name=action]", "run_tasks")
    journey.shot("admin_run_task")
    page.click("button[name=index]")
    page.wait_for_load_state()
    sent = time.monotonic()
    assert "启动成功" in page.locator("ul.messagelist li").inner_text()
    journey.shot("admin_task_started")

    # 3. the worker's notification reaches the owner's pages.
    page = journey.login("east_staff")
    notification_arrives(journey, title)
    embedded.timings["complaint: notification shown"] = time.monotonic() - sent
    assert int(page.locator("[data-testid=unread-count]").inner_text()) >= 1
    assert re.search(
        r"Task complaints\.tasks\.flag_overdue_complaints\[\S+\] succeeded", embedded.log("worker")
    )
    journey.shot("owner_notified")
    page.locator("main a.list-group-item", has_text=title).first.click()
    page.wait_for_url(f"**{detail}")
    timeline = page.locator("[data-testid=timeline]").inner_text()
    assert "确认超期" in timeline and "受理投诉" in timeline, timeline
    assert client_name in page.locator("main").inner_text()
    journey.shot("complaint_flagged")

    # 4. she acknowledges it: the alert is gone and the timeline says so.
    page.click('[data-step="acknowledge"]')
    page.wait_for_load_state()
    journey.shot("acknowledge_form")
    page.click('[data-testid="step-submit"]')
    page.wait_for_load_state()
    assert page.locator(".alert-success").count() == 1, page.locator("main").inner_text()
    assert page.locator("[data-testid=overdue-alert]").count() == 0
    assert "确认投诉" in page.locator("[data-testid=timeline]").inner_text()
    journey.shot("acknowledged")

    # 5. the branch's manager was told too.
    page = journey.login("east_manager")
    notification_arrives(journey, title)
    journey.shot("manager_notified")
