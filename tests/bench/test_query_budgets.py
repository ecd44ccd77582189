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

# Queries of one request, per page (the benchmark's scenario names; one table for both). The first
# five of every page: session, user (with branch and unread count), permissions and branch scope,
# the branch's suspensions, grants.
BUDGETS = run.QUERY_BUDGETS


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


def _close(period):
    """The 25th job for ``period`` as its tasks run it, in this process."""
    from assessments.monthly import services

    close, pending = services.monthly_close_start(period=period)
    for branch_id in pending:
        services.monthly_close_part(close_id=close.pk, branch_id=branch_id)


def _open_round(half):
    """The half-year job (R34) as its tasks run it, in this process."""
    from assessments.review import services

    rnd, pending = services.assessment_round_start(half=half)
    for branch_id in pending:
        services.assessment_compute(round_id=rnd.pk, branch_id=branch_id)
    services.assessment_round_finish(round_id=rnd.pk)


def test_budgets_of_the_rollup_and_the_workbench(org):
    """Group marketing's roll-up (a row per branch) and an auditor's assessment (the workbench):
    the same queries with two more branches in the roll-up, whether its rows are live or frozen,
    and for a small branch's assessment as for a large one's; within the budget."""
    import time_machine
    from django.urls import reverse

    from assessments.models import Assessment
    from clients.models import Client
    from crm import figures as fig
    from crm.models import Branch
    from tests.assessments.helpers import at

    rollup = reverse("assessments:rollup")
    seen = {}
    with time_machine.travel(at("2026-12-26T10:00"), tick=False):
        marketing = WebClient(HTTP_HOST="127.0.0.1")
        marketing.force_login(org["marketing"])
        call_command("seed_bulk", clients=150, branches=2, users=8, verbosity=0)
        # Live: the drafts counted over their window, one query per figure grouped by branch (a
        # draft whose predecessor was submitted early has a window, and a pass, of its own:
        # assessments.monthly.services._draft_values).
        marketing.get(f"{rollup}?period=2026-11")
        live, _ = _queries(marketing, f"{rollup}?period=2026-11")
        for n in (1, 2):
            Branch.objects.create(code=f"extra{n}", name=f"新设分公司{n}", sort_order=900 + n)
        marketing.get(f"{rollup}?period=2026-11")  # the period's first read opens their drafts
        more_live, response = _queries(marketing, f"{rollup}?period=2026-11")
        assert "新设分公司2" in response.content.decode()
        # Frozen by the 25th job: read from the reports.
        _close(fig.Period(2026, 11))
        more_frozen, _ = _queries(marketing, f"{rollup}?period=2026-11")
        Branch.objects.filter(code__startswith="extra").update(is_active=False)
        frozen, _ = _queries(marketing, f"{rollup}?period=2026-11")
        seen["rollup_page live"] = (live, more_live)
        seen["rollup_page frozen"] = (frozen, more_frozen)
        # The month after: every draft's window starts at the job's freeze, one pass.
        marketing.get(f"{rollup}?period=2026-12")
        seen["rollup_page next month"] = (live, _queries(marketing, f"{rollup}?period=2026-12")[0])

        _open_round(fig.HalfYear(2026, 1))
        auditor = WebClient(HTTP_HOST="127.0.0.1")
        auditor.force_login(org["auditor"])
        bulk = sorted(
            Assessment.objects.filter(half_year="2026H1", branch__code__startswith="b"),
            key=lambda a: Client.objects.filter(branch=a.branch_id).count(),
        )
        assert len(bulk) == 2
        detail = [reverse("assessments:assessment-detail", kwargs={"pk": a.pk}) for a in bulk]
        auditor.get(detail[0])
        small, large = (_queries(auditor, path)[0] for path in detail)
    # The assessment reads each of its lists again (their ids, through restrict), only the
    # lists that have rows: at most one query more per list, never one per row.
    assert small <= large <= BUDGETS["workbench_page"], (small, large)
    over = {
        page: (a, b, BUDGETS[page.split()[0]])
        for page, (a, b) in seen.items()
        if not a == b <= BUDGETS[page.split()[0]]
    }
    assert not over, f"(fewer rows, more rows, budget): {over}"
