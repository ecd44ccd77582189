"""B→A cultivation and the half-year evaluation of B clients (seed 001: «将B类客户培养成A类客户,对不
合格的B类客户打回到C类客户行列»; «定期对客户进行评价、评测»; R42-R47): who proposes a plan and for
which clients, its measures and owners, reviews, the end a grade change brings, the evaluation
through the grading service (R7) and its trail, the B clients not yet evaluated and the job that
lists them, and the figures. The clock is fixed: nothing depends on today."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from clients import services
from clients.cultivation import services as cult
from clients.models import BEvaluation, Client, CultivationPlan, GradeChange
from crm import figures as fig
from crm.models import Notification
from tests.assessments.helpers import at

from .archive_helpers import make_client

pytestmark = pytest.mark.django_db

NOW = at("2026-09-10T10:00")
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def measure(org, branch="east", who="east_staff", days=30, text="每月上门拜访一次,汇报项目进展"):
    return {"description": text, "due_on": TODAY + dt.timedelta(days=days), "owner": org[who].pk}


def plan_for(org, client=None, by="east_staff", **kw) -> CultivationPlan:
    client = client or make_client(org, "east", grade="B")
    return cult.cultivation_propose(
        client=client,
        by=org[by],
        goal=kw.pop("goal", "年内签订第二个设计合同,提升为A类客户"),
        measures=kw.pop(
            "measures", [measure(org), measure(org, who="east_manager", text="邀请参加技术交流会")]
        ),
        next_review_on=kw.pop("next_review_on", TODAY + dt.timedelta(days=30)),
    )


# -- R42: who proposes, for which clients -----------------------------------------------------


@pytest.mark.parametrize("who", ["east_staff", "east_manager"])
def test_the_branchs_people_propose_a_plan_for_a_b_client(org, who):
    """R42, R43: the plan keeps its proposer, goal, measures with owners and the review date;
    the branch's managers are told; the step is in the plan's history."""
    plan = plan_for(org, by=who)
    assert plan.status == CultivationPlan.Status.OPEN and plan.proposed_by == org[who]
    assert [m.owner for m in plan.measures.order_by("pk")] == [org["east_staff"], org["east_manager"]]
    assert plan.next_review_on == TODAY + dt.timedelta(days=30)
    assert plan.history.first().history_change_reason == "制定培养计划"
    if who == "east_staff":
        assert Notification.objects.filter(recipient=org["east_manager"], verb="cultivation").exists()


@pytest.mark.parametrize("grade", ["A", "C"])
def test_only_b_clients_get_a_plan(org, grade):
    """R42: an A or C client gets no new plan; nothing is saved."""
    client = make_client(org, "east", grade=grade)
    with pytest.raises(ValidationError, match="只有B类客户"):
        plan_for(org, client)
    assert not CultivationPlan.objects.exists()


def test_one_open_plan_per_client(org):
    """R42: a second plan of a client with an open one is refused."""
    plan = plan_for(org)
    with pytest.raises(ValidationError, match="已有进行中的培养计划"):
        plan_for(org, plan.client)
    assert CultivationPlan.objects.filter(client=plan.client).count() == 1


@pytest.mark.parametrize(
    "who,error", [("south_staff", Http404), ("marketing", PermissionDenied), ("leader", PermissionDenied)]
)
def test_others_cannot_propose(org, who, error):
    """R42: another branch (out of scope: 404) and the group roles (403) propose nothing."""
    with pytest.raises(error):
        plan_for(org, by=who, measures=[measure(org)])
    assert not CultivationPlan.objects.exists()


def test_a_plan_needs_a_goal_and_valid_measures(org):
    """R42, R43: a goal and a measure; a measure's owner is a person of the client's branch and
    its due date is not in the past; the messages name the measure; nothing is saved."""
    client = make_client(org, "east", grade="B")
    with pytest.raises(ValidationError) as refused:
        plan_for(org, client, goal="  ", measures=[])
    assert set(refused.value.message_dict) == {"goal", "measures"}
    with pytest.raises(ValidationError) as refused:
        plan_for(org, client, measures=[measure(org, who="south_staff"), measure(org, days=-1)])
    text = " ".join(refused.value.message_dict["measures"])
    assert "第1项措施" in text and "负责人" in text and "第2项措施" in text and "早于今天" in text
    assert not CultivationPlan.objects.exists()


# -- R44: reviews ------------------------------------------------------------------------------


def test_a_review_records_progress_and_marks_measures_done(org):
    """R44: date, note, who, the measures found done (each with its history row), the next date."""
    plan = plan_for(org)
    first = plan.measures.order_by("pk").first()
    review = cult.cultivation_review(
        plan=plan, by=org["east_manager"], reviewed_on=TODAY, note="已拜访两次,客户有意向",
        done=[first.pk], next_review_on=TODAY + dt.timedelta(days=60),
    )  # fmt: skip
    first.refresh_from_db()
    plan.refresh_from_db()
    assert review.reviewed_by == org["east_manager"] and list(review.measures_done.all()) == [first]
    assert first.is_done and first.done_by == org["east_manager"]
    assert first.history.first().history_change_reason == "评审确认措施完成"
    assert plan.next_review_on == TODAY + dt.timedelta(days=60)
    assert plan.history.first().history_change_reason.startswith("培养计划评审")


def test_a_review_is_refused_on_bad_dates_or_foreign_measures(org):
    """R44: no future review, no next date before it, no measure of another plan; nothing saved."""
    plan = plan_for(org)
    other = plan_for(org).measures.first()
    for kwargs, field in [
        ({"reviewed_on": TODAY + dt.timedelta(days=1)}, "reviewed_on"),
        ({"next_review_on": TODAY - dt.timedelta(days=1)}, "next_review_on"),
        ({"done": [other.pk]}, "done"),
        ({"note": ""}, "note"),
    ]:
        args = {"reviewed_on": TODAY, "note": "进展", **kwargs}
        with pytest.raises(ValidationError) as refused:
            cult.cultivation_review(plan=plan, by=org["east_staff"], **args)
        assert field in refused.value.message_dict
    assert not plan.reviews.exists() and not other.is_done


# -- R45, R46: the evaluation through the grading service --------------------------------------


def test_promotion_through_the_grading_service_closes_the_plan_and_is_the_evaluation(org):
    """R45, R46, R7: a grade change B→A (the grading page's service) ends the open plan as
    promoted and records the half year's evaluation with the grade change and its reason."""
    plan = plan_for(org)
    change = services.client_set_grade(
        client=plan.client, grade="A", reason="签订第二份合同", by=org["marketing"]
    )
    plan.refresh_from_db()
    assert plan.status == CultivationPlan.Status.PROMOTED and plan.closed_by == org["marketing"]
    evaluation = BEvaluation.objects.get(client=plan.client)
    assert (evaluation.outcome, evaluation.half_year, evaluation.grade_change, evaluation.plan) == (
        "promote", "2026H2", change, plan,
    )  # fmt: skip
    assert evaluation.reason == "签订第二份合同"
    with pytest.raises(ValidationError, match="已结束"):
        cult.cultivation_review(plan=plan, by=org["east_staff"], reviewed_on=TODAY, note="x")


@pytest.mark.parametrize("outcome,grade,status", [("promote", "A", "promoted"), ("demote", "C", "demoted")])
def test_the_evaluation_changes_the_grade_through_the_grading_trail(org, outcome, grade, status):
    """R46, R7: promoting and demoting write a grade change (who, from, to, why)."""
    plan = plan_for(org)
    evaluation = cult.b_evaluation_record(
        client=plan.client, by=org["east_manager"], outcome=outcome, reason="半年评价"
    )
    change = GradeChange.objects.get(client=plan.client)
    assert (change.from_grade, change.to_grade, change.reason, change.changed_by) == (
        "B",
        grade,
        "半年评价",
        org["east_manager"],
    )
    assert evaluation.grade_change == change and evaluation.outcome == outcome
    plan.refresh_from_db()
    assert plan.status == status


def test_keeping_a_b_client_writes_no_grade_change_and_counts_once(org):
    """R46: keep is an evaluation without a grade change; a second evaluation that half year is
    refused; a reason is needed."""
    client = make_client(org, "east", grade="B")
    with pytest.raises(ValidationError) as refused:
        cult.b_evaluation_record(client=client, by=org["east_manager"], outcome="keep", reason=" ")
    assert "reason" in refused.value.message_dict
    cult.b_evaluation_record(
        client=client, by=org["east_manager"], outcome="keep", reason="合作稳定,暂无新需求"
    )
    assert not GradeChange.objects.filter(client=client).exists()
    with pytest.raises(ValidationError, match="已评价"):
        cult.b_evaluation_record(client=client, by=org["marketing"], outcome="promote", reason="x")
    client.refresh_from_db()
    assert client.grade == "B" and BEvaluation.objects.filter(client=client).count() == 1


@pytest.mark.parametrize(
    "who,error", [("east_staff", PermissionDenied), ("south_manager", Http404), ("leader", PermissionDenied)]
)
def test_only_graders_evaluate(org, who, error):
    """R46, R7: group marketing or the branch's manager; nobody else."""
    client = make_client(org, "east", grade="B")
    with pytest.raises(error):
        cult.b_evaluation_record(client=client, by=org[who], outcome="promote", reason="x")
    client.refresh_from_db()
    assert client.grade == "B" and not BEvaluation.objects.exists()


def test_the_manager_closes_a_plan_with_a_reason(org):
    """R45: 已终止, by the branch manager only, with a reason."""
    plan = plan_for(org)
    with pytest.raises(PermissionDenied):
        cult.cultivation_close(plan=plan, by=org["east_staff"], reason="x")
    with pytest.raises(ValidationError):
        cult.cultivation_close(plan=plan, by=org["east_manager"], reason="")
    cult.cultivation_close(plan=plan, by=org["east_manager"], reason="客户项目暂停")
    plan.refresh_from_db()
    assert plan.status == "closed" and plan.close_reason == "客户项目暂停"


# -- R47: not yet evaluated, the job, the figures -----------------------------------------------


def test_b_clients_not_yet_evaluated_and_the_reminder(org):
    """R47: the list leaves out evaluated and non-B clients; the job tells the managers once."""
    waiting = make_client(org, "east", grade="B")
    kept = make_client(org, "east", grade="B")
    make_client(org, "east", grade="A")
    cult.b_evaluation_record(client=kept, by=org["east_manager"], outcome="keep", reason="稳定")
    half = fig.HalfYear.parse("2026H2")
    assert list(cult.b_not_evaluated(Client.objects.filter(branch=org.branches["east"]), half)) == [waiting]
    assert cult.b_not_evaluated_reminders() >= 1
    note = Notification.objects.get(recipient=org["east_manager"], verb="b_evaluation")
    assert "1" in note.title and "2026H2" in note.title
    assert cult.b_not_evaluated_reminders() == 0  # a second run sends nothing new


def test_the_figures_follow_the_records(org):
    """R47: under cultivation (open at the window's end), promoted, sent back, not evaluated."""
    open_plan = plan_for(org)
    promoted = plan_for(org)
    demoted = make_client(org, "east", grade="B")
    cult.b_evaluation_record(client=promoted.client, by=org["east_manager"], outcome="promote", reason="签约")
    cult.b_evaluation_record(client=demoted, by=org["marketing"], outcome="demote", reason="无理投诉")
    window = fig.HalfYear.parse("2026H2").window(branch_id=org.branches["east"].pk)
    result = fig.evaluate(org["east_manager"], window, only=[
        "b_under_cultivation", "b_promoted_to_a", "b_sent_back_to_c", "b_not_evaluated",
    ])  # fmt: skip
    assert result.values["b_under_cultivation"] == 1
    assert [r["id"] for r in result.lists["b_under_cultivation"]] == [open_plan.pk]
    assert [r["client_id"] for r in result.lists["b_promoted_to_a"]] == [promoted.client_id]
    assert [r["client_id"] for r in result.lists["b_sent_back_to_c"]] == [demoted.pk]
    assert [r["id"] for r in result.lists["b_not_evaluated"]] == [open_plan.client_id]
    assert result.lists["b_not_evaluated"][0]["client"] == open_plan.client.name
    south = fig.evaluate(org["south_staff"], window, only=["b_promoted_to_a"])
    assert south.values["b_promoted_to_a"] == 0


def test_the_half_year_job_reminds_in_the_month_before_the_analysis_is_due(org):
    """R47: the daily review job's part reminds the managers only in the last month before the
    half year's client analysis is due (31 December for H2), and once per count."""
    from assessments.tasks import b_evaluation_reminders

    make_client(org, "east", grade="B")
    assert b_evaluation_reminders() == 0  # 10 September: not yet
    with time_machine.travel(at("2026-12-10T09:00"), tick=False):
        assert b_evaluation_reminders() >= 1
        assert b_evaluation_reminders() == 0
    assert Notification.objects.filter(recipient=org["east_manager"], verb="b_evaluation").count() == 1


def test_the_half_year_assessment_counts_them(org):
    """R47, R32: the assessment's indicators carry the cultivation figures with their lists."""
    from assessments.review.services import compute_indicators

    plan_for(org)
    waiting = make_client(org, "east", grade="B")
    demoted = make_client(org, "east", grade="B")
    cult.b_evaluation_record(client=demoted, by=org["marketing"], outcome="demote", reason="信誉差")
    indicators = compute_indicators(org.branches["east"], fig.HalfYear.parse("2026H2"), standard=0.05)
    part = indicators["cultivation"]
    assert part["b_under_cultivation"]["value"] == 1
    assert part["b_sent_back_to_c"]["value"] == 1 and part["b_promoted_to_a"]["value"] == 0
    assert waiting.pk in {r["id"] for r in part["b_not_evaluated"]["list"]}
    assert part["b_not_evaluated"]["value"] == 2  # the planned client and ``waiting``
