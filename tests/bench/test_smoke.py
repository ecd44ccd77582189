"""A small smoke run of the benchmark's own code, so that `make bench` cannot rot: bulk data
(a few hundred clients), the subjects, the EXPLAIN of the search, the query counts, and a short
bounded load through the Django test client. Speed is not asserted here (style: tests assert
behaviour and query budgets; `make bench` measures)."""

import json

import pytest
from django.core.management import call_command
from django.test import Client as WebClient

from bench import run

pytestmark = pytest.mark.django_db


class SmokeSession:
    """The benchmark's HttpSession interface over Django's test client."""

    def __init__(self, user):
        self.web = WebClient(HTTP_HOST="127.0.0.1")
        self.web.force_login(user)

    def get(self, path):
        return self.web.get(path).status_code


def test_bench_smoke(org, tmp_path, settings):
    call_command("seed_bulk", clients=300, branches=3, users=12, verbosity=0)
    staff, marketing, clients = run.pick_subjects()
    assert staff.branch.code.startswith("b") and clients, "bulk branch user and clients"
    term3, term2 = run.search_terms([name for _, name in clients])
    assert len(term3) == 3 and len(term2) == 2
    ms, _uses_index, plan = run.explain_search(staff, term3)
    assert ms >= 0 and "Execution Time" in plan
    counts = run.query_counts(staff, "/api/clients/?page_size={size}")
    assert counts[0] == counts[1], f"API list queries grow with page size: {counts}"
    counts = run.query_counts(staff, "/clients/?page_size={size}")
    assert counts[0] == counts[1], f"list page queries grow with page size: {counts}"

    paths = run.scenario_paths(clients, term3, term2)
    rows = []
    for name, path_list in paths.items():
        result = run.run_load(lambda: SmokeSession(staff), path_list, concurrency=1, requests=4)
        assert result.errors == 0, (name, path_list)
        assert len(result.latencies) == 4
        rows.append(run.row(f"{name}_p95_c4", result.p95))
    # The 25th job over the bulk branches, in process as the worker runs it, and the roll-up.
    from assessments import services
    from crm.figures import Period

    label = Period.last_due().label
    run.reset_period(label)
    close, pending = services.monthly_close_start(period=Period.parse(label))
    assert len(pending) >= 3
    for branch_id in pending:
        services.monthly_close_part(close_id=close.pk, branch_id=branch_id)
    assert run.wait_closed(label, timeout=5) >= 0
    result = run.run_load(lambda: SmokeSession(marketing), run.rollup_paths(label), concurrency=1, requests=2)
    assert result.errors == 0
    rows.append(run.row("rollup_page_p95_c4", result.p95))
    # The half-year job in process, the workbench, and both dashboards (cold, then loaded).
    from assessments.review import services as review
    from crm.figures import HalfYear

    half = HalfYear.last_ended()
    run.reset_half(half.label)
    rnd, pending = review.assessment_round_start(half=half)
    for branch_id in pending:
        review.assessment_compute(round_id=rnd.pk, branch_id=branch_id)
    assert run.wait_round_open(half.label, timeout=5) >= 0
    from crm.models import Role, User

    auditor = User.objects.filter(role=Role.AUDITOR).first()
    paths = run.workbench_paths(half.label)
    assert paths
    result = run.run_load(lambda: SmokeSession(auditor), paths, concurrency=1, requests=2)
    assert result.errors == 0
    manager = run.branch_manager(staff)
    assert run.dashboard_cold_ms(manager) > 0 and run.dashboard_cold_ms(marketing) > 0
    for user in (marketing, manager):
        result = run.run_load(
            lambda u=user: SmokeSession(u), run.dashboard_paths(), concurrency=1, requests=2
        )
        assert result.errors == 0
    rows.append(run.row("errors", 0))
    out = tmp_path / "results.json"
    out.write_text(json.dumps(rows))
    data = json.loads(out.read_text())
    assert all(set(r) == {"name", "value", "unit", "target", "pass"} for r in data)
    assert run.row("restricted_over_unrestricted", 1.5)["pass"] is False
    assert run.row("restricted_over_unrestricted", 1.1)["pass"] is True
