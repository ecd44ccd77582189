"""What the pages say (issue 22; design.md, "The browser UI"): money in 万元 with thousands
separators, under column headers; deadlines and the ends of periods as people say them (the last
day they cover, 31 December, not the instant after it, 2027-01-01 00:00); every list states its
total (共 N 条), the same number its paginator counted, also when it is 0."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from assessments.review import services as review_services
from clients.access.services import end_of_day
from clients.views import PAGE_SIZE
from crm import figures as fig
from tests.assessments.helpers import at, new_client
from tests.clients.factories import ProjectFactory
from tests.clients.grants import make_grant
from tests.clients.test_import import GOOD, eager, upload, xlsx  # noqa: F401 (fixture)
from tests.crm.test_english_everywhere import english, reporting, review, world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

SHANGHAI_MIDNIGHT = at("2027-01-01T00:00")


# ----------------------------------------------------------------------------------- money


def test_wan_reads_yuan_as_wan_with_separators_and_two_decimals():
    from crm.templatetags.crm_tags import wan

    assert wan(10407708558) == "1,040,770.86"
    assert wan(10407708558.0) == "1,040,770.86"
    assert wan("12000000") == "1,200.00"
    assert wan(0) == "0.00"
    assert wan(None) == "-"


def test_the_analysis_report_shows_money_in_wan_under_headers(org):
    client = new_client(org, "east")
    ProjectFactory(client=client, contract_value=10_407_708_558, cost=9_000_000_000, profit=1_407_708_558)
    report = review_services.analysis_open(branch=org.branches["east"], half=fig.HalfYear(2026, 1))
    page = org.web("east_manager").get(reverse("assessments:analysis-detail", kwargs={"pk": report.pk}))
    text = page.content.decode()
    assert "10407708558" not in text and "10,407,708,558" not in text
    profit = re.search(r'<table[^>]*data-testid="profit".*?</table>', text, re.S).group(0)
    assert "1,040,770.86" in profit and "900,000.00" in profit and "140,770.86" in profit
    assert "合同金额(万元)" in profit and "<th" in profit
    product = re.search(r'<table[^>]*data-testid="product".*?</table>', text, re.S).group(0)
    assert "<th" in product and "利润(万元)" in product and "140,770.86" in product


# ----------------------------------------------------------------------------------- dates


@time_machine.travel(at("2026-12-10T10:00"), tick=False)
def test_last_day_reads_an_exclusive_end_as_the_day_before():
    from crm.templatetags.crm_tags import day, last_day

    # 2027-01-01 00:00 ends 2026: the last day is 31 December (this year's, so no year).
    assert last_day(SHANGHAI_MIDNIGHT) == "12月31日"
    with translation.override("en"):
        assert last_day(SHANGHAI_MIDNIGHT) == "31 December"
    # In UTC the same instant is 31 December 16:00; the day is read in Shanghai.
    assert last_day(SHANGHAI_MIDNIGHT.astimezone(dt.UTC)) == "12月31日"
    # Another time of day: that day, with the time.
    assert last_day(at("2026-12-25T20:00")) == "12月25日 20:00"
    with translation.override("en"):
        assert last_day(at("2026-12-25T20:00")) == "25 December 20:00"
    # A date is already a last day; another year's day says its year.
    assert last_day(dt.date(2026, 6, 1)) == "6月1日"
    assert last_day(at("2028-01-01T00:00")) == "2027年12月31日"
    with translation.override("en"):
        assert last_day(at("2028-01-01T00:00")) == "31 December 2027"
    assert day(at("2026-07-01T09:30")) == "7月1日" and last_day(None) == ""


@time_machine.travel(at("2026-12-10T10:00"), tick=False)
def test_the_grant_banner_says_the_last_day_of_the_grant(org):
    theirs = new_client(org, "east")
    grant = make_grant(org, org["south_staff"], theirs, active=True)
    grant.ends_at = end_of_day(dt.date(2026, 12, 31))
    grant.save(update_fields=["ends_at"])
    assert grant.ends_at == SHANGHAI_MIDNIGHT
    web = org.web("south_staff")
    page = web.get(reverse("clients:client-detail", kwargs={"pk": theirs.pk}))
    banner = re.search(r'data-testid="grant-banner".*?</div>', page.content.decode(), re.S).group(0)
    assert "12月10日 至 12月31日" in banner and "2027-01-01" not in banner and "00:00" not in banner
    grants = web.get(reverse("clients:access-grant-list")).content.decode()
    assert '<span data-testid="grant-end">12月31日</span>' in grants
    detail = web.get(reverse("clients:access-request-detail", kwargs={"pk": grant.request_id}))
    assert "12月10日 ~ 12月31日" in detail.content.decode()
    english(web)
    page = web.get(reverse("clients:client-detail", kwargs={"pk": theirs.pk}))
    assert "from 10 December until 31 December;" in html.unescape(page.content.decode())


@time_machine.travel(at("2026-12-10T10:00"), tick=False)
def test_the_analysis_report_says_the_day_it_is_due(org):
    second = review_services.analysis_open(branch=org.branches["east"], half=fig.HalfYear(2026, 2))
    assert fig.HalfYear(2026, 2).analysis_due == SHANGHAI_MIDNIGHT
    web = org.web("east_manager")
    text = web.get(reverse("assessments:analysis-detail", kwargs={"pk": second.pk})).content.decode()
    due = re.search(r'data-testid="due">(.*?)</span>', text, re.S).group(1)
    assert "12月31日" in due and "2027-01-01" not in due
    owed = web.get(reverse("assessments:owed")).content.decode()
    rows = re.findall(r'data-kind="analysis_report"><td>(\S+) .*?</td><td[^>]*>(.*?)</td>', owed)
    assert rows == [("2026H1", "6月1日"), ("2026H2", "12月31日")]


# ------------------------------------------------------------------------------ list totals

# Every list page, with the role that sees it and, for a list shown whole (no paginator), the
# name of the rows in the page's context.
LISTS = [
    ("marketing", "clients:client-list", None),
    ("marketing", "clients:need-list", None),
    ("east_manager", "clients:visit-overdue-list", None),
    ("marketing", "complaints:complaint-list", None),
    ("marketing", "surveys:survey-list", None),
    ("marketing", "surveys:campaign-list", None),
    ("marketing", "surveys:followup-list", None),
    ("marketing", "surveys:template-list", None),
    ("marketing", "clients:access-request-review", None),
    ("east_staff", "clients:access-request-list", None),
    ("east_staff", "clients:access-grant-list", None),
    ("marketing", "clients:access-log-list", None),
    ("marketing", "assessments:report-list", None),
    ("marketing", "assessments:analysis-list", "reports"),
    ("marketing", "assessments:assessment-list", "rows"),
    ("marketing", "assessments:ranking-list", "rankings"),
    ("marketing", "assessments:close-list", "closes"),
    ("east_manager", "assessments:owed", "items"),
    ("marketing", "notification-list", None),
    ("east_staff", "notification-list", None),
]

TOTAL = re.compile(r'data-testid="list-total" data-count="(\d+)">共 (\d+) 条')


def _total_of(response, rows_key) -> int:
    context = response.context
    if rows_key is None:
        return context["page"].paginator.count
    return len(context[rows_key])


def _stated(text: str) -> list[tuple[str, str]]:
    return TOTAL.findall(text)


def test_every_list_states_its_total(org, reporting, review, eager, django_capture_on_commit_callbacks):  # noqa: F811 (an imported fixture)
    counts = {}
    for persona, route, rows_key in LISTS:
        response = org.web(persona).get(reverse(route))
        assert response.status_code == 200, (persona, route, response.status_code)
        expected = _total_of(response, rows_key)
        stated = _stated(response.content.decode())
        assert stated == [(str(expected), str(expected))], (persona, route, expected, stated)
        counts[route] = expected
    # Empty lists say 0 too, and full ones their count: both kinds were seen.
    assert 0 in counts.values() and any(n > 0 for n in counts.values()), counts
    # The rows of an import's preview.
    web = org.web("east_staff")
    job = upload(web, xlsx(GOOD[:2]), django_capture_on_commit_callbacks)
    response = web.get(reverse("clients:import-preview", kwargs={"job": job}))
    assert _stated(response.content.decode()) == [("2", "2")] == [(str(_total_of(response, None)),) * 2]


def test_a_long_list_states_its_total_beside_the_pages(org):
    for _ in range(PAGE_SIZE + 1):
        new_client(org, "east")
    response = org.web("marketing").get(reverse("clients:client-list"))
    paginator = response.context["page"].paginator
    assert paginator.num_pages == 2
    found = re.search(
        r'data-testid="list-total" data-count="(\d+)">共 (\d+) 条,第 1/(\d+) 页', response.content.decode()
    )
    assert found and found.groups() == (str(paginator.count), str(paginator.count), "2")
