"""The Content-Security-Policy in a real browser: the main pages load with no violation and no
script error, and the behaviour moved out of inline scripts (htmx forms, tabs, the language
switch, Swagger UI) still works."""

import pytest
from django.urls import reverse

from tests.clients.archive_helpers import make_client

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Recorded by the page itself (an init script is not subject to the policy it watches).
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""


@pytest.fixture
def watched(journey):
    problems = []
    journey.context.add_init_script(WATCH)
    page = journey.page

    def on_console(message):
        # Script errors and policy reports; a missing /favicon.ico is neither.
        if "Content Security Policy" in message.text or (
            message.type == "error" and "Failed to load resource" not in message.text
        ):
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

    def check(label):
        page.wait_for_load_state("networkidle")
        found = problems + [f"violation: {v}" for v in page.evaluate("window.__csp || []")]
        assert not found, f"{label}: {found}"
        journey.shot(label)

    return journey, check


def test_main_pages_run_under_the_policy(org, watched):
    journey, check = watched
    client = make_client(org, "east", name="昆山花桥建设发展有限公司")
    page = journey.login("east_staff")
    check("home")
    for label, path in [
        ("clients", reverse("clients:client-list")),
        ("search", reverse("global-search") + "?q=花桥"),
        ("complaints", reverse("complaints:complaint-list")),
        ("surveys", reverse("surveys:survey-list")),
        ("notifications", reverse("notification-list")),
        ("access_request", reverse("clients:access-request-create")),
    ]:
        journey.go(path)
        check(label)

    # The client page: tabs (htmx, client-detail.js) and an htmx inline form.
    page = journey.go(reverse("clients:client-detail", args=[client.pk]))
    check("client")
    page.click("[data-testid=tab-contacts]")
    page.wait_for_url("**/tabs/contacts/")  # the tab is loaded (htmx) at its own address
    page.click("[data-testid=open-form-contacts]")
    page.locator("[data-testid=form-contacts] input[name=name]").wait_for()
    check("client_contact_form")
    page.reload()
    assert page.locator("#contacts").is_visible()  # the tab's address opens that tab again

    # The language switch (app.js, formerly an onchange handler).
    page.select_option("select[name=language]", "en")
    # The switch posts the form and the page reloads: wait for the reloaded page, not the old.
    from playwright.sync_api import expect

    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.wait_for_load_state()
    check("english")


def test_charts_and_api_docs_run_under_the_policy(org, watched):
    journey, check = watched
    page = journey.login("leader")
    for label, path in [
        ("results", reverse("surveys:results")),
        ("matrix", reverse("surveys:matrix")),
        ("campaigns", reverse("surveys:campaign-list")),
    ]:
        journey.go(path)
        check(label)
    page = journey.go(reverse("api-docs"))
    page.locator(".swagger-ui .information-container .title").wait_for()
    assert "集团客户关系管理系统 API" in page.locator(".swagger-ui .title").first.inner_text()
    check("api_docs")
