"""Permission matrix, pages and API of B→A cultivation (style.md 10; R42-R47): the plans' list,
page, proposal page, step routes and API for every role: the branch's staff and manager (their
branch), another branch's people (404, not listed), group marketing, leaders and auditors (every
branch, read only for the plan; marketing evaluates), nobody without a role (403), anonymous;
the half-year evaluation list and page; exports; a refused write changes nothing."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from clients.cultivation import services as cult
from clients.models import BEvaluation, Client, CultivationPlan, GradeChange
from tests.assessments.helpers import at
from tests.permissions import ObjectMatrix

from .archive_helpers import make_client

pytestmark = pytest.mark.django_db

NOW = at("2026-09-10T10:00")
TODAY = NOW.date()

ROUTES_COVERED = [
    "clients:cultivation-create",
    "clients:cultivation-step",
    "clients:b-evaluation-list",
    "clients:b-evaluation-create",
    "cultivation-plan-review",
    "cultivation-plan-measures",
    "cultivation-plan-close",
    "b-evaluation-list",
    "b-evaluation-detail",
]


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def plan(org, branch_code="east", **kw) -> CultivationPlan:
    """A plan made today (the matrix's make(), also used by other modules without the clock)."""
    today = timezone.localdate()
    client = make_client(org, branch_code, grade="B", **kw)
    return cult.cultivation_propose(
        client=client,
        by=org[f"{branch_code}_staff"],
        goal="签订第二份设计合同",
        measures=[
            {
                "description": "每月拜访",
                "due_on": today + dt.timedelta(days=20),
                "owner": org[f"{branch_code}_staff"].pk,
            }
        ],
        next_review_on=today + dt.timedelta(days=30),
    )


class TestCultivationPlanMatrix(ObjectMatrix):
    model = CultivationPlan
    list_route = "clients:cultivation-list"
    detail_route = "clients:cultivation-detail"
    api_list_route = "cultivation-plan-list"
    api_detail_route = "cultivation-plan-detail"
    covers = {
        "clients:cultivation-list",
        "clients:cultivation-detail",
        "cultivation-plan-list",
        "cultivation-plan-detail",
    }

    def make(self, org, branch_code):
        return plan(org, branch_code)


def _proposal(org):
    return {
        "goal": "提升为A类",
        "next_review_on": (TODAY + dt.timedelta(days=30)).isoformat(),
        "m0_description": "技术交流",
        "m0_due_on": (TODAY + dt.timedelta(days=10)).isoformat(),
        "m0_owner": org["east_staff"].pk,
    }


@pytest.mark.parametrize(
    "persona,expected",
    [(None, 302), ("norole", 403), ("east_staff", 200), ("east_manager", 200), ("south_staff", 404),
     ("marketing", 403), ("leader", 403), ("auditor", 403)],
)  # fmt: skip
def test_the_proposal_page(org, persona, expected):
    """R42: the branch's people propose; the page saves a plan only for them."""
    client = make_client(org, "east", grade="B")
    url = reverse("clients:cultivation-create", kwargs={"pk": client.pk})
    assert org.web(persona).get(url).status_code == expected
    response = org.web(persona).post(url, _proposal(org))
    ok = persona in ("east_staff", "east_manager")
    assert response.status_code == (302 if ok else expected)
    assert CultivationPlan.objects.filter(client=client).exists() == ok


def test_a_refused_proposal_keeps_what_was_typed(org):
    """R43: a measure owner of another branch: the form says why (400-free page), nothing saved."""
    client = make_client(org, "east", grade="B")
    data = {**_proposal(org), "m0_owner": org["south_staff"].pk}
    response = org.web("east_staff").post(reverse("clients:cultivation-create", args=[client.pk]), data)
    assert response.status_code == 200 and "提升为A类" in response.content.decode()
    assert response.context["form"].errors and not CultivationPlan.objects.exists()


STEPS = {
    "review": {"reviewed_on": TODAY.isoformat(), "note": "客户有新项目意向"},
    "measure": {"description": "邀请考察", "due_on": (TODAY + dt.timedelta(days=5)).isoformat()},
    "close": {"reason": "客户暂停投资"},
}
API_STEPS = {"review": "review", "measure": "measures", "close": "close"}


@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize(
    "persona,page,api",
    [(None, 302, 401), ("norole", 403, 403), ("south_staff", 404, 404), ("south_manager", 404, 404),
     ("marketing", 403, 403), ("leader", 403, 403), ("auditor", 403, 403)],
)  # fmt: skip
def test_steps_refused_change_nothing(org, step, persona, page, api):
    p = plan(org)
    data = {**STEPS[step], "owner": org["east_staff"].pk} if step == "measure" else STEPS[step]
    before = (CultivationPlan.objects.filter(pk=p.pk).values().get(), p.measures.count(), p.reviews.count())
    url = reverse("clients:cultivation-step", kwargs={"pk": p.pk, "step": step})
    assert org.web(persona).post(url, data).status_code == page
    api_url = reverse(f"cultivation-plan-{API_STEPS[step]}", kwargs={"pk": p.pk})
    assert org.api(persona).post(api_url, data, format="json").status_code == api
    assert (
        CultivationPlan.objects.filter(pk=p.pk).values().get(),
        p.measures.count(),
        p.reviews.count(),
    ) == before


def test_staff_review_and_add_measures_but_only_the_manager_closes(org):
    """R44, R45: the branch's staff review and add; closing is the manager's (403 for staff)."""
    p = plan(org)
    web = org.web("east_staff")
    measure = p.measures.get()
    review = {**STEPS["review"], "done": [measure.pk]}
    assert web.post(reverse("clients:cultivation-step", args=[p.pk, "review"]), review).status_code == 302
    assert p.reviews.count() == 1 and p.measures.get().is_done
    data = {**STEPS["measure"], "owner": org["east_manager"].pk}
    assert web.post(reverse("clients:cultivation-step", args=[p.pk, "measure"]), data).status_code == 302
    assert p.measures.count() == 2
    assert (
        web.post(reverse("clients:cultivation-step", args=[p.pk, "close"]), STEPS["close"]).status_code == 403
    )
    manager = org.web("east_manager")
    assert (
        manager.post(reverse("clients:cultivation-step", args=[p.pk, "close"]), STEPS["close"]).status_code
        == 302
    )
    p.refresh_from_db()
    assert p.status == "closed"


def test_a_bad_review_is_a_400_with_the_form_and_saves_nothing(org):
    p = plan(org)
    url = reverse("clients:cultivation-step", args=[p.pk, "review"])
    data = {"reviewed_on": (TODAY + dt.timedelta(days=3)).isoformat(), "note": "未来的评审"}
    response = org.web("east_staff").post(url, data)
    assert response.status_code == 400 and "未来的评审" in response.content.decode()
    assert not p.reviews.exists()
    assert (
        org.web("east_staff").post(reverse("clients:cultivation-step", args=[p.pk, "delete"])).status_code
        == 404
    )


def test_a_stale_edit_is_refused_on_the_page_and_409_in_the_api(org):
    """Optimistic locking: an edit based on an old version changes nothing."""
    p = plan(org)
    url = reverse("clients:cultivation-step", args=[p.pk, "edit"])
    ok = {"goal": "新目标", "version": p.version}
    assert org.web("east_staff").post(url, ok).status_code == 302
    stale = org.web("east_staff").post(url, {"goal": "旧的修改", "version": p.version})
    assert stale.status_code == 400
    p.refresh_from_db()
    assert p.goal == "新目标"
    api = org.api("east_staff")
    detail = reverse("cultivation-plan-detail", args=[p.pk])
    answer = api.patch(detail, {"goal": "API 修改"}, format="json", HTTP_IF_MATCH='W/"1"')
    assert answer.status_code == 409
    answer = api.patch(detail, {"goal": "API 修改"}, format="json", HTTP_IF_MATCH=f'W/"{p.version}"')
    assert answer.status_code == 200 and answer.json()["goal"] == "API 修改"
    assert answer["ETag"] == f'W/"{p.version + 1}"'
    assert org.api("leader").patch(detail, {"goal": "x"}, format="json").status_code == 403


def test_the_api_proposes_reviews_and_answers_the_plan(org):
    """R42-R44 through /api/cultivation-plans/: 201 with the measures; steps answer the plan."""
    client = make_client(org, "east", grade="B")
    api = org.api("east_staff")
    body = {
        "client": client.pk,
        "goal": "两年内成为A类客户",
        "new_measures": [{"description": "季度技术交流", "due_on": (TODAY + dt.timedelta(days=40)).isoformat(),
                          "owner": org["east_manager"].pk}],
    }  # fmt: skip
    created = api.post(reverse("cultivation-plan-list"), body, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["status"] == "open" and data["measures"][0]["owner"] == org["east_manager"].pk
    measure_id = data["measures"][0]["id"]
    url = reverse("cultivation-plan-review", args=[data["id"]])
    reviewed = api.post(
        url, {"reviewed_on": TODAY.isoformat(), "note": "已交流", "done": [measure_id]}, format="json"
    )
    assert reviewed.status_code == 200 and reviewed.json()["reviews"][0]["measures_done"] == [measure_id]
    assert reviewed["ETag"] == f'W/"{reviewed.json()["version"]}"'
    again = api.post(reverse("cultivation-plan-list"), body, format="json")
    assert again.status_code == 400 and "进行中的培养计划" in str(again.json()), again.json()
    a_client = make_client(org, "east", grade="A")
    refused = api.post(reverse("cultivation-plan-list"), {**body, "client": a_client.pk}, format="json")
    assert refused.status_code == 400 and "只有B类客户" in refused.json()["detail"]


def test_the_api_evaluates_through_the_grading_service(org):
    """R46, R7: POST /api/b-evaluations/ promotes with its reason; staff may not (403)."""
    p = plan(org)
    url = reverse("b-evaluation-list")
    body = {"client": p.client_id, "outcome": "promote", "reason": "签约第二个项目"}
    assert org.api("east_staff").post(url, body, format="json").status_code == 403
    answer = org.api("east_manager").post(url, body, format="json")
    assert answer.status_code == 201 and answer.json()["outcome"] == "promote"
    assert GradeChange.objects.get(client=p.client).reason == "签约第二个项目"
    p.refresh_from_db()
    assert p.status == "promoted"
    assert org.api("east_manager").post(url, body, format="json").status_code == 400
    ids = {r["id"] for r in org.api("south_staff").get(url).json()["results"]}
    assert answer.json()["id"] not in ids


@pytest.mark.parametrize(
    "persona,expected",
    [(None, 302), ("norole", 403), ("east_staff", 403), ("east_manager", 200), ("south_manager", 404),
     ("marketing", 200), ("leader", 403), ("auditor", 403)],
)  # fmt: skip
def test_the_evaluation_page(org, persona, expected):
    """R46: group marketing or the branch's manager evaluate; the grade changes only for them."""
    client = make_client(org, "east", grade="B")
    url = reverse("clients:b-evaluation-create", kwargs={"pk": client.pk})
    assert org.web(persona).get(url).status_code == expected
    response = org.web(persona).post(url, {"outcome": "demote", "reason": "多次无理投诉"})
    assert response.status_code == (302 if expected == 200 else expected)
    client.refresh_from_db()
    assert client.grade == ("C" if expected == 200 else "B")


@pytest.mark.parametrize("persona", ["east_staff", "east_manager", "marketing", "leader", "auditor"])
def test_the_not_yet_evaluated_list(org, persona):
    """R47: the B clients not yet evaluated, per branch (group roles: every branch), exported."""
    east = make_client(org, "east", grade="B")
    south = make_client(org, "south", grade="B")
    evaluated = make_client(org, "east", grade="B")
    cult.b_evaluation_record(client=evaluated, by=org["east_manager"], outcome="keep", reason="稳定")
    response = org.web(persona).get(reverse("clients:b-evaluation-list"))
    listed = set(response.context["page"].object_list)
    assert east in listed and evaluated not in listed
    assert (south in listed) == (persona in ("marketing", "leader", "auditor"))
    export = org.web(persona).get(reverse("clients:b-evaluation-list"), {"export": "xlsx"})
    names = [
        r[0] for r in openpyxl.load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True)
    ]
    assert east.name in names and evaluated.name not in names
    done = org.web(persona).get(reverse("clients:b-evaluation-list"), {"tab": "done"})
    assert [e.client for e in done.context["page"].object_list] == [evaluated]


def test_the_plan_list_export_and_scope(org):
    east, south = plan(org, "east"), plan(org, "south")
    response = org.web("south_staff").get(reverse("clients:cultivation-list"), {"export": "xlsx"})
    names = [
        r[0] for r in openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
    ]
    assert south.client.name in names and east.client.name not in names
    listed = set(org.web("marketing").get(reverse("clients:cultivation-list")).context["page"].object_list)
    assert {east, south} <= listed


def test_the_client_page_tab(org):
    """R42: the plan on the client page's tab, with the button for a B client without one."""
    p = plan(org)
    fresh = make_client(org, "east", grade="B")
    tab = org.web("east_staff").get(reverse("clients:client-tab", args=[p.client_id, "cultivation"]))
    html = tab.content.decode()
    assert "签订第二份设计合同" in html and 'data-testid="propose-plan"' not in html
    tab = org.web("east_staff").get(reverse("clients:client-tab", args=[fresh.pk, "cultivation"]))
    assert 'data-testid="propose-plan"' in tab.content.decode()
    page = org.web("east_staff").get(reverse("clients:client-detail", args=[p.client_id]))
    assert 'data-testid="tab-cultivation"' in page.content.decode()
    assert (
        org.web("south_staff")
        .get(reverse("clients:client-tab", args=[p.client_id, "cultivation"]))
        .status_code
        == 404
    )
    assert Client.objects.get(pk=p.client_id).grade == "B" and not BEvaluation.objects.exists()
