"""Journeys of issue 13 (R4, R5): a branch user opens another branch's client and meets the
Chinese no-access page, which leads to the access request form prefilled with that client;
a grantee finds the granted client marked 授权查阅 in the archive list, filters to it, and
sees the banner on its page with no write buttons."""

import pytest

from tests.clients.factories import ClientFactory
from tests.clients.grants import make_grant

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NAME = "杭州钱江新城建设开发有限公司"


def test_no_access_page_leads_to_the_request_form(org, journey):
    client = ClientFactory(
        name=NAME, branch=org.branches["east"], owner=org["east_staff"], address="浙江省杭州市上城区富春路"
    )
    page = journey.login("south_staff")
    response = page.goto(journey.base + f"/clients/{client.pk}/")
    assert response.status == 404
    page.locator("[data-testid=no-access]").wait_for()
    assert "不在您的客户档案范围内" in page.content()
    assert NAME not in page.content() and "富春路" not in page.content()
    journey.shot("no_access_page")
    page.click("[data-testid=request-access]")
    page.wait_for_url("**/clients/access/requests/new/?clients=*")
    chosen = page.locator(f"#selected-targets input[value='{client.pk}']")
    assert chosen.is_checked()
    assert NAME in page.locator("[data-testid=selected-targets]").inner_text()
    assert "富春路" not in page.content()
    journey.shot("request_form_prefilled")


def test_grantee_sees_the_granted_client_marked(org, journey):
    client = ClientFactory(name=NAME, branch=org.branches["east"], owner=org["east_staff"])
    own = ClientFactory(
        name="深圳湾区城市更新有限公司", branch=org.branches["south"], owner=org["south_staff"]
    )
    grant = make_grant(org, org["south_staff"], client, active=True)
    journey.login("south_staff")
    page = journey.go("/clients/")
    badge = page.locator("[data-testid=granted-badge]")
    assert badge.count() == 1
    from django.utils import translation

    from crm.templatetags.crm_tags import last_day

    with translation.override("zh-hans"):
        assert last_day(grant.ends_at) in badge.inner_text()  # the grant's last day, as people say it
    assert own.name in page.content()
    journey.shot("list_granted_badge")
    page = journey.go("/clients/?granted=only")
    rows = page.locator("[data-testid=client-table] tbody tr")
    assert rows.count() == 1 and NAME in rows.first.inner_text()
    journey.shot("list_filtered_to_granted")
    page.click(f"text={NAME}")
    page.locator("[data-testid=grant-banner]").wait_for()
    assert page.locator("[data-testid=client-edit]").count() == 0
    journey.shot("granted_client_banner")
