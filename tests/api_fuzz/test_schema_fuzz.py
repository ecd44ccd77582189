"""Schemathesis over every operation of the API (hardening): the OpenAPI document /api/schema/
serves, called through the WSGI app in-process against the demo (tests/api_fuzz/conftest.py), as
two branch roles and a group role: east_staff, east_manager and marketing, each with a token.

Phases: the schema's examples, the coverage phase (each field's boundaries and the methods an
operation does not take), the fuzzing phase (valid and invalid input, a few examples per
operation: ``FUZZ_EXAMPLES``), and the stateful phase (chains of operations linked by the
schema's dependency analysis: create, then read, change, act on what was created), bounded so
that the run fits CI and derandomized (the same requests on every run).

Checks on every answer: no 5xx, the status code, the content type and the body as the schema
documents them (``ALLOWED`` lists what is let through, each with its reason: today nothing), and
access: a row the caller may not see (``restrict()``, the same rule as the pages) is never
answered with a 2xx, checked on the row each case is aimed at as south_staff too.

Each case runs in a savepoint that is rolled back after it, so a write by one case is not seen
by the next and every case starts from the demo as it was.

To fuzz harder locally: ``FUZZ_EXAMPLES=20 FUZZ_STEPS=20 pytest tests/api_fuzz``."""

from __future__ import annotations

import functools
import itertools
import json
import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from crm.models import Branch, User

# The document /api/schema/ serves (the same generator), built without a request: the endpoint
# itself is for signed-in users only.
SCHEMA = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
APP = get_wsgi_application()

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
STEPS = int(os.environ.get("FUZZ_STEPS", "6"))
SCENARIOS = int(os.environ.get("FUZZ_SCENARIOS", "6"))

CONFIG = SchemathesisConfig.from_dict(
    {
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": True, "max-steps": STEPS},
        }
    }
)
schema = schemathesis.openapi.from_dict(SCHEMA, config=CONFIG)

ROLES = ("east_staff", "east_manager", "marketing")
OUTSIDER = "south_staff"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Answers let through although a check fails, each with its reason. Empty: the schema is true.
ALLOWED: dict[tuple[str, str], str] = {}

HYPOTHESIS = {
    "derandomize": True,
    "database": None,
    "deadline": None,
    # The fixtures are built once per operation on purpose (the savepoint keeps them as they
    # were for every example); generating the larger bodies is slow on a loaded machine.
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
}


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Calling the WSGI app directly fires request_started/finished, whose close_old_connections
    would close the connection holding the test's transaction ("connection already closed" on
    the next query); Django's test client disconnects it the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def people(db) -> dict[str, tuple[User, str]]:
    """The demo's users of the run, each with a token: {username: (user, token key)}."""
    found = {}
    for username in (*ROLES, OUTSIDER):
        user = User.objects.get(username=username)
        found[username] = (user, Token.objects.get_or_create(user=user)[0].key)
    return found


# -- aiming: the rows each case is pointed at -----------------------------------------------------


def _model_of(path: str):
    """The model behind an ``{id}`` path, from the view the path resolves to."""
    view = resolve(path.replace("{id}", "1")).func
    queryset = getattr(getattr(view, "cls", None), "queryset", None)
    return None if queryset is None else queryset.model


# Where the latest row is not the one worth aiming at: the state a workflow step can act on.
STATES = {
    "/api/access-requests/{id}/": {"status": "pending"},
    "/api/complaints/{id}/": {"status__in": ["received", "acknowledged", "investigating"]},
    "/api/needs/{id}/": {"status__in": ["open", "responded"]},
    "/api/monthly-reports/{id}/": {"status__in": ["draft", "submitted", "returned"]},
    "/api/repairs/{id}/": {"status__in": ["received", "registered", "dispatched"]},
}


@functools.cache
def targets() -> dict[str, int]:
    """For each ``{id}`` path (a collection's item and its actions share it), the id of a row
    of the east branch as east_manager sees it; the demo is the same on every run, so this is
    computed once per process."""
    manager = User.objects.get(username="east_manager")
    aimed = {}
    for path in SCHEMA["paths"]:
        if "{id}" not in path:
            continue
        item = path[: path.index("{id}") + len("{id}/")]
        if item in aimed:
            aimed[path] = aimed[item]
            continue
        model = _model_of(item)
        if model is None:
            continue
        if item == "/api/notifications/{id}/":
            rows = model.objects.filter(recipient__username="east_staff")
        elif item == "/api/branches/{id}/":
            rows = model.objects.filter(code="east")
        else:
            rows = model.objects.restrict(manager, "view")
        rows = rows.order_by("-pk")
        row = rows.filter(**STATES[item]).first() if item in STATES else None
        row = row or rows.first()
        if row is not None:
            aimed[path] = aimed[item] = row.pk
    return aimed


