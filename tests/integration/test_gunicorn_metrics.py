"""/metrics under gunicorn with several worker processes (gunicorn.conf.py, as in the image):
the figures of every process are added up (prometheus_client's multiprocess mode), so a scrape
that lands on any one process tells every request."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "gunicorn-metrics-test-token-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, token=None):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - a local test server
        return answer.status, answer.read().decode()


def test_requests_of_every_gunicorn_process_are_added_up(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"),
        "METRICS_TOKEN": TOKEN,
        "WEB_CONCURRENCY": "2",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "CRM_CACHE_DIR": str(tmp_path / "cache"),
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "crm.wsgi:application", "--config", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(f"http://127.0.0.1:{port}/health/live")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not answer"
            assert server.poll() is None, server.stderr.read().decode()
            time.sleep(0.3)
        # Requests side by side, until both processes have answered some.
        sent = 0
        with ThreadPoolExecutor(8) as pool:
            while sent < 400:
                statuses = list(pool.map(lambda _: get(f"http://127.0.0.1:{port}/health/live")[0], range(40)))
                assert statuses == [200] * 40
                sent += 40
                pids = {f.stem.rsplit("_", 1)[-1] for f in (tmp_path / "prom").glob("counter_*.db")}
                if len(pids) == 2:
                    break
        assert len(pids) == 2, pids
        _, text = get(f"http://127.0.0.1:{port}/metrics", TOKEN)
        total = 0
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "crm_http_requests_total" and sample.labels["view"] == "operator:live":
                    total += sample.value
        assert total >= sent + 1  # those above and the first that answered
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
