"""Permission matrix, pages and API of the improvement plans (style.md 10; R102-R108): the list,
page, making page, step routes and API for every role: the branch's staff (read, and complete
their own measures) and manager (make, add, complete, close), another branch's people (404, not
listed), group marketing (everything, and the group's plans), leaders and auditors (read only),
nobody without a role (403), anonymous; exports; a refused write changes nothing."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from surveys.improvements.models import ImprovementMeasure, ImprovementPlan
from tests.assessments.helpers import at
from tests.permissions import ObjectMatrix

from .improvement_helpers import dim, east_matrix, make_plan, measure

pytestmark = pytest.mark.django_db

NOW = at("2026-09-10T10:00")
TODAY = NOW.date()

ROUTES_COVERED = [
    "surveys:improvement-create",
    "surveys:improvement-step",
    "improvement-plan-measures",
    "improvement-plan-complete",
    "improvement-plan-close",
]


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


class TestImprovementPlanMatrix(ObjectMatrix):
    model = ImprovementPlan
    list_route = "surveys:improvement-list"
    detail_route = "surveys:improvement-detail"
    api_list_route = "improvement-plan-list"
    api_detail_route = "improvement-plan-detail"
    grants_apply = False  # a plan is the branch's, not a client's: archive grants do not reach it
    covers = {
        "surveys:improvement-list",
        "surveys:improvement-detail",
        "improvement-plan-list",
        "improvement-plan-detail",
    }

    def make(self, org, branch_code):
        east_matrix(org, branch_code=branch_code)
        return make_plan(
            org,
            by=f"{branch_code}_manager",
            branch_code=branch_code,
            measures=[measure(org, f"{branch_code}_staff")],
        )


def _create_url(org, branch_code="east"):
    standard = dim("customer_service").template
    return (
        reverse("surveys:improvement-create")
        + f"?template={standard.pk}&year={TODAY.year}&branch={org.branches[branch_code].pk}"
    )


def _plan_form(org, owner="east_staff"):
    return {
        "dimension": dim("customer_service").pk,
        "goal": "提高客户服务满意率",
        "m0_description": "建立客户意见反馈库",
        "m0_client_group": "all",
        "m0_due_on": (TODAY + dt.timedelta(days=30)).isoformat(),
        "m0_department": "经营部",
        "m0_owner": org[owner].pk,
    }


@pytest.mark.parametrize(
    "persona,expected",
    [(None, 302), ("norole", 403), ("east_staff", 403), ("east_manager", 200), ("south_manager", 404),
     ("marketing", 200), ("leader", 403), ("auditor", 403)],
)  # fmt: skip
def test_the_making_page(org, persona, expected):
    """R102: the branch's manager and group marketing make a branch's plan; nobody else."""
    east_matrix(org)
    url = _create_url(org)
    assert org.web(persona).get(url).status_code == expected
    response = org.web(persona).post(url, _plan_form(org))
    ok = persona in ("east_manager", "marketing")
    assert response.status_code == (302 if ok else expected)
    assert ImprovementPlan.objects.filter(branch=org.branches["east"]).exists() == ok


def test_a_refused_plan_keeps_what_was_typed(org):
    """R102, R103: a strength dimension and a person of another branch: the form says why, what
    was typed stays, nothing is saved."""
    east_matrix(org)
    data = {**_plan_form(org, owner="south_staff")}
    response = org.web("east_manager").post(_create_url(org), data)
    assert response.status_code == 400 and "建立客户意见反馈库" in response.content.decode()
    assert "负责人应为本单位的在职人员" in response.content.decode()
    data = {**_plan_form(org), "dimension": dim("engineering_quality").pk}
    response = org.web("east_manager").post(_create_url(org), data)
    assert response.status_code == 400 and response.context["form"].errors["dimension"]
    assert not ImprovementPlan.objects.exists() and not ImprovementMeasure.objects.exists()


def test_the_group_plan_is_group_marketings(org):
    """R102: from the group's matrix (no branch) only group marketing plans; the group's plan is
    seen by the group roles, not by a branch."""
    east_matrix(org)
    url = reverse("surveys:improvement-create") + f"?template={dim('customer_service').template_id}&year=2026"
    response = org.web("marketing").post(url, _plan_form(org))
    assert response.status_code == 302
    plan = ImprovementPlan.objects.get()
    assert plan.branch is None
    detail = reverse("surveys:improvement-detail", kwargs={"pk": plan.pk})
    assert org.web("leader").get(detail).status_code == 200
    assert org.web("east_manager").get(detail).status_code == 404
    assert org.web("leader").post(url, _plan_form(org)).status_code == 403


STEPS = {
    "measure": lambda org, plan: {
        "description": "每月客服交流会",
        "client_group": "A",
        "due_on": (TODAY + dt.timedelta(days=20)).isoformat(),
        "department": "客服部",
        "owner": org["east_staff"].pk,
    },
    "complete": lambda org, plan: {"measure": plan.measures.first().pk, "evidence": "已落实"},
    "close": lambda org, plan: {"note": "关闭"},
}
API_STEPS = {"measure": "measures", "complete": "complete", "close": "close"}


@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize(
    "persona,page,api",
    [(None, 302, 401), ("norole", 403, 403), ("south_staff", 404, 404), ("south_manager", 404, 404),
     ("leader", 403, 403), ("auditor", 403, 403)],
)  # fmt: skip
def test_steps_refused_change_nothing(org, step, persona, page, api):
    east_matrix(org)
    plan = make_plan(org)
    data = STEPS[step](org, plan)

    def state():
        return (
            ImprovementPlan.objects.filter(pk=plan.pk).values().get(),
            list(ImprovementMeasure.objects.filter(plan=plan).values()),
        )

    before = state()
    url = reverse("surveys:improvement-step", kwargs={"pk": plan.pk, "step": step})
    assert org.web(persona).post(url, data).status_code == page
    api_url = reverse(f"improvement-plan-{API_STEPS[step]}", kwargs={"pk": plan.pk})
    assert org.api(persona).post(api_url, data, format="json").status_code == api
    assert state() == before


def test_staff_complete_their_measure_but_only_the_manager_adds_and_closes(org):
    """R103, R104, R107 on the pages."""
    east_matrix(org)
    plan = make_plan(org)
    staff = org.web("east_staff")
    mine = plan.measures.get(owner=org["east_staff"])
    url = reverse("surveys:improvement-step", args=[plan.pk, "complete"])
    assert staff.post(url, {"measure": mine.pk, "evidence": "卡片已张贴"}).status_code == 302
    mine.refresh_from_db()
    assert mine.is_done and mine.evidence == "卡片已张贴"
    others = plan.measures.get(owner=org["east_manager"])
    assert staff.post(url, {"measure": others.pk, "evidence": "x"}).status_code == 400  # not in their choices
    assert (
        staff.post(
            reverse("surveys:improvement-step", args=[plan.pk, "measure"]), STEPS["measure"](org, plan)
        ).status_code
        == 403
    )
    assert staff.post(reverse("surveys:improvement-step", args=[plan.pk, "close"]), {}).status_code == 403
    manager = org.web("east_manager")
    response = manager.post(reverse("surveys:improvement-step", args=[plan.pk, "close"]), {"note": "x"})
    assert response.status_code == 400 and "尚有 1 项措施未完成" in response.content.decode()
    assert (
        org.web("east_staff").post(reverse("surveys:improvement-step", args=[plan.pk, "delete"])).status_code
        == 404
    )


def test_the_api_makes_a_plan_and_takes_its_steps(org):
    """R102-R104 through /api/improvement-plans/: 201 with measures and effect; steps answer
    the plan; refusals are 400 with the field."""
    standard, _client = east_matrix(org)
    api = org.api("east_manager")
    body = {
        "template": standard.pk,
        "year": TODAY.year,
        "branch": org.branches["east"].pk,
        "dimension": dim("customer_service").pk,
        "goal": "提高客户服务满意率",
        "new_measures": [
            {"description": "客户意见反馈库", "department": "经营部", "due_on": (TODAY + dt.timedelta(days=9)).isoformat(),
             "owner": org["east_staff"].pk},
        ],
    }  # fmt: skip
    created = api.post(reverse("improvement-plan-list"), body, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert (
        data["quadrant"] == "priority" and data["effect"]["before"] == 0.5 and data["effect"]["target"] == 0.7
    )
    assert data["measures"][0]["client_group"] == "all" and data["measures"][0]["overdue"] is False
    again = api.post(reverse("improvement-plan-list"), body, format="json")
    assert again.status_code == 400 and "该维度已有进行中的改进计划" in str(again.json())
    strength = api.post(
        reverse("improvement-plan-list"), {**body, "dimension": dim("engineering_quality").pk}, format="json"
    )
    assert strength.status_code == 400 and "dimension" in strength.json()
    assert (
        org.api("east_staff").post(reverse("improvement-plan-list"), body, format="json").status_code == 403
    )
    measure_id = data["measures"][0]["id"]
    done = org.api("east_staff").post(
        reverse("improvement-plan-complete", args=[data["id"]]),
        {"measure": measure_id, "evidence": "已建立"},
        format="json",
    )
    assert done.status_code == 200 and done.json()["measures"][0]["evidence"] == "已建立"
    added = api.post(
        reverse("improvement-plan-measures", args=[data["id"]]),
        {
            "description": "上门回访",
            "department": "经营部",
            "due_on": "2026-01-01",
            "owner": org["east_staff"].pk,
        },
        format="json",
    )
    assert added.status_code == 400 and "due_on" in added.json()
    closed = api.post(reverse("improvement-plan-close", args=[data["id"]]), {}, format="json")
    assert closed.status_code == 400 and "下一次满意度调查" in closed.json()["detail"]
    ids = {r["id"] for r in org.api("south_staff").get(reverse("improvement-plan-list")).json()["results"]}
    assert data["id"] not in ids


def test_the_list_filters_and_exports_what_it_shows(org):
    east_matrix(org)
    plan = make_plan(org, measures=[measure(org, days=2)])
    make_plan(org, code="service_quality")
    web = org.web("east_manager")
    listed = web.get(reverse("surveys:improvement-list") + "?q=服务质量")
    assert [p.pk for p in listed.context["page"].object_list] != [plan.pk]
    assert listed.context["page"].paginator.count == 1
    with time_machine.travel(NOW + dt.timedelta(days=5), tick=False):
        web = org.web("east_manager")  # signed in again: the session of five days ago has ended
        overdue = web.get(reverse("surveys:improvement-list") + "?overdue=1")
        assert [p.pk for p in overdue.context["page"].object_list] == [plan.pk]
        exported = web.get(reverse("surveys:improvement-list") + "?overdue=1&export=xlsx")
    assert exported.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(exported.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len([r for r in rows if r and r[3] == "客户服务"]) == 1
    assert org.web("norole").get(reverse("surveys:improvement-list") + "?export=xlsx").status_code == 403
