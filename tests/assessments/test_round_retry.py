"""A fanned-out round whose part fails for good (R55; issue 23: "let a failed round show its error
and be retried"): the half-year round (R34) and the closing of a month (R28) share one mechanism
(assessments.rounds). The part's task retries by itself; once its retries are used up the part
keeps its reason, the round is failed (计算失败 / 执行失败), its history says which branch, and group
marketing is told once. Nothing queues a failed part again by itself, not the daily catch-up
either; group marketing's 重新计算 (page or ``POST /api/assessments/retry/``) queues the failed
parts alone and the round completes. Tasks run eagerly (Celery ``task_always_eager``), the clock
is fixed."""

from __future__ import annotations

import re
from unittest import mock

import pytest
import time_machine
from django.urls import reverse

from assessments import tasks
from assessments.models import Assessment, AssessmentRound, ClosePart, MonthlyClose
from assessments.obligations import reporting_branches
from assessments.review import services
from assessments.rounds import services as rounds
from crm import figures as fig
from crm.celery import app as celery_app
from crm.figures import HalfYear
from crm.models import Notification

from .helpers import at, new_client

pytestmark = pytest.mark.django_db

H1 = HalfYear(2026, 1)
DEC = fig.Period(2026, 12)

ROUTES_COVERED = (
    "assessments:round-detail",
    "assessments:round-retry",
    "assessments:close-detail",
    "assessments:close-retry",
    "assessment-retry",
    "monthly-report-close-retry",
)


@pytest.fixture
def eager():
    """Tasks run in the caller, retries included (their countdowns are not waited for)."""
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = old


def _clients(org, code, n, when="2026-03-01T10:00"):
    with time_machine.travel(at(when), tick=False):
        return [new_client(org, code) for _ in range(n)]


def _nan_round(capture):
    """A round opened before the growth standard was checked (issue 23: ``growth_standard=nan``
    was accepted): NaN is stored, and every branch's indicators, which carry the standard, are
    refused by PostgreSQL's JSON. The job then runs as the schedule runs it."""
    with time_machine.travel(at("2026-07-01T01:30"), tick=False):
        AssessmentRound.objects.create(half_year=H1.label, growth_standard=float("nan"))
        with capture(execute=True):
            return tasks.dispatch_assessment(H1)


def _failing_for(code, org):
    """compute_indicators as it is, except that it raises for one branch."""
    real = services.compute_indicators
    branch_id = org.branches[code].pk

    def compute(branch, half, *, standard):
        if branch.pk == branch_id:
            raise RuntimeError("the figures of this branch could not be read")
        return real(branch, half, standard=standard)

    return mock.patch.object(services, "compute_indicators", side_effect=compute)


# ------------------------------------------------------------------- the half-year round (R34)


def test_a_nan_standard_fails_every_part_and_the_round_shows_why(
    org, eager, django_capture_on_commit_callbacks
):
    """R55: each part retried five times, then failed for good: the round is 计算失败, each part
    keeps the exception's class and first line, the round's history names each branch, group
    marketing is told once (not once per branch)."""
    _clients(org, "east", 2)
    rnd = _nan_round(django_capture_on_commit_callbacks)
    rnd.refresh_from_db()
    parts = list(Assessment.objects.filter(round=rnd))
    assert len(parts) == reporting_branches().count() > 1
    assert rnd.state == "failed" and rnd.get_state_display() == "计算失败" and rnd.failed_at is not None
    assert rnd.done == 0
    for part in parts:
        assert part.computed_at is None and part.compute_failed_at is not None
        assert part.compute_error.startswith("DataError: ") and "json" in part.compute_error.lower()
        assert "\n" not in part.compute_error
    # The round's history: one row per failed part, naming the branch.
    reasons = set(rnd.history.filter(state="failed").values_list("history_change_reason", flat=True))
    assert {str(p.branch) for p in parts} == {r.split(": ")[0] for r in reasons}
    east = Assessment.objects.get(round=rnd, branch=org.branches["east"])
    assert east.history.filter(compute_error__startswith="DataError").exists()
    notices = Notification.objects.filter(key="round-failed:assessment:2026H1:0")
    assert list(notices.values_list("recipient__username", flat=True)) == ["marketing"]
    assert notices.get().url == reverse("assessments:round-detail", kwargs={"half_year": "2026H1"})
    # The round's page shows every part's reason and the button.
    page = org.web("marketing").get(reverse("assessments:round-detail", kwargs={"half_year": "2026H1"}))
    assert page.status_code == 200
    html = page.content.decode()
    assert len(re.findall(r'<tr data-branch="\w+" data-state="failed"', html)) == len(parts)
    assert 'data-testid="round-state" data-state="failed"' in html and "DataError" in html
    assert 'data-testid="retry"' in html and "重新计算" in html and "csrfmiddlewaretoken" in html
    # The page that opens rounds links to it.
    assert (
        reverse("assessments:round-detail", kwargs={"half_year": "2026H1"})
        in org.web("marketing").get(reverse("assessments:assessment-open")).content.decode()
    )


