"""The inherited permission matrix for warranty repairs (style.md 10), plus the write routes:
the receive form, the edit form, every step page and every API action (R94-R101)."""

import datetime as dt

import pytest
from django.urls import reverse

from complaints.repairs import services
from complaints.repairs.models import RepairEvent, RepairRequest
from tests.clients.factories import ProjectFactory
from tests.permissions import ObjectMatrix

from .conftest import make_client

STEPS = ("register", "dispatch", "complete", "close", "return_visit", "reopen", "complaint")
API_ACTIONS = (
    "repair-register",
    "repair-dispatch",
    "repair-complete",
    "repair-close",
    "repair-return-visit",
    "repair-reopen",
    "repair-complaint",
)


def make_repair(org, branch_code="east"):
    client = make_client(org, branch_code)
    project = ProjectFactory(
        client=client, completed_on=dt.date(2025, 6, 1), warranty_ends_on=dt.date(2027, 6, 1)
    )
    return services.repair_receive(
        by=org[f"{branch_code}_staff"], project=project, reporter="业主李女士", part="floors_roofs",
        location="1号楼顶层", description="屋面渗漏,顶棚发霉。",
    )  # fmt: skip


class TestRepairMatrix(ObjectMatrix):
    model = RepairRequest
    list_route = "complaints:repair-list"
    detail_route = "complaints:repair-detail"
    api_list_route = "repair-list"
    api_detail_route = "repair-detail"
    covers = {
        "complaints:repair-list",
        "complaints:repair-detail",
        "complaints:repair-create",
        "complaints:repair-edit",
        "complaints:repair-step",
        "repair-list",
        "repair-detail",
        *API_ACTIONS,
    }

    def make(self, org, branch_code):
        return make_repair(org, branch_code)

    def test_write_pages_anonymous_and_no_role(self, org):
        r = self.make(org, "east")
        urls = [
            reverse("complaints:repair-create"),
            reverse("complaints:repair-edit", kwargs={"pk": r.pk}),
            *[reverse("complaints:repair-step", kwargs={"pk": r.pk, "step": s}) for s in STEPS],
        ]
        for url in urls:
            response = org.web(None).get(url)
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
            assert org.web("norole").get(url).status_code == 403, url

    def test_write_pages_own_branch(self, org):
        r = self.make(org, "east")
        web = org.web("east_staff")
        assert web.get(reverse("complaints:repair-create")).status_code == 200
        assert web.get(reverse("complaints:repair-edit", kwargs={"pk": r.pk})).status_code == 200
        for step in STEPS:
            assert (
                web.get(reverse("complaints:repair-step", kwargs={"pk": r.pk, "step": step})).status_code
                == 200
            )

    def test_write_pages_other_branch_not_found_and_nothing_changed(self, org):
        r = self.make(org, "east")
        before = RepairRequest.objects.filter(pk=r.pk).values().get()
        web = org.web("south_manager")
        assert web.get(reverse("complaints:repair-edit", kwargs={"pk": r.pk})).status_code == 404
        for step in STEPS:
            url = reverse("complaints:repair-step", kwargs={"pk": r.pk, "step": step})
            assert web.get(url).status_code == 404
            assert web.post(url, {"note": "x", "team": "x", "reason": "x"}).status_code == 404
        assert RepairRequest.objects.filter(pk=r.pk).values().get() == before

    @pytest.mark.parametrize("reader", ("leader", "auditor"))
    def test_group_readers_may_not_write(self, org, reader):
        r = self.make(org, "east")
        web = org.web(reader)
        assert web.get(reverse("complaints:repair-create")).status_code == 403
        url = reverse("complaints:repair-step", kwargs={"pk": r.pk, "step": "register"})
        assert web.post(url, {"note": "x"}).status_code == 403
        assert RepairRequest.objects.get(pk=r.pk).status == "received"

    def test_marketing_may_work_any_branch(self, org):
        r = self.make(org, "south")
        url = reverse("complaints:repair-step", kwargs={"pk": r.pk, "step": "register"})
        assert org.web("marketing").post(url, {"note": "集团督办"}).status_code == 302
        assert RepairRequest.objects.get(pk=r.pk).status == "registered"

    def test_unknown_step_is_404(self, org):
        r = self.make(org, "east")
        url = reverse("complaints:repair-step", kwargs={"pk": r.pk, "step": "teleport"})
        assert org.web("east_staff").get(url).status_code == 404

    def test_the_receive_form_offers_only_projects_in_scope(self, org):
        own, other = self.make(org, "east"), self.make(org, "south")
        response = org.web("east_staff").get(reverse("complaints:repair-create"))
        projects = response.context["form"].fields["project"].queryset
        assert own.project in projects and other.project not in projects
        response = org.web("east_staff").post(
            reverse("complaints:repair-create"),
            {"project": other.project.pk, "reporter": "x", "part": "other", "location": "x", "description": "x",
             "channel": "phone", "received_at": "2026-11-02T09:00"},
        )  # fmt: skip
        assert response.status_code == 200 and "project" in response.context["form"].errors
        assert RepairRequest.objects.count() == 2

    def test_api_actions_scope_and_roles(self, org):
        r = self.make(org, "east")
        for name in API_ACTIONS:
            url = reverse(name, kwargs={"pk": r.pk})
            assert org.api(None).post(url, {}, format="json").status_code in (401, 403), name
            assert org.api("norole").post(url, {}, format="json").status_code == 403, name
            assert org.api("south_staff").post(url, {}, format="json").status_code == 404, name
            assert org.api("leader").post(url, {}, format="json").status_code == 403, name
        r.refresh_from_db()
        assert r.status == "received" and RepairEvent.objects.filter(repair=r).count() == 1

    def test_api_create_for_a_project_outside_scope_is_404(self, org):
        other = self.make(org, "south")
        response = org.api("east_staff").post(
            reverse("repair-list"),
            {
                "project": other.project.pk,
                "reporter": "x",
                "part": "other",
                "location": "x",
                "description": "x",
            },
            format="json",
        )
        assert response.status_code == 404
        assert RepairRequest.objects.count() == 1
