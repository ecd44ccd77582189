"""Improvement plans per priority dimension (seed 002; R102-R108): made from the matrix for a
dimension in 优先改进区 or 次要改进区 with its before and target; measures with a date, a department
and a person, done with evidence; overdue measures remind once; the next campaign's result is the
after, and the plan closes with it; figures, home panel, dashboard link and the daily schedule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from crm import figures as fig
from crm.dashboard import panels
from crm.models import Notification
from surveys import services as survey_services
from surveys.improvements import services
from surveys.improvements.models import ImprovementMeasure, ImprovementPlan
from surveys.models import Survey, SurveyTemplate, Target
from tests.assessments.helpers import at

from .conftest import scores_for
from .improvement_helpers import dim, east_matrix, make_plan, measure

pytestmark = pytest.mark.django_db

NOW = at("2026-09-10T10:00")
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def matrix(org):
    return east_matrix(org)


# -- R102: made from the matrix ---------------------------------------------------------------


def test_a_plan_of_the_top_priority_keeps_its_before_and_its_target(org, matrix):
    """R102, R103: the manager plans the 优先改进区 dimension; the plan keeps the rate it had (1 of 2
    satisfied), the target value of the year, and its measures; the step is in the history and
    a measure's person (not the maker) is told."""
    plan = make_plan(org)
    assert (plan.quadrant, plan.before_rate, plan.before_answers) == ("priority", Decimal("0.500"), 2)
    assert plan.target == Decimal("0.700") and plan.branch == org.branches["east"] and plan.is_open
    assert [(m.department, m.owner.username) for m in plan.measures.all()] == [
        ("客服部", "east_staff"),
        ("客服部", "east_manager"),
    ]
    assert plan.history.first().history_change_reason.startswith("制定改进计划")
    assert Notification.objects.filter(recipient=org["east_staff"], verb="improvement").count() == 1
    assert not Notification.objects.filter(recipient=org["east_manager"], verb="improvement").exists()


def test_the_secondary_quadrant_may_be_planned_but_not_a_strength(org, matrix):
    """R102: 次要改进区 yes; 优势保持区 and 维持观察区 no (nothing saved)."""
    assert make_plan(org, code="service_quality").quadrant == "secondary"
    for code in ("engineering_quality", "after_service"):
        with pytest.raises(ValidationError) as refused:
            make_plan(org, code=code)
        assert "dimension" in refused.value.message_dict
    assert ImprovementPlan.objects.count() == 1


def test_without_a_target_value_no_plan(org, matrix):
    """R102, R23: the plan's target is the dimension's target value; none set, none made."""
    Target.objects.filter(dimension=dim("customer_service")).delete()
    with pytest.raises(ValidationError) as refused:
        make_plan(org)
    assert "目标值" in " ".join(refused.value.message_dict["dimension"])
    assert not ImprovementPlan.objects.exists() and not ImprovementMeasure.objects.exists()


def test_the_next_years_target_serves_when_the_years_is_missing(org, matrix):
    Target.objects.filter(dimension=dim("customer_service"), year=TODAY.year).delete()
    Target.objects.update_or_create(
        dimension=dim("customer_service"), year=TODAY.year + 1, defaults={"base": "0.6", "target": "0.75"}
    )
    assert make_plan(org).target == Decimal("0.750")


def test_one_open_plan_per_branch_and_dimension(org, matrix):
    """R102: a second open plan of the same dimension is refused; the group may have its own."""
    make_plan(org)
    with pytest.raises(ValidationError):
        make_plan(org)
    group = make_plan(org, by="marketing", branch_code=None)
    assert group.branch is None and group.scope_label == "集团"
    assert ImprovementPlan.objects.count() == 2


@pytest.mark.parametrize(
    "by,branch_code,error",
    [
        ("east_staff", "east", PermissionDenied),  # staff do not make plans
        ("leader", "east", PermissionDenied),  # leaders read only
        ("south_manager", "east", Http404),  # another branch: out of scope
        ("east_manager", None, PermissionDenied),  # the group's plan is group marketing's
    ],
)
def test_who_may_make_a_plan(org, matrix, by, branch_code, error):
    """R102: the branch's manager (their branch) and group marketing (any, and the group's)."""
    with pytest.raises(error):
        make_plan(org, by=by, branch_code=branch_code)
    assert not ImprovementPlan.objects.exists()
    assert make_plan(org, by="marketing").created_by == org["marketing"]


