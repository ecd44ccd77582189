"""The benchmark (make bench): 100k clients on PostgreSQL, load on loopback, figures against
targets. Prints a table and writes bench/results.json (a list of {name, value, unit, target,
pass}). Not a test: tests assert behaviour and query budgets; this measures speed.

    python bench/run.py                      # full run: 100k clients, gunicorn (3 sync workers)
    python bench/run.py --clients 20000      # smaller volume
    python bench/run.py --reuse              # keep the loaded database from a previous run
    python bench/run.py --import-rows 5000   # a smaller imported spreadsheet (default 10,000 rows)
    python bench/run.py --curve 10000 100000 1000000 --curve-reuse \
        --curve-db 100000=crm_bench          # the cost curve: a few figures per count of clients,
                                             # each count in its database; writes bench/curve.json

The full run measures, besides the pages under load: the whole-archive export as group marketing
over HTTP (seconds to the stream's end, and the web workers' peak RSS after it); a branch
manager's 10,000-row spreadsheet imported through the API (preview, then save); the 25th job and
the half-year job with a worker of two processes and again of one (and the ratio).

Every load run is bounded (requests and seconds) and only ever targets 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
HOST = "127.0.0.1"
PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-pass-2026")

# name -> (target, unit, comparison)
TARGETS = {
    "list_page_p95_c4": (100, "ms", "<="),
    # A tenth of the peer product's archive list for a branch user (637 ms p50, same volume).
    "list_page_p50_c4": (63.7, "ms", "<="),
    "list_page_p95_c16": (500, "ms", "<="),
    "list_page_rps_c4": (50, "req/s", ">="),
    "api_clients_p95_c4": (150, "ms", "<="),
    "api_clients_p95_c16": (500, "ms", "<="),
    "api_clients_rps_c4": (50, "req/s", ">="),
    "client_page_p95_c4": (60, "ms", "<="),
    "search3_page_p95_c4": (100, "ms", "<="),
    "search2_page_p95_c4": (100, "ms", "<="),
    "search3_query_ms": (5, "ms", "<="),
    "search3_uses_trigram_index": (1, "bool", ">="),
    "search2_query_ms": (30, "ms", "<="),
    "complaint_queue_p95_c4": (100, "ms", "<="),
    "survey_results_p95_c4": (150, "ms", "<="),
    "client_tab_p95_c4": (60, "ms", "<="),
    "restricted_over_unrestricted": (1.2, "ratio", "<="),
    "errors": (0, "count", "<="),
    "queries_constant_in_page_size": (1, "bool", ">="),
    "monthly_close_seconds": (30, "s", "<="),
    "rollup_page_p95_c4": (300, "ms", "<="),
    "halfyear_job_seconds": (60, "s", "<="),
    "workbench_page_p95_c4": (300, "ms", "<="),
    "group_dashboard_cold_ms": (None, "ms", None),
    "group_dashboard_after_change_ms": (1000, "ms", "<="),
    "group_dashboard_p95_c4": (300, "ms", "<="),
    "branch_dashboard_cold_ms": (None, "ms", None),
    "branch_dashboard_p95_c4": (150, "ms", "<="),
    "seed_bulk_seconds": (None, "s", None),
    "web_worker_peak_rss": (None, "MiB", None),
    "archive_export_seconds": (30, "s", "<="),
    "archive_export_peak_rss": (300, "MiB", "<="),
    "import_preview_seconds": (30, "s", "<="),
    "import_commit_seconds": (60, "s", "<="),
    "monthly_close_seconds_1worker": (None, "s", None),
    "halfyear_job_seconds_1worker": (None, "s", None),
    "monthly_close_speedup_2v1": (1.3, "ratio", ">="),
    "halfyear_speedup_2v1": (1.3, "ratio", ">="),
}
# Each page measured in process (Django's test client, one request at a time, DEBUG off): the
# median ms over INPROC_REQUESTS requests and the queries of one request, beside the load
# figures, so that a regression shows on any machine (the load figures depend on the machine).
INPROC_PAGES = (
    "list_page",
    "api_clients",
    "client_page",
    "client_tab",
    "search3_page",
    "search2_page",
    "complaint_queue",
    "survey_results",
)
# The pages read by others than the branch user, measured in process after the work that fills
# them: group marketing's roll-up of the closed month, an auditor's assessment (the workbench),
# and the dashboards as their readers find them (figures cached, R35).
INPROC_OTHER_PAGES = ("rollup_page", "workbench_page", "group_dashboard", "branch_dashboard")
INPROC_REQUESTS = 30
# The queries of one request, per page: a budget that does not grow with the rows shown.
# tests/bench/test_query_budgets.py holds every page to these.
QUERY_BUDGETS = {
    "list_page": 13,
    "api_clients": 8,
    "client_page": 8,
    "client_tab": 9,
    "search3_page": 13,
    "search2_page": 13,
    "complaint_queue": 8,
    "survey_results": 14,
    # Live drafts: about one query per figure of the registry (grouped by branch; a new figure
    # adds one); frozen: 7.
    "rollup_page": 52,
    "workbench_page": 13,
    "group_dashboard": 6,
    "branch_dashboard": 6,
}
for _page in INPROC_PAGES + INPROC_OTHER_PAGES:
    TARGETS[f"{_page}_inproc_ms"] = (None, "ms", None)
    budget = QUERY_BUDGETS.get(_page)
    TARGETS[f"{_page}_queries"] = (budget, "count", "<=" if budget else None)


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def p50(self):
        return percentile(self.latencies, 50) * 1000

    @property
    def p95(self):
        return percentile(self.latencies, 95) * 1000

    @property
    def rps(self):
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def count(self):
        return len(self.latencies)


@dataclass
class WrkResult:
    """Figures of one wrk run (bench/load.lua prints them as a JSON line)."""

    count: int
    seconds: float
    p50: float
    p95: float
    errors: int

    @property
    def rps(self):
        return self.count / self.seconds if self.seconds else 0.0


def run_wrk(port, headers, paths, *, concurrency, seconds) -> WrkResult:
    """A bounded wrk run (``seconds`` long) against 127.0.0.1: ``concurrency`` keep-alive
    connections on 2 threads, cycling through ``paths``. wrk is a C load generator, so the
    load costs the two cores far less than Python threads would."""
    cmd = [
        "wrk",
        "-t",
        str(min(2, concurrency)),
        "-c",
        str(concurrency),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
    ]
    for key, value in headers.items():
        cmd += ["-H", f"{key}: {value}"]
    cmd += ["-s", str(ROOT / "bench" / "load.lua"), f"http://{HOST}:{port}"]
    out = subprocess.run(
        cmd, capture_output=True, text=True, check=True, env={**os.environ, "BENCH_PATHS": "\n".join(paths)}
    ).stdout
    data = json.loads(out.split("BENCH ", 1)[1].splitlines()[0])
    return WrkResult(
        count=data["requests"],
        seconds=data["seconds"],
        p50=data["p50_ms"],
        p95=data["p95_ms"],
        errors=data["non2xx"] + data["socket_errors"],
    )


class HttpSession:
    """One keep-alive connection to the server on loopback, with a cookie or a token."""

    def __init__(self, port, headers):
        self.port, self.headers = port, dict(headers)
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)

    def get(self, path):
        for attempt in (1, 2):
            try:
                self.conn.request("GET", path, headers=self.headers)
                response = self.conn.getresponse()
                response.read()
                return response.status
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
                if attempt == 2:
                    return 599
        return 599


def run_load(make_session, paths, *, concurrency, requests, max_seconds=30.0) -> LoadResult:
    """``requests`` GETs spread over ``concurrency`` threads, cycling through ``paths``;
    stops early after ``max_seconds``. Non-2xx answers count as errors."""
    result = LoadResult()
    lock = threading.Lock()
    counter = iter(range(requests))
    deadline = time.monotonic() + max_seconds

    def worker():
        session = make_session()
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            start = time.perf_counter()
            status = session.get(paths[i % len(paths)])
            elapsed = time.perf_counter() - start
            with lock:
                result.latencies.append(elapsed)
                if not 200 <= status < 300:
                    result.errors += 1

    started = time.perf_counter()
    if concurrency == 1:
        worker()  # in this thread: the smoke test's in-process session needs its connection
    else:
        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    result.seconds = time.perf_counter() - started
    return result


def login_cookie(port, username):
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    conn.request("GET", "/accounts/login/")
    response = conn.getresponse()
    body = response.read().decode()
    csrf_cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie") or "").group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    form = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token})
    conn.request(
        "POST",
        "/accounts/login/",
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf_cookie}",
            "Referer": f"http://{HOST}:{port}/accounts/login/",
        },
    )
    response = conn.getresponse()
    response.read()
    cookies = response.headers.get_all("Set-Cookie") or []
    session = next((re.search(r"sessionid=([^;]+)", c).group(1) for c in cookies if "sessionid=" in c), None)
    if response.status != 302 or not session:
        raise RuntimeError(f"login of {username} failed: {response.status}")
    return {"Cookie": f"sessionid={session}; csrftoken={csrf_cookie}"}


def api_token(port, username):
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    body = json.dumps({"username": username, "password": PASSWORD})
    conn.request("POST", "/api/auth/token/", body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = json.loads(response.read())
    return {"Authorization": f"Token {data['token']}"}


# -- in-process parts (also used by the smoke test) --------------------------------------------


def pick_subjects():
    """A branch user of the busiest bulk branch, a user who sees everything, and sample data."""
    from django.db.models import Count

    from clients.models import Client
    from crm.models import Branch, Role, User

    branch = (
        Branch.objects.annotate(n=Count("clients"))
        .filter(n__gt=0, users__role=Role.STAFF)
        .order_by("-n")
        .first()
    )
    staff = User.objects.filter(branch=branch, role=Role.STAFF, is_active=True).order_by("pk").first()
    marketing = User.objects.filter(role=Role.MARKETING, is_active=True).order_by("pk").first()
    clients = list(Client.objects.filter(branch=branch).order_by("pk").values_list("pk", "name")[:200])
    return staff, marketing, clients


def search_terms(names):
    """A 3-character and a 2-character Chinese substring that occur in the branch's names."""
    three = two = None
    for name in names:
        core = re.sub(r"[^\u4e00-\u9fff]", "", name)
        if len(core) >= 5 and three is None:
            three = core[2:5]
        if len(core) >= 4 and two is None:
            two = core[2:4]
    return three or "建设集", two or "建设"


