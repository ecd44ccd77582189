"""Query budgets of every page the benchmark measures (style.md 12): the queries of one request
are within the page's budget and the same whether the page shows one row or a full page of
rows (a budget that grows with the rows shown is an N+1). On the benchmark's own bulk data, a
few hundred clients, as the branch user the benchmark measures with."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client as WebClient
from django.test.utils import CaptureQueriesContext

from bench import run

pytestmark = pytest.mark.django_db

# Queries of one request, per page (the benchmark's scenario names). The first five of every
# page: session, user (with branch and unread count), permissions and branch scope, the
# branch's suspensions, grants.
BUDGETS = {
    "list_page": 13,
    "api_clients": 8,
    "search3_page": 13,
    "search2_page": 13,
    "complaint_queue": 8,
    "client_page": 8,
    "client_tab": 9,
    "survey_results": 14,
    # The dashboards as their readers find them (figures cached, R35): group marketing's with a
    # column per branch, the branch manager's with one.
    "group_dashboard": 6,
    "branch_dashboard": 6,
}


def _queries(web, path, **headers):
    with CaptureQueriesContext(connection) as ctx:
        response = web.get(path, **headers)
    assert response.status_code == 200, (path, response.status_code)
    return len(ctx.captured_queries), response


def test_budgets_of_the_benchmarked_pages(org):
    call_command("seed_bulk", clients=150, branches=2, users=8, verbosity=0)
    staff, marketing, clients = run.pick_subjects()
    term3, term2 = run.search_terms([name for _, name in clients])
    paths = run.scenario_paths(clients, term3, term2)
    web = WebClient(HTTP_HOST="127.0.0.1")
    web.force_login(staff)
    web.get(paths["list_page"][0])  # the session's first request stamps its activity

    seen = {}

    def one_and_many(name, few, many, **headers):
        """The page with few rows and with many: the same queries, within the budget."""
        n_few, _ = _queries(web, few, **headers)
        n_many, _ = _queries(web, many, **headers)
        seen[f"{name} {many}"] = (n_few, n_many, BUDGETS[name])

    from clients.models import Client

    one = Client.objects.filter(branch=staff.branch).order_by("pk").first()
    list_url = paths["list_page"][0]
    one_and_many("list_page", f"{list_url}?q={one.credit_code}", list_url)
    one_and_many("api_clients", f"/api/clients/?search={one.credit_code}", "/api/clients/")
    # A search that finds one client (its whole name), and the benchmark's 3- and 2-character ones.
    one_and_many("search3_page", f"{list_url}?q={one.name}", paths["search3_page"][0])
    one_and_many("search2_page", f"{list_url}?q={one.name}", paths["search2_page"][0])
    from complaints.models import Complaint

    queue = paths["complaint_queue"][0]
    complained = Complaint.objects.filter(client__branch=staff.branch).order_by("pk").first()
    one_and_many("complaint_queue", f"{queue}?client={complained.client_id}", queue)
    n, _ = _queries(web, paths["survey_results"][0])
    seen["survey_results"] = (n, n, BUDGETS["survey_results"])

    # The client page and its tabs: the client with the fewest and the most rows.
    from django.db.models import Count

    ranked = list(
        Client.objects.filter(branch=staff.branch)
        .annotate(n=Count("contacts", distinct=True) + Count("visits", distinct=True))
        .order_by("n", "pk")
        .values_list("pk", flat=True)
    )
    small, large = ranked[0], ranked[-1]
    from django.urls import reverse

    one_and_many(
        "client_page",
        reverse("clients:client-detail", args=[small]),
        reverse("clients:client-detail", args=[large]),
    )
    for tab in ("contacts", "projects", "needs", "visits", "complaints", "history"):
        one_and_many(
            "client_tab",
            reverse("clients:client-tab", args=[small, tab]),
            reverse("clients:client-tab", args=[large, tab]),
            HTTP_HX_REQUEST="true",
        )
    # The dashboards: the second request of each reader reads the cached figures; the group's
    # has a column for each of the two bulk branches and the demo's, the branch's one.
    dashboard = run.dashboard_paths()[0]
    for name, user in (("group_dashboard", marketing), ("branch_dashboard", run.branch_manager(staff))):
        reader = WebClient(HTTP_HOST="127.0.0.1")
        reader.force_login(user)
        reader.get(dashboard)
        n, _ = _queries(reader, dashboard)
        seen[name] = (n, n, BUDGETS[name])
    over = {page: counts for page, counts in seen.items() if not counts[0] == counts[1] <= counts[2]}
    assert not over, f"(few rows, many rows, budget): {over}"
