"""A half-year round through a real Celery worker on Redis (R55, R34): a NaN growth standard
(issue 23: accepted before the standard was checked) makes every branch's part fail; the
worker retries each, then ``on_failure`` fails the round with the reason; group marketing's
retry through the API queues the parts again and the worker opens the round."""

import time

import pytest

from assessments.models import Assessment, AssessmentRound
from assessments.obligations import reporting_branches
from assessments.tasks import assessment_open
from crm.figures import HalfYear
from crm.models import Notification

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _wait_for(half_year: str, state: str, seconds: int = 60) -> AssessmentRound:
    deadline = time.monotonic() + seconds
    rnd = None
    while time.monotonic() < deadline:
        rnd = AssessmentRound.objects.filter(half_year=half_year).first()
        if rnd and rnd.state == state:
            return rnd
        time.sleep(0.2)
    raise AssertionError(f"round {half_year} not {state}: {rnd and (rnd.state, rnd.done, rnd.total)}")


def test_the_worker_fails_the_round_and_the_retry_opens_it(org, celery_app, celery_worker, monkeypatch):
    # One retry instead of five, so that the backoff (1 s at most here) keeps the test short.
    monkeypatch.setattr(celery_app.tasks["assessments.tasks.assessment_compute"], "max_retries", 1)
    half = HalfYear.last_ended()  # ended, whatever today is
    AssessmentRound.objects.create(half_year=half.label, growth_standard=float("nan"))
    assert assessment_open.delay(half.label).get(timeout=30) == [half.label]
    rnd = _wait_for(half.label, "failed")
    deadline = time.monotonic() + 30
    while (
        time.monotonic() < deadline
        and Assessment.objects.filter(round=rnd, compute_failed_at__isnull=True).exists()
    ):
        time.sleep(0.2)
    parts = Assessment.objects.filter(round=rnd)
    assert parts.count() == reporting_branches().count()
    assert all(p.compute_error.startswith("DataError: ") for p in parts), [p.compute_error for p in parts]
    assert (
        Notification.objects.filter(
            recipient=org["marketing"], key=f"round-failed:assessment:{half.label}:0"
        ).count()
        == 1
    )
    AssessmentRound.objects.filter(pk=rnd.pk).update(growth_standard=0.03)
    answer = org.api("marketing").post("/api/assessments/retry/", {"half_year": half.label}, format="json")
    assert answer.status_code == 202, answer.content
    rnd = _wait_for(half.label, "open")
    assert rnd.done == rnd.total == parts.count() and rnd.retries == 1
    assert not Assessment.objects.filter(round=rnd, computed_at__isnull=True).exists()
    assert (
        Notification.objects.filter(recipient=org["auditor"], key=f"assessment-open:{half.label}").count()
        == 1
    )
