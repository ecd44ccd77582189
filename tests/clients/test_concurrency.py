"""Concurrency of the archive: optimistic locking of clients, contacts, needs and visit plans
(lost updates, crm.models.Versioned) in the model, the API (ETag / If-Match, 409) and the edit
pages (hidden version, what changed), and parallel creates (R10: the unique credit code and the
similar-name confirmation cannot be raced past)."""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.db import connection, connections, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from clients import services
from clients.models import Client, Contact, Need, VisitPlan
from crm.models import StaleVersion
from tests.clients.factories import ContactFactory, make_credit_code

from .archive_helpers import make_client, make_need, make_plan, make_project, make_visit

CLIENTS = reverse("client-list")
DUPLICATE_CODE = "统一社会信用代码已存在"


def detail(pk):
    return reverse("client-detail", kwargs={"pk": pk})


# ----------------------------------------------------------------------------- the model


def test_every_save_bumps_the_version_and_a_stale_save_is_refused(org):
    c = make_client(org, address="旧地址")
    assert c.version == 1
    mine, theirs = Client.objects.get(pk=c.pk), Client.objects.get(pk=c.pk)
    theirs.address = "他人改的地址"
    theirs.save()
    assert theirs.version == 2
    mine.remarks = "我的备注"
    with pytest.raises(StaleVersion), transaction.atomic():
        mine.save()
    assert mine.version == 1  # unchanged, so a retry after refresh works
    c.refresh_from_db()
    assert (c.address, c.remarks, c.version) == ("他人改的地址", "", 2)
    # A workflow's partial save bumps it too.
    services.client_set_stage(client=c, stage="signed", by=org["east_staff"])
    c.refresh_from_db()
    assert c.version == 3 and c.history.first().version == 3


def test_services_refuse_an_instance_read_before_a_workflow_step(org):
    c = make_client(org, grade="B")
    stale = Client.objects.get(pk=c.pk)
    services.client_set_grade(client=c, grade="A", reason="省重点工程业主", by=org["marketing"])
    with pytest.raises(StaleVersion):
        services.client_update(client=stale, by=org["east_staff"], data={"address": "新地址"})
    c.refresh_from_db()
    assert c.grade == "A" and c.address != "新地址"


# ----------------------------------------------------------------------------- the API


def test_api_etag_if_match_and_409_with_the_current_representation(org):
    c = make_client(org)
    api = org.api("east_staff")
    r = api.get(detail(c.pk))
    assert r.status_code == 200 and r["ETag"] == 'W/"1"' and r.json()["version"] == 1

    r = api.patch(detail(c.pk), {"address": "第一次"}, format="json", HTTP_IF_MATCH='W/"1"')
    assert r.status_code == 200 and r["ETag"] == 'W/"2"' and r.json()["version"] == 2

    # Someone based on version 1 (the earlier GET): refused, nothing written.
    r = api.patch(detail(c.pk), {"address": "过期的"}, format="json", HTTP_IF_MATCH='W/"1"')
    assert r.status_code == 409 and r["ETag"] == 'W/"2"'
    body = r.json()
    assert body["current"]["address"] == "第一次" and body["current"]["version"] == 2 and body["detail"]
    # The version in the body works the same way; a full PUT too.
    r = api.patch(detail(c.pk), {"address": "过期的", "version": 1}, format="json")
    assert r.status_code == 409
    full = {**body["current"], "address": "整体替换"}
    full.pop("tags", None)
    assert api.put(detail(c.pk), {**full, "version": 1}, format="json").status_code == 409
    c.refresh_from_db()
    assert c.address == "第一次" and c.version == 2
    # With the current version it goes through; without any, it is accepted (documented).
    assert api.put(detail(c.pk), full, format="json", HTTP_IF_MATCH='"2"').status_code == 200
    assert api.patch(detail(c.pk), {"remarks": "不带版本"}, format="json").status_code == 200
    c.refresh_from_db()
    assert (c.address, c.remarks, c.version) == ("整体替换", "不带版本", 4)
    assert api.patch(detail(c.pk), {"remarks": "x"}, format="json", HTTP_IF_MATCH="abc").status_code == 400


