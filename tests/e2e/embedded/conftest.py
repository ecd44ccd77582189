"""Browser journeys against the shape of ``make run``, the one a new user meets: a SQLite file,
the filesystem Celery broker, the shared file cache, no Redis, and a real web server and Celery
worker (with its beat) in processes of their own, as the Makefile starts them.

One instance for all the tests of this folder (``embedded``), built in a temporary folder: migrate and
seed_demo run as subprocesses, then ``manage.py runserver --noreload`` and ``celery -A crm
worker -B``. The tests reach it only through the browser and HTTP: they never touch
pytest-django's test database (nor ask for it), since the instance has its own. The output of
every process is kept in the folder; a failing test shows its tail. At the end the processes
are stopped (their whole process groups) and the repository is checked to be as it was: the
instance must write only in its folder (no ``control/`` of the filesystem broker in the root).
A ``.env`` at the root is read by the settings, as ``make run`` would; if it named a Redis, the
check on the worker's banner (transport ``crmfs://``) fails.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.e2e.conftest import Journey

ROOT = Path(__file__).resolve().parents[3]  # the repository: manage.py and the Makefile live here
DEMO_PASSWORD = "embedded-demo-2026"
# The Makefile's `run` target starts the worker so (web, worker and beat on the embedded defaults).
WORKER_ARGS = (
    "-A crm worker -B --scheduler django_celery_beat.schedulers:DatabaseScheduler --loglevel=INFO --concurrency=2"
).split()
START_TIMEOUT = 90  # seconds for the web server to answer and the worker to be ready
DB_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
}

_started: list[Instance] = []  # the instance, for the log tails of failed tests and the summary


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def footprint() -> tuple[set[str], dict[str, tuple[int, int]]]:
    """What the instance must leave alone: the names at the repository's root, and every file
    of the places the embedded defaults write to when not told otherwise (``var/``, ``media/``,
    ``db.sqlite3*``, and kombu's default ``control/``), with size and modification time.
    (Bytecode caches are Python's, not the instance's, and are not looked at.)"""
    entries = {p.name for p in ROOT.iterdir()}
    files = {}
    paths = [*ROOT.glob("db.sqlite3*")]
    for top in ("var", "media", "control"):
        if (ROOT / top).is_dir():
            paths += [p for p in (ROOT / top).rglob("*") if p.is_file()]
    for p in paths:
        try:
            st = p.stat()
        except FileNotFoundError:
            continue
        files[str(p.relative_to(ROOT))] = (st.st_size, st.st_mtime_ns)
    return entries, files


def footprint_changes(before, after, own_ids=()) -> list[str]:
    """The differences between two footprints. Other tests of the working tree save uploads in
    the repository's ``media/`` too, so there only files named after one of the instance's own
    rows (``own_ids``: its import jobs) count."""
    (entries_0, files_0), (entries_1, files_1) = before, after
    changes = [f"new in the repository root: {name}" for name in sorted(entries_1 - entries_0)]
    for name in sorted(files_0.keys() | files_1.keys()):
        if name.startswith("media/") and not any(i in name for i in own_ids):
            continue
        if name not in files_0:
            changes.append(f"new file: {name}")
        elif name not in files_1:
            changes.append(f"file removed: {name}")
        elif files_0[name] != files_1[name]:
            changes.append(f"file changed: {name}")
    return changes


class Instance:
    """A running ``make run``: ``base`` URL, ``env``, ``dir`` (its temporary folder), the
    processes, their ``logs`` and the ``timings`` of its start."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.base = ""
        self.env: dict[str, str] = {}
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.timings: dict[str, float] = {}
        self.before = footprint()

    def own_ids(self) -> list[str]:
        """The ids of the instance's import jobs (their uploads are named after them), both as
        SQLite stores a UUID and as Django spells it in a path."""
        try:
            with closing(sqlite3.connect(self.dir / "db.sqlite3")) as db:
                rows = db.execute("SELECT id FROM clients_importjob").fetchall()
        except sqlite3.Error:
            return []
        return [form for (pk,) in rows for form in (str(pk), str(uuid.UUID(str(pk))))]

    # -- logs ----------------------------------------------------------------------------------
    def log(self, name: str) -> str:
        path = self.logs.get(name)
        return path.read_text(errors="replace") if path and path.exists() else ""

    def tail(self, name: str, lines: int = 60) -> str:
        """The last ``lines`` lines of a log, without the web server's answers for static files."""
        kept = [line for line in self.log(name).splitlines() if '"GET /static/' not in line]
        return "\n".join(kept[-lines:])

    def tails(self, lines: int = 60) -> str:
        return "\n".join(
            f"----- {name} ({self.logs[name]}) -----\n{self.tail(name, lines)}" for name in self.logs
        )

    def offsets(self) -> dict[str, int]:
        return {name: len(self.log(name)) for name in ("web", "worker")}

    def problems_since(self, offsets: dict[str, int]) -> list[str]:
        """Tracebacks in either log and 5xx answers of the web server written after ``offsets``."""
        found = []
        for name, start in offsets.items():
            text = self.log(name)[start:]
            if "Traceback (most recent call last)" in text:
                found.append(f"{name}: a traceback")
            found += [
                f"{name}: {line.strip()}" for line in text.splitlines() if re.search(r'" 5\d\d \d+', line)
            ]
        return found

    # -- processes -------------------------------------------------------------------------------
    def run(self, name: str, *args: str, timeout: float = 600) -> float:
        """Run a manage.py command to its end; its output goes to ``<name>.log``. Seconds taken."""
        self.logs[name] = self.dir / f"{name}.log"
        started = time.monotonic()
        with open(self.logs[name], "wb") as out:
            rc = subprocess.run(
                [sys.executable, "manage.py", *args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            ).returncode
        if rc:
            pytest.fail(f"manage.py {' '.join(args)} exited with {rc}\n{self.tail(name)}")
        return time.monotonic() - started

    def start(self, name: str, command: list[str]) -> None:
        """Start a long-running process in a process group of its own; output to ``<name>.log``."""
        self.logs[name] = self.dir / f"{name}.log"
        with open(self.logs[name], "wb") as out:
            self.procs[name] = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def assert_running(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                pytest.fail(f"the {name} process exited with {proc.returncode}\n{self.tails()}")

    def wait_until_ready(self) -> None:
        started = time.monotonic()
        deadline = started + START_TIMEOUT
        while time.monotonic() < deadline:
            self.assert_running()
            if "web" not in self.timings and self._answers():
                self.timings["web"] = time.monotonic() - started
            if "worker" not in self.timings and re.search(r"celery@\S+ ready\.", self.log("worker")):
                self.timings["worker"] = time.monotonic() - started
            if "web" in self.timings and "worker" in self.timings:
                return
            time.sleep(0.2)
        pytest.fail(f"the instance was not ready within {START_TIMEOUT} s\n{self.tails()}")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.base + "/accounts/login/", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def stop(self) -> list[str]:
        """Stop every process as Ctrl-C on ``make run`` would (a warm shutdown), then anything
        left in its process group; say what outlived it."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        leftovers = []
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                leftovers.append(f"{name} did not stop within 30 s after SIGTERM")
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # its children, if any outlived it
            except ProcessLookupError:
                pass
            proc.wait()
            deadline = time.monotonic() + 10
            while True:
                try:
                    os.killpg(proc.pid, 0)
                except ProcessLookupError:
                    break
                if time.monotonic() > deadline:
                    leftovers.append(f"processes of {name}'s group are still alive")
                    break
                time.sleep(0.1)
        return leftovers


@pytest.fixture(scope="package")
def embedded(tmp_path_factory):
    """``make run`` in a temporary folder: yields the running ``Instance`` (``.base``, ``.env``).
    One for all the tests of this folder (package scope: as long-lived as a session fixture
    here, but stopped as soon as they are done, not left running beside the other journeys)."""
    instance = Instance(tmp_path_factory.mktemp("embedded"))
    tmp = instance.dir
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    # Eager tasks would bypass the worker this is about; the async-safety switch is the test
    # harness's (tests/e2e/conftest.py), not something a user of `make run` has.
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        CELERY_FS_BROKER_DIR=str(tmp / "broker"),
        CRM_CACHE_DIR=str(tmp / "cache"),
        DJANGO_MEDIA_ROOT=str(tmp / "media"),
        DEMO_PASSWORD=DEMO_PASSWORD,
        PYTHONUNBUFFERED="1",  # the logs are files: see each line as it is written
    )
    instance.env = env
    _started.append(instance)
    try:
        instance.timings["migrate"] = instance.run("migrate", "migrate", "--noinput")
        instance.timings["seed_demo"] = instance.run("seed_demo", "seed_demo")
        port = _free_port()
        instance.base = f"http://127.0.0.1:{port}"
        celery = Path(sys.executable).with_name("celery")
        worker = [str(celery)] if celery.exists() else [sys.executable, "-m", "celery"]
        instance.start("web", [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"])
        instance.start("worker", [*worker, *WORKER_ARGS])
        instance.wait_until_ready()
        banner = instance.log("worker")
        assert re.search(r"transport:\s+crmfs://", banner), "the worker does not use the filesystem broker"
        print(
            "\nembedded instance: " + ", ".join(f"{k} {v:.1f} s" for k, v in instance.timings.items()),
            file=sys.stderr,
        )
        yield instance
    finally:
        stopping = time.monotonic()
        leftovers = instance.stop()
        instance.timings["stop"] = time.monotonic() - stopping
        changes = footprint_changes(instance.before, footprint(), instance.own_ids())
    assert not leftovers, "\n".join(leftovers)
    assert not changes, "the instance wrote outside its folder:\n" + "\n".join(changes)


@pytest.fixture(autouse=True)
def _no_test_database(request):
    """These tests talk to the instance's own database through the browser: they must not get
    pytest-django's (which would be created from DATABASE_URL for nothing)."""
    asked = DB_FIXTURES & set(request.fixturenames)
    assert not asked and not request.node.get_closest_marker("django_db"), (
        f"asks for a test database: {asked}"
    )


@pytest.fixture
def clean_logs(embedded):
    """Fails the test if the web server answered 5xx or either process logged a traceback
    while it ran."""
    offsets = embedded.offsets()
    yield
    problems = embedded.problems_since(offsets)
    assert not problems, "\n".join(problems) + "\n" + embedded.tails()


class EmbeddedJourney(Journey):
    """The e2e Journey (screenshots in tests/e2e/screenshots/) on the embedded instance, whose
    demo users have ``DEMO_PASSWORD``."""

    def __init__(self, browser, instance: Instance, test_name: str):
        super().__init__(browser, SimpleNamespace(url=instance.base), test_name)
        self.name = f"embedded_{self.name}"  # screenshots told apart from the in-process journeys'
        self.instance = instance

    def login(self, username, password=DEMO_PASSWORD):
        page = super().login(username, password)
        assert "/accounts/login/" not in page.url, f"{username} could not log in"
        return page


@pytest.fixture
def journey(browser, embedded, clean_logs, request):
    """Overrides the e2e ``journey`` (which needs pytest-django's live server) for this folder."""
    j = EmbeddedJourney(browser, embedded, request.node.name)
    yield j
    j.close()
    embedded.assert_running()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and _started and _started[0].logs:
        report.sections.append(("embedded instance logs (tails)", _started[0].tails(40)))


def pytest_terminal_summary(terminalreporter):
    if _started and _started[0].timings:
        timings = ", ".join(f"{k} {v:.1f} s" for k, v in _started[0].timings.items())
        terminalreporter.write_line(f"embedded instance ({_started[0].dir}): {timings}")
