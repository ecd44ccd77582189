"""The access journey (R4, R5): south_staff cannot open an east client; files a request by
searching the name; marketing forwards it; the leader approves; south_staff opens the client;
after the end of the period it is gone again; the access log shows the reads."""

import datetime as dt

import pytest
from django.utils import timezone

from clients.access.services import grant_revoke_expired
from clients.models import AccessGrant, AccessLog, AccessRequest
from tests.clients.factories import ClientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NAME = "宁波前湾新区城市开发投资有限公司"


def test_access_journey(org, journey):
    client = ClientFactory(
        name=NAME,
        branch=org.branches["east"],
        owner=org["east_staff"],
        address="浙江省宁波市杭州湾新区滨海二路",
    )
    detail = f"/clients/{client.pk}/"

    # 1. south_staff cannot see the east client.
    page = journey.login("south_staff")
    response = page.goto(journey.base + detail)
    assert response.status == 404
    journey.shot("client_not_found")

    # 2. files a request: searching shows the name and branch only.
    page = journey.go("/clients/access/requests/new/")
    page.fill("#target-search", "前湾新区")
    results = page.locator("[data-testid=target-results]")
    results.wait_for()
    assert "华东区域分公司" in results.inner_text()
    assert "滨海二路" not in page.content()
    journey.shot("target_search")
    page.check(f"input[name=clients][value='{client.pk}']")
    # The ticked client moves to the chosen list, so another search does not lose it.
    assert page.locator(f"#selected-targets input[value='{client.pk}']").is_checked()
    page.fill("#target-search", "不存在的单位")
    page.locator("#target-results").get_by_text("没有名称包含").wait_for()
    assert page.locator(f"#selected-targets input[value='{client.pk}']").is_checked()
    page.fill("#id_reason", "我司拟与该客户合作宁波前湾项目投标,需了解其合作历史与资信")
    ends_on = timezone.localdate() + dt.timedelta(days=14)
    page.fill("#id_ends_on", ends_on.isoformat())
    page.click("form[data-testid=request-form] button[type=submit]")
    page.wait_for_url("**/clients/access/requests/*/")
    req = AccessRequest.objects.get()
    assert req.status == AccessRequest.Status.SUBMITTED
    journey.shot("request_filed")

    # 3. marketing forwards it from the review queue.
    page = journey.login("marketing")
    page = journey.go("/clients/access/requests/review/")
    journey.shot("review_queue")
    page.click(f"a[href='/clients/access/requests/{req.pk}/']")
    page.fill("#forward-note", "理由充分,建议批准")
    page.click("[data-testid=forward]")
    page.wait_for_load_state()
    req.refresh_from_db()
    assert req.status == AccessRequest.Status.FORWARDED
    journey.shot("forwarded")

    # 4. the leader approves it from the approval queue.
    page = journey.login("leader")
    page = journey.go("/clients/access/requests/approval/")
    journey.shot("approval_queue")
    page.click(f"a[href='/clients/access/requests/{req.pk}/']")
    page.click("[data-testid=approve]")
    page.wait_for_load_state()
    req.refresh_from_db()
    assert req.status == AccessRequest.Status.APPROVED
    assert "集团领导批准" in page.locator("[data-testid=timeline]").inner_text()
    journey.shot("approved")

    # 5. south_staff sees the grant and opens the client.
    page = journey.login("south_staff")
    page = journey.go("/clients/access/grants/")
    assert NAME in page.locator("[data-testid=grant-table]").inner_text()
    journey.shot("my_grants")
    page.click(f"[data-testid=grant-table] a[href='{detail}']")
    page.wait_for_url(f"**{detail}")
    assert NAME in page.content()
    journey.shot("client_opened")
    assert AccessLog.objects.filter(user=org["south_staff"], client=client).count() >= 1

    # 6. after the end date the client is gone again (before and after the revoking job).
    grant = AccessGrant.objects.get()
    AccessGrant.objects.filter(pk=grant.pk).update(
        starts_at=timezone.now() - dt.timedelta(days=15), ends_at=timezone.now() - dt.timedelta(minutes=1)
    )
    response = page.goto(journey.base + detail)
    assert response.status == 404
    assert grant_revoke_expired() == 1
    response = page.goto(journey.base + detail)
    assert response.status == 404
    journey.shot("gone_again")

    # 7. the access log, as the auditor, shows the reads under the grant.
    page = journey.login("auditor")
    page = journey.go("/clients/access/log/?client=前湾")
    table = page.locator("[data-testid=log-table]").inner_text()
    assert NAME in table and "林晓敏" in table and f"#{req.pk}" in table
    journey.shot("access_log")