# -- R103: measures ---------------------------------------------------------------------------


def test_measures_are_checked_and_a_refusal_saves_nothing(org, matrix):
    """R103: a person of another branch, a date already past, a measure without a department,
    or no measure at all: refused with the measure's number, nothing saved."""
    bad = [
        measure(org, "south_staff"),
        measure(org, days=-1),
        measure(org, department=""),
    ]
    with pytest.raises(ValidationError) as refused:
        make_plan(org, measures=bad)
    messages = refused.value.message_dict["measures"]
    assert any(m.startswith("第1项措施") for m in messages) and any(
        m.startswith("第2项措施") for m in messages
    )
    assert any(m.startswith("第3项措施") and "部门" in m for m in messages)
    with pytest.raises(ValidationError) as refused:
        make_plan(org, measures=[])
    assert refused.value.message_dict["measures"] == ["请至少填写一项改进措施。"]
    assert not ImprovementPlan.objects.exists() and not ImprovementMeasure.objects.exists()


def test_the_manager_adds_a_measure_staff_may_not(org, matrix):
    plan = make_plan(org)
    with pytest.raises(PermissionDenied):
        services.improvement_measure_add(plan=plan, by=org["east_staff"], **measure(org))
    added = services.improvement_measure_add(
        plan=plan, by=org["east_manager"], **measure(org, client_group="A")
    )
    assert added.client_group == "A" and plan.measures.count() == 3
    assert plan.history.first().history_change_reason.startswith("新增改进措施")


# -- R104: done with evidence -----------------------------------------------------------------


def test_a_measure_is_done_by_its_person_with_evidence_once(org, matrix):
    plan = make_plan(org)
    mine, managers = plan.measures.order_by("pk")
    with pytest.raises(ValidationError) as refused:
        services.improvement_measure_complete(plan=plan, measure=mine, by=org["east_staff"], evidence=" ")
    assert "evidence" in refused.value.message_dict
    with pytest.raises(PermissionDenied):  # the manager's measure is not the staff's to close
        services.improvement_measure_complete(plan=plan, measure=managers, by=org["east_staff"], evidence="x")
    done = services.improvement_measure_complete(
        plan=plan, measure=mine, by=org["east_staff"], evidence="卡片已张贴于各项目部"
    )
    assert done.is_done and done.done_by == org["east_staff"] and done.evidence == "卡片已张贴于各项目部"
    assert plan.history.first().history_change_reason.startswith("措施完成")
    with pytest.raises(ValidationError):
        services.improvement_measure_complete(
            plan=plan, measure=mine, by=org["east_manager"], evidence="again"
        )
    with pytest.raises(Http404):  # another branch does not see the plan
        services.improvement_measure_complete(
            plan=plan, measure=managers, by=org["south_manager"], evidence="x"
        )
    # The manager closes any measure of the branch's plan.
    services.improvement_measure_complete(
        plan=plan, measure=managers, by=org["east_manager"], evidence="已完成"
    )
    assert not plan.measures.filter(done_at__isnull=True).exists()


def test_a_measure_of_another_plan_is_refused(org, matrix):
    plan = make_plan(org)
    other = make_plan(org, code="service_quality")
    with pytest.raises(ValidationError) as refused:
        services.improvement_measure_complete(
            plan=plan, measure=other.measures.first(), by=org["east_manager"], evidence="x"
        )
    assert "measure" in refused.value.message_dict


# -- R105: overdue ----------------------------------------------------------------------------


def test_overdue_measures_remind_their_person_and_the_managers_once(org, matrix):
    """R105: after its date, a measure not done is overdue: one reminder to its person and the
    branch's managers, however often the job runs; a done measure reminds nobody."""
    plan = make_plan(org, measures=[measure(org, days=3), measure(org, "east_manager", days=3)])
    first, second = plan.measures.order_by("pk")
    services.improvement_measure_complete(plan=plan, measure=second, by=org["east_manager"], evidence="ok")
    assert services.improvement_overdue_remind(today=TODAY + dt.timedelta(days=3)) == 0  # due today
    later = TODAY + dt.timedelta(days=4)
    assert services.improvement_overdue_remind(today=later) == 2  # east_staff and east_manager
    assert services.improvement_overdue_remind(today=later) == 0
    assert services.improvement_overdue_remind(today=later + dt.timedelta(days=1)) == 0  # a missed day
    keys = set(
        Notification.objects.filter(verb="improvement_overdue").values_list("recipient__username", "key")
    )
    assert keys == {
        ("east_staff", f"improvement-overdue:{first.pk}"),
        ("east_manager", f"improvement-overdue:{first.pk}"),
    }