def explain_search(user, term):
    """EXPLAIN ANALYZE of the archive search for ``term`` as ``user`` sees it: (ms, index used)."""
    from clients.models import Client
    from clients.selectors import search_q

    qs = Client.objects.restrict(user, "view").filter(search_q(term)).order_by("name")[:50]
    list(qs)  # the pages a search reads in use, as they are on a server that has been answering
    plan = qs.explain(analyze=True)
    match = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return (float(match.group(1)) if match else float("nan")), ("trgm" in plan), plan


def query_counts(user, path_template):
    """Queries for one page at page sizes 10 and 100: equal means no N+1."""
    from django.db import connection
    from django.test import Client as WebClient
    from django.test.utils import CaptureQueriesContext

    web = WebClient(HTTP_HOST=HOST)
    web.force_login(user)
    # A first request of the session stamps its activity (idle timeout): once a minute per
    # session, not per page, so it is made before counting.
    web.get(path_template.format(size=10))
    counts = []
    for size in (10, 100):
        with CaptureQueriesContext(connection) as ctx:
            response = web.get(path_template.format(size=size))
        assert response.status_code == 200, (path_template, response.status_code)
        counts.append(len(ctx.captured_queries))
    return counts


HX_HEADERS = {"HX-Request": "true"}
# The scenarios sent as htmx requests (a tab loaded into the page).
HTMX_SCENARIOS = ("client_tab",)


def inprocess(user, paths, *, htmx=False, requests=INPROC_REQUESTS) -> tuple[float, int]:
    """(median ms, queries of one request) of ``paths`` for ``user`` through Django's test
    client in this process, cycling through the paths after one warm-up request each."""
    import statistics

    from django.db import connection
    from django.test import Client as WebClient
    from django.test.utils import CaptureQueriesContext, override_settings

    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    web = WebClient(HTTP_HOST=HOST)
    web.force_login(user)
    times = []
    with override_settings(DEBUG=False):
        for path in paths[: min(len(paths), 10)]:
            web.get(path, **headers)
        for i in range(requests):
            started = time.perf_counter()
            response = web.get(paths[i % len(paths)], **headers)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (paths[i % len(paths)], response.status_code)
        with CaptureQueriesContext(connection) as ctx:
            web.get(paths[0], **headers)
    return statistics.median(times), len(ctx.captured_queries)


