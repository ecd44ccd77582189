"""Permission matrix of design fees and on-site service (style.md 10; R56-R60): the project
page, the unsettled list, the collection, settle, reverse and site-service pages and the API,
for every role: a branch's staff and manager (their branch), another branch's staff (404, not
listed), group marketing, leaders and auditors (every branch, read only), nobody without a role
(403), anonymous."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from clients.models import FeeCollection, Project, SiteService
from clients.projects import services as fees
from tests.assessments.helpers import at
from tests.permissions import ObjectMatrix

from .archive_helpers import make_client
from .factories import ProjectFactory

pytestmark = pytest.mark.django_db

NOW = at("2026-06-10T10:00")

ROUTES_COVERED = [
    "clients:project-unsettled",
    "clients:fee-collection-add",
    "clients:fee-collection-reverse",
    "clients:project-settle",
    "clients:site-service-add",
    "fee-collection-reverse",
    "project-settle",
]


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def completed_project(org, branch_code="east", **kw) -> Project:
    return ProjectFactory(
        client=make_client(org, branch_code),
        phase=kw.pop("phase", "completed"),
        signed_on=dt.date(2025, 1, 10),
        started_on=dt.date(2025, 2, 1),
        completed_on=kw.pop("completed_on", dt.date(2026, 3, 1)),
        design_fee=Decimal("100000"),
        **kw,
    )


def collection(org, branch_code="east") -> FeeCollection:
    p = completed_project(org, branch_code)
    return fees.fee_collection_record(
        project=p, by=org[f"{branch_code}_staff"], amount=Decimal("1000"), collected_on=dt.date(2026, 5, 1)
    )


def site_service(org, branch_code="east") -> SiteService:
    p = completed_project(org, branch_code, phase="construction", completed_on=None)
    return fees.site_service_save(
        service=SiteService(project=p, served_on=dt.date(2026, 6, 1), our_people="张工", problem="管线碰撞"),
        by=org[f"{branch_code}_staff"],
    )


class TestProjectPageMatrix(ObjectMatrix):
    """The project page (its fee and site services) follows the project's scope (R2-R5)."""

    model = Project
    detail_route = "clients:project-detail"
    covers = {"clients:project-detail"}

    def make(self, org, branch_code):
        return completed_project(org, branch_code)


class TestFeeCollectionMatrix(ObjectMatrix):
    model = FeeCollection
    api_list_route = "fee-collection-list"
    api_detail_route = "fee-collection-detail"
    covers = {"fee-collection-list", "fee-collection-detail"}

    def make(self, org, branch_code):
        return collection(org, branch_code)

    def client_of(self, obj):
        return obj.project.client


class TestSiteServiceMatrix(ObjectMatrix):
    model = SiteService
    detail_route = "clients:site-service-edit"
    api_list_route = "site-service-list"
    api_detail_route = "site-service-detail"
    grants_apply = False  # the edit page needs the change right: a grant reads, never edits
    covers = {"clients:site-service-edit", "site-service-list", "site-service-detail"}

    def make(self, org, branch_code):
        return site_service(org, branch_code)

    @pytest.mark.parametrize("reader", ("leader", "auditor"))
    def test_page_group_roles_see(self, org, reader):
        """The edit page is a write page: group readers are refused (R3), nothing changes."""
        obj = self.make(org, "east")
        url = reverse(self.detail_route, kwargs={"pk": obj.pk})
        assert org.web(reader).get(url).status_code == 403
        assert org.web("marketing").get(url).status_code == 200


@pytest.mark.parametrize(
    "persona,expected,listed",
    [
        (None, 302, False),
        ("norole", 403, False),
        ("east_staff", 200, True),
        ("east_manager", 200, True),
        ("south_staff", 200, False),
        ("marketing", 200, True),
        ("leader", 200, True),
        ("auditor", 200, True),
    ],
)
def test_the_unsettled_list(org, persona, expected, listed):
    """R59: the list goes through restrict(): a branch's people their branch's, group roles all."""
    p = completed_project(org)
    response = org.web(persona).get(reverse("clients:project-unsettled"))
    assert response.status_code == expected
    if expected == 200:
        assert (p in response.context["page"].object_list) == listed
        export = org.web(persona).get(reverse("clients:project-unsettled"), {"export": "xlsx"})
        assert export.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
        names = {row[0] for row in sheet.iter_rows(values_only=True)}
        assert (p.name in names) == listed


