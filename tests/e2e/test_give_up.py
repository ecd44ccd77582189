"""The give-up journey (放弃跟踪, R37-R40): a C client under observation whose visit is overdue is
on east_manager's overdue list; east_staff proposes giving it up from the client's page (a
reason and a note); east_manager finds the proposal in the branch's list, confirms it; the
client leaves the overdue list and the home panel, and its page says why, with the record's
timeline. The clock is fixed (the live server runs in this process, time_machine moves it)."""

import datetime as dt

import pytest
import time_machine

from clients import services
from clients.models import Client, GiveUp, Tracking, VisitPlan
from tests.assessments.helpers import at
from tests.clients.factories import ClientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOW = at("2026-06-10T10:00")
NAME = "温州瓯江口建设开发有限公司"


def _client(org) -> Client:
    client = ClientFactory(
        name=NAME,
        branch=org.branches["east"],
        owner=org["east_staff"],
        grade="C",
        under_observation=True,
        address="浙江省温州市瓯江口新区",
    )
    Client.objects.filter(pk=client.pk).update(created_at=NOW - dt.timedelta(days=200))
    services.visit_plan_save(
        plan=VisitPlan(
            client=client,
            frequency="monthly",
            extra_effort=True,
            next_due_on=NOW.date() - dt.timedelta(days=6),
        ),
        by=org["east_staff"],
    )
    return client


def test_give_up_journey(org, journey):
    with time_machine.travel(NOW, tick=True):
        client = _client(org)
        detail = f"/clients/{client.pk}/"

        # 1. the overdue visit is on the manager's list.
        page = journey.login("east_manager")
        journey.go("/clients/visits/overdue/")
        assert NAME in page.content()
        journey.shot("overdue_before")

        # 2. east_staff proposes giving it up from the client's page.
        page = journey.login("east_staff")
        journey.go(detail)
        journey.shot("client_page")
        page.click("[data-testid=give-up]")
        page.wait_for_url(f"**/clients/{client.pk}/give-up/")
        journey.shot("proposal_form")
        page.check("input[name=reason][value=poor_reputation]")
        page.fill("#id_note", "多次拖欠分包工程款,业内口碑差,近两年无新项目合作。")
        page.click("[data-testid=save]")
        page.wait_for_url("**/clients/give-ups/*/")
        give_up = GiveUp.objects.get(client=client)
        assert give_up.status == GiveUp.Status.PROPOSED
        assert page.locator("[data-testid=awaiting]").is_visible()
        assert page.locator("[data-testid=steps]").count() == 0  # staff cannot confirm
        journey.shot("proposed")

        # 3. east_manager finds it in the branch's list of proposals and confirms it.
        page = journey.login("east_manager")
        journey.go("/clients/give-ups/")
        row = page.locator("[data-testid=giveup-row]", has_text=NAME)
        assert row.count() == 1
        journey.shot("pending_list")
        row.click()
        page.wait_for_url(f"**/clients/give-ups/{give_up.pk}/")
        page.fill("#confirm-note", "同意,停止主动拜访。")
        page.click("[data-testid=confirm]")
        page.wait_for_load_state()
        give_up.refresh_from_db()
        client.refresh_from_db()
        assert give_up.status == GiveUp.Status.GIVEN_UP and client.tracking == Tracking.GIVEN_UP
        timeline = page.locator("[data-testid=timeline]").inner_text()
        assert "提议放弃跟踪" in timeline and "确认放弃跟踪" in timeline
        journey.shot("confirmed")

        # 4. the client has left the overdue list and the home panel; its page says why.
        journey.go("/clients/visits/overdue/")
        assert NAME not in page.content()
        journey.shot("overdue_after")
        journey.go("/")
        assert NAME not in page.content()
        journey.go(detail)
        banner = page.locator("[data-testid=giveup-banner]")
        assert "已放弃跟踪" in banner.inner_text() and "信誉低" in banner.inner_text()
        journey.shot("client_given_up")

        # 5. the list of given-up clients shows it; the archive still finds it.
        journey.go("/clients/give-ups/?tab=given_up")
        assert page.locator("[data-testid=giveup-row]", has_text=NAME).count() == 1
        journey.shot("given_up_list")
        journey.go("/clients/?q=瓯江口&tracking=given_up")
        assert NAME in page.locator("main").inner_text()
        journey.shot("archive_filter")
