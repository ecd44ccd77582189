"""Schemathesis over the API (hardening): operations of the OpenAPI document /api/schema/ serves,
called through the WSGI app in-process as two users of different branches (east_staff,
south_staff, by token). Checks: no 5xx, status codes, content types and bodies as the schema
documents them, and no row of the other branch in anything a user reads.

Bounded and reproducible, so that it runs in ``make test`` (under a minute here): three examples
per operation, derandomized (a fixed seed: the same requests on every run), no example database,
no shrinking, no coverage phase.

The database: schemathesis calls the app in this process, so the requests share the test's
connection and its transaction (``django_db``, not transactional). Every case runs in a savepoint
that is rolled back after it, so a write by one case (a client created by a POST, say) is not seen
by the next and each case starts from the same rows whatever ran before it.

To fuzz harder locally: ``FUZZ_EXAMPLES=20 pytest tests/api_fuzz``. Known and open at 20: a
need's or complaint's ``received_at`` in an ancient year (0114-05-13) is accepted and comes back
with Shanghai's local mean time offset ("+08:05:43"), not a valid date-time; the bounded run does
not reach it."""

from __future__ import annotations

import json
import os
import re

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from clients import services
from clients.models import Need
from complaints import services as complaint_services
from tests.clients.archive_helpers import make_client
from tests.clients.factories import ContactFactory

# The document /api/schema/ serves (the same generator), built without a request: the endpoint
# itself is for signed-in users only.
SCHEMA = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
APP = get_wsgi_application()

# The subset fuzzed. Every GET: reads are where one branch could see another's rows, and they
# are cheap. Writes only where users type free input every day: creating and editing clients,
# contacts, needs and complaints (POST on the collection, PATCH on an item). The other writes
# (PUT, DELETE, the workflow steps such as /close/ or /respond/, imports, surveys) take an id that
# random generation almost never hits, so they would only fuzz the 404 path, at a cost the
# suite cannot afford on a loaded CI machine (the whole API took over 15 minutes).
WRITES = re.compile(r"^/api/(clients|contacts|needs|complaints)/(\{id\}/)?$")


def _in_subset(ctx) -> bool:
    operation = ctx.operation
    if operation.method.upper() == "GET":
        return True
    if operation.method.upper() == "POST":
        return WRITES.match(operation.path) is not None and "{id}" not in operation.path
    if operation.method.upper() == "PATCH":
        return WRITES.match(operation.path) is not None and "{id}" in operation.path
    return False


# Phases: the schema's examples and the fuzzing (valid and invalid input), bounded by max_examples
# below. Not the coverage phase: it sends a fixed, exhaustive set of boundary values per field
# (dozens of requests for a client's body) whatever max_examples says, which alone took minutes.
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
schema = schemathesis.openapi.from_dict(SCHEMA, config=CONFIG).include(_in_subset)

USERS = ("east_staff", "south_staff")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))


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
def people(org):
    """A token and a client of each branch; returns {username: (token, own client, other's)}."""
    east, south = make_client(org, "east"), make_client(org, "south")
    return {
        "east_staff": (Token.objects.create(user=org["east_staff"]).key, east, south),
        "south_staff": (Token.objects.create(user=org["south_staff"]).key, south, east),
    }


@pytest.fixture
def east_rows(org, people):
    """Rows of the east branch the cases are pointed at (random ids would almost never hit a
    row, and every PATCH or GET by id would only try the 404): the path id of a client, contact,
    need or complaint, and the client or branch a body or a filter names."""
    client = people["east_staff"][1]
    need = services.need_create(
        need=Need(
            client=client, category="service", urgency="general", description="希望提供BIM深化设计服务"
        ),
        by=org["east_staff"],
    )
    complaint = complaint_services.complaint_receive(
        by=org["east_staff"],
        client=client,
        category="engineering_quality",
        title="外墙渗水",
        content="三号楼外墙渗水。",
    )
    return {
        "path": {
            "/api/clients/{id}/": client.pk,
            "/api/contacts/{id}/": ContactFactory(client=client).pk,
            "/api/needs/{id}/": need.pk,
            "/api/complaints/{id}/": complaint.pk,
        },
        "fields": {"client": client.pk, "branch": org.branches["east"].pk},
    }


def aim(case, rows) -> bool:
    """Point the case's integer ids at east's rows, in place; True if any was."""
    aimed = False
    if case.path in rows["path"] and isinstance(case.path_parameters.get("id"), int):
        case.path_parameters["id"] = rows["path"][case.path]
        aimed = True
    for values in (case.query, case.body):
        if not isinstance(values, dict):
            continue
        for name, pk in rows["fields"].items():
            if type(values.get(name)) is int:
                values[name] = pk
                aimed = True
    return aimed


def branches_in(payload) -> set[int]:
    """The ``branch`` ids of every object in a response body."""
    found = set()
    if isinstance(payload, dict):
        if isinstance(payload.get("branch"), int):
            found.add(payload["branch"])
        for value in payload.values():
            found |= branches_in(value)
    elif isinstance(payload, list):
        for value in payload:
            found |= branches_in(value)
    return found


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    # The fixtures (the organisation, the tokens) are built once per operation on purpose: the
    # savepoint below keeps them as they were for every example. Generation of the larger
    # bodies is slow on a loaded machine, which is not what this test is about.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
def test_api(case, org, people, east_rows):
    """Each case as east_staff, whose rows they are, then as south_staff, for whom they are
    another branch's: south may read none of them and change none (a 4xx, never a 2xx)."""
    aimed = aim(case, east_rows)
    with transaction.atomic():
        for username in USERS:
            token, _own, _other = people[username]
            response = case.call(app=APP, headers={"Authorization": f"Token {token}"})
            case.validate_response(response, checks=CHECKS)
            content_type = response.headers.get("content-type", [""])[0]
            if case.method == "GET" and response.status_code == 200 and "json" in content_type:
                mine = org[username].branch_id
                assert branches_in(response.json()) <= {mine}, f"{username} read another branch's rows"
            if username == "south_staff" and aimed and (case.method != "GET" or "{id}" in case.path):
                assert response.status_code >= 400, f"south_staff reached east's row: {response.status_code}"
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_no_branch_reads_the_others_client(org, people):
    """Directly, for the record (random ids almost never hit a row): each user's GET of the other
    branch's client is 404, of its own 200."""
    from rest_framework.test import APIClient

    for username in USERS:
        token, own, other = people[username]
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert api.get(f"/api/clients/{own.pk}/").status_code == 200
        assert api.get(f"/api/clients/{other.pk}/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("phone", ["0", "0-", "+860", "(0)"])
def test_a_phone_of_only_a_leading_zero_is_a_400(org, people, phone):
    """Found by the fuzz: a phone reduced to "0" crashed the validator (IndexError, a 500)."""
    from rest_framework.test import APIClient

    token, own, _other = people["east_staff"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api.post("/api/contacts/", {"client": own.pk, "name": "张三", "phone": phone}, format="json")
    assert response.status_code == 400
    assert "phone" in response.json()


@pytest.mark.django_db
def test_a_complaint_body_that_is_not_an_object_is_a_400(org, people):
    """Found by the fuzz: a JSON ``false`` as the body of POST /api/complaints/ was a 500."""
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {people['east_staff'][0]}")
    response = api.post("/api/complaints/", "false", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_an_api_path_no_route_matches_is_a_json_404(org, people):
    """Found by the fuzz: /api/clients/0.5/ (no route) answered the HTML 404 page."""
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {people['east_staff'][0]}")
    response = api.get("/api/clients/0.5/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()
