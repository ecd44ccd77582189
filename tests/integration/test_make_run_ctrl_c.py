"""`make run` stopped with Ctrl-C in a terminal (issue 29): the web server, the worker and beat
all exit within 10 seconds and nothing prints an error (the shell trap it replaces signalled
itself in a loop until make reported a segmentation fault).

The terminal is a pseudo-terminal (python's pty): Ctrl-C is the byte 0x03 typed into it, which
the terminal turns into SIGINT for make's process group, as a person's keyboard would. The run
uses a SQLite file, a broker folder and a cache folder of its own under a temporary folder (the
environment says where), so it leaves the working tree alone. `install` is taken as done
(`make -o install`): the test's own virtualenv is the one `make test` has just installed.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import socket
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STARTUP_BUDGET = 900  # a fresh machine migrates and seeds the demo first
STOP_BUDGET = 10
ERRORS = re.compile(r"(?i)error|traceback|exception|segmentation|\*\*\*|killed|abort")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=2) as answer:  # noqa: S310
            return answer.status == 200
    except OSError:
        return False


def processes_of(marker: str) -> list[int]:
    """Processes whose environment names the run's temporary folder."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


class Terminal:
    def __init__(self, fd: int):
        self.fd = fd
        self.output = b""
        self.closed = False

    def read(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.closed and time.monotonic() < end:
            ready, _, _ = select.select([self.fd], [], [], min(0.2, max(0.0, end - time.monotonic())))
            if not ready:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:  # every process holding the terminal has gone
                data = b""
            if not data:
                self.closed = True
            self.output += data

    def text(self, start: int = 0) -> str:
        return self.output[start:].decode("utf-8", errors="replace")


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc")
def test_ctrl_c_stops_everything_quietly_within_ten_seconds(tmp_path):
    port = free_port()
    marker = str(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
    for name in ("REDIS_URL", "LOG_FORMAT", "SENTRY_DSN", "PROMETHEUS_MULTIPROC_DIR", "CRM_TEST_CLOCK"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CELERY_FS_BROKER_DIR=str(tmp_path / "broker"),
        CRM_CACHE_DIR=str(tmp_path / "cache"),
        DJANGO_MEDIA_ROOT=str(tmp_path / "media"),
        CRM_RUN_MARKER=marker,
    )
    pid, fd = pty.fork()
    if pid == 0:  # the child: make, in the terminal
        os.chdir(ROOT)
        os.execvpe("make", ["make", "--no-print-directory", "-o", "install", "run", f"PORT={port}"], env)
    terminal = Terminal(fd)
    try:
        started = time.monotonic()
        while not (answers(port) and re.search(r"celery@\S+ ready\.", terminal.text())):
            terminal.read(1)
            assert not terminal.closed, terminal.text()[-3000:]
            assert time.monotonic() - started < STARTUP_BUDGET, terminal.text()[-3000:]
        terminal.read(3)  # beat's first lines
        before_stop = len(terminal.output)

        os.write(fd, b"\x03")  # Ctrl-C
        stopped_at = time.monotonic()
        status = None
        while time.monotonic() - stopped_at < STOP_BUDGET + 5:
            terminal.read(0.2)
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
        took = time.monotonic() - stopped_at
        terminal.read(0.5)
        after = terminal.text(before_stop)

        assert status is not None and took < STOP_BUDGET, f"make still running after {took:.1f} s:\n{after}"
        # make ends by the Ctrl-C itself (or 0), never with a failure of its recipe.
        assert (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT) or (
            os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        ), (status, after)
        assert not ERRORS.search(after), after
        deadline = time.monotonic() + STOP_BUDGET - took
        while processes_of(marker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert processes_of(marker) == [], "processes left running"
        assert not answers(port)
    finally:
        for leftover in processes_of(marker):
            try:
                os.kill(leftover, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        os.close(fd)
