"""One test for all figures (design.md, "Figures"; R26, R27, R35): on the demo, every figure-bearing
surface is read as each role would read it (the dashboard page and ``/api/dashboard/`` for the
group, each chosen branch and each branch manager; the home cards; the roll-up; the monthly
reports; the rankings; the assessment's indicators), every figure is followed to the list behind it as the same
user, and the count of the list must be the figure. In Chinese and in English.

A figure is a number the page shows as a link (``data-figure`` or a report's figure link); rates
are not counts, and link to the list of their denominator, whose count is checked on its own.
The clock is fixed on a day of the demo's period, so the test passes on any date.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client as WebClient

from crm import figures as fig
from crm.models import Branch, User
from tests.assessments.helpers import at

pytestmark = pytest.mark.django_db

NOW = at("2026-12-20T10:00")
RATES = {r.key for r in fig.rates()}


class _Anchors(HTMLParser):
    """The figure links of a page: (name, href, text)."""

    def __init__(self):
        super().__init__()
        self.found: list[list[str]] = []
        self._open: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag != "a":
            return
        attrs = dict(attrs)
        name = attrs.get("data-figure") or ""
        testid = attrs.get("data-testid") or ""
        if not name and testid.startswith("figure-"):
            name = testid
        if name and attrs.get("href"):
            self._open = [name, attrs["href"], ""]

    def handle_data(self, data):
        if self._open is not None:
            self._open[2] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._open is not None:
            self.found.append(self._open)
            self._open = None


def figure_links(html: str) -> list[tuple[str, str, int]]:
    parser = _Anchors()
    parser.feed(html)
    out = []
    for name, href, text in parser.found:
        number = re.search(r"-?[\d,]+", text.strip())
        if number is None or "%" in text:
            continue  # a rate, or a label without a number
        out.append((name, href.replace("&amp;", "&"), int(number.group().replace(",", ""))))
    return out


def list_count(web, url: str) -> int:
    """The count a list page states: its paginator, its rows, or the 共 N 条 it shows."""
    response = web.get(url)
    assert response.status_code == 200, (url, response.status_code)
    context = response.context
    if context is not None:
        if "page" in context and hasattr(context["page"], "paginator"):
            return context["page"].paginator.count
        if "count" in context:
            return context["count"]
    found = re.search(r'data-testid="list-total" data-count="(\d+)"', response.content.decode())
    assert found, f"{url} states no total"
    return int(found.group(1))


MISMATCHES: list[str] = []


class Checker:
    def __init__(self):
        self.checked = 0
        self.seen: dict[str, int] = {}
        self.names: set[str] = set()

    def page(self, web, url: str, *, who: str, lang: str, expect_some: bool = True) -> str:
        response = web.get(url)
        assert response.status_code == 200, (who, url, response.status_code)
        html = response.content.decode()
        links = figure_links(html)
        if expect_some:
            assert links, (who, url, "shows no figure links")
        for name, href, value in links:
            self.names.add(name)
            key = f"{who}:{lang}:{href}"
            count = self.seen.get(key)
            if count is None:
                count = self.seen[key] = list_count(web, href)
            if count != value:
                MISMATCHES.append(f"{who} [{lang}] {url}: {name} says {value}, its list {href} has {count}")
            self.checked += 1
        return html


def _web(user, lang: str) -> WebClient:
    web = WebClient(HTTP_ACCEPT_LANGUAGE=lang)
    web.force_login(user)
    return web


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The shared cache outlives a test database: start from nothing (a dashboard cached by an
    earlier run under the same user id would otherwise be served)."""
    from django.core.cache import cache

    cache.clear()


