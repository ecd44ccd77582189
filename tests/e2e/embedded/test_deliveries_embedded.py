"""Notice deliveries on ``make run``'s shape (R110, R114): SQLite, the filesystem broker, the
worker in a process of its own. The demo's failed delivery shows on the administrator's home
page; re-sent from the deliveries page, the worker process sends it (the console mail backend
writes it in the worker's log) and the page shows it sent."""

import time

import pytest

pytestmark = pytest.mark.e2e

WORKER_TIMEOUT = 20


def test_the_demo_failed_delivery_is_resent_by_the_worker(journey, embedded):
    page = journey.login("admin")
    figure = page.locator("a[data-figure]", has_text="近 7 天发送失败")
    assert figure.locator(".figure").inner_text().strip() == "1"
    figure.click()
    page.wait_for_load_state()
    row = page.locator("[data-testid=delivery-table] tbody tr").first
    assert "月度客户信息报表上报提醒" in row.inner_text()
    assert row.locator("[data-testid=state]").inner_text().startswith("发送失败")
    journey.shot("failed")
    testid = row.get_attribute("data-testid")
    row.locator("[data-testid=resend]").click()
    page.wait_for_load_state()
    assert page.locator(".alert-success").count() == 1
    deadline = time.monotonic() + WORKER_TIMEOUT
    while True:
        journey.go("/deliveries/?channel=email&search=月度客户信息报表上报提醒")
        state = page.locator(f"[data-testid={testid}] [data-testid=state]").inner_text()
        if state.startswith("已发送"):
            break
        assert time.monotonic() < deadline, f"not sent after {WORKER_TIMEOUT} s: {state}"
        page.wait_for_timeout(500)
    journey.shot("sent")
    assert "Subject: =?utf-8?b?" in embedded.log("worker") or "月度客户信息报表上报提醒" in embedded.log(
        "worker"
    )