def test_api_edit_based_on_a_version_before_a_workflow_step_is_409(org):
    c = make_client(org, grade="B")
    api = org.api("east_manager")
    etag = api.get(detail(c.pk))["ETag"]
    r = api.post(
        reverse("client-set-grade", kwargs={"pk": c.pk}), {"grade": "A", "reason": "重点"}, format="json"
    )
    assert r.status_code == 200 and r["ETag"] == 'W/"2"'
    r = api.patch(detail(c.pk), {"remarks": "改"}, format="json", HTTP_IF_MATCH=etag)
    assert r.status_code == 409 and r.json()["current"]["grade"] == "A"


@pytest.mark.parametrize(
    "route,make", [("contact-detail", "contact"), ("need-detail", "need"), ("visitplan-detail", "plan")]
)
def test_api_versions_of_contacts_needs_and_plans(org, route, make):
    obj = {
        "contact": lambda: ContactFactory(client=make_client(org)),
        "need": lambda: make_need(org),
        "plan": lambda: make_plan(org),
    }[make]()
    api = org.api("east_staff")
    url = reverse(route, kwargs={"pk": obj.pk})
    r = api.get(url)
    assert r["ETag"] == f'W/"{obj.version}"' and r.json()["version"] == obj.version
    change = {"contact": {"notes": "一"}, "need": {"source_channel": "一"}, "plan": {"notes": "一"}}[make]
    assert api.patch(url, change, format="json", HTTP_IF_MATCH=r["ETag"]).status_code == 200
    assert api.patch(url, change, format="json", HTTP_IF_MATCH=r["ETag"]).status_code == 409


# ----------------------------------------------------------------------------- the pages


def client_form(org, c, **kw):
    data = {
        "name": c.name,
        "credit_code": c.credit_code,
        "org_type": c.org_type,
        "branch": c.branch_id,
        "owner": c.owner_id,
        "stage": c.stage,
        "social_value": c.social_value,
        "address": c.address,
        "remarks": c.remarks,
    }
    data.update(kw)
    return data


def test_client_edit_page_refuses_a_stale_save_keeps_the_input_and_lists_the_changes(org):
    c = make_client(org, address="旧地址", credit_code=make_credit_code(601))
    web = org.web("east_staff")
    url = reverse("clients:client-edit", kwargs={"pk": c.pk})
    page = web.get(url)
    opened = page.context["form"]["version"].value()
    assert opened == 1 and 'name="version" value="1"' in page.content.decode()

    # Meanwhile a colleague changes the address through the API.
    org.api("east_manager").patch(detail(c.pk), {"address": "同事改的地址"}, format="json")

    mine = client_form(org, c, remarks="我的备注", version=opened)
    r = web.post(url, mine)
    assert r.status_code == 200
    html = r.content.decode()
    errors = " ".join(r.context["form"].non_field_errors())
    assert (
        "已被他人修改" in errors and "单位地址" in errors and "同事改的地址" in errors and "旧地址" in errors
    )
    assert "我的备注" in html  # what the user typed is kept
    c.refresh_from_db()
    assert c.address == "同事改的地址" and c.remarks == ""
    # The form now carries the current version: submitting again (after review) saves.
    assert r.context["form"]["version"].value() == "2"
    r = web.post(url, {**mine, "version": r.context["form"]["version"].value()})
    assert r.status_code == 302
    c.refresh_from_db()
    assert c.remarks == "我的备注" and c.version == 3


def test_client_edit_without_a_version_is_never_a_silent_overwrite(org):
    c = make_client(org)
    r = org.web("east_staff").post(
        reverse("clients:client-edit", kwargs={"pk": c.pk}), client_form(org, c, remarks="x")
    )
    assert r.status_code == 200 and r.context["form"].non_field_errors()
    c.refresh_from_db()
    assert c.remarks == "" and c.version == 1


