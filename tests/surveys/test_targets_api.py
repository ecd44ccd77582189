"""Base and target values through the API (R23): every role reads them, group marketing sets
them with the service the targets page calls (surveys.services.target_set), all or none."""

import pytest
from django.urls import reverse
from django.utils import timezone

from surveys.models import Target

pytestmark = pytest.mark.django_db

ROUTES_COVERED = ["survey-target-list", "survey-target-detail", "survey-target-set"]

LIST = reverse("survey-target-list")
SET = reverse("survey-target-set")
YEAR = 2031  # a year the shipped targets do not cover


def _dims(standard):
    return list(standard.dimensions.order_by("order")[:2])


def test_every_role_reads_and_filters(org, standard):
    shipped = Target.objects.filter(dimension__template=standard).first()
    assert shipped is not None  # the data migration's targets (seed 002)
    for user in ("east_staff", "south_manager", "marketing", "leader", "auditor"):
        response = org.api(user).get(LIST, {"template": standard.pk, "year": shipped.year})
        assert response.status_code == 200, user
        rows = response.json()["results"]
        assert shipped.pk in {r["id"] for r in rows}
        assert {r["template"] for r in rows} == {standard.pk}
    detail = org.api("east_staff").get(reverse("survey-target-detail", kwargs={"pk": shipped.pk}))
    assert detail.status_code == 200 and detail.json()["dimension"] == shipped.dimension_id
    assert org.api("east_staff").get(LIST, {"year": YEAR}).json()["count"] == 0


def test_marketing_sets_targets_and_history_is_kept(org, standard):
    first, second = _dims(standard)
    payload = {
        "year": YEAR,
        "targets": [
            {"dimension": first.pk, "base": "0.55", "target": "0.65"},
            {"dimension": second.pk, "base": "0.3", "target": "0.32"},
        ],
    }
    response = org.api("marketing").post(SET, payload, format="json")
    assert response.status_code == 200, response.content
    assert [(r["dimension"], r["base"], r["target"]) for r in response.json()] == [
        (first.pk, "0.550", "0.650"),
        (second.pk, "0.300", "0.320"),
    ]
    row = Target.objects.get(dimension=first, year=YEAR)
    assert row.history.count() == 1
    # A second call replaces the row (no duplicate), with a history row of the change.
    payload["targets"] = [{"dimension": first.pk, "base": "0.6", "target": "0.7"}]
    assert org.api("marketing").post(SET, payload, format="json").status_code == 200
    row.refresh_from_db()
    assert float(row.base) == 0.6 and float(row.target) == 0.7
    assert Target.objects.filter(dimension=first, year=YEAR).count() == 1
    assert row.history.count() == 2


def test_page_and_api_set_the_same_row(org, standard):
    dim = _dims(standard)[0]
    url = reverse("surveys:targets") + f"?template={standard.pk}&year={YEAR}"
    assert (
        org.web("marketing").post(url, {f"base-{dim.pk}": "50", f"target-{dim.pk}": "60"}).status_code == 302
    )
    payload = {"year": YEAR, "targets": [{"dimension": dim.pk, "base": "0.5", "target": "0.66"}]}
    assert org.api("marketing").post(SET, payload, format="json").status_code == 200
    assert [float(t.target) for t in Target.objects.filter(dimension=dim, year=YEAR)] == [0.66]


@pytest.mark.parametrize("user", ["east_manager", "east_staff", "leader", "auditor", "norole"])
def test_only_marketing_sets(org, standard, user):
    dim = _dims(standard)[0]
    payload = {"year": YEAR, "targets": [{"dimension": dim.pk, "base": "0.5", "target": "0.6"}]}
    assert org.api(user).post(SET, payload, format="json").status_code == 403
    assert not Target.objects.filter(year=YEAR).exists()


def test_anonymous_and_no_role_read_nothing(org):
    assert org.api(None).get(LIST).status_code == 401
    assert org.api("norole").get(LIST).status_code == 403


def test_unknown_target_is_not_found(org):
    last = Target.objects.order_by("-pk").first()
    missing = (last.pk if last else 0) + 999
    assert (
        org.api("east_staff").get(reverse("survey-target-detail", kwargs={"pk": missing})).status_code == 404
    )


def test_refused_values_are_400_and_nothing_is_saved(org, standard):
    first, second = _dims(standard)
    api = org.api("marketing")
    # The service refuses a target below its base; the valid first row is not kept either.
    payload = {
        "year": YEAR,
        "targets": [
            {"dimension": first.pk, "base": "0.5", "target": "0.6"},
            {"dimension": second.pk, "base": "0.5", "target": "0.4"},
        ],
    }
    response = api.post(SET, payload, format="json")
    assert response.status_code == 400
    assert response.json() == {"targets": [{}, {"target": ["目标值不能低于基本值。"]}]}
    assert not Target.objects.filter(year=YEAR).exists()
    twice = {"year": YEAR, "targets": [payload["targets"][0], payload["targets"][0]]}
    response = api.post(SET, twice, format="json")
    assert response.status_code == 400 and response.json()["targets"] == ["每个维度只能填写一次。"]
    for bad in (
        {"year": YEAR, "targets": []},
        {"year": 1999, "targets": payload["targets"][:1]},
        {"year": YEAR, "targets": [{"dimension": first.pk, "base": "1.5", "target": "0.6"}]},
        {"year": YEAR, "targets": [{"dimension": 10**8, "base": "0.5", "target": "0.6"}]},
    ):
        response = api.post(SET, bad, format="json")
        assert response.status_code == 400 and response.json(), bad
    assert not Target.objects.filter(year=YEAR).exists()


def test_the_collection_takes_no_post(org, standard):
    dim = _dims(standard)[0]
    body = {"dimension": dim.pk, "year": YEAR, "base": "0.5", "target": "0.6"}
    assert org.api("marketing").post(LIST, body, format="json").status_code == 405
    paths = org.api("marketing").get("/api/schema/", {"format": "json"}).json()["paths"]
    assert "post" not in paths["/api/survey-targets/"]
    step = paths["/api/survey-targets/set/"]["post"]
    assert step["operationId"] == "survey_targets_set_create"
    assert {"200", "400", "403"} <= step["responses"].keys()


def test_list_query_budget(org, standard, django_assert_max_num_queries):
    api = org.api("east_staff")
    with django_assert_max_num_queries(6):
        response = api.get(LIST, {"year": timezone.localdate().year})
    assert response.status_code == 200
