"""/api/repairs/ (R94-R101): the whole workflow through the API, a refused step as 400 with the
service's message, a stale edit as 409 with the current repair, and the page's forms keeping
what was typed."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

from django.urls import reverse
from openpyxl import load_workbook

from complaints.repairs.models import RepairRequest
from tests.clients.factories import ProjectFactory

from .conftest import make_client


def project_of(org, branch_code="east", **kw):
    client = make_client(org, branch_code)
    return ProjectFactory(
        client=client, completed_on=dt.date(2025, 6, 1), warranty_ends_on=dt.date(2027, 6, 1), **kw
    )


def action(pk, name):
    return reverse(f"repair-{name}", kwargs={"pk": pk})


def test_the_workflow_through_the_api(org):
    project = project_of(org, is_key=False)
    api = org.api("east_staff")
    r = api.post(
        reverse("repair-list"),
        {"project": project.pk, "reporter": "业主王先生", "reporter_phone": "13812345678", "part": "waterproofing",
         "location": "5号楼1单元302", "description": "卫生间渗水至楼下。"},
        format="json",
    )  # fmt: skip
    assert r.status_code == 201, r.content
    body = r.json()
    pk = body["id"]
    assert body["status"] == "received" and body["is_paid"] is False and body["title"] == "卫生间渗水至楼下。"
    assert body["client"] == project.client_id and body["registered_on_time"] is None
    assert api.post(action(pk, "register"), {}, format="json").json()["registered_on_time"] is True
    refused = api.post(action(pk, "dispatch"), {"team": ""}, format="json")
    assert refused.status_code == 400 and "team" in refused.json()
    assert (
        api.post(action(pk, "dispatch"), {"team": "防水维修组"}, format="json").json()["status"]
        == "dispatched"
    )
    assert api.post(action(pk, "close"), {}, format="json").status_code == 400  # not repaired yet
    assert api.post(action(pk, "complete"), {"repair_note": "重做防水层"}, format="json").status_code == 200
    closed = api.post(action(pk, "close"), {}, format="json").json()
    assert closed["status"] == "closed" and len(closed["visits"]) == 1
    visit = api.post(
        action(pk, "return-visit"), {"satisfaction": "unsatisfied", "notes": "仍有渗水"}, format="json"
    )
    assert visit.status_code == 200 and visit.json()["visits"][0]["satisfaction"] == "unsatisfied"
    made = api.post(
        action(pk, "complaint"), {"content": "维修后仍渗水,业主不满。", "severity": "high"}, format="json"
    )
    assert made.status_code == 201, made.content
    detail = api.get(reverse("repair-detail", kwargs={"pk": pk})).json()
    assert detail["complaint"] == made.json()["id"]
    assert [e["kind"] for e in detail["events"]] == [
        "received", "registered", "dispatched", "repaired", "closed", "return_visit", "complaint"]  # fmt: skip
    assert api.post(action(pk, "reopen"), {"reason": "再次渗水"}, format="json").json()["reopen_count"] == 1


def test_a_patch_based_on_a_version_before_a_step_is_409(org):
    project = project_of(org)
    api = org.api("east_staff")
    pk = api.post(
        reverse("repair-list"),
        {
            "project": project.pk,
            "reporter": "x",
            "part": "other",
            "location": "A区",
            "description": "路灯不亮",
        },
        format="json",
    ).json()["id"]
    url = reverse("repair-detail", kwargs={"pk": pk})
    assert api.get(url)["ETag"] == 'W/"1"'
    assert api.post(action(pk, "register"), {}, format="json").status_code == 200
    r = api.patch(url, {"location": "B区"}, format="json", HTTP_IF_MATCH='W/"1"')
    assert r.status_code == 409 and r.json()["current"]["status"] == "registered"
    assert RepairRequest.objects.get(pk=pk).location == "A区"
    r = api.patch(url, {"location": "B区"}, format="json", HTTP_IF_MATCH='W/"2"')
    assert r.status_code == 200 and r.json()["location"] == "B区"


def test_the_page_keeps_what_was_typed_on_an_error(org):
    project = project_of(org)
    web = org.web("east_staff")
    response = web.post(
        reverse("complaints:repair-create"),
        {"project": project.pk, "reporter": "业主赵女士", "part": "doors_windows", "location": "",
         "description": "入户门关不上", "channel": "phone", "received_at": "2026-11-02T09:00"},
    )  # fmt: skip
    assert response.status_code == 200 and "location" in response.context["form"].errors
    assert "入户门关不上" in response.content.decode() and not RepairRequest.objects.exists()


def test_the_list_filters_searches_and_exports_what_it_shows(org):
    project = project_of(org)
    api = org.api("east_staff")
    for part, text in (("doors_windows", "窗户漏风"), ("installations", "水管漏水")):
        api.post(reverse("repair-list"), {"project": project.pk, "reporter": "x", "part": part, "location": "1号楼",
                                          "description": text}, format="json")  # fmt: skip
    web = org.web("east_staff")
    response = web.get(reverse("complaints:repair-list"), {"part": "installations"})
    assert response.context["page"].paginator.count == 1
    response = web.get(reverse("complaints:repair-list"), {"q": "窗户"})
    assert [r.title for r in response.context["page"].object_list] == ["窗户漏风"]
    export = web.get(reverse("complaints:repair-list"), {"q": "窗户", "export": "xlsx"})
    assert export.status_code == 200
    rows = list(load_workbook(BytesIO(export.content)).active.iter_rows(values_only=True))
    titles = [row[9] for row in rows[1:] if row[0]]
    assert titles == ["窗户漏风"]


def test_a_step_that_lost_the_race_is_a_409_with_the_current_repair(org, monkeypatch):
    """Someone registered the repair between this request's read and its step: a conflict."""
    from complaints.repairs import services

    project = project_of(org)
    repair = services.repair_receive(
        by=org["east_staff"],
        project=project,
        reporter="x",
        part="other",
        location="A区",
        description="路灯不亮",
    )
    real = services.repair_register

    def someone_else_first(*, repair, by, **kw):
        real(repair=type(repair).objects.get(pk=repair.pk), by=org["east_manager"])
        return real(repair=repair, by=by, **kw)

    monkeypatch.setattr(services, "repair_register", someone_else_first)
    response = org.api("east_staff").post(action(repair.pk, "register"), {}, format="json")
    assert response.status_code == 409, response.content
    assert response.json()["current"]["status"] == "registered"
    assert response.json()["current"]["registered_on_time"] is True


