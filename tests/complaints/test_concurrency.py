"""Optimistic locking of complaints (crm.models.Versioned): the workflow steps bump the version,
so an edit based on what was read before a step (or another edit) is refused: 409 in the API,
an explanation on the edit page, StaleVersion in the service; parallel edits give one winner."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from complaints import services
from complaints.models import Complaint
from crm.models import StaleVersion

from .conftest import make_complaint


def detail(pk):
    return reverse("complaint-detail", kwargs={"pk": pk})


def test_steps_bump_the_version_and_a_stale_update_is_refused(org, east_client):
    c = make_complaint(org, client=east_client)
    stale = Complaint.objects.get(pk=c.pk)
    services.complaint_acknowledge(complaint=c, by=org["east_staff"])
    c.refresh_from_db()
    assert c.version == 2
    with pytest.raises(StaleVersion), transaction.atomic():
        services.complaint_update(complaint=stale, by=org["east_staff"], content="改写的内容")
    c.refresh_from_db()
    assert c.content != "改写的内容" and c.status == "acknowledged"


def test_api_patch_based_on_a_version_before_a_step_is_409(org, east_client):
    c = make_complaint(org, client=east_client)
    api = org.api("east_staff")
    r = api.get(detail(c.pk))
    assert r["ETag"] == 'W/"1"' and r.json()["version"] == 1
    assert (
        api.post(reverse("complaint-acknowledge", kwargs={"pk": c.pk}), {}, format="json").status_code == 200
    )
    r = api.patch(detail(c.pk), {"severity": "high"}, format="json", HTTP_IF_MATCH='W/"1"')
    assert r.status_code == 409 and r["ETag"] == 'W/"2"'
    assert r.json()["current"]["status"] == "acknowledged"
    c.refresh_from_db()
    assert c.severity == "normal"
    r = api.patch(detail(c.pk), {"severity": "high"}, format="json", HTTP_IF_MATCH='W/"2"')
    assert r.status_code == 200 and r["ETag"] == 'W/"3"'


def form_data(c, **kw):
    data = {
        "project": "",
        "department": "",
        "kind": c.kind,
        "contractor": c.contractor,
        "channel": c.channel,
        "category": c.category,
        "severity": c.severity,
        "motive": c.motive,
        "complainant": c.complainant,
        "complainant_phone": c.complainant_phone,
        "title": c.title,
        "content": c.content,
    }
    data.update(kw)
    return data


def test_edit_page_opened_before_a_step_is_refused_with_the_explanation(org, east_client):
    c = make_complaint(org, client=east_client)
    web = org.web("east_staff")
    url = reverse("complaints:complaint-edit", kwargs={"pk": c.pk})
    page = web.get(url)
    opened = page.context["form"]["version"].value()
    assert 'name="version"' in page.content.decode()

    services.complaint_acknowledge(complaint=c, by=org["east_staff"])  # a workflow step meanwhile

    mine = form_data(c, content="补充:二号楼也有渗水。", version=opened)
    r = web.post(url, mine)
    assert r.status_code == 200
    errors = " ".join(r.context["form"].non_field_errors())
    assert "已被他人修改" in errors and "状态" in errors and "已确认" in errors
    assert "补充:二号楼也有渗水。" in r.content.decode()
    c.refresh_from_db()
    assert c.content != mine["content"]
    # After review, submitting again (the form now carries the new version) saves.
    r = web.post(url, {**mine, "version": r.context["form"]["version"].value()})
    assert r.status_code == 302
    c.refresh_from_db()
    assert c.content == mine["content"] and c.status == "acknowledged"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="real parallel writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_parallel_edits_of_one_version_give_one_winner_and_409s(org):
    c = make_complaint(org)
    barrier = threading.Barrier(4)
    results = [None] * 4

    def run(i):
        api = APIClient()
        api.force_authenticate(org["east_staff"])
        try:
            barrier.wait(timeout=10)
            results[i] = api.patch(
                detail(c.pk), {"content": f"第{i}次修改"}, format="json", HTTP_IF_MATCH='W/"1"'
            )
        except Exception as error:  # noqa: BLE001 - shown by the assertion
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409], results
    c.refresh_from_db()
    winner = next(r for r in results if r.status_code == 200)
    assert c.version == 2 and c.content == winner.json()["content"]