def scenario_paths(clients, term3, term2):
    from django.urls import NoReverseMatch, reverse

    def url(name, fallback, **kw):
        try:
            return reverse(name, kwargs=kw or None)
        except NoReverseMatch:
            return fallback

    list_url = url("clients:client-list", "/clients/")
    paths = {
        "list_page": [list_url, list_url + "?page=2", list_url + "?grade=A", list_url + "?sort=-updated_at"],
        "api_clients": ["/api/clients/", "/api/clients/?page=2", "/api/clients/?grade=B"],
        "client_page": [url("clients:client-detail", f"/clients/{pk}/", pk=pk) for pk, _ in clients[:50]],
        # A tab opened on the client page (an htmx request: HX_HEADERS).
        "client_tab": [
            url("clients:client-tab", f"/clients/{pk}/tabs/{tab}/", pk=pk, tab=tab)
            for pk, _ in clients[:20]
            for tab in ("contacts", "projects", "needs", "visits", "complaints", "history")
        ],
        "search3_page": [f"{list_url}?q={urllib.parse.quote(term3)}"],
        "search2_page": [f"{list_url}?q={urllib.parse.quote(term2)}"],
        "complaint_queue": [url("complaints:complaint-list", "/complaints/")],
        "survey_results": [url("surveys:results", "/surveys/results/")],
    }
    return paths


def reset_period(label: str) -> None:
    """Forget an earlier run's closing of ``label`` (``--reuse``), so the job does all its work."""
    from assessments.models import MonthlyClose, MonthlyReport

    MonthlyClose.objects.filter(period=label).delete()
    MonthlyReport.objects.filter(period=label).delete()


def wait_closed(label: str, *, timeout: float = 1800.0) -> float:
    """Seconds until the closing of ``label`` is done (the 25th job, R28), NaN on timeout."""
    from assessments.models import MonthlyClose

    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if MonthlyClose.objects.filter(period=label, state=MonthlyClose.State.DONE).exists():
            return time.perf_counter() - started
        time.sleep(0.1)
    return float("nan")


def rollup_paths(label: str) -> list[str]:
    from django.urls import reverse

    return [f"{reverse('assessments:rollup')}?period={label}"]


def reset_half(label: str) -> None:
    from assessments.models import AssessmentRound

    AssessmentRound.objects.filter(half_year=label).delete()


def wait_round_open(label: str, *, timeout: float = 1800.0) -> float:
    from assessments.models import AssessmentRound

    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if AssessmentRound.objects.filter(half_year=label, state=AssessmentRound.State.OPEN).exists():
            return time.perf_counter() - started
        time.sleep(0.1)
    return float("nan")


def workbench_paths(label: str) -> list[str]:
    from django.urls import reverse

    from assessments.models import Assessment

    ids = Assessment.objects.filter(half_year=label).order_by("pk").values_list("pk", flat=True)[:20]
    return [reverse("assessments:assessment-detail", kwargs={"pk": pk}) for pk in ids]


def branch_manager(staff):
    """The manager of the bench's branch (made if the bulk data has none)."""
    from crm.models import Role, User
    from crm.services import user_set_role

    manager = User.objects.filter(branch=staff.branch, role=Role.MANAGER, is_active=True).first()
    if manager is None:
        manager, _ = User.objects.get_or_create(
            username="bench_manager", defaults={"full_name": "看板测试经理"}
        )
        manager.set_password(PASSWORD)
        manager.save()
        user_set_role(user=manager, role=Role.MANAGER, branch=staff.branch)
    return manager


def dashboard_cold_ms(user) -> float:
    """The dashboard computed with an empty cache, in process (what the first reader waits for)."""
    from assessments.dashboards import selectors
    from crm.figures import Period

    started = time.perf_counter()
    selectors.compute(user, period=Period.containing())
    return (time.perf_counter() - started) * 1000


def dashboard_after_change_ms(user) -> float:
    """What the first reader after a change waits for (issue 29): the dashboard read once (and so
    remembered), a change of what it counts, then read again; the worker's refresh is not waited
    for, so a slow computation is answered with the previous figures, marked."""
    from django.core.cache import cache

    from assessments.dashboards import selectors
    from crm.figures import Period

    cache.delete(selectors.GENERATION_KEY)
    selectors.dashboard(user, period=Period.containing())
    selectors.bump()
    started = time.perf_counter()
    selectors.dashboard(user, period=Period.containing())
    return (time.perf_counter() - started) * 1000


def dashboard_paths() -> list[str]:
    from django.urls import reverse

    return [reverse("assessments:dashboard")]


def row(name, value):
    target, unit, cmp = TARGETS[name]
    if target is None:
        ok = True
    elif value != value:  # NaN
        ok = False
    else:
        ok = value <= target if cmp == "<=" else value >= target
    return {
        "name": name,
        "value": round(value, 3) if isinstance(value, float) else value,
        "unit": unit,
        "target": None if target is None else f"{cmp} {target}",
        "pass": ok,
    }


def print_table(rows):
    print(f"\n{'figure':34} {'value':>12} {'unit':8} {'target':>10}  result")
    for r in rows:
        print(
            f"{r['name']:34} {r['value']!s:>12} {r['unit']:8} {r['target'] or '-':>10}  "
            f"{'PASS' if r['pass'] else 'FAIL'}"
        )


# -- the import of a branch's spreadsheet (R36) ------------------------------------------------

