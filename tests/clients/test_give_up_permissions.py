"""Permission matrix of giving up (style.md 10; R37-R40): the list, the record, the proposal
page, the step route and the API, for every role: a branch's staff and manager (their branch),
another branch's staff (404, not listed), group marketing, leaders and auditors (every branch,
read only), nobody without a role (403), anonymous, and a branch under an archive suspension
(R33: only the clients its people own)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from clients.giveups import services as give_ups
from clients.models import GiveUp, Tracking
from crm.models import Suspension
from tests.assessments.helpers import at
from tests.permissions import ObjectMatrix

from .archive_helpers import make_client

pytestmark = pytest.mark.django_db

NOW = at("2026-06-10T10:00")

ROUTES_COVERED = [
    "clients:give-up-create",
    "clients:give-up-step",
    "give-up-confirm",
    "give-up-reject",
    "give-up-resume",
]


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def proposal(org, branch_code="east", **kw) -> GiveUp:
    client = make_client(org, branch_code, grade="C", **kw)
    return give_ups.giveup_propose(client=client, by=org[f"{branch_code}_staff"], reason="no_prospect")


class TestGiveUpMatrix(ObjectMatrix):
    model = GiveUp
    list_route = "clients:give-up-list"
    detail_route = "clients:give-up-detail"
    api_list_route = "give-up-list"
    api_detail_route = "give-up-detail"
    covers = {"clients:give-up-list", "clients:give-up-detail", "give-up-list", "give-up-detail"}

    def make(self, org, branch_code):
        return proposal(org, branch_code)


@pytest.mark.parametrize(
    "persona,expected",
    [
        (None, 302),
        ("norole", 403),
        ("east_staff", 200),
        ("east_manager", 200),
        ("south_staff", 404),
        ("marketing", 403),
        ("leader", 403),
        ("auditor", 403),
    ],
)
def test_the_proposal_page(org, persona, expected):
    client = make_client(org, "east", grade="C")
    url = reverse("clients:give-up-create", kwargs={"pk": client.pk})
    response = org.web(persona).get(url)
    assert response.status_code == expected, persona
    response = org.web(persona).post(url, {"reason": "no_prospect"})
    assert response.status_code == (302 if persona in ("east_staff", "east_manager") else expected)
    client.refresh_from_db()
    assert (client.tracking == Tracking.PROPOSED) == (persona in ("east_staff", "east_manager"))


STEPS = {"confirm": {"note": "同意"}, "reject": {"reason": "不同意"}, "resume": {"reason": "重新跟踪"}}


@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize(
    "persona,page,api",
    [
        (None, 302, 401),
        ("norole", 403, 403),
        ("east_staff", 403, 403),
        ("south_staff", 404, 404),
        ("south_manager", 404, 404),
        ("marketing", 403, 403),
        ("leader", 403, 403),
        ("auditor", 403, 403),
    ],
)
def test_steps_refused_change_nothing(org, step, persona, page, api):
    give_up = proposal(org)
    if step == "resume":
        give_up = give_ups.giveup_confirm(give_up=give_up, by=org["east_manager"])
    before = GiveUp.objects.filter(pk=give_up.pk).values().get()
    url = reverse("clients:give-up-step", kwargs={"pk": give_up.pk, "step": step})
    assert org.web(persona).post(url, STEPS[step]).status_code == page
    api_url = reverse(f"give-up-{step}", kwargs={"pk": give_up.pk})
    assert org.api(persona).post(api_url, STEPS[step], format="json").status_code == api
    assert GiveUp.objects.filter(pk=give_up.pk).values().get() == before


@pytest.mark.parametrize("step", list(STEPS))
def test_the_branch_manager_takes_each_step(org, step):
    give_up = proposal(org)
    if step == "resume":
        give_up = give_ups.giveup_confirm(give_up=give_up, by=org["east_manager"])
    url = reverse("clients:give-up-step", kwargs={"pk": give_up.pk, "step": step})
    assert org.web("east_manager").post(url, STEPS[step]).status_code == 302
    give_up.refresh_from_db()
    assert give_up.status == {"confirm": "given_up", "reject": "rejected", "resume": "resumed"}[step]


def test_step_page_get_not_allowed_and_unknown_step_404(org):
    give_up = proposal(org)
    assert (
        org.web("east_manager").get(reverse("clients:give-up-step", args=[give_up.pk, "confirm"])).status_code
        == 405
    )
    assert (
        org.web("east_manager").post(reverse("clients:give-up-step", args=[give_up.pk, "delete"])).status_code
        == 404
    )


@pytest.mark.parametrize("persona", ["marketing", "leader", "auditor"])
def test_group_roles_read_every_branch_and_export(org, persona):
    east, south = proposal(org, "east"), proposal(org, "south")
    response = org.web(persona).get(reverse("clients:give-up-list"))
    assert {east, south} <= set(response.context["page"].object_list)
    assert org.web(persona).get(reverse("clients:give-up-list"), {"export": "xlsx"}).status_code == 200
    ids = {row["id"] for row in org.api(persona).get(reverse("give-up-list")).json()["results"]}
    assert {east.pk, south.pk} <= ids


def test_another_branchs_export_leaves_the_row_out(org):
    import io

    import openpyxl

    east = proposal(org, "east")
    response = org.web("south_staff").get(reverse("clients:give-up-list"), {"export": "xlsx"})
    names = [
        r[0] for r in openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
    ]
    assert east.client.name not in names


def test_a_suspended_branch_sees_only_the_clients_its_people_own(org):
    """R33: under an archive suspension the branch's people keep what they own, nothing else."""
    own = proposal(org, "east", owner=org["east_staff"])
    other = proposal(org, "east", owner=org["east_manager"])
    Suspension.objects.create(
        branch=org.branches["east"],
        kind=Suspension.Kind.ARCHIVE,
        reason="2026H1 考核结果为“差”",
        ends_at=timezone.now() + dt.timedelta(days=20),
    )
    listed = set(org.web("east_staff").get(reverse("clients:give-up-list")).context["page"].object_list)
    assert own in listed and other not in listed
    assert org.web("east_staff").get(reverse("clients:give-up-detail", args=[other.pk])).status_code == 404
    assert org.api("east_staff").get(reverse("give-up-detail", args=[other.pk])).status_code == 404
    # The manager does not own ``own``'s client: the step on it is out of their scope now.
    url = reverse("clients:give-up-step", kwargs={"pk": own.pk, "step": "confirm"})
    assert org.web("east_manager").post(url).status_code == 404
