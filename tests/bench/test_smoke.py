"""A small smoke run of the benchmark's own code, so that `make bench` cannot rot: bulk data
(a few hundred clients), the subjects, the EXPLAIN of the search, the query counts, and a short
bounded load through the Django test client. Speed is not asserted here (style: tests assert
behaviour and query budgets; `make bench` measures)."""

import json
import math

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
    assert math.isfinite(ms) and 0 < ms < 60_000, ms  # the plan's own timing was read
    assert "Execution Time" in plan and "clients_client" in plan
    counts = run.query_counts(staff, "/api/clients/?page_size={size}")
    assert counts[0] == counts[1], f"API list queries grow with page size: {counts}"
    counts = run.query_counts(staff, "/clients/?page_size={size}")
    assert counts[0] == counts[1], f"list page queries grow with page size: {counts}"

    rows = []
    paths = run.scenario_paths(clients, term3, term2)
    # Every page in process, as the benchmark reports it beside the load figures.
    for name in run.INPROC_PAGES:
        ms, queries = run.inprocess(staff, paths[name], htmx=name in run.HTMX_SCENARIOS, requests=2)
        assert math.isfinite(ms) and queries > 0, name
        rows.append(run.row(f"{name}_queries", queries))
    assert all(r["pass"] for r in rows), rows  # the client page within its budget
    for name, path_list in paths.items():
        result = run.run_load(lambda: SmokeSession(staff), path_list, concurrency=1, requests=4)
        assert result.errors == 0, (name, path_list)
        assert len(result.latencies) == 4
        rows.append(run.row(f"{name}_p95_c4", result.p95))
    # The 25th job over the bulk branches, in process as the worker runs it, and the roll-up.
    from assessments.monthly import services
    from crm.figures import Period

    label = Period.last_due().label
    run.reset_period(label)
    close, pending = services.monthly_close_start(period=Period.parse(label))
    assert len(pending) >= 3
    for branch_id in pending:
        services.monthly_close_part(close_id=close.pk, branch_id=branch_id)
    assert math.isfinite(run.wait_closed(label, timeout=5))
    from assessments.models import MonthlyClose

    closed = MonthlyClose.objects.get(period=label)
    assert closed.state == "done" and closed.done == closed.total == len(pending)
    assert len(closed.rollup["branches"]) == len(pending)
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
    assert math.isfinite(run.wait_round_open(half.label, timeout=5))
    rnd.refresh_from_db()
    assert rnd.state == "open" and rnd.done == rnd.total == len(pending)
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