def test_contact_need_and_plan_pages_refuse_stale_saves(org):
    web = org.web("east_staff")
    contact = ContactFactory(client=make_client(org), name="张三", phone="13800138000")
    url = reverse("clients:contact-edit", kwargs={"pk": contact.pk})
    Contact.objects.get(pk=contact.pk).save()  # someone saved it since
    r = web.post(url, {"name": "张三丰", "phone": "13800138000", "version": 1})
    assert r.status_code == 200 and "已被他人修改" in " ".join(r.context["form"].non_field_errors())
    assert Contact.objects.get(pk=contact.pk).name == "张三"

    need = make_need(org)
    url = reverse("clients:need-edit", kwargs={"pk": need.pk})
    base = {
        "description": need.description,
        "category": need.category,
        "origin": need.origin,
        "urgency": need.urgency,
        "received_at": "2026-01-05T09:00",
        "status": need.status,
        "version": need.version,
    }
    services.need_respond(need=Need.objects.get(pk=need.pk), by=org["east_staff"], note="已联系")  # a step
    r = web.post(url, {**base, "description": "改写的需求"})
    assert r.status_code == 200
    errors = " ".join(r.context["form"].non_field_errors())
    assert "状态" in errors and "已评估" in errors
    assert Need.objects.get(pk=need.pk).description == need.description


def test_visit_plan_page_opened_before_a_visit_is_refused(org):
    plan = make_plan(org, overdue=False)
    web = org.web("east_staff")
    url = reverse("clients:visit-plan-edit", kwargs={"pk": plan.client_id})
    opened = web.get(url).context["form"]["version"].value()
    services.visit_record(
        visit=services.Visit(client=plan.client, channel="visit", notes="走访"), by=org["east_staff"]
    )
    r = web.post(url, {"frequency": "monthly", "is_active": "on", "notes": "我的说明", "version": opened})
    assert r.status_code == 200
    assert "下次拜访日期" in " ".join(r.context["form"].non_field_errors())
    assert VisitPlan.objects.get(pk=plan.pk).notes == ""


# ----------------------------------------------------------------------------- R10 confirmations


def test_a_similar_name_confirmation_is_bound_to_its_warning(org):
    make_client(org, name="上海浦江置业发展有限公司")
    data = {"name": "上海浦江置业发展 有限公司", "branch": org.branches["east"].pk}
    api = org.api("east_staff")
    warned = api.post(CLIENTS, data, format="json").json()
    token = warned["similar_token"]
    # A bare "yes" or a token of another name is not a confirmation.
    assert api.post(CLIENTS, {**data, "similar_token": "x" * 32}, format="json").status_code == 400
    other = api.post(CLIENTS, {"name": "别的公司", "branch": org.branches["east"].pk}, format="json")
    assert other.status_code == 201
    # A similar client created after the warning invalidates it: warned again, with it listed.
    make_client(org, name="上海浦江置业发展有限公司 ")
    r = api.post(CLIENTS, {**data, "similar_token": token}, format="json")
    assert r.status_code == 400 and len(r.json()["similar"]) == 2 and r.json()["similar_token"] != token
    assert (
        api.post(CLIENTS, {**data, "similar_token": r.json()["similar_token"]}, format="json").status_code
        == 201
    )


def test_a_unique_violation_the_database_reports_is_a_400_on_its_field(org):
    """The last guard (services' check raced past, e.g. without the lock): 400, not 500."""
    existing = make_client(org, credit_code=make_credit_code(602))
    data = {"name": "另一家", "credit_code": existing.credit_code, "branch": org.branches["east"].pk}
    with mock.patch.object(services, "client_duplicates", return_value=(None, [])):
        r = org.api("east_staff").post(CLIENTS, data, format="json")
        assert r.status_code == 400 and DUPLICATE_CODE in r.json()["credit_code"][0]
        page = org.web("east_staff").post(
            reverse("clients:client-create"),
            {**data, "org_type": "other", "stage": "potential", "social_value": "medium"},
        )
        assert page.status_code == 200 and DUPLICATE_CODE in page.context["form"].errors["credit_code"][0]
    assert Client.objects.count() == 1


# ----------------------------------------------------------------------------- parallel requests

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="real parallel writers need PostgreSQL"
)