# Every client the benchmark imports carries this in 备注, so that a later run can remove them.
IMPORT_MARK = "性能测试导入"
IMPORT_FILENAME = "客户信息统计表.xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def import_workbook(n: int, branch_name: str, stamp: str) -> bytes:
    """A spreadsheet in the group's layout (客户信息统计表) of ``n`` new clients of one branch,
    as a branch keeps it: two contacts, a project with its amount and a need per client, its
    stage and grade. ``stamp`` keeps the names and credit codes of two runs apart."""
    import io
    import random

    from openpyxl import Workbook

    from clients.bulk import credit_code
    from clients.imports.spreadsheet import COLUMNS
    from clients.models import Client

    rng = random.Random(stamp)
    codes = set(Client.objects.exclude(credit_code="").values_list("credit_code", flat=True))
    base = 50_000_000 + int(stamp) % 40_000_000
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("客户信息统计表")
    ws.append(COLUMNS)
    surnames = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
    for i in range(n):
        contacts = [rng.choice(surnames) + rng.choice(("经理", "总工", "主任", "科长")) for _ in range(2)]
        ws.append(
            [
                i + 1,
                f"江北新区{stamp}第{i + 1}号建设发展有限公司",
                credit_code(base + i, "320111", codes),
                rng.choice(("国有企业", "民营企业", "房地产企业")),
                "建筑业",
                f"南京市江北新区浦滨路{i % 900 + 1}号",
                "、".join(contacts),
                "总经理、工程部经理",
                f"139{i % 10**8:08d}、025-5{i % 10**6:06d}",
                "",
                rng.choice(("潜在客户", "意向客户", "签约客户")),
                rng.choice("ABC"),
                f"江北新区{i + 1}号地块住宅项目",
                round(rng.uniform(50, 5000), 2),
                "希望提供全过程工程咨询",
                branch_name,
                "",
                "",
                "2026-11-20",
                IMPORT_MARK,
            ]
        )
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def purge_imports() -> int:
    """Remove the clients an earlier run imported (``--reuse``), so the archive keeps its size."""
    from clients.models import Client, Project

    ids = list(Client.objects.filter(remarks=IMPORT_MARK).values_list("pk", flat=True))
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        Project.objects.filter(client_id__in=chunk).delete()
        Client.objects.filter(pk__in=chunk).delete()
    from django.db import connection

    # Leave no dead rows behind in the indexes the searches and lists read (VACUUM cannot run
    # inside a transaction: the smoke test's).
    if ids and connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            for table in ("clients_client", "clients_contact", "clients_project", "clients_need"):
                cursor.execute(f"VACUUM ANALYZE {table}")
    return len(ids)


def import_check(summary: dict | None, n: int) -> bool:
    """A preview the benchmark accepts: every one of the ``n`` rows read and passed."""
    summary = summary or {}
    return summary.get("ok") is True and summary.get("rows") == n


def import_problems(job: dict, limit: int = 5) -> list[str]:
    """The first errors a job tells (file errors, then rows), for the log of a failed import."""
    summary = job.get("summary") or {}
    out = [str(e) for e in summary.get("file_errors") or []]
    if job.get("error"):
        out.append(str(job["error"]))
    for r in (job.get("report") or {}).get("rows") or []:
        for e in r.get("errors") or []:
            out.append(f"row {r.get('row')}: {e.get('column')}: {e.get('message')}")
            if len(out) >= limit:
                return out
    return out[:limit]


