"""A list's row filter (branch, owner, tag) takes any integer id, as the schema documents it: an
id outside the reader's choices filters the reader's rows by it instead of a 400 "select a
valid choice" (crm.filters.RowFilter). Text is still refused."""

from __future__ import annotations

import pytest

from tests.clients.archive_helpers import make_client

pytestmark = pytest.mark.django_db


def _ids(response):
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    return {row["id"] for row in body.get("results", body)}


@pytest.mark.parametrize(
    "route",
    ["/api/clients/", "/api/needs/", "/api/complaints/", "/api/access-requests/", "/api/access-logs/"],
)
@pytest.mark.parametrize("value", ["999999", "-1", "0", str(2**70)])
def test_an_id_outside_the_choices_is_no_rows_not_a_400(org, route, value):
    make_client(org, "east")
    # The access log is read by the auditors; the other lists by the branch's manager.
    api = org.api("auditor" if route == "/api/access-logs/" else "east_manager")
    response = api.get(route, {"branch": value})
    assert _ids(response) == set()


def test_another_branchs_id_filters_only_the_readers_rows(org):
    """east_staff's choices hold only the east branch and its people: south's id and south's
    manager as owner give no rows (east cannot read south's clients), not an error."""
    own = make_client(org, "east")
    make_client(org, "south")
    api = org.api("east_staff")
    assert _ids(api.get("/api/clients/", {"branch": org.branches["south"].pk})) == set()
    assert _ids(api.get("/api/clients/", {"owner": org["south_manager"].pk})) == set()
    assert _ids(api.get("/api/clients/", {"branch": org.branches["east"].pk})) == {own.pk}
    # The marketing department's choices hold every branch: the same filter by its choice.
    assert own.pk in _ids(org.api("marketing").get("/api/clients/", {"branch": org.branches["east"].pk}))


@pytest.mark.parametrize("value", ["abc", "1.5", "1e3"])
def test_text_is_still_refused(org, value):
    response = org.api("east_staff").get("/api/clients/", {"owner": value})
    assert response.status_code == 400
    assert "owner" in response.json()


def test_the_page_takes_the_same_ids(org):
    make_client(org, "east")
    web = org.web("east_staff")
    assert web.get("/clients/", {"owner": 999999}).status_code == 200
    assert web.get("/complaints/", {"owner": 999999}).status_code == 200


def test_every_row_filter_of_a_list_takes_any_id():
    """Every list's filter by a row (branch, owner, tag) is a RowFilter: a plain
    ModelChoiceFilter would refuse an id outside the reader's choices with a 400 again."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    plain = [
        str(path.relative_to(root))
        for app in ("clients", "complaints", "surveys", "assessments", "crm")
        for path in (root / app).rglob("*.py")
        if "ModelChoiceFilter(" in path.read_text(encoding="utf-8")
        and path.name != "filters.py"
        or path.parts[-2:] != ("crm", "filters.py")
        and "django_filters.ModelChoiceFilter(" in path.read_text(encoding="utf-8")
    ]
    assert plain == []
