"""Permission matrices of the archive (style.md 10): Client, Contact, Project, Need, Visit and
VisitPlan, pages and API, plus every write route of the archive."""

import pytest
from django.urls import reverse

from clients.models import Client, Contact, Need, Project, Visit, VisitPlan
from tests.permissions import ObjectMatrix

from .archive_helpers import make_client, make_contact, make_need, make_plan, make_project, make_visit


class WriteRoutes:
    """Write pages of a model: anonymous -> login, no role -> 403, own branch -> 200, other
    branch -> 404 and nothing changed, group readers -> 403."""

    write_routes: tuple = ()  # (route name, "client" | "self")

    def _write_urls(self, obj):
        urls = []
        for name, target in self.write_routes:
            pk = self.client_of(obj).pk if target == "client" else obj.pk
            urls.append(reverse(name, kwargs={"pk": pk}))
        return urls

    def test_write_pages_anonymous_and_no_role(self, org):
        obj = self.make(org, "east")
        for url in self._write_urls(obj):
            response = org.web(None).get(url)
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
            assert org.web("norole").get(url).status_code == 403, url

    def test_write_pages_own_branch(self, org):
        obj = self.make(org, "east")
        for url in self._write_urls(obj):
            assert org.web("east_staff").get(url).status_code == 200, url

    def test_write_pages_other_branch_not_found_nothing_changed(self, org):
        obj = self.make(org, "east")
        before = self.model.objects.filter(pk=obj.pk).values().get()
        for url in self._write_urls(obj):
            assert org.web("south_manager").get(url).status_code == 404, url
            assert (
                org.web("south_manager").post(url, {"name": "篡改", "description": "篡改"}).status_code == 404
            )
        assert self.model.objects.filter(pk=obj.pk).values().get() == before

    @pytest.mark.parametrize("reader", ("leader", "auditor"))
    def test_write_pages_group_readers_forbidden(self, org, reader):
        obj = self.make(org, "east")
        for url in self._write_urls(obj):
            assert org.web(reader).get(url).status_code == 403, url


class TestClientMatrix(WriteRoutes, ObjectMatrix):
    model = Client
    list_route = "clients:client-list"
    detail_route = "clients:client-detail"
    api_list_route = "client-list"
    api_detail_route = "client-detail"
    write_routes = (
        ("clients:client-edit", "self"),
        ("clients:contact-add", "client"),
        ("clients:visit-add", "client"),
        ("clients:need-add", "client"),
        ("clients:project-create", "client"),
        ("clients:visit-plan-edit", "client"),
    )
    covers = {
        "clients:client-list",
        "clients:client-detail",
        "clients:client-export",
        "clients:client-create",
        "clients:client-edit",
        "clients:client-set-grade",
        "clients:contact-add",
        "clients:visit-add",
        "clients:need-add",
        "clients:project-create",
        "clients:visit-plan-edit",
        "client-list",
        "client-detail",
        "client-set-grade",
    }

    def make(self, org, branch_code):
        return make_client(org, branch_code)

    def test_create_page(self, org):
        url = reverse("clients:client-create")
        assert org.web(None).get(url).status_code == 302
        assert org.web("norole").get(url).status_code == 403
        assert org.web("leader").get(url).status_code == 403
        assert org.web("east_staff").get(url).status_code == 200

    def test_export_scope(self, org):
        from io import BytesIO

        from openpyxl import load_workbook

        own = self.make(org, "east")
        other = self.make(org, "south")
        url = reverse("clients:client-export")
        assert org.web(None).get(url).status_code == 302
        assert org.web("norole").get(url).status_code == 403
        names = [
            r[1]
            for r in load_workbook(BytesIO(org.web("east_staff").get(url).getvalue())).active.iter_rows(
                min_row=2, values_only=True
            )
        ]
        assert own.name in names and other.name not in names

    def test_set_grade_page(self, org):
        c = self.make(org, "east")
        url = reverse("clients:client-set-grade", kwargs={"pk": c.pk})
        assert org.web(None).get(url).status_code == 302
        assert org.web("norole").get(url).status_code == 403
        assert org.web("east_staff").get(url).status_code == 403  # staff may not grade (R7)
        assert org.web("south_manager").get(url).status_code == 404
        assert org.web("leader").get(url).status_code == 403
        assert org.web("east_manager").get(url).status_code == 200
        assert org.web("marketing").get(url).status_code == 200

    def test_api_set_grade_scope(self, org):
        c = self.make(org, "east")
        url = reverse("client-set-grade", kwargs={"pk": c.pk})
        payload = {"grade": "A", "reason": "重点客户"}
        assert org.api(None).post(url, payload).status_code in (401, 403)
        assert org.api("norole").post(url, payload).status_code == 403
        assert org.api("south_manager").post(url, payload).status_code == 404
        assert org.api("east_staff").post(url, payload).status_code == 403
        assert org.api("leader").post(url, payload).status_code == 403
        c.refresh_from_db()
        assert c.grade == "C"