def in_parallel(user, calls):
    """Run ``calls`` (functions of an APIClient) at once, one thread and connection each."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        api = APIClient()
        api.force_authenticate(user)
        try:
            barrier.wait(timeout=10)
            results[i] = call(api)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_creates_with_one_credit_code_give_one_client_and_three_400s(org):
    code = make_credit_code(603)
    calls = [
        (
            lambda api, i=i: api.post(
                CLIENTS,
                {"name": f"并发公司{i}", "credit_code": code, "branch": org.branches["east"].pk},
                format="json",
            )
        )
        for i in range(4)
    ]
    results = in_parallel(org["east_staff"], calls)
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 400, 400, 400], results
    for r in results:
        if r.status_code == 400:
            assert DUPLICATE_CODE in " ".join(r.json()["credit_code"])
    assert Client.objects.filter(credit_code=code).count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_creates_with_one_new_name_give_one_client(org):
    data = {"name": "并发新建置业有限公司", "branch": org.branches["east"].pk}
    results = in_parallel(org["east_staff"], [lambda api: api.post(CLIENTS, data, format="json")] * 4)
    assert sorted(r.status_code for r in results) == [201, 400, 400, 400], results
    assert all("similar_token" in r.json() for r in results if r.status_code == 400)
    assert (
        Client.objects.filter(name_normalized=Client.objects.get(name=data["name"]).name_normalized).count()
        == 1
    )


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_confirmations_of_one_warning_give_one_client(org):
    make_client(org, name="并发确认置业有限公司")
    data = {"name": "并发确认置业 有限公司", "branch": org.branches["east"].pk}
    token = org.api("east_staff").post(CLIENTS, data, format="json").json()["similar_token"]
    call = lambda api: api.post(CLIENTS, {**data, "similar_token": token}, format="json")  # noqa: E731
    results = in_parallel(org["east_staff"], [call] * 4)
    assert sorted(r.status_code for r in results) == [201, 400, 400, 400], results
    assert Client.objects.count() == 2


def _as_posted(form) -> dict:
    """What the browser posts for an opened form: every field's value as rendered."""
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[form.add_prefix(name)] = "on" if value is True else value
    return data


@pytest.mark.parametrize("kind", ["project", "visit"])
def test_project_and_visit_pages_refuse_a_save_based_on_an_older_version(org, kind):
    """The edit pages of projects and visits carry the version they opened (as clients, contacts,
    needs and plans do): a second person's save made since is not overwritten; what the user
    typed stays, the changes are listed, and submitting again saves."""
    web = org.web("east_staff")
    if kind == "project":
        row = make_project(org)
        url = reverse("clients:project-edit", kwargs={"pk": row.pk})
        field, theirs, mine = "manager_name", "他人填的经理", "我填的经理"
    else:
        row = make_visit(org)
        url = reverse("clients:visit-edit", kwargs={"pk": row.pk})
        field, theirs, mine = "outcome", "他人填的结果", "我填的结果"
    page = web.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    opened = page.context["form"]["version"].value()
    assert f'type="hidden" name="version" value="{opened}"' in html
    assert ">Version" not in html  # a hidden field has no label on the page
    data = _as_posted(page.context["form"])

    other = type(row).objects.get(pk=row.pk)
    setattr(other, field, theirs)
    other.save()  # someone saved it since the page was opened

    r = web.post(url, {**data, field: mine})
    assert r.status_code == 200
    errors = " ".join(r.context["form"].non_field_errors())
    assert "已被他人修改" in errors and theirs in errors and mine in errors
    row.refresh_from_db()
    assert getattr(row, field) == theirs and row.version == opened + 1
    # The form now carries the current version: submitting again after review saves.
    again = {**data, field: mine, "version": r.context["form"]["version"].value()}
    assert web.post(url, again).status_code == 302
    row.refresh_from_db()
    assert getattr(row, field) == mine and row.version == opened + 2


@pytest.mark.parametrize("kind", ["project", "visit"])
def test_project_and_visit_pages_without_a_version_never_overwrite_silently(org, kind):
    web = org.web("east_staff")
    if kind == "project":
        row = make_project(org)
        url = reverse("clients:project-edit", kwargs={"pk": row.pk})
        field = "manager_name"
    else:
        row = make_visit(org)
        url = reverse("clients:visit-edit", kwargs={"pk": row.pk})
        field = "outcome"
    data = _as_posted(web.get(url).context["form"])
    data.pop("version")
    r = web.post(url, {**data, field: "没有版本的保存"})
    assert r.status_code == 200 and r.context["form"].non_field_errors()
    row.refresh_from_db()
    assert getattr(row, field) != "没有版本的保存"