def test_overdue_measures_on_the_home_and_in_the_figure(org, matrix):
    """R105, R108: the manager's home lists the overdue measure; the figure counts it with its
    list, and stops counting it once done."""
    plan = make_plan(org, measures=[measure(org, days=3)])
    with time_machine.travel(NOW + dt.timedelta(days=5), tick=False):
        home = {p["title"]: p for p in panels(org["east_manager"])}
        items = home["逾期未完成的改进措施"]["items"]
        assert [i["url"] for i in items] == [reverse("surveys:improvement-detail", kwargs={"pk": plan.pk})]
        assert home["逾期未完成的改进措施"]["url"].endswith("?overdue=1")
        south = {p["title"]: p for p in panels(org["south_manager"])}
        assert south["逾期未完成的改进措施"]["items"] == []
        window = fig.Period.containing(timezone.now()).window(branch_id=org.branches["east"].pk)
        rows = fig.evaluate(org["east_manager"], window, only=["improvement_measures_overdue"]).lists[
            "improvement_measures_overdue"
        ]
        assert [r["measure"] for r in rows] == [plan.measures.get().description]
        assert (
            fig.evaluate(org["south_manager"], window, only=["improvement_measures_overdue"]).values[
                "improvement_measures_overdue"
            ]
            == 0
        )
        services.improvement_measure_complete(
            plan=plan, measure=plan.measures.get(), by=org["east_staff"], evidence="已整改"
        )
        assert (
            fig.evaluate(org["east_manager"], window, only=["improvement_measures_overdue"]).values[
                "improvement_measures_overdue"
            ]
            == 0
        )


def test_the_open_plans_figure(org, matrix):
    plan = make_plan(org)
    window = fig.Period.containing(timezone.now()).window(branch_id=org.branches["east"].pk)
    result = fig.evaluate(org["leader"], window, only=["improvement_plans_open"])
    assert [r["id"] for r in result.lists["improvement_plans_open"]] == [plan.pk]
    assert (
        fig.evaluate(org["south_staff"], window, only=["improvement_plans_open"]).values[
            "improvement_plans_open"
        ]
        == 0
    )


# -- R106, R107: the effect, and closing with it ----------------------------------------------


def _campaign_answered(org, standard, *, good: bool):
    """A campaign opened after the plan, east's survey answered (customer service 2/2 when
    ``good``, else 0/2), then closed at its deadline."""
    campaign = survey_services.campaign_open(
        by=org["marketing"],
        template=standard,
        name="2026年第4季度客户满意度调查",
        opens_on=TODAY + dt.timedelta(days=10),
        deadline=TODAY + dt.timedelta(days=40),
    )
    survey = Survey.objects.get(campaign=campaign, branch=org.branches["east"])
    with time_machine.travel(NOW + dt.timedelta(days=20), tick=False):
        survey_services.survey_enter_paper(
            survey=survey,
            by=org["east_staff"],
            scores=scores_for(standard, low=() if good else (0, 1)),
            respondent="李工",
        )
    return campaign


