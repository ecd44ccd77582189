"""Audit (hardening): every write leaves a history row with the user and the id of the request
or job behind it (crm/request_id.py): a page, the API, the admin's bulk action, the import and
a scheduled Celery job; bulk service paths write history too."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from clients import services as archive
from clients.models import Client, Contact
from crm import request_id
from crm.celery import app as celery_app
from surveys import services as surveying
from surveys.models import Survey, SurveyTemplate
from tests.clients.archive_helpers import make_client
from tests.clients.factories import ContactFactory, make_credit_code
from tests.clients.test_import import GOOD, confirm, upload, xlsx
from tests.surveys.conftest import ensure_shipped_templates

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = old


def test_a_page_write_carries_the_responses_request_id(org):
    data = {
        "name": "苏州工业园区城市建设投资有限公司",
        "credit_code": make_credit_code(71),
        "org_type": "state_owned",
        "address": "苏州工业园区星海街9号",
        "phone": "0512-66881234",
        "branch": org.branches["east"].pk,
        "stage": "potential",
        "social_value": "high",
    }
    response = org.web("east_staff").post(reverse("clients:client-create"), data)
    assert response.status_code == 302
    row = Client.objects.get().history.get()
    assert row.history_type == "+" and row.history_user == org["east_staff"]
    assert len(response["X-Request-ID"]) == 32 and row.request_id == response["X-Request-ID"]


def test_an_api_write_keeps_the_callers_request_id(org):
    payload = {
        "name": "嘉兴南湖新区开发建设有限公司",
        "credit_code": make_credit_code(72),
        "branch": org.branches["east"].pk,
        "stage": "potential",
        "org_type": "state_owned",
        "address": "嘉兴市南湖区",
    }
    api = org.api("east_staff")
    response = api.post(reverse("client-list"), payload, format="json", HTTP_X_REQUEST_ID="lb-7f3a.42")
    assert response.status_code == 201, response.json()
    assert response["X-Request-ID"] == "lb-7f3a.42"
    row = Client.objects.get().history.get()
    assert row.history_user == org["east_staff"] and row.request_id == "lb-7f3a.42"


@pytest.mark.parametrize("bad", ["", "has space", "x" * 65, "<script>", "中文"])
def test_an_insane_incoming_id_is_replaced(org, bad):
    response = org.web("east_staff").get(reverse("clients:client-list"), HTTP_X_REQUEST_ID=bad)
    assert response["X-Request-ID"] != bad and len(response["X-Request-ID"]) == 32


def test_an_admin_bulk_action_leaves_a_row_per_object(org):
    client = make_client(org)
    contacts = [ContactFactory(client=client) for _ in range(2)]
    web = org.web("admin")
    response = web.post(
        reverse("admin:clients_contact_changelist"),
        {"action": "delete_selected", "_selected_action": [c.pk for c in contacts], "post": "yes"},
    )
    assert response.status_code == 302 and not Contact.objects.exists()
    rows = Contact.history.filter(history_type="-")
    assert rows.count() == 2
    assert {(r.history_user, r.request_id) for r in rows} == {(org["admin"], response["X-Request-ID"])}


def test_the_import_writes_as_its_user_and_its_job(
    org, eager, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    web = org.web("east_staff")
    job = upload(web, xlsx(GOOD), django_capture_on_commit_callbacks)
    assert confirm(web, job, django_capture_on_commit_callbacks).status_code == 302
    rows = list(Client.history.filter(history_type="+")) + list(Contact.history.filter(history_type="+"))
    assert len(rows) >= 4
    for row in rows:
        assert row.history_user == org["east_staff"]
        # Saved by the commit job (run in-process here), not by the confirming request.
        assert row.request_id.startswith("job:") and uuid.UUID(row.request_id.removeprefix("job:"))


def test_a_scheduled_job_writes_with_its_task_id(org):
    ensure_shipped_templates()
    client = make_client(org)
    survey = surveying.survey_create(
        by=org["east_staff"], client=client, template=SurveyTemplate.objects.get(code="standard")
    )
    surveying.survey_send(survey=survey, by=org["east_staff"], days=1)
    Survey.objects.filter(pk=survey.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    from surveys.tasks import expire_links

    result = expire_links.apply(task_id="expire-run-1")
    assert result.get() == 1
    row = Survey.objects.get().history.first()
    assert row.status == "expired" and row.history_user is None
    assert row.request_id == "job:expire-run-1"
    assert request_id.get() == "", "the job's id is unbound after it ran"


def test_bulk_service_paths_write_history(org):
    client = make_client(org)
    first = ContactFactory(client=client, is_primary=True)
    second = ContactFactory.build(client=client, is_primary=True)
    token = request_id.set_id("req-bulk")
    try:
        archive.contact_save(contact=second, by=org["east_staff"])
    finally:
        request_id.reset(token)
    first.refresh_from_db()
    assert not first.is_primary
    row = first.history.first()
    assert row.history_type == "~" and not row.is_primary and row.request_id == "req-bulk"
