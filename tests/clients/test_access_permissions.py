"""Permission matrices of the access routes (style.md 10; R4, R5): access requests (pages and
API), the step routes, "my grants", the access log and client transfers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from clients.access import services as svc
from clients.models import AccessLog, AccessRequest, Client
from tests.clients.factories import ClientFactory
from tests.clients.grants import make_grant
from tests.permissions import ObjectMatrix

pytestmark = pytest.mark.django_db


def file_request(org, requester="east_staff", target_branch="south"):
    target = ClientFactory(branch=org.branches[target_branch], owner=org[f"{target_branch}_staff"])
    return svc.access_request_create(
        requester=org[requester], clients=[target], reason="联合投标需了解客户资信",
        ends_on=timezone.localdate() + dt.timedelta(days=20),
    )  # fmt: skip


class TestAccessRequestMatrix(ObjectMatrix):
    """A request belongs to its requester's branch: the requester (east_staff) sees it, another
    branch does not; the group roles see every request."""

    model = AccessRequest
    list_route = "clients:access-request-list"
    detail_route = "clients:access-request-detail"
    api_list_route = "access-request-list"
    api_detail_route = "access-request-detail"
    grants_apply = False
    covers = {
        "clients:access-request-list",
        "clients:access-request-detail",
        "access-request-list",
        "access-request-detail",
    }

    def make(self, org, branch_code):
        return file_request(
            org, requester=f"{branch_code}_staff", target_branch="south" if branch_code != "south" else "east"
        )


# -- the step routes (pages and API) ---------------------------------------------------------

STEP_ROUTES = [
    "clients:access-request-step",
    "access-request-forward",
    "access-request-approve",
    "access-request-reject",
    "access-request-withdraw",
]


def _step_page(req, step):
    return reverse("clients:access-request-step", kwargs={"pk": req.pk, "step": step})


def _step_api(req, step):
    return reverse(f"access-request-{step}", kwargs={"pk": req.pk})


@pytest.mark.parametrize("step", ["forward", "approve", "reject", "withdraw"])
def test_steps_anonymous_norole_and_out_of_scope_change_nothing(org, step):
    req = file_request(org)
    response = org.web(None).post(_step_page(req, step), {"reason": "x"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert org.web("norole").post(_step_page(req, step), {"reason": "x"}).status_code == 403
    assert org.web("south_staff").post(_step_page(req, step), {"reason": "x"}).status_code == 404
    assert org.api(None).post(_step_api(req, step), {"reason": "x"}).status_code in (401, 403)
    assert org.api("norole").post(_step_api(req, step), {"reason": "x"}).status_code == 403
    assert org.api("south_staff").post(_step_api(req, step), {"reason": "x"}).status_code == 404
    req.refresh_from_db()
    assert req.status == AccessRequest.Status.SUBMITTED


def test_step_page_get_not_allowed_and_unknown_step_404(org):
    req = file_request(org)
    assert org.web("marketing").get(_step_page(req, "forward")).status_code == 405
    assert org.web("marketing").post(_step_page(req, "delete")).status_code == 404


def test_step_refused_by_role_is_403_and_a_refused_step_400_in_the_api_and_pages(org):
    """design.md: 403 for a missing role, 400 for a refused step (with its message), the same in
    the API and on the pages; neither changes anything."""
    req = file_request(org)
    # A missing role: the auditor forwarding, the requester approving their own request, a leader
    # rejecting at review (group marketing's step).
    for user, step, message in (
        ("auditor", "forward", "只有集团市场营销部"),
        ("east_staff", "approve", "只有集团领导"),
        ("leader", "reject", "只能由集团市场营销部驳回"),
    ):
        response = org.web(user).post(_step_page(req, step), {"reason": "不同意"})
        assert response.status_code == 403 and message in response.content.decode(), (user, step)
        response = org.api(user).post(_step_api(req, step), {"reason": "不同意"}, format="json")
        assert response.status_code == 403 and message in str(response.json()), (user, step)
        with pytest.raises(PermissionDenied, match=message):
            call = {"forward": svc.access_request_forward, "approve": svc.access_request_approve}.get(step)
            if call:
                call(access_request=req, by=org[user])
            else:
                svc.access_request_reject(access_request=req, by=org[user], reason="不同意")
    # A refused step: the leader's role is right, the request is not yet forwarded; marketing
    # rejects without a reason.
    response = org.api("leader").post(_step_api(req, "approve"), {}, format="json")
    assert response.status_code == 400 and "已通过市场营销部审核" in str(response.json())
    response = org.web("leader").post(_step_page(req, "approve"), follow=True)
    assert response.status_code == 200 and "已通过市场营销部审核" in response.content.decode()
    response = org.api("marketing").post(_step_api(req, "reject"), {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    with pytest.raises(ValidationError, match="已通过市场营销部审核"):
        svc.access_request_approve(access_request=req, by=org["leader"])
    req.refresh_from_db()
    assert req.status == AccessRequest.Status.SUBMITTED
    # The requester withdrawing is their step; another person of the branch lacks the right.
    response = org.api("east_manager").post(_step_api(req, "withdraw"), {}, format="json")
    assert response.status_code == 403 and "申请人本人" in str(response.json())
    req.refresh_from_db()
    assert req.status == AccessRequest.Status.SUBMITTED


# -- other pages ---------------------------------------------------------------------------------

BRANCH_ONLY_PAGES = [
    "clients:access-request-create",
    "clients:access-request-targets",
    "clients:access-grant-list",
]


@pytest.mark.parametrize("route", BRANCH_ONLY_PAGES)
def test_branch_user_pages(org, route):
    url = reverse(route)
    response = org.web(None).get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert org.web("norole").get(url).status_code == 403
    assert org.web("south_staff").get(url).status_code == 200
    assert org.web("east_manager").get(url).status_code == 200
    for reader in ("marketing", "leader", "auditor"):
        assert org.web(reader).get(url).status_code == 403, reader


@pytest.mark.parametrize(
    "route,allowed",
    [("clients:access-request-review", "marketing"), ("clients:access-request-approval", "leader")],
)
def test_queues(org, route, allowed):
    url = reverse(route)
    assert org.web(None).get(url).status_code == 302
    for persona in ("norole", "east_staff", "east_manager", "auditor"):
        assert org.web(persona).get(url).status_code == 403, persona
    assert org.web(allowed).get(url).status_code == 200


def test_my_grants_lists_only_own(org):
    east_client = ClientFactory(branch=org.branches["east"], owner=org["east_staff"])
    mine = make_grant(org, org["south_staff"], east_client, active=True)
    theirs = make_grant(org, org["south_manager"], east_client, active=True)
    page = org.web("south_staff").get(reverse("clients:access-grant-list")).context["page"]
    assert mine in page.object_list and theirs not in page.object_list


# -- the access log (R4) ---------------------------------------------------------------------


def _log(org):
    east_client = ClientFactory(branch=org.branches["east"], owner=org["east_staff"])
    grant = make_grant(org, org["south_staff"], east_client, active=True)
    return AccessLog.objects.create(
        user=org["south_staff"],
        user_branch=org.branches["south"],
        client=east_client,
        grant=grant,
        via="page",
    )


def test_access_log_page_and_api_only_for_marketing_and_auditors(org):
    row = _log(org)
    page = reverse("clients:access-log-list")
    api_list = reverse("access-log-list")
    api_detail = reverse("access-log-detail", kwargs={"pk": row.pk})
    response = org.web(None).get(page)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert org.api(None).get(api_list).status_code in (401, 403)
    for persona in ("norole", "east_staff", "south_staff", "east_manager", "leader"):
        assert org.web(persona).get(page).status_code == 403, persona
        assert org.api(persona).get(api_list).status_code == 403, persona
        assert org.api(persona).get(api_detail).status_code == 403, persona
    for reader in ("marketing", "auditor"):
        response = org.web(reader).get(page)
        assert response.status_code == 200 and row in response.context["page"].object_list
        assert [r["id"] for r in org.api(reader).get(api_list).json()["results"]] == [row.pk]
        assert org.api(reader).get(api_detail).json()["client"] == row.client_id


def test_nobody_edits_the_log_ui_api_admin(org):
    row = _log(org)
    before = AccessLog.objects.filter(pk=row.pk).values().get()
    api_detail = reverse("access-log-detail", kwargs={"pk": row.pk})
    for persona in ("marketing", "auditor", "admin"):
        api = org.api(persona)
        assert api.patch(api_detail, {"via": "api"}, format="json").status_code in (403, 405)
        assert api.put(api_detail, {"via": "api"}, format="json").status_code in (403, 405)
        assert api.delete(api_detail).status_code in (403, 405)
        assert api.post(reverse("access-log-list"), {"client": row.client_id}, format="json").status_code in (
            403,
            405,
        )
    # The admin is read-only even for a superuser.
    from crm.models import User

    root = User.objects.create_superuser("root", password="x-pass-2026")
    web = org.web(None)
    web.force_login(root)
    change = reverse("admin:clients_accesslog_change", args=[row.pk])
    assert web.get(change).status_code == 200  # view only
    assert web.post(change, {"via": "api"}).status_code == 403
    assert (
        web.post(reverse("admin:clients_accesslog_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    )
    assert web.get(reverse("admin:clients_accesslog_add")).status_code == 403
    assert AccessLog.objects.filter(pk=row.pk).values().get() == before


# -- transfers -------------------------------------------------------------------------------


def test_transfer_routes_marketing_only(org):
    client = ClientFactory(branch=org.branches["east"], owner=org["east_staff"])
    page = reverse("clients:client-transfer", kwargs={"pk": client.pk})
    search = reverse("clients:client-transfer-search")
    api = reverse("client-transfer-list")
    payload = {"client": client.pk, "to_branch": org.branches["south"].pk, "reason": "属地调整"}
    for url in (page, search):
        response = org.web(None).get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert org.api(None).post(api, payload, format="json").status_code in (401, 403)
    for persona in ("norole", "east_staff", "east_manager", "south_staff", "leader", "auditor"):
        assert org.web(persona).get(page).status_code == 403, persona
        assert (
            org.web(persona).post(page, {"to_branch": payload["to_branch"], "reason": "x"}).status_code == 403
        )
        assert org.web(persona).get(search).status_code == 403, persona
        assert org.api(persona).post(api, payload, format="json").status_code == 403, persona
    client.refresh_from_db()
    assert client.branch == org.branches["east"]
    assert org.web("marketing").get(page).status_code == 200
    assert (
        org.web("marketing").get(reverse("clients:client-transfer", kwargs={"pk": 999999})).status_code == 404
    )
    response = org.web("marketing").get(search, {"q": client.name[:6]})
    assert client in response.context["rows"]


ROUTES_COVERED = [
    *STEP_ROUTES,
    *BRANCH_ONLY_PAGES,
    "clients:access-request-review",
    "clients:access-request-approval",
    "clients:access-log-list",
    "access-log-list",
    "access-log-detail",
    "clients:client-transfer",
    "clients:client-transfer-search",
    "client-transfer-list",
    "client-transfer-detail",
]


def test_transfer_detail_route_is_no_way_in(org):
    """The router's detail route of client-transfers answers no GET, PATCH, PUT or DELETE."""
    client = ClientFactory(branch=org.branches["east"], owner=org["east_staff"])
    before = Client.objects.filter(pk=client.pk).values().get()
    url = reverse("client-transfer-detail", kwargs={"pk": client.pk})
    assert org.api(None).get(url).status_code in (401, 403)
    for persona in ("norole", "east_staff", "south_staff", "marketing", "leader"):
        api = org.api(persona)
        assert api.get(url).status_code in (403, 405), persona
        assert api.patch(url, {"branch": org.branches["south"].pk}, format="json").status_code in (403, 405)
        assert api.delete(url).status_code in (403, 405)
    assert Client.objects.filter(pk=client.pk).values().get() == before


def test_client_scope_unchanged_by_requests_alone(org):
    """A filed (or forwarded) request gives nothing until a leader approves it (R5)."""
    req = file_request(org, requester="south_staff", target_branch="east")
    target = req.clients.get()
    assert not Client.objects.restrict(org["south_staff"], "view").filter(pk=target.pk).exists()
    svc.access_request_forward(access_request=req, by=org["marketing"])
    assert not Client.objects.restrict(org["south_staff"], "view").filter(pk=target.pk).exists()
