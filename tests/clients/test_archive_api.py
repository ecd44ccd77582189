"""The archive API: filters, the client payload, set-grade (R7), duplicates (R10), needs'
read-only deadline (R11) and workflow steps, out-of-scope foreign keys refused with 400,
and fixed query counts on list endpoints."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import AccessLog, Client, Contact, GradeChange, Need, VisitPlan
from tests.clients.factories import ContactFactory, ProjectFactory, make_credit_code

from .archive_helpers import make_client, make_need

CLIENTS = reverse("client-list")


def api_ids(response):
    return {row["id"] for row in response.json()["results"]}


def test_client_payload_and_filters(org):
    a = make_client(org, name="南京江北新区建设集团", grade="A", stage="signed")
    b = make_client(org, name="扬州城建", grade="B", owner=org["east_manager"])
    api = org.api("east_staff")
    row = api.get(reverse("client-detail", kwargs={"pk": a.pk})).json()
    for key in (
        "id",
        "name",
        "credit_code",
        "branch",
        "grade",
        "stage",
        "owner",
        "suggested_grade",
        "org_type",
        "address",
    ):
        assert key in row
    assert row["stage"] == "signed" and row["org_type"] == "real_estate" and row["suggested_grade"] == "C"
    assert api_ids(api.get(CLIENTS, {"grade": "A"})) == {a.pk}
    assert api_ids(api.get(CLIENTS, {"stage": "signed"})) == {a.pk}
    assert api_ids(api.get(CLIENTS, {"owner": org["east_manager"].pk})) == {b.pk}
    assert api_ids(api.get(CLIENTS, {"branch": org.branches["east"].pk})) == {a.pk, b.pk}
    assert api_ids(api.get(CLIENTS, {"search": "江北新区"})) == {a.pk}


def test_client_list_query_count_fixed(org, django_assert_max_num_queries):
    for _ in range(20):
        c = make_client(org)
        ProjectFactory(client=c)
        ContactFactory(client=c)
    api = org.api("east_staff")
    api.get(CLIENTS)
    with django_assert_max_num_queries(10):
        response = api.get(CLIENTS)
    assert response.json()["count"] == 20


@pytest.mark.parametrize(
    "route", ["contact-list", "project-list", "need-list", "visit-list", "visitplan-list"]
)
def test_child_list_query_count_fixed(org, route, django_assert_max_num_queries):
    for _ in range(5):
        c = make_client(org, grade="B")
        ContactFactory(client=c)
        ProjectFactory(client=c)
        make_need(org, client=c)
        VisitPlan.objects.create(
            client=c,
            frequency="monthly",
            visitor_level="marketing_staff",
            responsible=org["east_staff"],
            next_due_on=timezone.localdate(),
        )
    api = org.api("east_staff")
    api.get(reverse(route))
    with django_assert_max_num_queries(8):
        assert api.get(reverse(route)).status_code == 200


def test_create_client_and_grade_is_read_only(org):
    api = org.api("east_staff")
    payload = {
        "name": "嘉兴南湖新区开发建设有限公司",
        "credit_code": make_credit_code(900),
        "branch": org.branches["east"].pk,
        "stage": "potential",
        "grade": "A",
        "org_type": "state_owned",
        "address": "嘉兴市南湖区",
    }
    response = api.post(CLIENTS, payload, format="json")
    assert response.status_code == 201, response.json()
    client = Client.objects.get()
    assert client.grade == "C" and client.owner == org["east_staff"]
    assert (
        api.patch(
            reverse("client-detail", kwargs={"pk": client.pk}), {"grade": "A"}, format="json"
        ).status_code
        == 200
    )
    client.refresh_from_db()
    assert client.grade == "C"


@pytest.mark.parametrize(
    "field,value",
    [
        ("credit_code", "91310000MA1FL0XX1X"),
        ("branch", "south"),
        ("branch", 99999),
        ("owner", "south_staff"),
        ("phone", "123"),
        ("email", "x@"),
    ],
)
def test_create_client_bad_or_out_of_scope_refused_400(org, field, value):
    if value == "south":
        value = org.branches["south"].pk
    elif value == "south_staff":
        value = org["south_staff"].pk
    payload = {"name": "测试客户", "branch": org.branches["east"].pk, field: value}
    response = org.api("east_staff").post(CLIENTS, payload, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not Client.objects.exists()


def test_duplicate_credit_code_and_similar_name_via_api(org):
    existing = make_client(org, name="绍兴柯桥城投有限公司")
    api = org.api("east_staff")
    r = api.post(
        CLIENTS,
        {"name": "别名", "credit_code": existing.credit_code, "branch": org.branches["east"].pk},
        format="json",
    )
    assert r.status_code == 400 and r.json()["duplicate"]["url"] == f"/clients/{existing.pk}/"
    r = api.post(
        CLIENTS, {"name": "绍兴柯桥城投股份有限公司", "branch": org.branches["east"].pk}, format="json"
    )
    assert r.status_code == 400 and r.json()["similar"]
    token = r.json()["similar_token"]
    r = api.post(
        CLIENTS,
        {"name": "绍兴柯桥城投股份有限公司", "branch": org.branches["east"].pk, "similar_token": token},
        format="json",
    )
    assert r.status_code == 201
    # Another branch's duplicate: only the branch is named, no id.
    r = org.api("south_staff").post(
        CLIENTS,
        {"name": "某公司", "credit_code": existing.credit_code, "branch": org.branches["south"].pk},
        format="json",
    )
    assert r.status_code == 400 and "id" not in r.json()["duplicate"]


def test_set_grade_action(org):
    c = make_client(org)
    api = org.api("east_manager")
    url = reverse("client-set-grade", kwargs={"pk": c.pk})
    r = api.post(url, {"grade": "A"}, format="json")
    assert r.status_code == 400 and "reason" in r.json()
    assert not GradeChange.objects.exists()
    r = api.post(url, {"grade": "A", "reason": "市级重点项目业主"}, format="json")
    assert r.status_code == 200 and r.json()["grade"] == "A"
    change = GradeChange.objects.get()
    assert change.changed_by == org["east_manager"] and change.reason == "市级重点项目业主"
    assert org.api("marketing").post(url, {"grade": "C"}, format="json").status_code == 200


def test_api_retrieve_logs_cross_branch_read(org):
    from tests.clients.grants import make_grant

    c = make_client(org)
    make_grant(org, org["south_staff"], c, active=True)
    assert org.api("south_staff").get(reverse("client-detail", kwargs={"pk": c.pk})).status_code == 200
    assert AccessLog.objects.get().via == "api"


def test_contact_out_of_scope_client_refused(org):
    other = make_client(org, "south")
    r = org.api("east_staff").post(
        reverse("contact-list"), {"client": other.pk, "name": "王五"}, format="json"
    )
    assert r.status_code == 400 and "client" in r.json()
    assert not Contact.objects.exists()


def test_need_deadline_read_only_and_steps(org):
    c = make_client(org)
    api = org.api("east_staff")
    r = api.post(
        reverse("need-list"),
        {
            "client": c.pk,
            "category": "product",
            "origin": "derived",
            "urgency": "important",
            "description": "增加地下车位",
            "received_at": "2026-09-30T10:00:00+08:00",
            "response_due_at": "2030-01-01T00:00:00+08:00",
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    assert r.json()["response_due_at"].startswith("2026-10-09T10:00:00")
    need_id = r.json()["id"]
    r = api.post(reverse("need-close", kwargs={"pk": need_id}), {"done": True}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "done"
    r = api.post(reverse("need-respond", kwargs={"pk": need_id}), {}, format="json")
    assert r.status_code == 400 and r.json()
    assert Need.objects.get().status == "done"


def test_visit_plan_rules_via_api(org):
    c = make_client(org, grade="C")
    api = org.api("east_staff")
    r = api.post(reverse("visitplan-list"), {"client": c.pk, "frequency": "monthly"}, format="json")
    assert r.status_code == 400
    b = make_client(org, grade="B")
    r = api.post(
        reverse("visitplan-list"), {"client": b.pk, "frequency": "custom", "interval_days": 20}, format="json"
    )
    assert r.status_code == 201 and r.json()["visitor_level"] == "marketing_staff"
    r = api.post(reverse("visitplan-list"), {"client": b.pk, "frequency": "monthly"}, format="json")
    assert r.status_code == 400  # one plan per client
    r = api.post(reverse("visit-list"), {"client": b.pk, "channel": "visit", "notes": "拜访"}, format="json")
    assert r.status_code == 201
    plan = VisitPlan.objects.get(client=b)
    assert plan.next_due_on == timezone.localdate() + dt.timedelta(days=20)


def test_project_negative_money_and_dates_400(org):
    c = make_client(org)
    api = org.api("east_staff")
    base = {"client": c.pk, "branch": c.branch_id, "name": "一期", "project_type": "residential"}
    assert (
        "contract_value"
        in api.post(reverse("project-list"), {**base, "contract_value": "-1"}, format="json").json()
    )
    r = api.post(
        reverse("project-list"),
        {**base, "started_on": "2026-05-01", "completed_on": "2026-01-01"},
        format="json",
    )
    assert r.status_code == 400 and "completed_on" in r.json()


def test_manager_may_delete_contact_staff_may_not(org):
    contact = ContactFactory(client=make_client(org))
    url = reverse("contact-detail", kwargs={"pk": contact.pk})
    assert org.api("east_staff").delete(url).status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert org.api("east_manager").delete(url).status_code == 204
    c = make_client(org)
    assert org.api("marketing").delete(reverse("client-detail", kwargs={"pk": c.pk})).status_code == 405