def multipart(field_name: str, filename: str, content: bytes, content_type: str = XLSX) -> tuple[bytes, str]:
    """A multipart/form-data body of one file field, and its Content-Type (as a browser sends
    it: the filename raw UTF-8)."""
    boundary = f"----crmbench{time.time_ns():x}"
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{field_name}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def http_json(port, method, path, headers, body=None, *, timeout=60.0):
    """(status, parsed JSON or None) of one request on its own connection."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        try:
            return response.status, json.loads(data) if data else None
        except ValueError:
            return response.status, None
    except (http.client.HTTPException, OSError):
        return 599, None
    finally:
        conn.close()


def wait_state(read, states, *, timeout: float = 600.0, every: float = 0.2):
    """Poll ``read()`` (which returns a job's dict or None) until its ``state`` is in
    ``states``: (the job, seconds) or (last job seen, NaN) on timeout."""
    started = time.perf_counter()
    job = None
    while time.perf_counter() - started < timeout:
        job = read() or job
        if job and job.get("state") in states:
            return job, time.perf_counter() - started
        time.sleep(every)
    return job, float("nan")


def import_over_http(port, headers, content: bytes, n: int, *, read_commit_state=None, timeout=600.0):
    """The whole import as a branch manager drives it through the API (R36): upload, the
    worker's preview, the confirmation, the worker's save. Returns {preview, commit, errors,
    job}; a step that fails or times out leaves its seconds NaN and counts an error.

    The preview is polled on ``GET /api/import-jobs/<id>/`` every 0.2 s. During the save the
    job's detail carries the whole row report (megabytes at 10,000 rows), so polling it five
    times a second would keep a web worker busy beside the worker being measured;
    ``read_commit_state`` (the state read from the job row) is used then when given."""
    out = {"preview": float("nan"), "commit": float("nan"), "errors": 0, "job": None}
    body, content_type = multipart("file", IMPORT_FILENAME, content)
    started = time.perf_counter()
    status, job = http_json(
        port, "POST", "/api/import-jobs/", {**headers, "Content-Type": content_type}, body
    )
    if status != 201 or not job or "id" not in job:
        print(f"  import upload: {status} {str(job)[:300]}", flush=True)
        out["errors"] += 1
        return out
    job_id = out["job"] = job["id"]
    detail = f"/api/import-jobs/{job_id}/"

    def read_api():
        status, data = http_json(port, "GET", detail, headers)
        return data if status == 200 else None

    job, _ = wait_state(read_api, ("validated", "failed"), timeout=timeout)
    preview = time.perf_counter() - started
    if not job or job.get("state") != "validated" or not import_check(job.get("summary"), n):
        print(
            f"  import preview: state {job and job.get('state')}, summary {job and job.get('summary')}; "
            f"{import_problems(job or {})}",
            flush=True,
        )
        out["errors"] += 1
        return out
    out["preview"] = preview
    started = time.perf_counter()
    status, data = http_json(port, "POST", f"{detail}confirm/", headers)
    if status != 202:
        print(f"  import confirm: {status} {str(data)[:300]}", flush=True)
        out["errors"] += 1
        return out
    job, seconds = wait_state(
        (lambda: {"state": read_commit_state(job_id)}) if read_commit_state else read_api,
        ("imported", "failed"),
        timeout=timeout,
    )
    seconds = time.perf_counter() - started if seconds == seconds else seconds
    final = read_api() or {}
    if final.get("state") != "imported" or len(final.get("created") or []) != n:
        print(
            f"  import commit: state {final.get('state')}, {len(final.get('created') or [])} created; "
            f"{import_problems(final)}",
            flush=True,
        )
        out["errors"] += 1
        return out
    out["commit"] = seconds
    return out


def job_state(job_id) -> str | None:
    """The state of an import job as its row holds it (one column, in process)."""
    from clients.models import ImportJob

    return ImportJob.objects.filter(pk=job_id).values_list("state", flat=True).first()


# -- the whole-archive export (R36) ----------------------------------------------------------------


def export_path() -> str:
    from django.urls import reverse

    return reverse("clients:client-export")


def export_ok(status: int, head: bytes) -> bool:
    """An answer of the export the benchmark accepts: 200 and a zip (an .xlsx) from its start."""
    return status == 200 and head.startswith(b"PK")


def export_over_http(port, headers, path, *, timeout=120.0):
    """(seconds, status, first bytes, bytes in all) of one GET read to the end of its stream;
    (NaN, 599, ...) if the connection broke (a worker killed at gunicorn's timeout)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    started = time.perf_counter()
    head, total = b"", 0
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        while chunk := response.read(1 << 16):
            if len(head) < 8:
                head += chunk[: 8 - len(head)]
            total += len(chunk)
        return time.perf_counter() - started, response.status, head, total
    except (http.client.HTTPException, OSError) as exc:
        print(f"  export broke after {time.perf_counter() - started:.1f} s: {exc!r}", flush=True)
        return float("nan"), 599, head, total
    finally:
        conn.close()


def gunicorn_workers(master_pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True).stdout
    return sorted(int(pid) for pid in out.split())


def peak_rss_mib(pids) -> float:
    """The largest peak resident size (VmHWM) of ``pids``, in MiB; NaN if none can be read."""
    rss = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        rss.append(int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024)
    return max(rss) if rss else float("nan")


# -- the cost curve ---------------------------------------------------------------------------------

CURVE = ROOT / "bench" / "curve.json"
CURVE_FIGURES = (
    "list_page_p95_c4",
    "api_clients_p95_c4",
    "monthly_close_seconds",
    "group_dashboard_cold_ms",
    "group_dashboard_after_change_ms",
    "branch_dashboard_cold_ms",
    "group_dashboard_p95_c4",
)


def speedup(one: float, two: float) -> float:
    """Seconds with one worker process over seconds with two (NaN if either is missing)."""
    if one != one or two != two or two <= 0:
        return float("nan")
    return one / two


def growth(prev: float, nxt: float, clients_factor: float) -> str:
    """How a figure grew from one count of clients to the next, the clients growing by
    ``clients_factor``: "flat" (under 1.5x), "sublinear" (under half the clients' factor),
    "linear" (0.5x to 1.5x the clients' factor), "worse" (more); "n/a" without two values."""
    if prev != prev or nxt != nxt or prev <= 0 or clients_factor <= 0:
        return "n/a"
    factor = nxt / prev
    if factor < 1.5:
        return "flat"
    if factor < 0.5 * clients_factor:
        return "sublinear"
    if factor <= 1.5 * clients_factor:
        return "linear"
    return "worse"


def curve_table(counts, figures) -> tuple[dict, list[str]]:
    """The growth words of each figure between neighbouring counts, and the lines of the table."""
    words = {
        name: [growth(values[i], values[i + 1], counts[i + 1] / counts[i]) for i in range(len(counts) - 1)]
        for name, values in figures.items()
    }
    steps = [f"{counts[i]}->{counts[i + 1]}" for i in range(len(counts) - 1)]
    lines = [f"{'figure':26}" + "".join(f"{c:>12}" for c in counts) + "".join(f"  {s:>22}" for s in steps)]
    for name, values in figures.items():
        cells = "".join(f"{v:>12.1f}" if v == v else f"{'NaN':>12}" for v in values)
        for i in range(len(counts) - 1):
            factor = values[i + 1] / values[i] if values[i] and values[i] == values[i] else float("nan")
            cells += f"  {f'x{factor:.2f} {words[name][i]}':>22}"
        lines.append(f"{name:26}{cells}")
    return words, lines


# -- one run against one database ---------------------------------------------------------------


def sh(cmd, env, **kw):
    return subprocess.run(cmd, cwd=ROOT, env=env, check=True, **kw)


def psql(env, db, sql) -> str:
    cmd = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-qtAc", sql]
    return subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.strip()


def bench_env(db: str, media_root: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}",
        "DJANGO_DEBUG": "False",
        "DJANGO_SECRET_KEY": "bench-" + "x9Y8z7W6v5" * 6,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "False",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"),
        "DJANGO_LOG_LEVEL": "WARNING",
        # The import's uploads go to a folder of this run, not the project's media/.
        "DJANGO_MEDIA_ROOT": media_root,
    }


def client_count(env, db) -> int | None:
    """Clients in ``db``; None if there is no such database."""
    if not psql(env, "postgres", f"SELECT 1 FROM pg_database WHERE datname = '{db}'"):
        return None
    try:
        return int(psql(env, db, "SELECT count(*) FROM clients_client"))
    except subprocess.CalledProcessError:
        return 0


def load_database(env, db, *, clients, branches, users) -> float:
    """A fresh ``db``: migrated, the organisation, ``seed_bulk``; returns seed_bulk's seconds."""
    python = sys.executable
    psql(env, "postgres", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    psql(
        env,
        "postgres",
        f"CREATE DATABASE \"{db}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'",
    )
    print(f"migrating {db} ...", flush=True)
    sh([python, "manage.py", "migrate", "--noinput", "-v0"], env)
    sh([python, "manage.py", "seed_demo", "--org-only"], env, stdout=subprocess.DEVNULL)
    print(f"seed_bulk --clients {clients} ...", flush=True)
    started = time.perf_counter()
    sh(
        [
            python,
            "manage.py",
            "seed_bulk",
            "--clients",
            str(clients),
            "--branches",
            str(branches),
            "--users",
            str(users),
        ],
        env,
    )
    seconds = time.perf_counter() - started
    psql(env, db, "VACUUM ANALYZE")
    return seconds


class Bench:
    """One run against one loaded database: the in-process part, gunicorn (3 sync workers) and
    a Celery worker on loopback, and the measuring steps the full run and the curve share. Each
    step adds its rows (``add``); errors of every step add up in ``errors``."""

    def __init__(self, args, env):
        self.args, self.env = args, env
        self.python = sys.executable
        self.rows: list[dict] = []
        self.values: dict[str, float] = {}
        self.errors = 0
        self.web = self.worker = None
        self.wrk = shutil.which("wrk")

    def add(self, name, value):
        self.rows.append(row(name, value))
        self.values[name] = value
        return value

    # In process --------------------------------------------------------------------------------

    def setup_django(self):
        keys = ("DATABASE_URL", "DJANGO_SECRET_KEY", "REDIS_URL", "DJANGO_MEDIA_ROOT")
        os.environ.update({k: self.env[k] for k in keys})
        os.environ.update({"DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver", "DJANGO_DEBUG": "True"})
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.cache import cache

        # Another database's cached figures (the curve) or an earlier run's queued tasks must
        # not answer for this one: the bench's Redis database starts empty.
        cache.clear()
        purged = purge_imports()
        if purged:
            print(f"removed {purged} clients an earlier run imported", flush=True)
        self.staff, self.marketing, self.clients = pick_subjects()
        self.term3, self.term2 = search_terms([name for _, name in self.clients])
        self.paths = scenario_paths(self.clients, self.term3, self.term2)

    def in_process(self):
        """Every page of the branch user in process: median ms and queries (INPROC_PAGES)."""
        for name in INPROC_PAGES:
            self.in_process_page(name, self.staff, self.paths[name])

    def in_process_page(self, name, user, paths):
        ms, queries = inprocess(user, paths, htmx=name in HTMX_SCENARIOS)
        self.add(f"{name}_inproc_ms", ms)
        self.add(f"{name}_queries", queries)
        print(f"  {name:18} in process: median {ms:6.1f} ms, {queries} queries", flush=True)

    def search_and_queries(self):
        ms3, trgm3, _ = explain_search(self.staff, self.term3)
        ms2, _, _ = explain_search(self.staff, self.term2)
        self.add("search3_query_ms", ms3)
        self.add("search3_uses_trigram_index", int(trgm3))
        self.add("search2_query_ms", ms2)
        counts = query_counts(self.staff, "/api/clients/?page_size={size}") + query_counts(
            self.staff, "/clients/?page_size={size}"
        )
        self.add("queries_constant_in_page_size", int(counts[0] == counts[1] and counts[2] == counts[3]))
        print(
            f"branch user {self.staff.username} ({self.staff.branch}), {len(self.clients)} sample clients; "
            f"search terms {self.term3!r} / {self.term2!r}; query counts {counts}",
            flush=True,
        )

    # The servers -------------------------------------------------------------------------------

    def start(self):
        sh([self.python, "manage.py", "collectstatic", "--noinput", "-v0"], self.env)
        self.web = subprocess.Popen(
            [
                self.python,
                "-m",
                "gunicorn",
                "crm.wsgi:application",
                "--bind",
                f"{HOST}:{self.args.port}",
                "--workers",
                "3",
                "--worker-class",
                "sync",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
        )
        self.start_worker(2)
        for _ in range(60):
            try:
                http.client.HTTPConnection(HOST, self.args.port, timeout=2).request("GET", "/accounts/login/")
                break
            except OSError:
                time.sleep(0.5)
        self.staff_cookie = login_cookie(self.args.port, self.staff.username)
        self.all_cookie = login_cookie(self.args.port, self.marketing.username)
        self.staff_token = api_token(self.args.port, self.staff.username)

    def start_worker(self, concurrency: int):
        """A Celery worker of ``concurrency`` processes, measured from once it answers a ping
        (its start-up costs CPU too)."""
        self.worker = subprocess.Popen(
            [
                self.python,
                "-m",
                "celery",
                "-A",
                "crm",
                "worker",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        from crm.celery import app as celery_app

        for _ in range(30):
            if celery_app.control.ping(timeout=1.0):
                return
        print(f"  the worker (concurrency {concurrency}) did not answer a ping", flush=True)

    @staticmethod
    def _stop(proc, timeout=30):
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop(self):
        self._stop(self.web)
        self._stop(self.worker, timeout=60)

    # Load over HTTP ----------------------------------------------------------------------------

    def load(self, name, headers, concurrency, n=None, path_list=None):
        port, paths = self.args.port, path_list or self.paths[name]
        n = n or self.args.requests
        run_load(lambda: HttpSession(port, headers), paths[:1], concurrency=2, requests=10)  # warm-up
        if self.wrk:
            # Warm-up at the same concurrency (caches, connections), then the measured run.
            run_wrk(port, headers, paths, concurrency=concurrency, seconds=2)
            result = run_wrk(port, headers, paths, concurrency=concurrency, seconds=self.args.seconds)
        else:
            result = run_load(lambda: HttpSession(port, headers), paths, concurrency=concurrency, requests=n)
        self.errors += result.errors
        print(
            f"  {name:18} c={concurrency:<3} n={result.count:<5} p50={result.p50:7.1f} ms  "
            f"p95={result.p95:7.1f} ms  {result.rps:6.1f} req/s  errors={result.errors}",
            flush=True,
        )
        return result

    # The measuring steps -----------------------------------------------------------------------

    def lists(self, *, full=True):
        """The archive list and the API list: p95 at 4 connections; with ``full`` also 16, and
        the requests per second at 4 (and the list page's p50, against the peer's)."""
        for name, headers in (("list_page", self.staff_cookie), ("api_clients", self.staff_token)):
            r4 = self.load(name, headers, 4)
            self.add(f"{name}_p95_c4", r4.p95)
            if full and name == "list_page":
                self.add("list_page_p50_c4", r4.p50)
            if full:
                self.add(f"{name}_p95_c16", self.load(name, headers, 16).p95)
                self.add(f"{name}_rps_c4", r4.rps)

    def pages(self):
        for name in (
            "client_page",
            "client_tab",
            "search3_page",
            "search2_page",
            "complaint_queue",
            "survey_results",
        ):
            n = min(self.args.requests, 200)
            headers = {**self.staff_cookie, **HX_HEADERS} if name in HTMX_SCENARIOS else self.staff_cookie
            self.add(f"{name}_p95_c4", self.load(name, headers, 4, n=n).p95)

    def monthly_close(self, suffix=""):
        """The 25th job (R28) over every branch, through the worker: the period last due, from
        the task's queueing to the roll-up built."""
        from assessments.tasks import monthly_close
        from crm.figures import Period

        self.period = Period.last_due()
        reset_period(self.period.label)
        return self._timed_job("monthly_close", monthly_close, self.period.label, wait_closed, suffix)

    def _timed_job(self, name, task, label, wait, suffix):
        """Seconds from queueing ``task(label)`` until ``wait(label)`` sees it done (NaN if not)."""
        started = time.perf_counter()
        task.delay(label)
        seconds = wait(label)
        if seconds == seconds:
            seconds = time.perf_counter() - started
        print(f"  {name + suffix:18} {label}: {seconds:.1f} s", flush=True)
        return self.add(f"{name}_seconds{suffix}", seconds)

    def rollup(self):
        path_list = rollup_paths(self.period.label)
        self.add(
            "rollup_page_p95_c4", self.load("rollup_page", self.all_cookie, 4, n=100, path_list=path_list).p95
        )
        self.in_process_page("rollup_page", self.marketing, path_list)

    def halfyear(self, suffix=""):
        """The half-year job (R34) over every branch through the worker."""
        from assessments.tasks import assessment_open
        from crm.figures import HalfYear

        self.half = HalfYear.last_ended()
        reset_half(self.half.label)
        return self._timed_job("halfyear_job", assessment_open, self.half.label, wait_round_open, suffix)

    def workbench(self):
        from crm.models import Role, User

        auditor = User.objects.filter(role=Role.AUDITOR, is_active=True).order_by("pk").first()
        cookie = login_cookie(self.args.port, auditor.username)
        path_list = workbench_paths(self.half.label)
        self.add(
            "workbench_page_p95_c4", self.load("workbench_page", cookie, 4, n=100, path_list=path_list).p95
        )
        self.in_process_page("workbench_page", auditor, path_list)

    def dashboards(self, *, full=True):
        """The dashboards (R35): cold (computed in process, cache empty) and warm under load;
        the branch's under load only with ``full``."""
        manager = branch_manager(self.staff)
        self.add("group_dashboard_cold_ms", dashboard_cold_ms(self.marketing))
        self.add("group_dashboard_after_change_ms", dashboard_after_change_ms(self.marketing))
        self.add(
            "group_dashboard_p95_c4",
            self.load("group_dashboard", self.all_cookie, 4, n=100, path_list=dashboard_paths()).p95,
        )
        self.add("branch_dashboard_cold_ms", dashboard_cold_ms(manager))
        if full:
            cookie = login_cookie(self.args.port, manager.username)
            self.add(
                "branch_dashboard_p95_c4",
                self.load("branch_dashboard", cookie, 4, n=100, path_list=dashboard_paths()).p95,
            )
            self.in_process_page("group_dashboard", self.marketing, dashboard_paths())
            self.in_process_page("branch_dashboard", manager, dashboard_paths())

    def restricted(self):
        """Restricted against unrestricted: the same list, side by side in one run."""
        first = self.paths["list_page"][:1]
        restricted = self.load("list_page", self.staff_cookie, 4, n=200, path_list=first)
        unrestricted = self.load("list_page", self.all_cookie, 4, n=200, path_list=first)
        self.add("restricted_over_unrestricted", restricted.p50 / unrestricted.p50)

    def web_rss(self):
        """The largest peak RSS of the web workers after the page loads."""
        self.add("web_worker_peak_rss", peak_rss_mib(gunicorn_workers(self.web.pid)))

    def export(self):
        """The whole archive as group marketing over HTTP, read to its end; then the largest
        peak RSS of the web workers (NaN if one was replaced: its peak went with it)."""
        before = gunicorn_workers(self.web.pid)
        seconds, status, head, size = export_over_http(self.args.port, self.all_cookie, export_path())
        after = gunicorn_workers(self.web.pid)
        if not export_ok(status, head):
            print(f"  archive_export: status {status}, starts {head!r}", flush=True)
            self.errors += 1
            seconds = float("nan")
        rss = peak_rss_mib(after) if after == before else float("nan")
        print(
            f"  archive_export     {size / 2**20:.1f} MiB in {seconds:.1f} s, web peak {rss:.0f} MiB",
            flush=True,
        )
        self.add("archive_export_seconds", seconds)
        self.add("archive_export_peak_rss", rss)

    def import_(self, n):
        """A branch manager's spreadsheet of ``n`` new clients through the API: the preview
        (upload to validated) and the save (confirmation to imported). The imported clients
        and the job are removed afterwards, so the archive keeps its size."""
        from clients.models import ImportJob

        manager = branch_manager(self.staff)
        purge_imports()
        content = import_workbook(n, self.staff.branch.name, str(int(time.time())))
        headers = api_token(self.args.port, manager.username)
        print(
            f"  import             {n} rows ({len(content) / 2**20:.1f} MiB) as {manager.username} ...",
            flush=True,
        )
        try:
            result = import_over_http(self.args.port, headers, content, n, read_commit_state=job_state)
        finally:
            removed = purge_imports()
        if result["job"]:
            ImportJob.objects.filter(pk=result["job"]).delete()
        self.errors += result["errors"]
        print(
            f"  import             preview {result['preview']:.1f} s, save {result['commit']:.1f} s; "
            f"{removed} imported clients removed",
            flush=True,
        )
        self.add("import_preview_seconds", result["preview"])
        self.add("import_commit_seconds", result["commit"])

    def one_worker(self):
        """The 25th job and the half-year job again with a worker of one process, against the
        two of the run: what the second process buys."""
        self._stop(self.worker, timeout=60)
        self.start_worker(1)
        one_close = self.monthly_close("_1worker")
        one_half = self.halfyear("_1worker")
        self.add("monthly_close_speedup_2v1", speedup(one_close, self.values["monthly_close_seconds"]))
        self.add("halfyear_speedup_2v1", speedup(one_half, self.values["halfyear_job_seconds"]))


# -- the full run, and the curve -------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--branches", type=int, default=50)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--db", default="crm_bench")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--requests", type=int, default=400, help="requests per load run (Python load only)")
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--reuse", action="store_true", help="keep the database of an earlier run")
    parser.add_argument("--import-rows", type=int, default=10_000, help="rows of the imported spreadsheet")
    parser.add_argument(
        "--curve", type=int, nargs="+", metavar="CLIENTS", help="the cost curve over these client counts"
    )
    parser.add_argument(
        "--curve-reuse", action="store_true", help="keep a curve database that holds enough clients"
    )
    parser.add_argument(
        "--curve-db",
        action="append",
        default=[],
        metavar="CLIENTS=DB",
        help="an already loaded database for a count (kept, never reloaded)",
    )
    # One count of the curve, run by the curve in its own process.
    parser.add_argument("--subset", choices=("full", "curve"), default="full", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def measure(args) -> list[dict]:
    """Load (unless ``--reuse``) and measure one database: every figure (``--subset full``) or
    the curve's few (``--subset curve``). Returns the rows."""
    full = args.subset == "full"
    media = tempfile.mkdtemp(prefix="crm-bench-media-")
    env = bench_env(args.db, media)
    bench = Bench(args, env)
    seed_seconds = float("nan")
    if not args.reuse:
        seed_seconds = load_database(
            env, args.db, clients=args.clients, branches=args.branches, users=args.users
        )
    elif full and RESULTS.exists():  # the figure of the run that loaded this data
        previous = {r["name"]: r["value"] for r in json.loads(RESULTS.read_text())}
        seed_seconds = previous.get("seed_bulk_seconds") or seed_seconds
    bench.add("seed_bulk_seconds", seed_seconds)
    try:
        bench.setup_django()
        if full:
            bench.search_and_queries()
        bench.start()
        if full:
            bench.in_process()  # after start(): the static files are collected (DEBUG off)
        if not bench.wrk:
            print("wrk not found: measuring with Python threads, which compete with the server", flush=True)
        bench.lists(full=full)
        if full:
            bench.pages()
        bench.monthly_close()
        if full:
            bench.rollup()
            bench.halfyear()
            bench.workbench()
        bench.dashboards(full=full)
        if full:
            bench.restricted()
            bench.web_rss()
            bench.export()
            bench.import_(args.import_rows)
            bench.one_worker()
        bench.add("errors", bench.errors)
    finally:
        bench.stop()
        shutil.rmtree(media, ignore_errors=True)
    print_table(bench.rows)
    return bench.rows


def full_run(args) -> int:
    rows = measure(args)
    if args.out:
        Path(args.out).write_text(json.dumps(rows, ensure_ascii=False))
        return 0
    meta = {
        "clients": args.clients,
        "branches": args.branches,
        "users": args.users,
        "import_rows": args.import_rows,
        "load_tool": "wrk" if shutil.which("wrk") else "python threads",
        "machine": f"{os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') // 2**30} GiB",
    }
    RESULTS.write_text(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
    (ROOT / "bench" / "results-meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
    failed = [r["name"] for r in rows if not r["pass"]]
    print(
        f"\n{len(rows) - len(failed)} passed, {len(failed)} failed"
        + (f": {', '.join(failed)}" if failed else "")
    )
    return 0


def curve(args) -> int:
    """The cost curve: for each count of clients its own database (``crm_bench_<count>``, or
    the one ``--curve-db`` names), loaded unless it holds enough clients already and may be
    kept, and the curve's figures measured in a process of their own. Writes bench/curve.json."""
    counts = sorted(set(args.curve))
    named = {}
    for item in args.curve_db:
        count, _, db = item.partition("=")
        named[int(count)] = db
    env = {**os.environ}
    plan = []
    for count in counts:
        db = named.get(count, f"crm_bench_{count}")
        have = client_count(env, db)
        keep = have is not None and have >= count and (args.curve_reuse or count in named)
        if count in named and not keep:
            raise SystemExit(f"--curve-db {count}={db}: {db} holds {have} clients, fewer than {count}")
        plan.append((count, db, keep))
        print(f"curve: {count} clients in {db} ({'kept' if keep else 'to load'})", flush=True)
    figures = {name: [] for name in CURVE_FIGURES}
    seconds, errors = {}, {}
    for count, db, keep in plan:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            out = Path(f.name)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--subset", "curve", "--out", str(out)]
        cmd += [
            "--db",
            db,
            "--clients",
            str(count),
            "--branches",
            str(args.branches),
            "--users",
            str(args.users),
        ]
        cmd += ["--port", str(args.port), "--seconds", str(args.seconds), "--requests", str(args.requests)]
        cmd += ["--reuse"] if keep else []
        print(f"\n== {count} clients ({db}) ==", flush=True)
        started = time.perf_counter()
        code = subprocess.run(cmd, cwd=ROOT).returncode
        seconds[count] = round(time.perf_counter() - started, 1)
        values = {}
        if code == 0 and out.stat().st_size:
            values = {r["name"]: r["value"] for r in json.loads(out.read_text())}
        out.unlink(missing_ok=True)
        errors[count] = values.get("errors", float("nan"))
        for name in CURVE_FIGURES:
            value = values.get(name)
            figures[name].append(float("nan") if value is None else float(value))
    words, lines = curve_table(counts, figures)
    print("\n" + "\n".join(lines))
    print("seconds per count (with its load): " + ", ".join(f"{c}: {s}" for c, s in seconds.items()))

    def clean(v):
        return None if isinstance(v, float) and v != v else v

    CURVE.write_text(
        json.dumps(
            {
                "counts": counts,
                "figures": {name: [clean(v) for v in values] for name, values in figures.items()},
                "growth": words,
                "seconds": {str(c): s for c, s in seconds.items()},
                "errors": {str(c): clean(e) for c, e in errors.items()},
                "databases": {str(c): db for c, db, _ in plan},
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {CURVE.relative_to(ROOT)}")
    return 0


def main(argv=None):
    args = parse_args(argv)
    return curve(args) if args.curve else full_run(args)


if __name__ == "__main__":
    sys.exit(main())