def test_failed_stays_failed_until_retried_and_the_retry_completes_the_round(
    org, eager, django_capture_on_commit_callbacks
):
    """R55, R34: the daily catch-up (and opening the round again) queues no failed part; after
    the standard is set right, 重新计算 on the page queues the failed parts and the round opens,
    the auditors are told, and the retry is a history row by the person who pressed it."""
    _clients(org, "east", 2, when="2025-12-01T10:00")
    _clients(org, "east", 1)
    rnd = _nan_round(django_capture_on_commit_callbacks)
    with (
        time_machine.travel(at("2026-07-02T00:10"), tick=False),
        mock.patch.object(tasks.assessment_compute, "delay") as delay,
    ):
        tasks.review_daily()
        opened = org.web("marketing").post(reverse("assessments:assessment-open"), {"half_year": "2026H1"})
    assert delay.call_count == 0
    assert opened.status_code == 302 and opened.url.endswith("/rounds/2026H1/")
    rnd.refresh_from_db()
    assert rnd.state == "failed" and rnd.retries == 0
    with time_machine.travel(at("2026-07-02T09:00"), tick=False):
        services.round_set_standard(rnd=rnd, by=org["marketing"], standard=0.3)
        with django_capture_on_commit_callbacks(execute=True):
            response = org.web("marketing").post(
                reverse("assessments:round-retry", kwargs={"half_year": "2026H1"}), follow=True
            )
    assert response.status_code == 200
    rnd.refresh_from_db()
    assert rnd.state == "open" and rnd.retries == 1 and rnd.failed_at is None
    assert rnd.done == rnd.total == reporting_branches().count()
    east = Assessment.objects.get(round=rnd, branch=org.branches["east"])
    assert east.compute_error == "" and east.compute_failed_at is None
    assert east.indicators["reporting"]["growth"] == {
        "start": 2,
        "end": 3,
        "growth": 0.5,
        "standard": 0.3,
        "meets": True,
    }
    retried = rnd.history.filter(history_change_reason="重新计算").get()
    assert retried.state == "running" and retried.history_user == org["marketing"]
    assert Notification.objects.filter(recipient=org["auditor"], key="assessment-open:2026H1").count() == 1


