"""A workflow step that loses a race answers 409 with the current state (design.md), in the base
viewset for every resource (crm/api/base.py): the step read the row, someone else moved it before
the step's service locked it, and the service refused the step from the new state. Without the
race the same refusal is bad input (400).

The race is made deterministic: the service the view calls first lets another person take a
step on the row (committed, as far as this request can see), then runs the step on the row as
the request read it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from clients.access import services as access_services
from complaints import services as complaint_services
from tests.clients.archive_helpers import make_client

pytestmark = pytest.mark.django_db


def _complaint(org):
    return complaint_services.complaint_receive(
        by=org["east_staff"],
        client=make_client(org, "east"),
        category="engineering_quality",
        title="外墙渗水",
        content="三号楼外墙渗水。",
    )


def test_a_complaint_step_that_lost_the_race_is_a_409(org, monkeypatch):
    complaint = _complaint(org)
    real = complaint_services.complaint_acknowledge

    def someone_else_first(*, complaint, by, **kw):
        real(complaint=type(complaint).objects.get(pk=complaint.pk), by=org["east_manager"])
        return real(complaint=complaint, by=by, **kw)

    monkeypatch.setattr(complaint_services, "complaint_acknowledge", someone_else_first)
    response = org.api("east_staff").post(f"/api/complaints/{complaint.pk}/acknowledge/", {}, format="json")
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["current"]["status"] == "acknowledged"
    assert body["refused"]  # the step's own reason
    assert response["ETag"] == f'W/"{body["current"]["version"]}"'


def test_the_same_refusal_without_a_race_stays_a_400(org):
    complaint = _complaint(org)
    complaint_services.complaint_acknowledge(complaint=complaint, by=org["east_manager"])
    response = org.api("east_staff").post(f"/api/complaints/{complaint.pk}/acknowledge/", {}, format="json")
    assert response.status_code == 400


def test_an_access_request_step_that_lost_the_race_is_a_409(org, monkeypatch):
    """Access requests carry no version: their status tells that the row moved."""
    request = access_services.access_request_create(
        requester=org["south_staff"],
        clients=[make_client(org, "east")],
        reason="投标前需了解该客户的合作历史",
        ends_on=timezone.localdate() + dt.timedelta(days=30),
    )
    real = access_services.access_request_forward

    def withdrawn_first(*, access_request, by, **kw):
        access_services.access_request_withdraw(
            access_request=type(access_request).objects.get(pk=access_request.pk), by=org["south_staff"]
        )
        return real(access_request=access_request, by=by, **kw)

    monkeypatch.setattr(access_services, "access_request_forward", withdrawn_first)
    response = org.api("marketing").post(f"/api/access-requests/{request.pk}/forward/", {}, format="json")
    assert response.status_code == 409, response.content
    assert response.json()["current"]["status"] == "withdrawn"
