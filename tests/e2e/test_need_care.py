"""Need care journeys (seed 003, 精准客户需求管理办法): east_staff finds a need recorded twice on
the list of likely duplicates and merges it into the first (R51, R53); a done need's handling is
rated by the client through the personal link, without a login, and east_manager's dashboard
figure 需求处理满意度 moves (R48, R49). The clock is fixed (the live server runs in this process,
time_machine moves it)."""

import pytest
import time_machine

from clients import services
from clients.models import Need
from tests.assessments.helpers import at
from tests.clients.factories import ClientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOW = at("2026-06-10T10:00")
NAME = "宁波北仑港城置业有限公司"
TEXT = "希望在施工图阶段提供BIM管线综合深化设计,减少现场返工"


def _need(org, client, text, **extra) -> Need:
    need = Need(client=client, category="service", urgency="important", description=text, **extra)
    return services.need_create(need=need, by=org["east_staff"])


def test_a_duplicate_need_is_merged(org, journey):
    with time_machine.travel(NOW, tick=True):
        client = ClientFactory(name=NAME, branch=org.branches["east"], owner=org["east_staff"], grade="B")
        first = _need(org, client, TEXT)
        again = _need(org, client, TEXT + "(客户再次来电提出)")

        page = journey.login("east_staff")
        journey.go("/clients/needs/duplicates/")
        group = page.locator("[data-testid=duplicate-group]", has_text=NAME)
        assert group.count() == 1
        journey.shot("duplicates")
        group.locator("[data-testid=duplicate-link]").click()
        page.wait_for_url(f"**/clients/needs/{again.pk}/")
        assert page.locator("[data-testid=similar]").is_visible()
        journey.shot("duplicate_need")
        assert page.locator("#merge-into").input_value() == str(first.pk)
        page.fill("[data-testid=merge-form] input[name=note]", "同一需求重复登记")
        page.click("[data-testid=merge]")
        page.wait_for_url(f"**/clients/needs/{first.pk}/")
        assert "客户再次来电提出" in page.locator("[data-testid=merged-needs]").inner_text()
        assert f"合并重复需求#{again.pk}" in page.locator("[data-testid=timeline]").inner_text()
        journey.shot("survivor")
        again.refresh_from_db()
        assert again.status == "merged" and again.merged_into_id == first.pk

        journey.go(f"/clients/needs/{again.pk}/")
        assert page.locator("[data-testid=merged-into]").is_visible()
        assert "已合并" in page.locator("[data-testid=need-status]").inner_text()
        journey.go("/clients/needs/duplicates/")
        assert page.locator("[data-testid=duplicate-group]", has_text=NAME).count() == 0
        journey.shot("duplicates_after")


def test_a_done_need_is_rated_through_its_link_and_the_figure_moves(org, journey):
    with time_machine.travel(NOW, tick=True):
        client = ClientFactory(name=NAME, branch=org.branches["east"], owner=org["east_staff"], grade="A")
        need = _need(org, client, TEXT)
        services.need_close(
            need=need, by=org["east_staff"], done=True, note="已提交BIM管线综合模型并现场交底"
        )

        page = journey.login("east_manager")
        journey.go("/reports/dashboard/")
        assert page.locator("a[data-figure=needs_rated]").inner_text().strip() == "0"
        journey.shot("dashboard_before")

        page = journey.login("east_staff")
        journey.go(f"/clients/needs/{need.pk}/")
        page.click("[data-testid=issue-link]")
        page.wait_for_load_state()
        link = page.locator("#rating-link").input_value()
        journey.shot("link_issued")
        path = link[link.index("/clients/needs/rate/") :]

        journey.context.clear_cookies()  # the client: no login
        journey.go(path)
        assert TEXT in page.locator("[data-testid=need-text]").inner_text()
        assert NAME not in page.content()
        journey.shot("client_rates")
        page.check("input[name=rating][value=basically_satisfied]")
        page.fill("textarea[name=comment]", "模型很有帮助,交底时间可再提前。")
        page.click("[data-testid=submit-rating]")
        assert page.locator("[data-testid=thanks]").is_visible()
        journey.shot("thanks")
        journey.go(path)
        assert page.locator("[data-testid=closed]").is_visible()

        page = journey.login("east_manager")
        journey.go("/reports/dashboard/")
        assert page.locator("a[data-figure=needs_rated]").inner_text().strip() == "1"
        assert page.locator("a[data-figure=needs_rated_satisfied]").inner_text().strip() == "1"
        assert "100" in page.locator("[data-figure=needs_rating_satisfaction]").inner_text()
        journey.shot("dashboard_after")
        page.click("a[data-figure=needs_rated]")
        page.wait_for_load_state()
        assert NAME in page.content() and "基本满意" in page.content()
        journey.shot("figure_list")
        journey.go(f"/clients/needs/{need.pk}/")
        assert "基本满意" in page.locator("[data-testid=need-rating]").inner_text()
        assert "模型很有帮助" in page.locator("[data-testid=need-rating-comment]").inner_text()
        journey.shot("need_rated")
