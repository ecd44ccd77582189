"""/api/complaints/: payloads of design.md, the workflow actions, refusals (400 with a
message, nothing changed), filters and the list's query budget."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from complaints.models import Complaint

from .conftest import make_client, make_complaint

pytestmark = pytest.mark.django_db


def post(api, name, pk, data=None):
    return api.post(reverse(name, kwargs={"pk": pk}), data or {}, format="json")


def test_create_returns_contract_fields(org, key_project):
    api = org.api("east_staff")
    response = api.post(
        reverse("complaint-list"),
        {
            "client": key_project.client_id,
            "project": key_project.pk,
            "kind": "direct",
            "channel": "phone",
            "category": "engineering_quality",
            "severity": "urgent",
            "motive": "psychological",
            "content": "地下车库顶板漏水,物业多次反映无人处理。",
            "status": "closed",  # read-only: ignored
            "owner": org["east_manager"].pk,  # read-only: ignored
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "received" and data["owner"] == org["east_staff"].pk
    assert data["title"].startswith("地下车库顶板漏水")
    for field in (
        "acknowledge_due_at",
        "resolve_due_at",
        "kind",
        "motive",
        "severity",
        "category",
        "client",
        "project",
    ):
        assert field in data
    assert Complaint.objects.get(pk=data["id"]).received_by == org["east_staff"]


def test_create_bad_input_is_400_with_field_messages(org, east_client):
    response = org.api("east_staff").post(
        reverse("complaint-list"),
        {"client": east_client.pk, "kind": "indirect", "category": "nonsense", "content": ""},
        format="json",
    )
    assert response.status_code == 400
    assert {"category", "content"} <= set(response.json())
    response = org.api("east_staff").post(
        reverse("complaint-list"),
        {"client": east_client.pk, "kind": "indirect", "category": "billing", "content": "结算审核拖延"},
        format="json",
    )
    assert response.status_code == 400 and "contractor" in response.json()
    assert not Complaint.objects.exists()


def test_workflow_through_actions(org, key_project):
    c = make_complaint(org, client=key_project.client, project=key_project)
    staff, manager = org.api("east_staff"), org.api("east_manager")
    r = post(
        staff, "complaint-hand-over", c.pk, {"to": org["east_manager"].pk, "reason": "请经营部负责人牵头处理"}
    )
    assert r.status_code == 200 and r.json()["owner"] == org["east_manager"].pk
    assert post(manager, "complaint-acknowledge", c.pk).json()["status"] == "acknowledged"
    assert post(manager, "complaint-investigate", c.pk).json()["status"] == "investigating"
    r = post(manager, "complaint-resolve", c.pk, {"finding": "our_fault", "resolution": "顶板注浆堵漏"})
    assert r.status_code == 200 and r.json()["status"] == "resolved"
    assert len(r.json()["return_visits"]) == 2  # key project: two visits (R18)
    r = post(manager, "complaint-close", c.pk)
    assert r.status_code == 400 and "回访" in str(r.json())
    r = post(manager, "complaint-return-visit", c.pk, {"satisfaction": "satisfied", "notes": "业主满意"})
    assert r.status_code == 200, r.json()
    # R18: the second visit (the effect) is refused until its window before the 2-month mark.
    r = post(manager, "complaint-return-visit", c.pk, {"satisfaction": "very_satisfied"})
    assert r.status_code == 400 and "起可登记" in str(r.json())
    c.refresh_from_db()
    second = c.return_visits.get(sequence=2)
    with time_machine.travel(second.due_at - dt.timedelta(days=3), tick=False):
        r = post(
            manager, "complaint-return-visit", c.pk, {"satisfaction": "very_satisfied", "notes": "效果良好"}
        )
        assert r.status_code == 200, r.json()
        assert post(manager, "complaint-close", c.pk).json()["status"] == "closed"
        r = post(manager, "complaint-reopen", c.pk, {"reason": "雨季复漏"})
    assert r.json()["status"] == "investigating"
    detail = manager.get(reverse("complaint-detail", kwargs={"pk": c.pk})).json()
    assert [e["kind"] for e in detail["events"]][-3:] == ["return_visit", "closed", "reopened"]
    assert detail["handovers"][0]["to_user"] == org["east_manager"].pk


def test_refused_steps_answer_400_and_change_nothing(org, east_client):
    c = make_complaint(org, client=east_client)
    api = org.api("east_staff")
    before = Complaint.objects.filter(pk=c.pk).values().get()
    r = post(api, "complaint-resolve", c.pk, {"finding": "our_fault", "resolution": "x"})
    assert r.status_code == 400 and "不能" in str(r.json())
    r = post(api, "complaint-hand-over", c.pk, {"to": org["south_staff"].pk, "reason": "转交"})
    assert r.status_code == 400 and "to" in r.json()
    r = post(api, "complaint-hand-over", c.pk, {"to": "abc"})
    assert r.status_code == 400
    post(api, "complaint-acknowledge", c.pk)
    post(api, "complaint-investigate", c.pk)
    before = Complaint.objects.filter(pk=c.pk).values().get()
    r = post(api, "complaint-resolve", c.pk, {})
    assert r.status_code == 400 and {"finding", "resolution"} <= set(r.json())
    assert Complaint.objects.filter(pk=c.pk).values().get() == before


def test_patch_corrects_facts_but_not_workflow_fields(org, east_client):
    c = make_complaint(org, client=east_client)
    r = org.api("east_staff").patch(
        reverse("complaint-detail", kwargs={"pk": c.pk}),
        {"motive": "economic", "status": "closed", "resolve_due_at": "2030-01-01T00:00:00+08:00"},
        format="json",
    )
    assert r.status_code == 200
    c.refresh_from_db()
    assert c.motive == "economic" and c.status == "received" and c.resolve_due_at.year < 2030


def test_delete_is_refused(org, east_client):
    c = make_complaint(org, client=east_client)
    assert org.api("east_manager").delete(reverse("complaint-detail", kwargs={"pk": c.pk})).status_code == 405
    assert Complaint.objects.filter(pk=c.pk).exists()


def test_filters(org, east_client):
    now = timezone.now()
    late = make_complaint(org, client=east_client, severity="urgent", received_at=now - dt.timedelta(hours=3))
    ok = make_complaint(org, client=east_client, severity="low", category="billing", title="结算单据延误")
    other = make_complaint(org, client=make_client(org), kind="indirect", contractor="中建八局")
    api = org.api("east_staff")

    def ids(**params):
        return {row["id"] for row in api.get(reverse("complaint-list"), params).json()["results"]}

    assert ids(overdue="true") == {late.pk}
    assert ok.pk in ids(overdue="false") and late.pk not in ids(overdue="false")
    assert ids(severity="low") == {ok.pk}
    assert ids(category="billing") == {ok.pk}
    assert ids(kind="indirect") == {other.pk}
    assert ids(client=east_client.pk) == {late.pk, ok.pk}
    assert ids(q="结算单据") == {ok.pk}
    assert ids(q=ok.code) == {ok.pk}
    assert ids(status="received") == {late.pk, ok.pk, other.pk}
    assert api.get(reverse("complaint-list"), {"severity": "nonsense"}).status_code == 400


def test_list_query_budget(org, django_assert_max_num_queries):
    for i in range(3):
        client = make_client(org)
        for _ in range(4):
            make_complaint(org, client=client, severity=["urgent", "normal", "low"][i])
    api = org.api("east_staff")
    with django_assert_max_num_queries(8):
        response = api.get(reverse("complaint-list"))
    assert response.json()["count"] == 12
    complaint = Complaint.objects.first()
    with django_assert_max_num_queries(10):
        assert api.get(reverse("complaint-detail", kwargs={"pk": complaint.pk})).status_code == 200