def test_the_api_retries_only_the_failed_part_and_refuses_what_it_must(
    org, eager, django_capture_on_commit_callbacks
):
    """R55: ``POST /api/assessments/retry/``: 403 for roles that cannot, 400 for a bad half
    year, 404 for no round, 202 queueing the failed branch alone, 409 while the round is not
    failed (running, then open) with the round as it is."""
    _clients(org, "east", 1)
    _clients(org, "south", 1)
    with time_machine.travel(at("2026-07-01T01:30"), tick=False), _failing_for("south", org):
        with django_capture_on_commit_callbacks(execute=True):
            rnd = tasks.dispatch_assessment(H1)
    rnd.refresh_from_db()
    south = Assessment.objects.get(round=rnd, branch=org.branches["south"])
    assert rnd.state == "failed" and rnd.done == rnd.total - 1
    assert south.compute_error == "RuntimeError: the figures of this branch could not be read"
    url = reverse("assessment-retry")
    assert url == "/api/assessments/retry/"
    for who in ("auditor", "leader", "east_manager", "east_staff", "norole"):
        assert org.api(who).post(url, {"half_year": "2026H1"}, format="json").status_code == 403, who
    assert org.api(None).post(url, {"half_year": "2026H1"}, format="json").status_code == 401
    for body in ({}, {"half_year": "2026H9"}, {"half_year": "9" * 40}, {"half_year": ["x"]}):
        answer = org.api("marketing").post(url, body, format="json")
        assert answer.status_code == 400 and "half_year" in answer.json(), body
    assert org.api("marketing").post(url, {"half_year": "2025H2"}, format="json").status_code == 404
    # The failed part's reason is in the answer for group marketing, and on the API's
    # assessment for its own branch only.
    assert (
        org.api("south_staff")
        .get(f"/api/assessments/{south.pk}/")
        .json()["compute_error"]
        .startswith("RuntimeError")
    )
    assert org.api("east_staff").get(f"/api/assessments/{south.pk}/").status_code == 404
    east = Assessment.objects.get(round=rnd, branch=org.branches["east"])
    assert org.api("east_staff").get(f"/api/assessments/{east.pk}/").json()["compute_error"] == ""
    with (
        mock.patch.object(tasks.assessment_compute, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        answer = org.api("marketing").post(url, {"half_year": "2026H1"}, format="json")
    assert answer.status_code == 202
    assert answer.json()["state"] == "running" and answer.json()["retries"] == 1
    assert answer.json()["failed_parts"] == []
    assert [c.args for c in delay.call_args_list] == [(rnd.pk, org.branches["south"].pk)]
    again = org.api("marketing").post(url, {"half_year": "2026H1"}, format="json")
    assert again.status_code == 409 and again.json()["current"]["state"] == "running"
    with (
        time_machine.travel(at("2026-07-01T02:00"), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.assessment_compute.delay(rnd.pk, org.branches["south"].pk)
    rnd.refresh_from_db()
    assert rnd.state == "open" and rnd.done == rnd.total
    assert org.api("marketing").post(url, {"half_year": "2026H1"}, format="json").status_code == 409
    assert (
        org.web("marketing")
        .post(reverse("assessments:round-retry", kwargs={"half_year": "2026H1"}))
        .status_code
        == 302
    )
    rnd.refresh_from_db()
    assert rnd.retries == 1  # the refused page retry changed nothing


def test_recording_a_failure_is_idempotent_and_keeps_no_client_data(org, django_capture_on_commit_callbacks):
    """R55: the failure delivered twice records once (one history row, one notice); a part done
    meanwhile is not failed; the reason drops a database error's DETAIL line (it quotes values)."""
    client = _clients(org, "east", 1)[0]
    with time_machine.travel(at("2026-07-01T01:30"), tick=False):
        rnd, pending = services.assessment_round_start(half=H1)
        services.assessment_compute(round_id=rnd.pk, branch_id=org.branches["south"].pk)
    error = Exception(
        f"duplicate key value violates unique constraint\nDETAIL:  Key (name)=({client.name}) exists."
    )
    east = org.branches["east"].pk
    with django_capture_on_commit_callbacks(execute=True):
        assert rounds.part_failed(rounds.ASSESSMENT, round_id=rnd.pk, branch_id=east, exc=error) is True
        assert rounds.part_failed(rounds.ASSESSMENT, round_id=rnd.pk, branch_id=east, exc=error) is False
        assert (
            rounds.part_failed(
                rounds.ASSESSMENT, round_id=rnd.pk, branch_id=org.branches["south"].pk, exc=error
            )
            is False
        )
    part = Assessment.objects.get(round=rnd, branch_id=east)
    assert part.compute_error == "Exception: duplicate key value violates unique constraint"
    assert client.name not in part.compute_error
    assert rnd.history.filter(state="failed").count() == 1
    assert Notification.objects.filter(key__startswith="round-failed:").count() == 1
    assert rounds.error_text(ValueError("x" * 900)) == ("ValueError: " + "x" * 900)[:500]
    assert rounds.error_text(KeyError()) == "KeyError"


def test_the_round_pages_are_group_marketings(org, django_capture_on_commit_callbacks):
    """R55, R3: the round's page and its retry are for administrators and group marketing
    (every branch's reasons are on it): 403 for every other role, 404 for no such round,
    the login for the anonymous. A branch sees its own part's failure on its assessment."""
    with time_machine.travel(at("2026-07-01T01:30"), tick=False):
        rnd, _pending = services.assessment_round_start(half=H1)
    east = org.branches["east"].pk
    with django_capture_on_commit_callbacks(execute=True):
        rounds.part_failed(rounds.ASSESSMENT, round_id=rnd.pk, branch_id=east, exc=RuntimeError("boom"))
    page = reverse("assessments:round-detail", kwargs={"half_year": "2026H1"})
    retry = reverse("assessments:round-retry", kwargs={"half_year": "2026H1"})
    for who in ("marketing", "admin"):
        assert org.web(who).get(page).status_code == 200, who
    for who in ("leader", "auditor", "east_manager", "east_staff", "south_staff", "norole"):
        assert org.web(who).get(page).status_code == 403, who
        assert org.web(who).post(retry).status_code == 403, who
    assert org.web(None).get(page).status_code == 302 and org.web(None).post(retry).status_code == 302
    assert org.web("marketing").get(page.replace("2026H1", "2025H1")).status_code == 404
    assert org.web("marketing").get(page.replace("2026H1", "nonsense")).status_code == 404
    assert org.web("marketing").get(retry).status_code == 405
    rnd.refresh_from_db()
    assert rnd.state == "failed" and rnd.retries == 0
    # The branch's own assessment says it failed, with its reason; another branch's is 404.
    part = Assessment.objects.get(round=rnd, branch_id=east)
    own = org.web("east_staff").get(reverse("assessments:assessment-detail", kwargs={"pk": part.pk}))
    assert own.status_code == 200 and "RuntimeError: boom" in own.content.decode()
    assert (
        org.web("south_staff")
        .get(reverse("assessments:assessment-detail", kwargs={"pk": part.pk}))
        .status_code
        == 404
    )
    south = Assessment.objects.get(round=rnd, branch=org.branches["south"])
    other = org.web("east_staff").get(reverse("assessments:assessment-detail", kwargs={"pk": south.pk}))
    assert other.status_code == 404


# ------------------------------------------------------------------ the closing of a month (R28)


def test_a_failed_closing_part_fails_the_closing_and_its_retry_finishes_it(
    org, eager, django_capture_on_commit_callbacks
):
    """R55, R28: the same mechanism for the 25th job: the branch whose report could not be
    closed fails the closing (执行失败), the catch-up the next morning leaves it failed, and
    重新执行 through the API closes that branch alone and builds the roll-up."""
    with time_machine.travel(at("2026-12-10T10:00"), tick=False):
        new_client(org, "east")
    from assessments.monthly import services as monthly

    real = monthly.report_close_branch
    east = org.branches["east"]

    def close_branch(*, branch, period, at=None):
        if branch.pk == east.pk:
            raise RuntimeError("the report of this branch could not be frozen")
        return real(branch=branch, period=period, at=at)

    with (
        time_machine.travel(at("2026-12-25T20:00"), tick=False),
        mock.patch.object(monthly, "report_close_branch", side_effect=close_branch),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.monthly_close(DEC.label)
    close = MonthlyClose.objects.get(period=DEC.label)
    assert close.state == "failed" and close.get_state_display() == "执行失败"
    part = ClosePart.objects.get(close=close, branch=east)
    assert part.compute_error == "RuntimeError: the report of this branch could not be frozen"
    assert part.attempts == 6  # the first run and five retries
    assert close.done == close.total - 1 and close.rollup is None
    assert close.history.filter(state="failed", history_change_reason__startswith=str(east)).exists()
    assert Notification.objects.filter(
        recipient=org["marketing"], key="round-failed:monthly_close:2026-12:0"
    ).exists()
    page = org.web("marketing").get(reverse("assessments:close-detail", kwargs={"period": DEC.label}))
    assert (
        page.status_code == 200 and "the report of this branch could not be frozen" in page.content.decode()
    )
    assert "重新执行" in page.content.decode()
    assert (
        org.web("east_manager")
        .get(reverse("assessments:close-detail", kwargs={"period": DEC.label}))
        .status_code
        == 403
    )
    # The next morning's catch-up queues nothing of the failed closing.
    with (
        time_machine.travel(at("2026-12-26T06:30"), tick=False),
        mock.patch.object(tasks.monthly_close_part, "delay") as delay,
    ):
        tasks.monthly_close()
    assert [c for c in delay.call_args_list if c.args[0] == close.pk] == []
    close.refresh_from_db()
    assert close.state == "failed"
    url = reverse("monthly-report-close-retry")
    assert url == "/api/monthly-reports/close-retry/"
    assert org.api("auditor").post(url, {"period": DEC.label}, format="json").status_code == 403
    assert org.api("marketing").post(url, {"period": "2026-13"}, format="json").status_code == 400
    assert org.api("marketing").post(url, {"period": "2025-12"}, format="json").status_code == 404
    with (
        time_machine.travel(at("2026-12-26T09:00"), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        answer = org.api("marketing").post(url, {"period": DEC.label}, format="json")
    assert answer.status_code == 202 and answer.json()["retries"] == 1
    close.refresh_from_db()
    assert close.state == "done" and close.done == close.total and close.rollup is not None
    part.refresh_from_db()
    assert part.done_at is not None and part.compute_error == ""
    assert org.api("marketing").post(url, {"period": DEC.label}, format="json").status_code == 409
    assert (
        Notification.objects.filter(recipient=org["marketing"], key=f"monthly-close:{DEC.label}").count() == 1
    )
