"""R13: visit plans follow the grade. A clients without a plan are flagged (archive list filter
and home panel, same count); every grade change re-checks the plan (A: visitor level by social
value, C: the plan ends, A without a plan: flagged), with the history saying why; the demo's A
plans obey the visitor-level rule; B clients' scale-profit classes have configurable thresholds
and a filter in the archive list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse

from clients import grading, selectors, services
from clients import seed as demo
from clients.models import Client, VisitPlan
from crm.models import Notification
from tests.clients.factories import ProjectFactory

from .archive_helpers import make_client

pytestmark = pytest.mark.django_db


def _plan(client, **kw) -> VisitPlan:
    kw.setdefault("frequency", VisitPlan.Frequency.QUARTERLY)
    return services.visit_plan_save(plan=VisitPlan(client=client, **kw), by=client.owner)


def _grade(org, client, grade, branch="east") -> None:
    services.client_set_grade(client=client, grade=grade, reason="测试调整", by=org[f"{branch}_manager"])
    client.refresh_from_db()


# --------------------------------------------------------------------------- grade change re-check


def test_becoming_a_raises_the_visitor_level_and_frequency(org):
    client = make_client(org, grade="B", social_value="high")
    plan = _plan(client, frequency=VisitPlan.Frequency.CUSTOM, interval_days=60)
    assert plan.visitor_level == VisitPlan.VisitorLevel.MARKETING_STAFF
    _grade(org, client, "A")
    plan.refresh_from_db()
    assert plan.is_active
    assert plan.visitor_level == VisitPlan.VisitorLevel.GROUP_LEADER  # high social value
    assert plan.frequency == VisitPlan.Frequency.MONTHLY  # at least as often as every 60 days
    services.visit_plan_rules(plan)  # the plan now passes the service's own rule
    row = plan.history.order_by("-history_id").first()
    assert "集团领导" in row.history_change_reason and row.history_user == org["east_manager"]
    assert "拜访人员层级" in client.history.order_by("-history_id").first().history_change_reason


def test_becoming_a_keeps_a_plan_that_already_obeys(org):
    client = make_client(org, grade="B", social_value="medium")
    plan = _plan(client, visitor_level=VisitPlan.VisitorLevel.GROUP_LEADER, frequency="monthly")
    version = plan.version
    _grade(org, client, "A")
    plan.refresh_from_db()
    assert plan.version == version and plan.visitor_level == VisitPlan.VisitorLevel.GROUP_LEADER


def test_becoming_c_ends_the_plan(org):
    client = make_client(org, grade="B")
    plan = _plan(client)
    _grade(org, client, "C")
    plan.refresh_from_db()
    assert not plan.is_active
    assert "计划终止" in plan.history.order_by("-history_id").first().history_change_reason
    # An ended plan is no longer due: no overdue visit for it.
    VisitPlan.objects.filter(pk=plan.pk).update(next_due_on=dt.date(2020, 1, 1))
    assert not selectors.overdue_visit_plans(org["east_manager"]).filter(pk=plan.pk).exists()


def test_becoming_c_under_observation_keeps_the_plan(org):
    client = make_client(org, grade="B", under_observation=True)
    plan = _plan(client)
    _grade(org, client, "C")
    plan.refresh_from_db()
    assert plan.is_active


def test_becoming_a_without_a_plan_is_flagged(org):
    client = make_client(org, grade="B")
    _grade(org, client, "A")
    assert client in selectors.a_clients_without_plan(org["east_staff"])  # the owner
    assert client in selectors.a_clients_without_plan(org["east_manager"])
    told = set(Notification.objects.filter(verb="visit_plan_missing").values_list("recipient", flat=True))
    assert {org["east_staff"].pk, org["east_manager"].pk} <= told
    assert "无拜访计划" in client.history.order_by("-history_id").first().history_change_reason


# --------------------------------------------------------------------------- the flag: list and panel


def _a_clients(org):
    planned = make_client(org, grade="A", social_value="low")
    _plan(planned, frequency="monthly")
    mine = make_client(org, grade="A")
    colleague = make_client(org, grade="A", owner=org["east_manager"])
    ended = make_client(org, grade="A")
    VisitPlan.objects.create(
        client=ended,
        frequency="monthly",
        visitor_level="branch_leader",
        responsible=ended.owner,
        next_due_on=dt.date(2026, 1, 1),
        is_active=False,
    )
    make_client(org, grade="B")
    make_client(org, grade="A", branch_code="south")  # another branch
    return planned, mine, colleague, ended


def _list(org, username, url):
    response = org.web(username).get(url)
    assert response.status_code == 200
    return response, {c.pk for c in response.context["page"].object_list}


def test_archive_list_filters_a_clients_without_plan(org):
    planned, mine, colleague, ended = _a_clients(org)
    response, shown = _list(org, "east_manager", reverse("clients:client-list") + "?plan=a_missing")
    assert shown == {mine.pk, colleague.pk, ended.pk}
    assert response.content.decode().count('data-testid="a-without-plan"') == 3
    assert "无拜访计划的A类客户" in response.content.decode()


@pytest.mark.parametrize("username,expected", [("east_staff", 2), ("east_manager", 3)])
def test_home_panel_counts_what_its_list_shows(org, username, expected):
    _a_clients(org)
    response = org.web(username).get(reverse("home"))
    [panel] = [p for p in response.context["panels"] if p["title"] == "无拜访计划的A类客户"]
    [figure] = panel["figures"]
    _, shown = _list(org, username, figure["url"])
    assert figure["value"] == len(shown) == expected
    assert figure["url"] in response.content.decode().replace("&amp;", "&")


def test_no_panel_for_group_roles(org):
    response = org.web("leader").get(reverse("home"))
    assert all(p["title"] != "无拜访计划的A类客户" for p in response.context["panels"])


# --------------------------------------------------------------------------- the demo data


def test_demo_a_plans_obey_the_visitor_level_rule(org):
    demo.seed(org.org)
    plans = VisitPlan.objects.filter(client__grade="A").select_related("client")
    assert plans.count() >= 20
    for plan in plans:
        services.visit_plan_rules(plan)  # raises ValidationError when the level is too low


# --------------------------------------------------------------------------- scale-profit (B)


def _b_with(org, value, profit, **kw):
    client = make_client(org, grade="B", **kw)
    ProjectFactory(
        client=client,
        contract_value=Decimal(value),
        cost=Decimal(value) - Decimal(profit),
        profit=Decimal(profit),
    )
    return client


def test_scale_profit_thresholds_come_from_settings(org):
    client = _b_with(org, 8_000_000, 1_000_000)  # 800万, 12.5%
    projects = list(client.projects.all())
    assert grading.scale_profit_class(projects) == "规模小利润低"
    with override_settings(CRM_SCALE_PROFIT_LARGE_CONTRACT_YUAN=5_000_000, CRM_SCALE_PROFIT_HIGH_MARGIN=0.1):
        assert grading.scale_profit_class(projects) == "规模大利润高"


@pytest.mark.parametrize(
    "code,label",
    [
        ("large_low", "规模大利润低"),
        ("small_high", "规模小利润高"),
        ("large_high", "规模大利润高"),
        ("small_low", "规模小利润低"),
    ],
)
def test_archive_list_filters_b_clients_by_scale_profit(org, code, label):
    clients = {
        "large_low": _b_with(org, 20_000_000, 1_000_000),
        "small_high": _b_with(org, 2_000_000, 600_000),
        "large_high": _b_with(org, 12_000_000, 3_000_000),
        "small_low": _b_with(org, 3_000_000, 150_000),
    }
    a_client = make_client(org, grade="A")
    ProjectFactory(client=a_client, contract_value=20_000_000, cost=19_000_000, profit=1_000_000)
    make_client(org, grade="B")  # no projects: no class
    response, shown = _list(org, "east_manager", reverse("clients:client-list") + f"?scale_profit={code}")
    assert shown == {clients[code].pk}
    assert grading.scale_profit_class(clients[code].projects.all()) == label
    assert label in response.content.decode()  # the filter's choice


def test_scale_profit_filter_follows_the_settings(org):
    client = _b_with(org, 8_000_000, 1_000_000)
    url = reverse("clients:client-list") + "?scale_profit=large_high"
    assert _list(org, "east_manager", url)[1] == set()
    with override_settings(CRM_SCALE_PROFIT_LARGE_CONTRACT_YUAN=5_000_000, CRM_SCALE_PROFIT_HIGH_MARGIN=0.1):
        assert _list(org, "east_manager", url)[1] == {client.pk}
    assert Client.objects.filter(pk=client.pk).exists()


# --------------------------------------------------------------------------- the list's badges


def test_the_list_rows_carry_their_plan_flags_and_contact_counts(org):
    """The archive list's 拜访逾期 and 无拜访计划 badges and its contact count, read for the page's
    rows only: each agrees with the filter of the same name."""
    from tests.clients.factories import ContactFactory

    overdue = make_client(org, name="常州逾期拜访建设有限公司", grade="A")
    plan = _plan(overdue, frequency="monthly")
    VisitPlan.objects.filter(pk=plan.pk).update(next_due_on=dt.date(2020, 1, 1))
    missing = make_client(org, name="常州无计划建设有限公司", grade="A")
    ended = make_client(org, name="常州计划终止建设有限公司", grade="B")
    VisitPlan.objects.filter(pk=_plan(ended).pk).update(is_active=False, next_due_on=dt.date(2020, 1, 1))
    ContactFactory(client=missing, name="钱工")
    ContactFactory(client=missing, name="孙工")
    page = org.web("east_staff").get(reverse("clients:client-list")).context["page"]
    rows = {c.name: c for c in page.object_list}
    assert [rows[c.name].visit_overdue for c in (overdue, missing, ended)] == [True, False, False]
    assert [rows[c.name].has_active_plan for c in (overdue, missing, ended)] == [True, False, False]
    assert [rows[c.name].contact_count for c in (overdue, missing, ended)] == [0, 2, 0]
    by_filter = set(Client.objects.filter(selectors.visit_overdue_q()).values_list("name", flat=True))
    assert by_filter == {overdue.name}
    html = org.web("east_staff").get(reverse("clients:client-list"), {"plan": "a_missing"}).content.decode()
    assert missing.name in html and overdue.name not in html and 'data-testid="a-without-plan"' in html
