"""Browser journeys: Playwright for Python driving Debian's chromium (no browser download).
Every test keeps screenshots of the pages it visits in tests/e2e/screenshots/."""

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import PASSWORD

SHOTS = Path(__file__).parent / "screenshots"
# Playwright's sync API runs an event loop in this thread; the ORM calls of the fixtures
# happen between browser steps, never concurrently with them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def chromium_path():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("Debian's chromium is not installed (apt-get install chromium fonts-wqy-microhei)")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


class Journey:
    """A person at a browser: ``login``, ``go``, ``shot`` (screenshot), and the page itself."""

    def __init__(self, browser, live_server, test_name):
        self.context = browser.new_context(
            locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 860}
        )
        self.context.set_default_timeout(15000)
        self.page = self.context.new_page()
        self.base = live_server.url
        self.name = re.sub(r"\W+", "_", test_name)
        self.step = 0
        SHOTS.mkdir(exist_ok=True)

    def go(self, path):
        self.page.goto(self.base + path)
        return self.page

    def login(self, username, password=PASSWORD):
        self.context.clear_cookies()
        self.go("/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()
        return self.page

    def shot(self, label):
        self.step += 1
        path = SHOTS / f"{self.name}_{self.step:02d}_{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self):
        self.context.close()


@pytest.fixture
def journey(browser, live_server, request):
    j = Journey(browser, live_server, request.node.name)
    yield j
    j.close()
