"""The inherited permission matrix for complaints (style.md 10), plus the write routes:
the create form, the edit form, every step page and every API action."""

import pytest
from django.urls import reverse

from complaints.models import Complaint, Event
from tests.permissions import ObjectMatrix

from .conftest import make_client, make_complaint

STEPS = ("acknowledge", "investigate", "hand_over", "resolve", "return_visit", "close", "reopen")
API_ACTIONS = (
    "complaint-acknowledge",
    "complaint-hand-over",
    "complaint-investigate",
    "complaint-resolve",
    "complaint-return-visit",
    "complaint-close",
    "complaint-reopen",
)


class TestComplaintMatrix(ObjectMatrix):
    model = Complaint
    list_route = "complaints:complaint-list"
    detail_route = "complaints:complaint-detail"
    api_list_route = "complaint-list"
    api_detail_route = "complaint-detail"
    covers = {
        "complaints:complaint-list",
        "complaints:complaint-detail",
        "complaints:complaint-create",
        "complaints:complaint-edit",
        "complaints:complaint-step",
        "complaint-list",
        "complaint-detail",
        *API_ACTIONS,
    }

    def make(self, org, branch_code):
        return make_complaint(org, branch_code)

    # -- write pages ----------------------------------------------------------------------------
    def test_write_pages_anonymous_and_no_role(self, org):
        c = self.make(org, "east")
        urls = [
            reverse("complaints:complaint-create"),
            reverse("complaints:complaint-edit", kwargs={"pk": c.pk}),
            *[reverse("complaints:complaint-step", kwargs={"pk": c.pk, "step": s}) for s in STEPS],
        ]
        for url in urls:
            response = org.web(None).get(url)
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
            assert org.web("norole").get(url).status_code == 403, url

    def test_write_pages_own_branch(self, org):
        c = self.make(org, "east")
        web = org.web("east_staff")
        assert web.get(reverse("complaints:complaint-create")).status_code == 200
        assert web.get(reverse("complaints:complaint-edit", kwargs={"pk": c.pk})).status_code == 200
        for step in STEPS:
            assert (
                web.get(reverse("complaints:complaint-step", kwargs={"pk": c.pk, "step": step})).status_code
                == 200
            )

    def test_write_pages_other_branch_not_found_and_nothing_changed(self, org):
        c = self.make(org, "east")
        before = Complaint.objects.filter(pk=c.pk).values().get()
        web = org.web("south_manager")
        assert web.get(reverse("complaints:complaint-edit", kwargs={"pk": c.pk})).status_code == 404
        for step in STEPS:
            url = reverse("complaints:complaint-step", kwargs={"pk": c.pk, "step": step})
            assert web.get(url).status_code == 404
            assert web.post(url, {"note": "x", "reason": "x"}).status_code == 404
        assert Complaint.objects.filter(pk=c.pk).values().get() == before

    @pytest.mark.parametrize("reader", ("leader", "auditor"))
    def test_group_readers_may_not_write(self, org, reader):
        c = self.make(org, "east")
        web = org.web(reader)
        assert web.get(reverse("complaints:complaint-create")).status_code == 403
        url = reverse("complaints:complaint-step", kwargs={"pk": c.pk, "step": "acknowledge"})
        assert web.post(url, {"note": "x"}).status_code == 403
        assert Complaint.objects.get(pk=c.pk).status == "received"

    def test_marketing_may_work_any_branch(self, org):
        c = self.make(org, "south")
        url = reverse("complaints:complaint-step", kwargs={"pk": c.pk, "step": "acknowledge"})
        assert org.web("marketing").post(url, {"note": "集团督办"}).status_code == 302
        assert Complaint.objects.get(pk=c.pk).status == "acknowledged"

    def test_unknown_step_is_404(self, org):
        c = self.make(org, "east")
        url = reverse("complaints:complaint-step", kwargs={"pk": c.pk, "step": "teleport"})
        assert org.web("east_staff").get(url).status_code == 404

    # -- API actions ----------------------------------------------------------------------------
    def test_api_actions_scope_and_roles(self, org):
        c = self.make(org, "east")
        for name in API_ACTIONS:
            url = reverse(name, kwargs={"pk": c.pk})
            assert org.api(None).post(url, {}, format="json").status_code in (401, 403), name
            assert org.api("norole").post(url, {}, format="json").status_code == 403, name
            assert org.api("south_staff").post(url, {}, format="json").status_code == 404, name
            assert org.api("leader").post(url, {}, format="json").status_code == 403, name
        c.refresh_from_db()
        assert c.status == "received" and Event.objects.filter(complaint=c).count() == 1

    def test_api_create_for_client_outside_scope_is_404(self, org):
        south_client = make_client(org, "south")
        response = org.api("east_staff").post(
            reverse("complaint-list"),
            {"client": south_client.pk, "category": "billing", "content": "结算款迟迟未付"},
            format="json",
        )
        assert response.status_code == 404
        assert not Complaint.objects.exists()