def test_the_next_campaign_shows_before_and_after_and_closes_the_plan(org, matrix):
    """R106, R107: the campaign after the plan is its effect (interim while it runs); the plan
    closes when its measures are done and that campaign is closed: after 100% ≥ target 70%."""
    standard, _client = matrix
    plan = make_plan(org)
    assert services.effect(plan)["campaign"] is None
    with pytest.raises(ValidationError):  # measures open
        services.improvement_plan_close(plan=plan, by=org["east_manager"])
    for m in plan.measures.all():
        services.improvement_measure_complete(plan=plan, measure=m, by=org["east_manager"], evidence="已落实")
    with pytest.raises(ValidationError) as refused:  # no campaign after it yet
        services.improvement_plan_close(plan=plan, by=org["east_manager"])
    assert "下一次满意度调查" in " ".join(refused.value.messages)
    campaign = _campaign_answered(org, standard, good=True)
    with time_machine.travel(NOW + dt.timedelta(days=21), tick=False):
        interim = services.effect(plan)
        assert interim["campaign"] == campaign and interim["after"] == 1.0 and not interim["final"]
        group = make_plan(org, by="marketing", branch_code=None, code="service_quality")
        many = services.effects([plan, group])  # a list's page, in a few queries
        assert many[plan.pk] == interim and many[group.pk] == services.effect(group)
        assert [e["plan"] for e in services.campaign_effects(org["east_staff"], campaign)] == [plan]
        assert services.campaign_effects(org["south_staff"], campaign) == []
        with pytest.raises(ValidationError):  # the campaign is still running
            services.improvement_plan_close(plan=plan, by=org["east_manager"])
    with time_machine.travel(NOW + dt.timedelta(days=41), tick=False):
        survey_services.campaign_close(campaign=campaign)
        assert Notification.objects.filter(
            recipient=org["east_manager"], key=f"improvement-effect:{plan.pk}:{campaign.pk}"
        ).exists()
        with pytest.raises(PermissionDenied):
            services.improvement_plan_close(plan=plan, by=org["east_staff"])
        closed = services.improvement_plan_close(plan=plan, by=org["east_manager"], note="客户服务明显改善")
    assert (closed.status, closed.after_campaign, closed.after_rate, closed.after_answers) == (
        "closed",
        campaign,
        Decimal("1.000"),
        2,
    )
    assert closed.result == "met" and closed.close_note == "客户服务明显改善"
    assert "达到目标值" in closed.history.first().history_change_reason
    with pytest.raises(ValidationError):  # a closed plan takes no further step
        services.improvement_measure_add(plan=closed, by=org["east_manager"], **measure(org, days=60))


def test_a_worse_result_closes_as_not_improved(org, matrix):
    standard, _client = matrix
    plan = make_plan(org, measures=[measure(org)])
    services.improvement_measure_complete(
        plan=plan, measure=plan.measures.get(), by=org["east_staff"], evidence="done"
    )
    campaign = _campaign_answered(org, standard, good=False)
    with time_machine.travel(NOW + dt.timedelta(days=41), tick=False):
        survey_services.campaign_close(campaign=campaign)
        closed = services.improvement_plan_close(plan=plan, by=org["marketing"])
    assert (closed.after_rate, closed.result) == (Decimal("0.000"), "not_improved")
    assert services.result_of(before="0.5", after="0.6", target="0.7") == "improved"


def test_the_matrix_and_the_dashboard_link_the_dimension_to_its_plan(org, matrix):
    """R108: the matrix offers the plan (and links an open one); the branch dashboard's
    satisfaction table links the dimension to its plan."""
    web = org.web("east_manager")
    page = web.get(reverse("surveys:matrix")).content.decode()
    assert reverse("surveys:improvement-create") in page  # offered for the improvement quadrants
    plan = make_plan(org)
    url = reverse("surveys:improvement-detail", kwargs={"pk": plan.pk})
    assert url in web.get(reverse("surveys:matrix")).content.decode()
    dashboard = web.get(reverse("assessments:dashboard")).content.decode()
    assert f'href="{url}" data-testid="dimension-plan"' in dashboard
    assert (
        'data-testid="make-plan"' not in org.web("east_staff").get(reverse("surveys:matrix")).content.decode()
    )


def test_the_daily_reminder_is_scheduled_in_shanghai_time(db):
    """R105: the data migration's schedule: minute and hour given, Asia/Shanghai."""
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="surveys.tasks.improvement_overdue_daily")
    assert (task.crontab.minute, task.crontab.hour, str(task.crontab.timezone)) == (
        "40",
        "8",
        "Asia/Shanghai",
    )


def test_the_seeded_demo_has_a_plan_per_branch_with_an_overdue_measure(org):
    """The demo: each branch with answers has a plan in progress with one overdue measure, and
    this quarter's campaign shows its before and after."""
    from clients import seed as clients_seed
    from surveys import seed as demo

    clients_seed.seed(org.org)
    summary = demo.seed(org.org)
    assert "improvement plans" in summary
    plans = ImprovementPlan.objects.filter(status="open")
    assert plans.count() >= 2
    for plan in plans:
        assert services.overdue_measures(plan.measures.all()).count() == 1
        assert plan.measures.filter(done_at__isnull=False).count() == 1
        assert services.effect(plan)["campaign"] is not None
    assert demo.seed(org.org) == "already there"
    assert SurveyTemplate.objects.get(is_default=True).improvement_plans.count() == plans.count()