class TestContactMatrix(WriteRoutes, ObjectMatrix):
    model = Contact
    api_list_route = "contact-list"
    api_detail_route = "contact-detail"
    write_routes = (("clients:contact-edit", "self"),)
    covers = {"clients:contact-edit", "contact-list", "contact-detail"}

    def make(self, org, branch_code):
        return make_contact(org, branch_code)


class TestProjectMatrix(WriteRoutes, ObjectMatrix):
    model = Project
    api_list_route = "project-list"
    api_detail_route = "project-detail"
    write_routes = (("clients:project-edit", "self"),)
    covers = {"clients:project-edit", "project-list", "project-detail"}

    def make(self, org, branch_code):
        return make_project(org, branch_code)


class TestNeedMatrix(WriteRoutes, ObjectMatrix):
    model = Need
    list_route = "clients:need-list"
    detail_route = "clients:need-detail"
    api_list_route = "need-list"
    api_detail_route = "need-detail"
    write_routes = (("clients:need-edit", "self"), ("clients:need-respond", "self"))
    covers = {
        "clients:need-list",
        "clients:need-export",
        "clients:need-edit",
        "clients:need-respond",
        "need-list",
        "need-detail",
        "need-respond",
        "need-close",
        # R48: the need's page and its rating steps (tests/clients/test_need_rating.py)
        "clients:need-detail",
        "clients:need-rate",
        "clients:need-rating-link",
        "need-rate",
        "need-rating-link",
    }

    def make(self, org, branch_code):
        return make_need(org, branch_code)

    def test_step_pages_scope(self, org):
        """The need page's steps (POST only): a missing role 403, out of scope 404, readers 403."""
        need = self.make(org, "east")
        before = Need.objects.filter(pk=need.pk).values().get()
        for name in ("clients:need-rate", "clients:need-rating-link"):
            url = reverse(name, kwargs={"pk": need.pk})
            assert org.web(None).post(url, {}).status_code == 302, url
            assert org.web("norole").post(url, {}).status_code == 403, url
            assert org.web("south_staff").post(url, {"rating": "satisfied"}).status_code == 404, url
            assert org.web("leader").post(url, {"rating": "satisfied", "days": 5}).status_code == 403, url
        assert Need.objects.filter(pk=need.pk).values().get() == before

    def test_export_scope(self, org):
        self.make(org, "east")
        url = reverse("clients:need-export")
        assert org.web("norole").get(url).status_code == 403
        assert org.web("east_staff").get(url).status_code == 200

    def test_api_steps_scope(self, org):
        need = self.make(org, "east")
        for name in ("need-respond", "need-close", "need-rate", "need-rating-link"):
            url = reverse(name, kwargs={"pk": need.pk})
            assert org.api("norole").post(url, {}).status_code == 403
            assert org.api("south_staff").post(url, {}).status_code == 404
            assert org.api("leader").post(url, {}).status_code == 403
        need.refresh_from_db()
        assert need.responded_at is None


class TestVisitMatrix(WriteRoutes, ObjectMatrix):
    model = Visit
    api_list_route = "visit-list"
    api_detail_route = "visit-detail"
    write_routes = (("clients:visit-edit", "self"),)
    covers = {"clients:visit-edit", "visit-list", "visit-detail"}

    def make(self, org, branch_code):
        return make_visit(org, branch_code)


class TestVisitPlanMatrix(ObjectMatrix):
    model = VisitPlan
    list_route = "clients:visit-overdue-list"
    api_list_route = "visitplan-list"
    api_detail_route = "visitplan-detail"
    covers = {"clients:visit-overdue-list", "visitplan-list", "visitplan-detail"}

    def make(self, org, branch_code):
        return make_plan(org, branch_code, overdue=True)