def test_every_figure_on_every_surface_equals_the_list_behind_it():
    MISMATCHES.clear()
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
        users = {u.username: u for u in User.objects.all()}
        branches = list(Branch.objects.filter(is_active=True))
        assert Branch.objects.get(code="hq").clients.exists(), "the demo's head office owns clients"
        from crm.dashboard import panels

        group_checks = []
        for lang in ("zh-hans", "en"):
            check = Checker()
            # The group's dashboard: the group, and each branch chosen (the head office too).
            for who in ("marketing", "leader", "auditor"):
                web = _web(users[who], lang)
                html = check.page(web, "/reports/dashboard/", who=who, lang=lang)
                assert 'data-figure="grade-total-all"' in html
                data = web.get("/api/dashboard/").json()
                assert data["grades"]["total"] == sum(r["total"] for r in data["grades"]["rows"])
                for f in data["figures"]:
                    assert f["value"] == sum(b["value"] for b in f["branches"]), (who, f["key"])
                if who == "marketing":
                    for branch in branches:
                        check.page(web, f"/reports/dashboard/?branch={branch.pk}", who=who, lang=lang)
                    rollup = check.page(web, "/reports/rollup/", who=who, lang=lang)
                    assert 'data-figure="total-new_clients"' in rollup
                    last = fig.Period.last_due(NOW).label
                    check.page(web, f"/reports/rollup/?period={last}", who=who, lang=lang)
            # Each branch manager's dashboard, and the reports of their branch, current and closed.
            for code in ("east", "south", "design", "install"):
                who = f"{code}_manager"
                web = _web(users[who], lang)
                check.page(web, "/reports/dashboard/", who=who, lang=lang)
                current = web.get("/reports/monthly/current/", follow=True)
                check.page(web, current.request["PATH_INFO"], who=who, lang=lang)
                from assessments.models import MonthlyReport

                closed = MonthlyReport.objects.get(branch__code=code, period=fig.Period.last_due(NOW).label)
                check.page(web, f"/reports/monthly/{closed.pk}/", who=who, lang=lang)
            # The quarterly need analysis reports (R65, R66), frozen or live: each read by its
            # branch's manager and by group marketing.
            from assessments.models import NeedAnalysisReport

            need_reports = list(NeedAnalysisReport.objects.select_related("branch"))
            assert len(need_reports) == 4, "the demo has last quarter's need analysis reports"
            for report in need_reports:
                for who in (f"{report.branch.code}_manager", "marketing"):
                    url = f"/reports/need-analysis/{report.pk}/"
                    check.page(_web(users[who], lang), url, who=who, lang=lang)
            # The project departments' parts (R81, R82), frozen and live: each read by its
            # department's person and by the branch manager (whose branch report shows them too).
            from assessments.models import DepartmentReport

            parts = list(
                DepartmentReport.objects.filter(
                    period__in=[fig.Period.last_due(NOW).label, fig.Period.containing(NOW).label]
                ).select_related("branch", "department")
            )
            assert len(parts) >= 16, "the demo has the departments' parts"
            for part in parts:
                staff = f"{part.branch.code}_{part.department.code.removeprefix('pd-')}_staff"
                for who in (staff, f"{part.branch.code}_manager"):
                    url = f"/reports/departments/{part.pk}/"
                    check.page(_web(users[who], lang), url, who=who, lang=lang)
            # The home cards of every role, and the latest rankings, followed as the same person.
            from assessments.models import Ranking

            rankings = [r.pk for r in Ranking.objects.order_by("-as_of")[:2]]
            assert rankings, "the demo has rankings"
            for who, user in users.items():
                web = _web(user, lang)
                check.page(web, "/", who=who, lang=lang, expect_some=False)
                if user.role:
                    for pk in rankings:
                        html = check.page(
                            web, f"/reports/rankings/{pk}/", who=who, lang=lang, expect_some=False
                        )
                        if who in ("marketing", "leader", "auditor") or who.endswith("_manager"):
                            assert 'data-figure="rank-' in html, (who, "ranking counts are links")
                for panel in panels(user):
                    for card in panel["figures"]:
                        if card.get("url"):
                            count = list_count(web, card["url"])
                            if count != card["value"]:
                                MISMATCHES.append(f"{who} [{lang}] home: {card} has {count}")
                            check.checked += 1
            group_checks.append(check.checked)
            # The warranty repairs' figures (R99) are among those followed to their lists.
            repairs = {f.key for f in fig.figures() if f.section == "repairs"}
            assert repairs and repairs <= check.names, repairs - check.names
        # The assessment's indicators: each frozen figure is its list (shown or hidden).
        from assessments.models import Assessment

        auditor = _web(users["auditor"], "zh-hans")
        for assessment in Assessment.objects.filter(computed_at__isnull=False):
            response = auditor.get(f"/reports/assessments/{assessment.pk}/")
            for section in response.context["ind"].values():
                if not isinstance(section, dict):
                    continue
                for key, item in section.items():
                    if isinstance(item, dict) and "list" in item and fig.figure(key):
                        assert item["value"] == len(item["list"]) + item["hidden"], (assessment, key)
    assert MISMATCHES == [], "\n".join(MISMATCHES)
    # Enough figures were followed that a surface going missing would show.
    assert min(group_checks) >= 300, group_checks


def test_every_figure_equals_its_list_on_the_benchmarks_data():
    """The same walk on a copy of the benchmark's bulk data (seed_bulk, small): generated
    branches, managers and staff, and the demo organisation's group roles."""
    MISMATCHES.clear()
    with time_machine.travel(NOW, tick=False):
        call_command("seed_bulk", clients=400, branches=3, users=12, verbosity=0)
        marketing = User.objects.get(username="marketing")
        managers = list(
            User.objects.filter(role="manager", branch__code__startswith="b").order_by("username")
        )
        staff = User.objects.filter(role="staff", branch__code__startswith="b").order_by("username").first()
        assert managers and staff, "the bulk data has branch managers and staff"
        check = Checker()
        for lang in ("zh-hans",):  # the counts do not depend on the language (the demo walk reads both)
            web = _web(marketing, lang)
            check.page(web, "/reports/dashboard/", who="marketing", lang=lang)
            for branch in Branch.objects.filter(code__startswith="b"):
                check.page(web, f"/reports/dashboard/?branch={branch.pk}", who="marketing", lang=lang)
            check.page(web, "/reports/rollup/", who="marketing", lang=lang)
            check.page(
                web, f"/reports/rollup/?period={fig.Period.last_due(NOW).label}", who="marketing", lang=lang
            )
            for manager in managers:
                web = _web(manager, lang)
                who = manager.username
                check.page(web, "/reports/dashboard/", who=who, lang=lang)
                current = web.get("/reports/monthly/current/", follow=True)
                check.page(web, current.request["PATH_INFO"], who=who, lang=lang)
            for user in (marketing, managers[0], staff):
                web = _web(user, lang)
                check.page(web, "/", who=user.username, lang=lang, expect_some=False)
    assert MISMATCHES == [], "\n".join(MISMATCHES)
    assert check.checked >= 100, check.checked
