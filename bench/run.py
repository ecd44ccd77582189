"""The benchmark (make bench): 100k clients on PostgreSQL, load on loopback, figures against
targets. Prints a table and writes bench/results.json (a list of {name, value, unit, target,
pass}). Not a test: tests assert behaviour and query budgets; this measures speed.

    python bench/run.py                      # full run: 100k clients, gunicorn (3 sync workers)
    python bench/run.py --clients 20000      # smaller volume
    python bench/run.py --reuse              # keep the loaded database from a previous run

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
    "list_page_p95_c4": (150, "ms", "<="),
    "list_page_p95_c16": (500, "ms", "<="),
    "list_page_rps_c4": (50, "req/s", ">="),
    "api_clients_p95_c4": (150, "ms", "<="),
    "api_clients_p95_c16": (500, "ms", "<="),
    "api_clients_rps_c4": (50, "req/s", ">="),
    "client_page_p95_c4": (100, "ms", "<="),
    "search3_page_p95_c4": (150, "ms", "<="),
    "search2_page_p95_c4": (150, "ms", "<="),
    "search3_query_ms": (5, "ms", "<="),
    "search3_uses_trigram_index": (1, "bool", ">="),
    "search2_query_ms": (30, "ms", "<="),
    "complaint_queue_p95_c4": (150, "ms", "<="),
    "survey_results_p95_c4": (150, "ms", "<="),
    "restricted_over_unrestricted": (1.2, "ratio", "<="),
    "errors": (0, "count", "<="),
    "queries_constant_in_page_size": (1, "bool", ">="),
    "monthly_close_seconds": (30, "s", "<="),
    "rollup_page_p95_c4": (300, "ms", "<="),
    "halfyear_job_seconds": (60, "s", "<="),
    "workbench_page_p95_c4": (300, "ms", "<="),
    "group_dashboard_cold_ms": (None, "ms", None),
    "group_dashboard_p95_c4": (300, "ms", "<="),
    "branch_dashboard_cold_ms": (None, "ms", None),
    "branch_dashboard_p95_c4": (150, "ms", "<="),
    "seed_bulk_seconds": (None, "s", None),
    "web_worker_peak_rss": (None, "MiB", None),
}


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


def wait_closed(label: str, *, timeout: float = 300.0) -> float:
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


def wait_round_open(label: str, *, timeout: float = 300.0) -> float:
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


# -- the full run -------------------------------------------------------------------------------


def sh(cmd, env, **kw):
    return subprocess.run(cmd, cwd=ROOT, env=env, check=True, **kw)


def main(argv=None):
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
    args = parser.parse_args(argv)

    python = sys.executable
    database_url = f"postgres://postgres@127.0.0.1:5432/{args.db}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "False",
        "DJANGO_SECRET_KEY": "bench-" + "x9Y8z7W6v5" * 6,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "False",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"),
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    rows = []
    seed_seconds = float("nan")
    if not args.reuse:
        psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc"]
        sh(psql + [f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)'], env)
        sh(
            psql
            + [
                f"CREATE DATABASE \"{args.db}\" TEMPLATE template0 ENCODING 'UTF8' "
                "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            ],
            env,
        )
        print("migrating ...", flush=True)
        sh([python, "manage.py", "migrate", "--noinput", "-v0"], env)
        sh([python, "manage.py", "seed_demo", "--org-only"], env, stdout=subprocess.DEVNULL)
        print(f"seed_bulk --clients {args.clients} ...", flush=True)
        started = time.perf_counter()
        sh(
            [
                python,
                "manage.py",
                "seed_bulk",
                "--clients",
                str(args.clients),
                "--branches",
                str(args.branches),
                "--users",
                str(args.users),
            ],
            env,
        )
        seed_seconds = time.perf_counter() - started
        sh(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", args.db, "-qc", "VACUUM ANALYZE"], env)
    if args.reuse and RESULTS.exists():  # the figure of the run that loaded this data
        previous = {r["name"]: r["value"] for r in json.loads(RESULTS.read_text())}
        seed_seconds = previous.get("seed_bulk_seconds") or seed_seconds
    rows.append(row("seed_bulk_seconds", seed_seconds))

    # In-process: subjects, EXPLAIN ANALYZE, query counts.
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "DJANGO_SECRET_KEY", "REDIS_URL")})
    os.environ.update({"DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver", "DJANGO_DEBUG": "True"})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    staff, marketing, clients = pick_subjects()
    term3, term2 = search_terms([name for _, name in clients])
    ms3, trgm3, _ = explain_search(staff, term3)
    ms2, _, _ = explain_search(staff, term2)
    rows += [
        row("search3_query_ms", ms3),
        row("search3_uses_trigram_index", int(trgm3)),
        row("search2_query_ms", ms2),
    ]
    counts = query_counts(staff, "/api/clients/?page_size={size}") + query_counts(
        staff, "/clients/?page_size={size}"
    )
    rows.append(row("queries_constant_in_page_size", int(counts[0] == counts[1] and counts[2] == counts[3])))
    print(
        f"branch user {staff.username} ({staff.branch}), {len(clients)} sample clients; "
        f"search terms {term3!r} / {term2!r}; query counts {counts}",
        flush=True,
    )

    # Over HTTP: gunicorn with 3 sync workers, and a Celery worker, on loopback.
    sh([python, "manage.py", "collectstatic", "--noinput", "-v0"], env)
    procs = [
        subprocess.Popen(
            [
                python,
                "-m",
                "gunicorn",
                "crm.wsgi:application",
                "--bind",
                f"{HOST}:{args.port}",
                "--workers",
                "3",
                "--worker-class",
                "sync",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        ),
        subprocess.Popen(
            [python, "-m", "celery", "-A", "crm", "worker", "--concurrency", "2", "--loglevel", "WARNING"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    try:
        for _ in range(60):
            try:
                http.client.HTTPConnection(HOST, args.port, timeout=2).request("GET", "/accounts/login/")
                break
            except OSError:
                time.sleep(0.5)
        # The worker's start-up costs CPU too: measure only once it answers.
        from crm.celery import app as celery_app

        for _ in range(30):
            if celery_app.control.ping(timeout=1.0):
                break
        staff_cookie = login_cookie(args.port, staff.username)
        all_cookie = login_cookie(args.port, marketing.username)
        staff_token = api_token(args.port, staff.username)
        paths = scenario_paths(clients, term3, term2)
        total_errors = 0

        wrk = shutil.which("wrk")
        if not wrk:
            print("wrk not found: measuring with Python threads, which compete with the server", flush=True)

        def load(name, headers, concurrency, n=args.requests, path_list=None):
            nonlocal total_errors
            run_load(
                lambda: HttpSession(args.port, headers),
                (path_list or paths[name])[:1],
                concurrency=2,
                requests=10,
            )  # warm-up
            if wrk:
                # Warm-up at the same concurrency (caches, connections), then the measured run.
                run_wrk(args.port, headers, path_list or paths[name], concurrency=concurrency, seconds=2)
                result = run_wrk(
                    args.port,
                    headers,
                    path_list or paths[name],
                    concurrency=concurrency,
                    seconds=args.seconds,
                )
            else:
                result = run_load(
                    lambda: HttpSession(args.port, headers),
                    path_list or paths[name],
                    concurrency=concurrency,
                    requests=n,
                )
            total_errors += result.errors
            print(
                f"  {name:18} c={concurrency:<3} n={result.count:<5} p50={result.p50:7.1f} ms  "
                f"p95={result.p95:7.1f} ms  {result.rps:6.1f} req/s  errors={result.errors}",
                flush=True,
            )
            return result

        for name, headers in (("list_page", staff_cookie), ("api_clients", staff_token)):
            r4 = load(name, headers, 4)
            r16 = load(name, headers, 16)
            rows += [
                row(f"{name}_p95_c4", r4.p95),
                row(f"{name}_p95_c16", r16.p95),
                row(f"{name}_rps_c4", r4.rps),
            ]
        for name in ("client_page", "search3_page", "search2_page", "complaint_queue", "survey_results"):
            rows.append(row(f"{name}_p95_c4", load(name, staff_cookie, 4, n=min(args.requests, 200)).p95))
        # The 25th job (R28) over every branch, through the worker: the period last due, from
        # the task's queueing to the roll-up built; then the roll-up page of that period.
        from assessments.tasks import monthly_close
        from crm.figures import Period

        period = Period.last_due()
        reset_period(period.label)
        started = time.perf_counter()
        monthly_close.delay(period.label)
        close_seconds = wait_closed(period.label)
        if close_seconds == close_seconds:
            close_seconds = time.perf_counter() - started
        print(f"  monthly_close      {period.label}: {close_seconds:.1f} s", flush=True)
        rows.append(row("monthly_close_seconds", close_seconds))
        rows.append(
            row(
                "rollup_page_p95_c4",
                load("rollup_page", all_cookie, 4, n=100, path_list=rollup_paths(period.label)).p95,
            )
        )
        # The half-year job (R34) over every branch through the worker, then the workbench.
        from assessments.tasks import assessment_open
        from crm.figures import HalfYear

        half = HalfYear.last_ended()
        reset_half(half.label)
        started = time.perf_counter()
        assessment_open.delay(half.label)
        half_seconds = wait_round_open(half.label)
        if half_seconds == half_seconds:
            half_seconds = time.perf_counter() - started
        print(f"  halfyear_job       {half.label}: {half_seconds:.1f} s", flush=True)
        rows.append(row("halfyear_job_seconds", half_seconds))
        from crm.models import Role, User

        auditor = User.objects.filter(role=Role.AUDITOR, is_active=True).order_by("pk").first()
        auditor_cookie = login_cookie(args.port, auditor.username)
        rows.append(
            row(
                "workbench_page_p95_c4",
                load("workbench_page", auditor_cookie, 4, n=100, path_list=workbench_paths(half.label)).p95,
            )
        )
        # The dashboards (R35): cold (computed in process, cache empty) and warm under load.
        manager = branch_manager(staff)
        manager_cookie = login_cookie(args.port, manager.username)
        rows.append(row("group_dashboard_cold_ms", dashboard_cold_ms(marketing)))
        rows.append(
            row(
                "group_dashboard_p95_c4",
                load("group_dashboard", all_cookie, 4, n=100, path_list=dashboard_paths()).p95,
            )
        )
        rows.append(row("branch_dashboard_cold_ms", dashboard_cold_ms(manager)))
        rows.append(
            row(
                "branch_dashboard_p95_c4",
                load("branch_dashboard", manager_cookie, 4, n=100, path_list=dashboard_paths()).p95,
            )
        )
        # Restricted against unrestricted: the same list, side by side in one run.
        restricted = load("list_page", staff_cookie, 4, n=200, path_list=paths["list_page"][:1])
        unrestricted = load("list_page", all_cookie, 4, n=200, path_list=paths["list_page"][:1])
        rows.append(row("restricted_over_unrestricted", restricted.p50 / unrestricted.p50))
        rows.append(row("errors", total_errors))
        rss = []
        for child in subprocess.run(
            ["pgrep", "-P", str(procs[0].pid)], capture_output=True, text=True
        ).stdout.split():
            status = Path(f"/proc/{child}/status").read_text()
            rss.append(int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024)
        rows.append(row("web_worker_peak_rss", max(rss) if rss else float("nan")))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()

    print_table(rows)
    meta = {
        "clients": args.clients,
        "branches": args.branches,
        "users": args.users,
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


if __name__ == "__main__":
    sys.exit(main())
