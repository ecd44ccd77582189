"""The client page loads each tab when it is opened: a click on a tab loads it into the page
(htmx) and the address bar shows the tab's address; a reload opens the same tab; the back
button returns to the tab before."""

import pytest

from tests.clients.factories import ContactFactory, ProjectFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_tab_has_its_address(org, journey):
    from tests.clients.archive_helpers import make_client

    client = make_client(org, "east", name="苏州金鸡湖城市发展有限公司", integrity_good=True)
    ContactFactory(client=client, name="顾晓明", position="副总经理")
    ProjectFactory(client=client, name="金鸡湖东岸综合体项目")
    page = journey.login("east_staff")
    page = journey.go(f"/clients/{client.pk}/")
    page.locator("[data-testid=suggestion]").wait_for()  # the overview, with the page
    assert page.locator("#count-contacts").inner_text() == "1"
    assert page.locator("#count-projects").inner_text() == "1"
    assert page.locator("[data-testid=contacts-table]").count() == 0  # not loaded before it is opened
    journey.shot("overview")

    page.click("[data-testid=tab-contacts]")
    page.wait_for_url(f"**/clients/{client.pk}/tabs/contacts/")
    page.locator("[data-testid=contacts-table]", has_text="顾晓明").wait_for()
    assert "active" in page.locator("[data-testid=tab-contacts]").get_attribute("class")
    assert "active" not in page.locator("[data-testid=tab-overview]").get_attribute("class")
    journey.shot("contacts_tab")

    page.reload()
    page.locator("[data-testid=contacts-table]", has_text="顾晓明").wait_for()
    assert "active" in page.locator("[data-testid=tab-contacts]").get_attribute("class")
    assert page.locator("[data-testid=suggestion]").count() == 0
    journey.shot("contacts_reloaded")

    page.click("[data-testid=tab-projects]")
    page.wait_for_url(f"**/clients/{client.pk}/tabs/projects/")
    page.locator("#projects", has_text="金鸡湖东岸综合体项目").wait_for()

    page.go_back()
    page.wait_for_url(f"**/clients/{client.pk}/tabs/contacts/")
    page.locator("[data-testid=contacts-table]", has_text="顾晓明").wait_for()
    assert "active" in page.locator("[data-testid=tab-contacts]").get_attribute("class")
    page.go_back()
    page.wait_for_url(f"**/clients/{client.pk}/")
    page.locator("[data-testid=suggestion]").wait_for()
    journey.shot("back_to_overview")
