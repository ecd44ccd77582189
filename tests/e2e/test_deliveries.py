"""Notice deliveries in the browser (R114): the administrator sees a failed delivery on the
home page, opens the deliveries page from the figure, re-sends it, and a real Celery worker
(on Redis) sends it: the page shows it sent."""

import time

import pytest
from django.core import mail
from django.utils import timezone

from crm.models import Delivery, Notice

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_administrator_resends_a_failed_delivery(org, journey, celery_worker):
    notice = Notice.objects.create(
        verb="monthly_reminder", title="月度客户信息报表上报提醒", body="请于25日前提交。", url="/"
    )
    delivery = Delivery.objects.create(
        notice=notice,
        channel="email",
        target=org["south_manager"].email,
        recipient=org["south_manager"],
        state=Delivery.State.FAILED,
        attempts=6,
        last_error="SMTPServerDisconnected: Connection unexpectedly closed",
        next_attempt_at=timezone.now(),
    )
    page = journey.login("admin")
    figure = page.locator("a[data-figure]", has_text="近 7 天发送失败")
    assert figure.locator(".figure").inner_text().strip() == "1"
    journey.shot("home_failed_delivery")
    figure.click()
    page.wait_for_load_state()
    row = page.locator(f"[data-testid=delivery-{delivery.pk}]")
    assert row.locator("[data-testid=state]").inner_text().startswith("发送失败")
    assert "Connection unexpectedly closed" in row.inner_text()
    journey.shot("deliveries_failed")
    row.locator("[data-testid=resend]").click()
    page.wait_for_load_state()
    assert page.locator(".alert-success").count() == 1
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not Delivery.objects.filter(pk=delivery.pk, state="sent").exists():
        time.sleep(0.3)
    journey.go(f"/deliveries/?recipient={org['south_manager'].pk}")
    state = page.locator(f"[data-testid=delivery-{delivery.pk}] [data-testid=state]").inner_text()
    assert state.startswith("已发送"), state
    journey.shot("deliveries_sent")
    assert [m.to for m in mail.outbox] == [[org["south_manager"].email]]
    # The home page's figure is back to 0.
    journey.go("/")
    assert (
        page.locator("a[data-figure]", has_text="近 7 天发送失败").locator(".figure").inner_text().strip()
        == "0"
    )
