"""Found by the fuzz run: a workflow step's answer (a report opened or submitted, a complaint
acknowledged, a ranking remarked) left out the ``version`` the schema documents for the row and
sent no ETag, so the next edit could not be based on it. Every step answers through
RestrictedViewSet.answer: the row with its version and ETag, the same as a read of it."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from complaints import services as complaint_services
from tests.clients.archive_helpers import make_client

pytestmark = pytest.mark.django_db


def _same_as_a_read(api, response, url):
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert isinstance(body["version"], int)
    assert response["ETag"] == f'W/"{body["version"]}"'
    read = api.get(url)
    assert read.json()["version"] == body["version"]
    assert read["ETag"] == response["ETag"]


@time_machine.travel(dt.datetime(2026, 12, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False)
def test_the_current_report_answers_with_its_version(org):
    make_client(org, "east")
    api = org.api("east_manager")
    response = api.post("/api/monthly-reports/current/")
    _same_as_a_read(api, response, f"/api/monthly-reports/{response.json()['id']}/")


def test_a_complaint_step_answers_with_its_version(org):
    complaint = complaint_services.complaint_receive(
        by=org["east_staff"],
        client=make_client(org, "east"),
        category="engineering_quality",
        title="外墙渗水",
        content="三号楼外墙渗水。",
    )
    api = org.api("east_manager")
    response = api.post(f"/api/complaints/{complaint.pk}/acknowledge/", {"note": "已受理"}, format="json")
    _same_as_a_read(api, response, f"/api/complaints/{complaint.pk}/")
