"""Fixtures of the survey tests: a client of east with a project, the shipped templates, and
a clean cache (the public page's rate limit and DRF's throttle live there)."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from surveys.models import SurveyTemplate
from tests.clients.factories import ClientFactory, ProjectFactory


def ensure_shipped_templates():
    """The data migration's templates and targets; a transactional test (the browser journeys)
    flushes them, so tests that need them put them back the way the migration does."""
    import importlib

    from django.apps import apps

    if not SurveyTemplate.objects.filter(code="standard").exists():
        importlib.import_module("surveys.migrations.0002_standard_templates").ship(apps, None)


@pytest.fixture(autouse=True)
def shipped_templates(db):
    ensure_shipped_templates()


@pytest.fixture(autouse=True)
def clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def standard(db):
    return SurveyTemplate.objects.get(code="standard")


@pytest.fixture
def benchmark(db):
    return SurveyTemplate.objects.get(code="real-estate-benchmark")


def make_client(org, branch_code="east", grade="A", with_project=True):
    client = ClientFactory(
        branch=org.branches[branch_code],
        owner=org[f"{branch_code}_staff"],
        grade=grade,
        email="kehu@example.com",
    )
    if with_project:
        ProjectFactory(
            client=client,
            department=org.departments[(branch_code, "biz")],
            signed_on=timezone.localdate() - dt.timedelta(days=60),
        )
    return client


@pytest.fixture
def east_client(org):
    return make_client(org)


def scores_for(template, default=5, low=()):
    """Scores for every question of ``template``; the questions at indexes ``low`` get 1."""
    from surveys.models import Question

    questions = list(
        Question.objects.filter(dimension__template=template).order_by("dimension__order", "order", "pk")
    )
    out = {}
    for i, q in enumerate(questions):
        if i in low:
            out[q.pk] = 1 if q.scale == "five" else 2
        else:
            out[q.pk] = default if q.scale == "five" else 10
    return out