@functools.cache
def fields() -> dict[str, int]:
    """Integer fields of bodies and filters pointed at rows of the east branch."""
    east = Branch.objects.get(code="east")
    aimed = targets()
    found = {"branch": east.pk}
    for name, item in (
        ("client", "/api/clients/{id}/"),
        ("contact", "/api/contacts/{id}/"),
        ("need", "/api/needs/{id}/"),
        ("complaint", "/api/complaints/{id}/"),
        ("project", "/api/projects/{id}/"),
        ("survey", "/api/surveys/{id}/"),
        ("template", "/api/survey-templates/{id}/"),
        ("campaign", "/api/survey-campaigns/{id}/"),
    ):
        if item in aimed:
            found[name] = aimed[item]
    return found


def aim(case) -> int | None:
    """Point the case's integer ids at east's rows, in place; the path's row id, if any."""
    aimed = None
    pk = targets().get(case.path)
    if pk is not None and isinstance(case.path_parameters.get("id"), int):
        case.path_parameters["id"] = aimed = pk
    if "half_year" in (case.path_parameters or {}) and isinstance(case.path_parameters["half_year"], str):
        if case.path_parameters["half_year"][:1].isdigit():
            case.path_parameters["half_year"] = "2026H1"
    for values in (case.query, case.body):
        if isinstance(values, dict):
            for name, value in fields().items():
                if type(values.get(name)) is int:
                    values[name] = value
    return aimed


def visible(username: str, path: str, pk: int) -> bool:
    """Whether the user may read the row (the same rule as the pages)."""
    item = path[: path.index("{id}") + len("{id}/")]
    model = _model_of(item)
    user = User.objects.get(username=username)
    if item == "/api/notifications/{id}/":
        return model.objects.filter(recipient=user, pk=pk).exists()
    if not hasattr(model.objects, "restrict"):
        return True
    return model.objects.restrict(user, "view").filter(pk=pk).exists()


def validate(case, response) -> None:
    try:
        case.validate_response(response, checks=CHECKS)
    except Exception:
        if (case.method.upper(), case.path) not in ALLOWED:
            raise


def headers_of(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


# -- coverage, examples and fuzzing: every operation --------------------------------------------


CALLERS = (*ROLES, OUTSIDER)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES, phases=[Phase.explicit, Phase.generate], **HYPOTHESIS)
def test_api(case, people):
    """Each case as one of the three roles or south_staff, in turn (the order of the cases is
    the same on every run), so that every role meets every operation's boundaries without the
    run calling each case four times; a row the caller may not read is never answered with a
    2xx (south_staff is the caller that may read none of east's rows)."""
    pk = aim(case)
    username = CALLERS[next(TURN) % len(CALLERS)]
    _user, token = people[username]
    with transaction.atomic():
        response = case.call(app=APP, headers=headers_of(token))
        transaction.set_rollback(True)
    validate(case, response)
    if pk is not None and response.status_code < 300 and not visible(username, case.path, pk):
        pytest.fail(f"{username} reached a row it may not read: {case.method} {case.formatted_path}")


TURN = itertools.count()


# -- the stateful phase: chains of operations -----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("username", ROLES)
def test_api_stateful(username, people):
    """Scenarios of linked operations (what one answers feeds the next: a client created, then
    read, changed, graded ...) as each role; every answer is checked as above."""
    _user, token = people[username]
    answered: list[tuple[str, int]] = []

    class Scenario(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"app": APP, "headers": headers_of(token)}

        def validate_response(self, response, case, **kwargs):
            answered.append((f"{case.method} {case.path}", response.status_code))
            validate(case, response)

    with transaction.atomic():
        run_state_machine_as_test(
            Scenario,
            settings=settings(max_examples=SCENARIOS, stateful_step_count=STEPS, **HYPOTHESIS),
        )
        transaction.set_rollback(True)
    # The scenarios ran: more than one operation each, and some of them were answered.
    assert len(answered) > SCENARIOS
    assert any(code < 300 for _op, code in answered)
    if os.environ.get("FUZZ_REPORT"):
        print(username, len(answered), sorted(set(answered))[:80])
