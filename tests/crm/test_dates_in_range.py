"""Dates the product accepts (issue 23): 1949-01-01 to 2100-12-31, one rule
(crm.validators.validate_date_in_range) for model fields, page forms, API fields, list filters
and the dashboard's parameters; the period and half-year parsers refuse years outside it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from clients.models import Need, Visit
from complaints.models import Complaint
from crm.figures import HalfYear, Period
from crm.validators import validate_date_in_range
from tests.assessments.helpers import new_client

pytestmark = pytest.mark.django_db

OUTSIDE = ["0001-01-01T00:00:00", "9999-12-31T23:59:59", "1900-06-01T12:00:00", "2101-01-01T00:00:00"]


def test_the_rule():
    for ok in (dt.date(1949, 1, 1), dt.date(2100, 12, 31), dt.datetime(2026, 5, 1, 8, 0)):
        validate_date_in_range(ok)
    for bad in (dt.date(1948, 12, 31), dt.date(2101, 1, 1), dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31)):
        with pytest.raises(ValidationError):
            validate_date_in_range(bad)


def test_every_date_field_of_the_models_carries_it():
    need = Need._meta.get_field("received_at")
    assert validate_date_in_range in need.validators
    assert validate_date_in_range in Visit._meta.get_field("visited_at").validators
    # Not in what deconstruct() reports: no migration.
    assert "validators" not in need.deconstruct()[3]


@pytest.mark.parametrize("moment", OUTSIDE)
def test_api_refuses_dates_outside_the_range(org, moment):
    client = new_client(org, "east")
    api = org.api("east_staff")
    bodies = {
        "/api/needs/": {"client": client.pk, "category": "service", "origin": "initial",
                        "urgency": "general", "description": "x", "received_at": moment},
        "/api/visits/": {"client": client.pk, "channel": "phone", "visited_at": moment, "notes": "x"},
        "/api/complaints/": {"client": client.pk, "kind": "direct", "channel": "phone", "category": "other",
                             "severity": "normal", "title": "渗水", "content": "渗水", "received_at": moment},
    }  # fmt: skip
    for url, body in bodies.items():
        response = api.post(url, body, format="json")
        assert response.status_code == 400, (url, response.status_code)
        field = "visited_at" if "visits" in url else "received_at"
        assert "1949-01-01" in str(response.json()[field]), response.json()
    assert not Need.objects.exists() and not Visit.objects.exists() and not Complaint.objects.exists()


def test_a_date_inside_the_range_comes_back_in_rfc3339(org):
    client = new_client(org, "east")
    response = org.api("east_staff").post(
        "/api/visits/",
        {"client": client.pk, "channel": "phone", "visited_at": "1949-01-02T08:00:00", "notes": "x"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["visited_at"].endswith("+08:00")


def test_list_filters_refuse_dates_outside_the_range(org):
    response = org.web("east_manager").get("/complaints/?received_from=0001-01-01")
    assert response.status_code in (200, 400)
    assert response.status_code == 400 or "1949-01-01" in response.content.decode()


def test_dashboard_transitions_refuse_the_range(org):
    from django.urls import reverse

    url = reverse("assessments:dashboard-transitions")
    web = org.web("marketing")
    assert web.get(f"{url}?start=2026-01-01&end=2026-06-30&from=A&to=B").status_code == 200
    response = web.get(f"{url}?start=0001-01-01&end=9999-12-31&from=A&to=B")
    assert response.status_code == 400


@pytest.mark.parametrize("label", ["9999-12", "2101-01", "1948-01"])
def test_period_parse_refuses_years_outside_the_range(label):
    with pytest.raises(ValueError):
        Period.parse(label)


@pytest.mark.parametrize("label", ["9999H2", "2101H1"])
def test_half_year_parse_refuses_years_outside_the_range(label):
    with pytest.raises(ValueError) as error:
        HalfYear.parse(label)
    assert "2100" in str(error.value)
    assert HalfYear.parse("2100H2") == HalfYear(2100, 2)


def test_api_half_year_9999h2_answers_400(org):
    for url in ("/api/assessments/open/", "/api/analysis-reports/open/"):
        response = org.api("marketing").post(url, {"half_year": "9999H2"}, format="json")
        assert response.status_code in (400, 403, 404, 405), (url, response.status_code)
        if response.status_code == 400:
            assert "2100" in str(response.json())
