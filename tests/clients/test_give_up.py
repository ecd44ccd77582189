"""Giving up on a C client (放弃跟踪, seed 001; R37-R40): who proposes and who decides, only C
clients, every step in the history of the give-up and of the client, what a given-up client
leaves (the needs-collection and visit-overdue flags, lists, home panel and figures: R38) and
what it keeps (the archive, its search, its history, the export), resuming, the end a grade of
A or B brings (R39), the API's steps and their races (409), the list and its export (R40), and
the stages' second names (R41). The clock is fixed: nothing depends on today."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from clients import selectors, services
from clients.giveups import services as give_ups
from clients.home_panels import overdue_visits_panel
from clients.models import Client, GiveUp, Tracking, VisitPlan
from crm import figures as fig
from crm.models import Notification
from tests.assessments.helpers import at

from .archive_helpers import make_client

pytestmark = pytest.mark.django_db

NOW = at("2026-06-10T10:00")


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def c_client_with_overdue_plan(org, **kw) -> Client:
    """A C client under observation (R13: the only C clients with a plan) whose visit is overdue
    and whose needs collection is overdue (created long ago, never asked)."""
    client = make_client(org, "east", grade="C", under_observation=True, **kw)
    Client.objects.filter(pk=client.pk).update(created_at=NOW - dt.timedelta(days=200))
    client.refresh_from_db()
    services.visit_plan_save(
        plan=VisitPlan(
            client=client,
            frequency="monthly",
            extra_effort=True,
            next_due_on=NOW.date() - dt.timedelta(days=5),
        ),
        by=org["east_staff"],
    )
    return client


def propose(org, client, by="east_staff", reason="poor_reputation", note="拖欠工程款,口碑差") -> GiveUp:
    return give_ups.giveup_propose(client=client, by=org[by], reason=reason, note=note)


def given_up(org, client=None) -> GiveUp:
    client = client or c_client_with_overdue_plan(org)
    return give_ups.giveup_confirm(give_up=propose(org, client), by=org["east_manager"], note="同意")


# --------------------------------------------------------------------------- R37: who and which


def test_staff_propose_and_the_manager_is_told(org):
    client = make_client(org, "east", grade="C")
    give_up = propose(org, client)
    client.refresh_from_db()
    assert give_up.status == GiveUp.Status.PROPOSED and client.tracking == Tracking.PROPOSED
    assert Notification.objects.filter(recipient=org["east_manager"], verb="give_up").exists()


@pytest.mark.parametrize("grade", ["A", "B"])
def test_only_c_clients_can_be_given_up(org, grade):
    client = make_client(org, "east", grade=grade)
    with pytest.raises(ValidationError, match="只有C类客户"):
        propose(org, client)
    assert not GiveUp.objects.exists()


def test_other_needs_a_note_and_the_reason_is_one_of_the_choices(org):
    client = make_client(org, "east", grade="C")
    with pytest.raises(ValidationError) as error:
        propose(org, client, reason="other", note=" ")
    assert "note" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        propose(org, client, reason="bad_luck")
    assert "reason" in error.value.message_dict


def test_one_open_proposal_per_client(org):
    client = make_client(org, "east", grade="C")
    propose(org, client)
    with pytest.raises(ValidationError, match="待确认"):
        propose(org, client, by="east_manager")
    assert GiveUp.objects.filter(client=client).count() == 1


@pytest.mark.parametrize(
    "persona,error", [("south_staff", Http404), ("marketing", PermissionDenied), ("leader", PermissionDenied)]
)
def test_who_may_not_propose(org, persona, error):
    client = make_client(org, "east", grade="C")
    with pytest.raises(error):
        propose(org, client, by=persona)


@pytest.mark.parametrize(
    "persona,error",
    [("east_staff", PermissionDenied), ("south_manager", Http404), ("marketing", PermissionDenied)],
)
def test_only_the_branch_manager_confirms(org, persona, error):
    give_up = propose(org, make_client(org, "east", grade="C"))
    with pytest.raises(error):
        give_ups.giveup_confirm(give_up=give_up, by=org[persona])
    give_up.refresh_from_db()
    assert give_up.status == GiveUp.Status.PROPOSED


# --------------------------------------------------------------------------- R38: what it leaves


def test_confirming_leaves_every_overdue_surface_and_keeps_the_archive(org):
    client = c_client_with_overdue_plan(org)
    manager = org["east_manager"]
    assert Client.objects.filter(pk=client.pk).filter(selectors.needs_collection_overdue_q()).exists()
    assert Client.objects.filter(pk=client.pk).filter(selectors.visit_overdue_q()).exists()
    assert client.visit_plan in selectors.overdue_visit_plans(manager)
    given_up(org, client)
    client.refresh_from_db()
    assert client.tracking == Tracking.GIVEN_UP
    # The flags, the filters and the lists.
    assert not Client.objects.filter(pk=client.pk).filter(selectors.needs_collection_overdue_q()).exists()
    assert not Client.objects.filter(pk=client.pk).filter(selectors.visit_overdue_q()).exists()
    for persona in ("east_staff", "east_manager", "marketing"):
        assert not selectors.overdue_visit_plans(org[persona]).filter(client=client).exists(), persona
        panel = overdue_visits_panel(org[persona])
        assert client.name not in {item["title"] for item in panel["items"]}, persona
    for value in ("needs", "visit", "any"):
        page = org.web("east_manager").get(reverse("clients:client-list"), {"overdue": value})
        assert client not in page.context["page"].object_list, value
    assert (
        org.web("east_manager").get(reverse("clients:visit-overdue-list")).context["page"].paginator.count
        == 0
    )
    # The figures: no plan due, not overdue for its needs at the period's end.
    window = fig.Period.containing(NOW).window(branch_id=client.branch_id)
    result = fig.evaluate(manager, window, only=["needs_collection_overdue", "plans_due", "clients_given_up"])
    assert client.pk not in {row["id"] for row in result.lists["needs_collection_overdue"]}
    assert client.pk not in {row["client_id"] for row in result.lists["plans_due"]}
    assert [row["client_id"] for row in result.lists["clients_given_up"]] == [client.pk]
    # What it keeps: searchable, its page, its history, the filter of the archive.
    found = org.web("east_staff").get(reverse("clients:client-list"), {"q": client.name[:6]})
    assert client in found.context["page"].object_list
    listed = org.web("east_staff").get(reverse("clients:client-list"), {"tracking": "given_up"})
    assert list(listed.context["page"].object_list) == [client]
    page = org.web("east_staff").get(reverse("clients:client-detail", kwargs={"pk": client.pk}))
    assert page.status_code == 200 and 'data-testid="giveup-banner"' in page.content.decode()


def test_confirming_ends_the_plan_clears_observation_and_records_the_fact_with_history(org):
    client = c_client_with_overdue_plan(org)
    give_up = given_up(org, client)
    client.refresh_from_db()
    plan = VisitPlan.objects.get(client=client)
    assert not plan.is_active and plan.history.first().history_change_reason == "客户已放弃跟踪,拜访计划终止"
    assert client.poor_reputation and not client.under_observation
    reasons = list(
        give_up.history.order_by("history_id").values_list("history_change_reason", "history_user")
    )
    assert reasons == [
        ("提议放弃跟踪:信誉低:拖欠工程款,口碑差", org["east_staff"].pk),
        ("经营部负责人确认放弃跟踪", org["east_manager"].pk),
    ]
    trail = list(client.history.order_by("history_id").values_list("tracking", "history_change_reason"))
    assert trail[-2:] == [("proposed", "提议放弃跟踪"), ("given_up", "确认放弃跟踪:信誉低:拖欠工程款,口碑差")]


def test_no_plan_and_no_observation_while_given_up(org):
    client = given_up(org).client
    client.refresh_from_db()
    with pytest.raises(ValidationError, match="已放弃跟踪"):
        services.visit_plan_save(plan=VisitPlan.objects.get(client=client), by=org["east_staff"])
    with pytest.raises(ValidationError) as error:
        services.client_update(client=client, by=org["east_staff"], data={"under_observation": True})
    assert "under_observation" in error.value.message_dict


# --------------------------------------------------------------------------- reject, resume, regrade


def test_rejecting_needs_a_reason_and_keeps_tracking(org):
    client = c_client_with_overdue_plan(org)
    give_up = propose(org, client)
    with pytest.raises(ValidationError):
        give_ups.giveup_reject(give_up=give_up, by=org["east_manager"], reason="")
    give_ups.giveup_reject(give_up=give_up, by=org["east_manager"], reason="尚有在建项目,继续跟踪")
    client.refresh_from_db()
    assert client.tracking == Tracking.ACTIVE and VisitPlan.objects.get(client=client).is_active
    assert Client.objects.filter(pk=client.pk).filter(selectors.visit_overdue_q()).exists()
    assert propose(org, client, by="east_manager").status == GiveUp.Status.PROPOSED  # may be proposed again


def test_resuming_brings_the_client_back_to_the_flags(org):
    give_up = given_up(org)
    client = give_up.client
    with pytest.raises(ValidationError):
        give_ups.giveup_resume(give_up=give_up, by=org["east_manager"], reason="")
    with pytest.raises(PermissionDenied):
        give_ups.giveup_resume(give_up=give_up, by=org["east_staff"], reason="客户换了新的管理层")
    give_ups.giveup_resume(give_up=give_up, by=org["east_manager"], reason="客户换了新的管理层")
    client.refresh_from_db()
    give_up.refresh_from_db()
    assert give_up.status == GiveUp.Status.RESUMED and give_up.end_reason == "客户换了新的管理层"
    assert client.tracking == Tracking.ACTIVE
    assert Client.objects.filter(pk=client.pk).filter(selectors.needs_collection_overdue_q()).exists()
    assert client.history.first().history_change_reason == "恢复跟踪:客户换了新的管理层"


@pytest.mark.parametrize("confirmed", [True, False])
def test_a_grade_of_b_ends_the_give_up_or_the_proposal_with_history(org, confirmed):
    client = c_client_with_overdue_plan(org)
    give_up = propose(org, client)
    if confirmed:
        give_up = give_ups.giveup_confirm(give_up=give_up, by=org["east_manager"])
    services.client_set_grade(client=client, grade="B", reason="观察期内培养为B类", by=org["marketing"])
    client.refresh_from_db()
    give_up.refresh_from_db()
    assert client.grade == "B" and client.tracking == Tracking.ACTIVE
    assert give_up.status == GiveUp.Status.REGRADED and give_up.ended_by == org["marketing"]
    assert give_up.history.first().history_change_reason == "客户调整为B类,放弃跟踪自动结束"
    assert client.history.first().history_change_reason == "客户调整为B类,放弃跟踪自动结束"
    assert Notification.objects.filter(recipient=org["east_staff"], title__contains="自动结束").exists()


def test_a_grade_of_c_again_changes_nothing(org):
    give_up = given_up(org)
    services.client_set_grade(client=give_up.client, grade="C", reason="复核", by=org["east_manager"])
    give_up.refresh_from_db()
    assert give_up.status == GiveUp.Status.GIVEN_UP


# --------------------------------------------------------------------------- pages


def test_the_pages_propose_and_confirm(org):
    client = c_client_with_overdue_plan(org)
    detail = reverse("clients:client-detail", kwargs={"pk": client.pk})
    assert 'data-testid="give-up"' in org.web("east_staff").get(detail).content.decode()
    assert 'data-testid="give-up"' not in org.web("marketing").get(detail).content.decode()
    url = reverse("clients:give-up-create", kwargs={"pk": client.pk})
    response = org.web("east_staff").post(url, {"reason": "other", "note": ""})
    assert response.status_code == 200 and "请填写情况说明" in response.content.decode()
    response = org.web("east_staff").post(url, {"reason": "company_problems", "note": "资金链断裂"})
    give_up = GiveUp.objects.get(client=client)
    assert response.status_code == 302 and response["Location"].endswith(f"/give-ups/{give_up.pk}/")
    step = reverse("clients:give-up-step", kwargs={"pk": give_up.pk, "step": "confirm"})
    assert org.web("east_staff").post(step).status_code == 403
    assert org.web("south_manager").post(step).status_code == 404
    assert org.web("east_manager").post(step, {"note": "同意"}).status_code == 302
    give_up.refresh_from_db()
    assert give_up.status == GiveUp.Status.GIVEN_UP
    page = org.web("east_manager").get(reverse("clients:give-up-detail", kwargs={"pk": give_up.pk}))
    assert 'data-testid="resume"' in page.content.decode()


def test_the_list_has_its_tabs_and_exports_what_it_shows(org):
    done = given_up(org)
    waiting = propose(org, make_client(org, "east", grade="C"))
    south = propose(org, make_client(org, "south", grade="C"), by="south_staff")
    url = reverse("clients:give-up-list")
    assert list(org.web("east_manager").get(url).context["page"].object_list) == [waiting]
    assert list(org.web("east_manager").get(url, {"tab": "given_up"}).context["page"].object_list) == [done]
    assert set(org.web("marketing").get(url).context["page"].object_list) == {waiting, south}
    response = org.web("east_manager").get(url, {"tab": "given_up", "export": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "客户" and [r[0] for r in rows[1:]] == [done.client.name]
    assert rows[1][3] == "信誉低" and rows[1][5] == "已放弃跟踪"


def test_the_archive_export_carries_the_state(org):
    done = given_up(org)
    response = org.web("east_manager").get(reverse("clients:client-export"), {"tracking": "given_up"})
    content = b"".join(response.streaming_content)
    rows = list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert rows[0][-1] == "跟踪状态"
    assert [(r[1], r[-1]) for r in rows[1:]] == [(done.client.name, "已放弃跟踪")]


# --------------------------------------------------------------------------- API


def _api(org, persona):
    return org.api(persona)


def test_the_api_proposes_and_takes_the_steps(org):
    client = make_client(org, "east", grade="C")
    response = _api(org, "east_staff").post(
        "/api/give-ups/", {"client": client.pk, "reason": "no_prospect", "note": "无后续项目"}, format="json"
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["status"] == "proposed"
    assert _api(org, "leader").post(f"/api/give-ups/{pk}/confirm/", {}, format="json").status_code == 403
    assert (
        _api(org, "south_manager").post(f"/api/give-ups/{pk}/confirm/", {}, format="json").status_code == 404
    )
    response = _api(org, "east_manager").post(f"/api/give-ups/{pk}/reject/", {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    response = _api(org, "east_manager").post(f"/api/give-ups/{pk}/confirm/", {"note": "同意"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "given_up"
    assert _api(org, "east_staff").get(f"/api/clients/{client.pk}/").json()["tracking"] == "given_up"
    response = _api(org, "east_manager").post(
        f"/api/give-ups/{pk}/resume/", {"reason": "重新合作"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "resumed"
    # Out of scope: a client another branch's person cannot see is refused as absent.
    other = make_client(org, "south", grade="C")
    response = _api(org, "east_staff").post("/api/give-ups/", {"client": other.pk, "reason": "no_prospect"})
    assert response.status_code == 400 and "client" in response.json()
    assert (
        _api(org, "auditor")
        .post("/api/give-ups/", {"client": client.pk, "reason": "no_prospect"})
        .status_code
        == 403
    )


def test_two_managers_at_once_the_second_gets_a_409(org, monkeypatch):
    give_up = propose(org, make_client(org, "east", grade="C"))
    real = give_ups.giveup_confirm

    def rejected_first(*, give_up, by, **kw):
        give_ups.giveup_reject(
            give_up=GiveUp.objects.get(pk=give_up.pk), by=org["east_manager"], reason="不同意"
        )
        return real(give_up=give_up, by=by, **kw)

    monkeypatch.setattr(give_ups, "giveup_confirm", rejected_first)
    response = _api(org, "east_manager").post(f"/api/give-ups/{give_up.pk}/confirm/", {}, format="json")
    assert response.status_code == 409, response.content
    assert response.json()["current"]["status"] == "rejected" and response.json()["refused"]


def test_a_step_with_a_stale_if_match_is_a_409_and_changes_nothing(org):
    give_up = propose(org, make_client(org, "east", grade="C"))
    api = _api(org, "east_manager")
    tag = api.get(f"/api/give-ups/{give_up.pk}/")["ETag"]
    give_up.note = "补充说明"
    give_up.save()  # someone else's save moves the version
    response = api.post(f"/api/give-ups/{give_up.pk}/confirm/", {}, format="json", HTTP_IF_MATCH=tag)
    assert response.status_code == 409
    give_up.refresh_from_db()
    assert give_up.status == GiveUp.Status.PROPOSED
