"""The access pages and API doing their work (R4, R5): filing with the name-only target search,
the queues, the steps, the access log search and export, transfers; query budgets on lists."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from clients.access import services as svc
from clients.access.log import record_reads
from clients.models import AccessGrant, AccessLog, AccessRequest, Client
from tests.clients.factories import ClientFactory
from tests.clients.grants import make_grant

pytestmark = pytest.mark.django_db


def east(org, **kw):
    return ClientFactory(branch=org.branches["east"], owner=org["east_staff"], **kw)


def ends(days=30):
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


def test_target_search_shows_only_name_and_branch_of_other_branches(org):
    theirs = east(org, name="上海浦江城市建设投资有限公司", address="上海市徐汇区龙华中路596号")
    ClientFactory(branch=org.branches["south"], owner=org["south_staff"], name="深圳浦江置业有限公司")
    response = org.web("south_staff").get(reverse("clients:access-request-targets"), {"q": "浦江"})
    html = response.content.decode()
    assert response.context["rows"] == [
        {"id": theirs.pk, "name": theirs.name, "branch__name": "华东区域分公司"}
    ]
    assert "深圳浦江置业" not in html  # own branch: no request needed
    assert theirs.address not in html and theirs.credit_code not in html
    # One character is not a search.
    assert (
        org.web("south_staff").get(reverse("clients:access-request-targets"), {"q": "浦"}).context["rows"]
        == []
    )


def test_file_request_page_keeps_input_on_error_and_files(org):
    target = east(org)
    web = org.web("south_staff")
    url = reverse("clients:access-request-create")
    response = web.post(url, {"clients": [target.pk], "reason": "参与投标", "ends_on": ends(120)})
    assert response.status_code == 200
    assert "90" in str(response.context["form"].errors["ends_on"])
    assert response.context["selected"] == [target]  # nothing typed is lost
    assert "参与投标" in response.content.decode()
    assert not AccessRequest.objects.exists()
    response = web.post(url, {"clients": ["abc"], "reason": "", "ends_on": "not-a-date"})
    assert response.status_code == 200 and not AccessRequest.objects.exists()
    response = web.post(url, {"clients": [target.pk], "reason": "参与投标", "ends_on": ends(30)})
    req = AccessRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "clients:access-request-detail", args=[req.pk]
    )
    assert list(req.clients.all()) == [target] and req.requester == org["south_staff"]


def test_page_workflow_and_timeline(org):
    target = east(org)
    req = svc.access_request_create(
        requester=org["south_staff"], clients=[target], reason="投标", ends_on=timezone.localdate()
    )
    review = org.web("marketing").get(reverse("clients:access-request-review"))
    assert req in review.context["page"].object_list
    org.web("marketing").post(
        reverse("clients:access-request-step", args=[req.pk, "forward"]), {"note": "同意"}
    )
    assert (
        req
        not in org.web("marketing").get(reverse("clients:access-request-review")).context["page"].object_list
    )
    assert (
        req in org.web("leader").get(reverse("clients:access-request-approval")).context["page"].object_list
    )
    org.web("leader").post(reverse("clients:access-request-step", args=[req.pk, "approve"]), {"note": ""})
    req.refresh_from_db()
    assert req.status == AccessRequest.Status.APPROVED
    detail = org.web("south_staff").get(reverse("clients:access-request-detail", args=[req.pk]))
    html = detail.content.decode()
    assert target.pk in detail.context["openable"]  # the granted client links to its page
    assert reverse("clients:client-detail", args=[target.pk]) in html
    reasons = [h.history_change_reason for h in detail.context["timeline"]]
    assert reasons == ["提交查阅申请", "市场营销部审核通过,提交集团领导审批", "集团领导批准"]
    assert [h.history_user for h in detail.context["timeline"]][1:] == [org["marketing"], org["leader"]]
    grants = org.web("south_staff").get(reverse("clients:access-grant-list"))
    assert [g.request_id for g in grants.context["page"].object_list] == [req.pk]


def test_page_reject_needs_reason(org):
    req = svc.access_request_create(
        requester=org["south_staff"], clients=[east(org)], reason="投标", ends_on=timezone.localdate()
    )
    response = org.web("marketing").post(
        reverse("clients:access-request-step", args=[req.pk, "reject"]), {"reason": ""}, follow=True
    )
    assert (
        "驳回理由" in response.content.decode()
        or "必填" in response.content.decode()
        or "required" in response.content.decode()
    )
    req.refresh_from_db()
    assert req.status == AccessRequest.Status.SUBMITTED
    org.web("marketing").post(
        reverse("clients:access-request-step", args=[req.pk, "reject"]), {"reason": "理由不充分"}
    )
    req.refresh_from_db()
    assert req.status == AccessRequest.Status.REJECTED and req.review_note == "理由不充分"


def test_api_workflow(org):
    target = east(org)
    api = org.api("south_staff")
    response = api.post(
        reverse("access-request-list"),
        {"clients": [target.pk], "reason": "投标", "ends_on": ends(10)},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "submitted" and body["client_details"][0]["name"] == target.name
    pk = body["id"]
    assert set(body["client_details"][0]) == {"id", "name", "branch", "branch_name"}
    r = org.api("leader").post(reverse("access-request-approve", args=[pk]), {}, format="json")
    assert r.status_code == 400 and "detail" in r.json()
    assert (
        org.api("marketing")
        .post(reverse("access-request-forward", args=[pk]), {"note": "同意"}, format="json")
        .json()["status"]
        == "forwarded"
    )
    r = org.api("leader").post(reverse("access-request-approve", args=[pk]), {}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["grant"]["is_active"]
    assert api.get(reverse("client-detail", args=[target.pk])).status_code == 200
    # Edits are refused; the own requester gets 405.
    assert (
        api.patch(reverse("access-request-detail", args=[pk]), {"reason": "x"}, format="json").status_code
        == 405
    )
    # Withdraw after approval is refused with a message.
    r = api.post(reverse("access-request-withdraw", args=[pk]), {}, format="json")
    assert r.status_code == 400


def test_api_create_refusals_are_400(org):
    own = ClientFactory(branch=org.branches["south"], owner=org["south_staff"])
    target = east(org)
    api = org.api("south_staff")
    url = reverse("access-request-list")
    assert (
        api.post(url, {"clients": [own.pk], "reason": "x", "ends_on": ends()}, format="json").status_code
        == 400
    )
    assert (
        api.post(url, {"clients": [target.pk], "reason": "x", "ends_on": ends(91)}, format="json").status_code
        == 400
    )
    assert api.post(url, {"clients": [], "reason": "x", "ends_on": ends()}, format="json").status_code == 400
    assert (
        api.post(url, {"clients": [target.pk], "reason": "x", "ends_on": "bad"}, format="json").status_code
        == 400
    )
    r = org.api("marketing").post(
        url, {"clients": [target.pk], "reason": "x", "ends_on": ends()}, format="json"
    )
    assert r.status_code == 403 and "集团职能部门" in str(r.json())  # a missing role
    assert (
        org.api("leader")
        .post(url, {"clients": [target.pk], "reason": "x", "ends_on": ends()}, format="json")
        .status_code
        == 403
    )
    assert not AccessRequest.objects.exists()


def test_api_list_branch_user_sees_own_only(org):
    mine = svc.access_request_create(
        requester=org["south_staff"], clients=[east(org)], reason="a", ends_on=timezone.localdate()
    )
    colleague = svc.access_request_create(
        requester=org["south_manager"], clients=[east(org)], reason="b", ends_on=timezone.localdate()
    )
    ids = [r["id"] for r in org.api("south_staff").get(reverse("access-request-list")).json()["results"]]
    assert ids == [mine.pk]
    ids = {r["id"] for r in org.api("leader").get(reverse("access-request-list")).json()["results"]}
    assert ids == {mine.pk, colleague.pk}
    ids = [
        r["id"]
        for r in org.api("marketing")
        .get(reverse("access-request-list"), {"status": "submitted", "requester": org["south_manager"].pk})
        .json()["results"]
    ]
    assert ids == [colleague.pk]


def _many_requests(org, n):
    for i in range(n):
        targets = [east(org), east(org)]
        req = svc.access_request_create(
            requester=org["south_staff"], clients=targets, reason=f"投标{i}", ends_on=timezone.localdate()
        )
        if i % 2:
            svc.access_request_forward(access_request=req, by=org["marketing"])
            svc.access_request_approve(access_request=req, by=org["leader"])


def test_request_list_query_budget(org, django_assert_max_num_queries):
    _many_requests(org, 3)
    for persona in ("south_staff", "marketing"):
        web = org.web(persona)
        with django_assert_max_num_queries(22) as small:  # page shell (session, nav, notifications) included
            web.get(reverse("clients:access-request-list"))
        _many_requests(org, 6)
        with django_assert_max_num_queries(len(small.captured_queries)):
            response = web.get(reverse("clients:access-request-list"))
        assert len(response.context["page"].object_list) >= 9
    api = org.api("marketing")
    with django_assert_max_num_queries(10):
        response = api.get(reverse("access-request-list"))
    assert response.json()["count"] == 15


def test_access_log_written_searchable_exported(org, django_assert_max_num_queries):
    target = east(org, name="杭州钱塘新区建设发展集团有限公司")
    other = east(org, name="苏州工业园区城市重建有限公司")
    grant = make_grant(org, org["south_staff"], target, active=True)
    # Reads by the grantee are logged with the grant; reads of one's own branch are not (R4).
    assert record_reads(org["south_staff"], [target], via="page", path="/x/") == 1
    assert record_reads(org["east_staff"], [target], via="page") == 0
    assert record_reads(org["marketing"], [target], via="page") == 0
    make_grant(org, org["design_staff"], other, active=True)
    for _ in range(5):
        record_reads(org["design_staff"], [other], via="api")
    assert AccessLog.objects.get(user=org["south_staff"]).grant == grant

    web = org.web("auditor")
    url = reverse("clients:access-log-list")
    with django_assert_max_num_queries(17):  # page shell included; no query per row
        response = web.get(url)
    assert response.context["page"].paginator.count == 6
    assert [r.user for r in web.get(url, {"user": "林晓敏"}).context["page"].object_list] == [
        org["south_staff"]
    ]
    assert web.get(url, {"branch": org.branches["design"].pk}).context["page"].paginator.count == 5
    assert web.get(url, {"client": "钱塘"}).context["page"].paginator.count == 1
    today = timezone.localdate()
    assert (
        web.get(url, {"date_from": today.isoformat(), "date_to": today.isoformat()})
        .context["page"]
        .paginator.count
        == 6
    )
    assert (
        web.get(url, {"date_to": (today - dt.timedelta(days=1)).isoformat()}).context["page"].paginator.count
        == 0
    )
    assert web.get(url, {"date_from": "garbage"}).status_code == 200  # bad input is no 500
    export = web.get(url, {"client": "钱塘", "export": "xlsx"})
    rows = list(load_workbook(BytesIO(export.content)).active.iter_rows(values_only=True))
    assert (
        rows[0][0] == "时间"
        and len(rows) == 2
        and rows[1][3] == target.name
        and rows[1][5] == grant.request_id
    )
    api = org.api("marketing")
    with django_assert_max_num_queries(8):
        data = api.get(reverse("access-log-list"), {"user": str(org["design_staff"].pk)}).json()
    assert data["count"] == 5 and data["results"][0]["via"] == "api"


def test_request_list_export_is_the_filtered_list(org):
    a = svc.access_request_create(
        requester=org["south_staff"], clients=[east(org)], reason="投标", ends_on=timezone.localdate()
    )
    svc.access_request_create(
        requester=org["design_staff"], clients=[east(org)], reason="设计", ends_on=timezone.localdate()
    )
    response = org.web("marketing").get(
        reverse("clients:access-request-list"), {"branch": org.branches["south"].pk, "export": "xlsx"}
    )
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0] == a.pk


def test_transfer_page_and_api(org):
    client = east(org)
    web = org.web("marketing")
    url = reverse("clients:client-transfer", args=[client.pk])
    response = web.post(url, {"to_branch": org.branches["south"].pk, "reason": ""})
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    client.refresh_from_db()
    assert client.branch == org.branches["east"]
    response = web.post(
        url, {"to_branch": org.branches["south"].pk, "reason": "项目属地调整", "owner": org["south_staff"].pk}
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.branch == org.branches["south"]
    assert org.web("east_staff").get(reverse("clients:client-detail", args=[client.pk])).status_code == 404
    assert org.web("south_staff").get(reverse("clients:client-detail", args=[client.pk])).status_code == 200
    # back through the API
    r = org.api("marketing").post(
        reverse("client-transfer-list"),
        {"client": client.pk, "to_branch": org.branches["east"].pk, "reason": "撤回调整"},
        format="json",
    )
    assert r.status_code == 201 and r.json()["from_branch"] == org.branches["south"].pk
    assert org.api("east_staff").get(reverse("client-detail", args=[client.pk])).status_code == 200
    assert org.api("south_staff").get(reverse("client-detail", args=[client.pk])).status_code == 404
    r = org.api("marketing").post(
        reverse("client-transfer-list"),
        {"client": client.pk, "to_branch": org.branches["east"].pk, "reason": "x"},
        format="json",
    )
    assert r.status_code == 400 and "to_branch" in r.json()


def test_expired_grant_gone_from_pages_before_job(org):
    target = east(org)
    grant = make_grant(org, org["south_staff"], target, active=True)
    assert org.web("south_staff").get(reverse("clients:client-detail", args=[target.pk])).status_code == 200
    AccessGrant.objects.filter(pk=grant.pk).update(ends_at=timezone.now() - dt.timedelta(seconds=1))
    assert org.web("south_staff").get(reverse("clients:client-detail", args=[target.pk])).status_code == 404
    assert not Client.objects.restrict(org["south_staff"]).filter(pk=target.pk).exists()