def test_list_query_budget(org, django_assert_max_num_queries):
    """No N+1: the queue and the API list of 10 repairs stay within a fixed ceiling (one query
    per row would exceed it)."""
    project = project_of(org)
    api, web = org.api("east_staff"), org.web("east_staff")
    for i in range(10):
        api.post(reverse("repair-list"), {"project": project.pk, "reporter": "x", "part": "other",
                                          "location": f"{i}号楼", "description": "灯不亮"}, format="json")  # fmt: skip
    web.get(reverse("complaints:repair-list"))  # the session's and the scope's caches are warm
    with django_assert_max_num_queries(15):
        assert web.get(reverse("complaints:repair-list")).context["page"].paginator.count == 10
    with django_assert_max_num_queries(12):
        assert api.get(reverse("repair-list")).json()["count"] == 10


def test_the_repair_pages_read_in_english(org):
    """With English chosen, the queue, the repair page, the form and each step's form show no
    Chinese outside the data; a refused step's message comes out in English."""
    from complaints.repairs import services
    from tests.crm.test_english_everywhere import _leftover, english

    project = project_of(org, is_key=True)
    repair = services.repair_receive(
        by=org["east_staff"], project=project, reporter="业主王先生", part="walls_beams", location="2号楼",
        description="墙面开裂",
    )  # fmt: skip
    user = org["east_staff"]
    repair = services.repair_register(repair=repair, by=user)
    repair = services.repair_dispatch(repair=repair, by=user, team="土建维修组")
    repair = services.repair_complete(repair=repair, by=user, repair_note="修补裂缝")
    repair = services.repair_close(repair=repair, by=user)
    services.repair_return_visit(repair=repair, by=user, satisfaction="unsatisfied", notes="仍有裂缝")
    web = english(org.web("east_staff"))
    pages = [
        reverse("complaints:repair-list"),
        reverse("complaints:repair-create"),
        reverse("complaints:repair-detail", kwargs={"pk": repair.pk}),
        *[reverse("complaints:repair-step", kwargs={"pk": repair.pk, "step": s})
          for s in ("reopen", "complaint", "return_visit", "register")],
    ]  # fmt: skip
    for url in pages:
        response = web.get(url)
        assert response.status_code == 200, url
        assert _leftover(response.content.decode()) == [], url
    refused = web.post(reverse("complaints:repair-step", kwargs={"pk": repair.pk, "step": "register"}), {})
    assert "cannot be registered" in refused.content.decode()
