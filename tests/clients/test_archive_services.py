"""Services of the archive: duplicates (R10), stages (R6), grading (R7), quadrant (R8), need
deadlines on the real 2026 calendar (R11), rates and collection (R12), visit plans and the
overdue job (R13)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from clients import facts, grading, selectors, services
from clients.models import Client, GradeChange, Need, StageChange, Visit, VisitPlan
from crm.models import Notification
from tests.clients.factories import ProjectFactory, make_credit_code

from .archive_helpers import make_client, make_need

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return dt.datetime(*args, tzinfo=SH)


def client_data(org, **kw):
    data = {
        "name": "上海浦江置业发展有限公司",
        "credit_code": make_credit_code(77),
        "branch": org.branches["east"],
        "org_type": "real_estate",
        "stage": "intended",
    }
    data.update(kw)
    return data


# --------------------------------------------------------------------------- R10, R6


def test_client_create_records_first_stage(org):
    c = services.client_create(by=org["east_staff"], data=client_data(org))
    assert c.owner == org["east_staff"]
    change = StageChange.objects.get(client=c)
    assert (change.from_stage, change.to_stage) == ("", "intended")


def test_same_credit_code_refused_with_link_when_visible(org):
    first = services.client_create(by=org["east_staff"], data=client_data(org))
    with pytest.raises(services.DuplicateCreditCode) as exc:
        services.client_create(by=org["east_staff"], data=client_data(org, name="另一家公司"))
    assert exc.value.duplicate.url == f"/clients/{first.pk}/"
    assert Client.objects.count() == 1


def test_same_credit_code_in_other_branch_names_the_branch_only(org):
    services.client_create(by=org["east_staff"], data=client_data(org))
    with pytest.raises(services.DuplicateCreditCode) as exc:
        services.client_create(
            by=org["south_staff"], data=client_data(org, name="别的名字", branch=org.branches["south"])
        )
    assert exc.value.duplicate.url is None
    assert exc.value.duplicate.branch_name == org.branches["east"].name
    assert "华东" in str(exc.value.messages)


def test_similar_name_warns_then_saves_when_confirmed(org):
    services.client_create(by=org["east_staff"], data=client_data(org))
    similar = client_data(org, name="上海浦江置业发展 股份有限公司", credit_code="")
    with pytest.raises(services.SimilarNameWarning) as warning:
        services.client_create(by=org["east_staff"], data=similar)
    assert Client.objects.count() == 1
    services.client_create(by=org["east_staff"], data=similar, similar_token=warning.value.token)
    assert Client.objects.count() == 2


def test_update_records_stage_change_and_checks_scope(org):
    c = services.client_create(by=org["east_staff"], data=client_data(org))
    services.client_update(client=c, by=org["east_staff"], data={"stage": "signed"})
    assert list(StageChange.objects.filter(client=c).values_list("to_stage", flat=True)) == [
        "signed",
        "intended",
    ]
    from django.http import Http404

    with pytest.raises(Http404):
        services.client_update(client=c, by=org["south_staff"], data={"stage": "partner"})
    c.refresh_from_db()
    assert c.stage == "signed"


def test_staff_cannot_create_in_other_branch(org):
    with pytest.raises(PermissionDenied):
        services.client_create(by=org["east_staff"], data=client_data(org, branch=org.branches["south"]))
    assert not Client.objects.exists()


# --------------------------------------------------------------------------- R7 grading


def test_suggest_grade_a_when_every_a_criterion_holds(org):
    c = make_client(org, integrity_good=True, credit_good=True, social_value="high", near_term_need=True)
    ProjectFactory(client=c)
    grade, criteria = grading.suggest_grade(c)
    assert grade == "A"
    assert all(x["held"] for x in criteria if x["points_to"] == "A")
    assert all(isinstance(x["label"], str) and x["label"] for x in criteria)


def test_suggest_grade_unknown_client_is_c(org):
    grade, criteria = grading.suggest_grade(make_client(org))
    assert grade == "C"
    assert next(x for x in criteria if x["key"] == "unknown")["held"] is True


def test_suggest_grade_b_otherwise(org):
    c = make_client(org, integrity_good=True, credit_good=True)
    ProjectFactory(client=c)
    assert grading.suggest_grade(c)[0] == "B"


def test_unreasonable_complaints_fact_counts_towards_c(org, monkeypatch):
    c = make_client(org, integrity_good=True, credit_good=True, social_value="high", near_term_need=True)
    ProjectFactory(client=c)
    monkeypatch.setitem(facts._facts, "unreasonable_complaints", lambda client: 2)
    grade, criteria = grading.suggest_grade(c)
    assert grade == "C"
    item = next(x for x in criteria if x["key"] == "unreasonable_complaints")
    assert item["held"] and "2" in item["label"]


def test_set_grade_differing_needs_reason_and_keeps_record(org):
    c = make_client(org)  # suggestion: C
    with pytest.raises(ValidationError) as exc:
        services.client_set_grade(client=c, grade="B", reason="", by=org["east_manager"])
    assert "reason" in exc.value.message_dict
    change = services.client_set_grade(
        client=c, grade="B", reason="已中标二期,信用良好", by=org["east_manager"]
    )
    c.refresh_from_db()
    assert c.grade == "B" and c.graded_at is not None
    assert (change.from_grade, change.to_grade, change.suggested_grade) == ("C", "B", "C")
    assert change.changed_by == org["east_manager"] and change.reason and change.criteria


def test_set_grade_same_as_suggestion_needs_no_reason(org):
    c = make_client(org, grade="B")
    services.client_set_grade(client=c, grade="C", by=org["marketing"])
    assert GradeChange.objects.get(client=c).reason == ""


@pytest.mark.parametrize("who", ["east_staff", "south_manager", "leader", "auditor"])
def test_set_grade_refused_for_others(org, who):
    c = make_client(org)
    with pytest.raises(PermissionDenied):
        services.client_set_grade(client=c, grade="C", by=org[who])
    assert not GradeChange.objects.exists()


# --------------------------------------------------------------------------- R8 quadrant


def test_quadrant_not_enough_data_without_surveys(org, monkeypatch):
    monkeypatch.delitem(facts._facts, "satisfaction", raising=False)
    q = grading.quadrant(make_client(org))
    assert q["code"] is None and q["label"] == "数据不足"
    assert "合作项目 0 个" in q["basis"]


@pytest.mark.parametrize(
    "rate,projects,code",
    [(0.9, 2, "loyal"), (0.4, 3, "locked_in"), (0.3, 1, "double_low"), (0.95, 0, "price_seeking")],
)
def test_quadrant_from_satisfaction_and_repeat_cooperation(org, monkeypatch, rate, projects, code):
    monkeypatch.setitem(facts._facts, "satisfaction", lambda c: {"rate": rate, "answers": 5, "basis": "测试"})
    c = make_client(org)
    for _ in range(projects):
        ProjectFactory(client=c)
    assert grading.quadrant(c)["code"] == code


# --------------------------------------------------------------------------- R11 deadlines


def test_need_deadlines_across_national_day_2026(db):
    received = at(2026, 9, 30, 10, 0)
    assert services.need_due_at(urgency="important", received_at=received).at == at(2026, 10, 9, 10, 0)
    # general: Oct 8, 9, 10 (调休 Saturday), 12, 13
    assert services.need_due_at(urgency="general", received_at=received).at == at(2026, 10, 13, 10, 0)
    # urgent: 4 clock hours, holiday eve or not (R11 says hours, not working hours)
    urgent = services.need_due_at(urgency="urgent", received_at=at(2026, 9, 30, 16, 0))
    assert urgent.at == at(2026, 9, 30, 20, 0) and urgent.provisional is False


@override_settings(CRM_NEED_DEADLINES={"urgent": ("hours", 2)})
def test_need_deadlines_configurable(db):
    assert services.need_due_at(urgency="urgent", received_at=at(2026, 11, 2, 9, 0)).at == at(
        2026, 11, 2, 11, 0
    )
    assert services.need_due_at(urgency="important", received_at=at(2026, 11, 2, 9, 0)).at == at(
        2026, 11, 4, 9, 0
    )


def test_need_create_sets_deadline_and_collection_date(org):
    c = make_client(org)
    need = services.need_create(
        need=Need(
            client=c,
            category="product",
            urgency="urgent",
            description="紧急调整户型",
            received_at=at(2026, 9, 30, 16, 0),
        ),
        by=org["east_staff"],
    )
    assert need.response_due_at == at(2026, 9, 30, 20, 0)  # 4 clock hours (R11)
    assert need.owner == org["east_staff"]
    c.refresh_from_db()
    assert c.needs_collected_on == dt.date(2026, 9, 30)


def test_need_respond_and_close(org):
    need = make_need(org)
    services.need_respond(need=need, by=org["east_staff"], note="已安排设计院对接")
    assert need.responded_at is not None and need.status == "assessed"
    services.need_close(need=need, by=org["east_staff"])
    assert need.status == "done" and need.closed_at
    with pytest.raises(ValidationError):
        services.need_close(need=need, by=org["east_staff"])


# --------------------------------------------------------------------------- R12 figures


def test_need_rates_by_branch_and_month(org):
    now = timezone.now()
    c = make_client(org)
    on_time = make_need(org, client=c, urgency="general")
    services.need_respond(need=on_time, by=org["east_staff"])
    late = make_need(org, client=c, urgency="general")
    Need.objects.filter(pk=late.pk).update(response_due_at=now - dt.timedelta(hours=1))
    make_need(org, client=c, urgency="general")  # not yet due, unanswered
    done = make_need(org, client=c)
    services.need_close(need=done, by=org["east_staff"])
    rows = selectors.need_rates(org["marketing"])
    row = next(r for r in rows if r["branch_id"] == org.branches["east"].pk)
    assert row["total"] == 4
    assert row["due"] == 3  # two answered + one past its deadline
    assert row["timely"] == 2
    assert row["timeliness_rate"] == pytest.approx(2 / 3)
    assert row["completion_rate"] == pytest.approx(1 / 4)
    assert selectors.need_rates(org["south_staff"]) == []


def test_needs_collection_overdue_a_monthly_others_quarterly(org):
    today = timezone.localdate()
    a_late = make_client(org, grade="A", needs_collected_on=today - dt.timedelta(days=40))
    b_ok = make_client(org, grade="B", needs_collected_on=today - dt.timedelta(days=40))
    b_late = make_client(org, grade="B", needs_collected_on=today - dt.timedelta(days=100))
    never = make_client(org, grade="C")
    new_a = make_client(org, grade="A")  # just entered: not overdue yet
    Client.objects.filter(pk=never.pk).update(created_at=timezone.now() - dt.timedelta(days=120))
    overdue = set(Client.objects.filter(selectors.needs_collection_overdue_q()).values_list("pk", flat=True))
    assert overdue == {a_late.pk, b_late.pk, never.pk}
    assert b_ok.pk not in overdue and new_a.pk not in overdue


# --------------------------------------------------------------------------- R13 visits


def test_a_plan_frequency_and_visitor_level_by_social_value(org):
    c = make_client(org, grade="A", social_value="high")
    with pytest.raises(ValidationError) as exc:
        services.visit_plan_save(
            plan=VisitPlan(client=c, frequency="custom", interval_days=20), by=org["east_staff"]
        )
    assert "frequency" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.visit_plan_save(
            plan=VisitPlan(client=c, frequency="monthly", visitor_level="marketing_staff"),
            by=org["east_staff"],
        )
    assert "visitor_level" in exc.value.message_dict
    plan = services.visit_plan_save(plan=VisitPlan(client=c, frequency="dekad"), by=org["east_staff"])
    assert plan.visitor_level == "group_leader"
    assert plan.next_due_on == timezone.localdate() + dt.timedelta(days=10)


def test_b_plan_custom_frequency_marketing_staff(org):
    c = make_client(org, grade="B")
    plan = services.visit_plan_save(
        plan=VisitPlan(client=c, frequency="custom", interval_days=45), by=org["east_staff"]
    )
    assert plan.visitor_level == "marketing_staff" and plan.period_days == 45


def test_c_no_plan_unless_under_observation_with_extra_effort(org):
    c = make_client(org, grade="C")
    with pytest.raises(ValidationError):
        services.visit_plan_save(plan=VisitPlan(client=c, frequency="monthly"), by=org["east_staff"])
    assert not VisitPlan.objects.exists()
    c.under_observation = True
    c.save()
    plan = services.visit_plan_save(
        plan=VisitPlan(client=c, frequency="monthly", extra_effort=True), by=org["east_staff"]
    )
    assert plan.pk


def test_visit_record_advances_plan(org):
    c = make_client(org, grade="B")
    plan = services.visit_plan_save(
        plan=VisitPlan(
            client=c, frequency="monthly", next_due_on=timezone.localdate() - dt.timedelta(days=2)
        ),
        by=org["east_staff"],
    )
    visit = services.visit_record(visit=Visit(client=c, channel="visit", notes="走访"), by=org["east_staff"])
    plan.refresh_from_db()
    assert visit.plan == plan and visit.recorded_by == org["east_staff"]
    assert plan.next_due_on == timezone.localdate() + dt.timedelta(days=30)


def test_scale_profit_class(org):
    c = make_client(org, grade="B")
    assert grading.scale_profit_class([]) is None
    big_low = [
        ProjectFactory(
            client=c, contract_value=Decimal("30000000"), cost=Decimal("29000000"), profit=Decimal("1000000")
        )
    ]
    assert grading.scale_profit_class(big_low) == "规模大利润低"
    small_high = [
        ProjectFactory(
            client=c, contract_value=Decimal("2000000"), cost=Decimal("1500000"), profit=Decimal("500000")
        )
    ]
    assert grading.scale_profit_class(small_high) == "规模小利润高"


def test_overdue_visit_job_notifies_once(org):
    c = make_client(org, grade="B")
    services.visit_plan_save(
        plan=VisitPlan(
            client=c, frequency="monthly", next_due_on=timezone.localdate() - dt.timedelta(days=1)
        ),
        by=org["east_staff"],
    )
    first = services.visit_overdue_notify()
    assert first == 2  # the responsible person and the branch manager
    recipients = set(
        Notification.objects.filter(verb="visit_overdue").values_list("recipient__username", flat=True)
    )
    assert recipients == {"east_staff", "east_manager"}
    assert services.visit_overdue_notify() == 0
    assert Notification.objects.filter(verb="visit_overdue").count() == 2


def test_overdue_task_declared_at_eight():
    from clients import tasks  # noqa: F401
    from crm.schedules import _declared

    spec = next(d for d in _declared if d["task"] == "clients.tasks.notify_overdue_visits")
    assert (spec["minute"], spec["hour"]) == (0, 8)


def test_overdue_visits_listed_for_responsible_and_manager(org):
    c = make_client(org, grade="B")
    plan = services.visit_plan_save(
        plan=VisitPlan(
            client=c, frequency="monthly", next_due_on=timezone.localdate() - dt.timedelta(days=1)
        ),
        by=org["east_staff"],
    )
    assert plan in selectors.overdue_visit_plans(org["east_staff"])
    assert plan in selectors.overdue_visit_plans(org["east_manager"])
    assert plan not in selectors.overdue_visit_plans(org["south_manager"])