WRITES = {
    # route: (make, payload, page status per persona, whether the persona's POST changes things)
    "clients:fee-collection-add": {"amount": "500", "collected_on": "2026-06-01"},
    "clients:site-service-add": {
        "served_on": "2026-06-01",
        "our_people": "张工",
        "problem": "漏埋",
        "status": "open",
    },
    "clients:project-settle": {"note": "协商结清"},
}


def _state():
    return (
        FeeCollection.objects.count(),
        SiteService.objects.count(),
        list(Project.objects.values_list("fee_settlement", "version")),
    )


@pytest.mark.parametrize("route", list(WRITES))
@pytest.mark.parametrize(
    "persona,expected",
    [
        (None, 302),
        ("norole", 403),
        ("south_staff", 404),
        ("south_manager", 404),
        ("leader", 403),
        ("auditor", 403),
    ],
)
def test_write_pages_refused_change_nothing(org, route, persona, expected):
    p = completed_project(org, phase="after_service")
    url = reverse(route, kwargs={"pk": p.pk})
    before = _state()
    assert org.web(persona).get(url).status_code == expected
    assert org.web(persona).post(url, WRITES[route]).status_code == expected
    assert _state() == before


@pytest.mark.parametrize(
    "route,persona,expected",
    [
        ("clients:fee-collection-add", "east_staff", 302),
        ("clients:fee-collection-add", "marketing", 302),
        ("clients:site-service-add", "east_staff", 302),
        ("clients:site-service-add", "marketing", 302),
        ("clients:project-settle", "east_manager", 302),
        ("clients:project-settle", "east_staff", 403),
        ("clients:project-settle", "marketing", 403),
    ],
)
def test_write_pages_allowed(org, route, persona, expected):
    """R57, R60: the branch and group marketing record; R58: only the branch manager settles."""
    p = completed_project(org, phase="after_service")
    before = _state()
    response = org.web(persona).post(reverse(route, kwargs={"pk": p.pk}), WRITES[route])
    assert response.status_code == expected
    assert (_state() != before) == (expected == 302)


@pytest.mark.parametrize(
    "persona,page,api",
    [
        (None, 302, 401),
        ("norole", 403, 403),
        ("east_staff", 403, 403),
        ("south_manager", 404, 404),
        ("marketing", 403, 403),
        ("leader", 403, 403),
        ("auditor", 403, 403),
    ],
)
def test_reverse_refused_changes_nothing(org, persona, page, api):
    """R57: only the manager of the project's branch reverses a collection."""
    row = collection(org)
    before = FeeCollection.objects.count()
    assert (
        org.web(persona)
        .post(reverse("clients:fee-collection-reverse", args=[row.pk]), {"reason": "错"})
        .status_code
        == page
    )
    url = reverse("fee-collection-reverse", args=[row.pk])
    assert org.api(persona).post(url, {"reason": "错"}, format="json").status_code == api
    assert FeeCollection.objects.count() == before
    assert org.api("east_manager").post(url, {"reason": "错"}, format="json").status_code == 201


@pytest.mark.parametrize(
    "persona,api",
    [
        (None, 401),
        ("norole", 403),
        ("east_staff", 403),
        ("south_manager", 404),
        ("marketing", 403),
        ("leader", 403),
    ],
)
def test_settle_api_refused_changes_nothing(org, persona, api):
    p = completed_project(org)
    before = Project.objects.filter(pk=p.pk).values().get()
    url = reverse("project-settle", args=[p.pk])
    assert org.api(persona).post(url, {"note": "协商"}, format="json").status_code == api
    assert Project.objects.filter(pk=p.pk).values().get() == before