def test_bench_import_and_export(org, settings, tmp_path):
    """The import scenario at small scale: the benchmark's spreadsheet posted as its hand-built
    multipart body to the API, validated and saved by the import services as the worker runs
    them, then removed by ``purge_imports`` (exactly those clients); and the whole-archive
    export as group marketing, read back as a workbook."""
    import io

    from openpyxl import load_workbook
    from rest_framework.test import APIClient

    from clients.imports import services as importing
    from clients.models import Client, Contact, ImportJob, Project

    settings.MEDIA_ROOT = str(tmp_path)
    call_command("seed_bulk", clients=120, branches=2, users=8, verbosity=0)
    staff, marketing, _ = run.pick_subjects()
    manager = run.branch_manager(staff)
    before = set(Client.objects.values_list("pk", flat=True))
    assert run.purge_imports() == 0

    content = run.import_workbook(30, staff.branch.name, "1767225600")
    api = APIClient()
    api.force_authenticate(manager)
    body, content_type = run.multipart("file", run.IMPORT_FILENAME, content)
    response = api.generic("POST", "/api/import-jobs/", body, content_type=content_type)
    assert response.status_code == 201, response.content
    job = ImportJob.objects.get(pk=response.data["id"])
    assert job.filename == run.IMPORT_FILENAME and job.created_by == manager
    importing.import_validate(job=job)  # what the worker runs
    detail = api.get(f"/api/import-jobs/{job.pk}/").data
    assert detail["state"] == "validated"
    assert run.import_check(detail["summary"], 30), run.import_problems(detail)
    assert not run.import_check(detail["summary"], 31)
    assert run.import_problems(detail) == []
    assert api.post(f"/api/import-jobs/{job.pk}/confirm/").status_code == 202
    assert run.job_state(job.pk) == "queued"
    importing.import_commit(job_id=job.pk)  # what the worker runs
    detail = api.get(f"/api/import-jobs/{job.pk}/").data
    assert detail["state"] == "imported" and run.job_state(job.pk) == "imported"
    imported = set(detail["created"])
    assert len(imported) == 30 and not imported & before
    assert set(Client.objects.filter(remarks=run.IMPORT_MARK).values_list("pk", flat=True)) == imported
    assert set(Client.objects.filter(pk__in=imported).values_list("branch_id", flat=True)) == {
        staff.branch_id
    }
    assert Contact.objects.filter(client_id__in=imported).count() == 60
    assert Project.objects.filter(client_id__in=imported).count() == 30

    assert run.purge_imports() == 30
    assert set(Client.objects.values_list("pk", flat=True)) == before
    assert not Project.objects.filter(client_id__in=imported).exists()
    assert run.purge_imports() == 0

    # A failed preview tells its first errors.
    failed = {
        "summary": {"ok": False, "rows": 2, "file_errors": []},
        "report": {
            "rows": [
                {"row": 2, "errors": [{"column": "客户单位名称", "message": "重复"}]},
                {"row": 3, "errors": []},
            ]
        },
    }
    assert not run.import_check(failed["summary"], 2)
    assert run.import_problems(failed) == ["row 2: 客户单位名称: 重复"]
    states = iter(["running", "running", "validated"])
    job_seen, seconds = run.wait_state(lambda: {"state": next(states)}, ("validated",), every=0)
    assert job_seen == {"state": "validated"} and math.isfinite(seconds) and seconds < 1
    assert next(states, "drained") == "drained"  # polled until the state it waited for, not past it
    never = run.wait_state(lambda: {"state": "running"}, ("validated",), timeout=0.05, every=0.01)
    assert never[0] == {"state": "running"} and math.isnan(never[1])
    job_seen, seconds = run.wait_state(lambda: {"state": "running"}, ("validated",), timeout=0.05, every=0)
    assert job_seen == {"state": "running"} and seconds != seconds

    web = WebClient(HTTP_HOST="127.0.0.1")
    web.force_login(marketing)
    response = web.get(run.export_path())
    data = b"".join(response.streaming_content)
    assert run.export_ok(response.status_code, data[:8])
    assert not run.export_ok(500, data[:8]) and not run.export_ok(200, b"<!DOCTYPE")
    rows = list(load_workbook(io.BytesIO(data), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("序号", "客户单位名称", "统一社会信用代码")
    assert len(rows) - 1 == len(before)
    assert {r[1] for r in rows[1:]} == set(Client.objects.values_list("name", flat=True))


def test_bench_curve_and_ratios():
    """The curve's growth words, the 2-against-1 ratio, and targets that a NaN fails."""
    nan = float("nan")
    assert run.growth(100, 149, 10) == "flat"
    assert run.growth(100, 60, 10) == "flat"
    assert run.growth(100, 300, 10) == "sublinear"
    assert run.growth(100, 500, 10) == "linear"
    assert run.growth(100, 1500, 10) == "linear"
    assert run.growth(100, 1600, 10) == "worse"
    assert run.growth(100, 160, 2) == "linear"
    assert run.growth(100, 310, 2) == "worse"
    assert run.growth(nan, 100, 10) == "n/a" and run.growth(100, nan, 10) == "n/a"
    words, lines = run.curve_table([10, 100, 1000], {"list_page_p95_c4": [10.0, 12.0, 40.0]})
    assert words == {"list_page_p95_c4": ["flat", "sublinear"]}
    assert "x3.33 sublinear" in lines[1] and "10->100" in lines[0]

    assert run.speedup(30.0, 20.0) == 1.5
    assert run.speedup(nan, 20.0) != run.speedup(nan, 20.0)
    assert run.speedup(30.0, nan) != run.speedup(30.0, nan)
    assert run.row("monthly_close_speedup_2v1", 1.5)["pass"] is True
    assert run.row("monthly_close_speedup_2v1", 1.2)["pass"] is False
    assert run.row("halfyear_speedup_2v1", nan)["pass"] is False
    assert run.row("archive_export_seconds", nan)["pass"] is False
    assert run.row("archive_export_peak_rss", 120.0)["pass"] is True
    assert run.row("import_commit_seconds", 61.0)["pass"] is False
    assert run.row("monthly_close_seconds_1worker", nan)["pass"] is True  # reported, no target
