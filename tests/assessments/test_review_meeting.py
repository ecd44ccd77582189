"""The half-year review meeting and what the group sends back (R87-R93): the meeting of a round
and its decisions tracked to done, the circular generated from the round, edited and issued to
every branch and project department with read receipts, the rankings reaching every person of
the branches, the commendation and the forwarded work summary sent to the leaders and read."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from assessments.circulars import services
from assessments.models import (
    Circular,
    CircularReceipt,
    LeaderReceipt,
    LeaderReport,
    ReviewDecision,
    WorkSummary,
)
from assessments.monthly import services as monthly
from crm.models import Notification, Role, StaleVersion
from crm.services import user_set_role

from .helpers import at
from .meeting_helpers import NOW, rated_round, record_meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def rnd(org):
    return rated_round(org)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_r87_marketing_records_one_meeting_per_round_with_attendees_and_decisions(
    org, rnd, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        meeting = record_meeting(org, rnd)
    assert set(meeting.attendees.values_list("username", flat=True)) == {
        "marketing",
        "leader",
        "east_manager",
        "south_manager",
    }
    assert meeting.decisions.count() == 2
    # The owner of a decision is told once; the recorder (owner of the other) is not.
    assert Notification.objects.filter(recipient=org["south_manager"], verb="review_decision").count() == 1
    assert not Notification.objects.filter(recipient=org["marketing"], verb="review_decision").exists()
    with pytest.raises(ValidationError, match="已记录"):
        record_meeting(org, rnd)
    assert meeting.history.first().history_change_reason.startswith("记录客户关系管理工作研讨会")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"held_on": dt.date(2026, 7, 21)}, "held_on"),  # after today
        ({"held_on": dt.date(2026, 6, 30)}, "held_on"),  # before the half year ended
        ({"minutes": " "}, "minutes"),
        ({"attendees": []}, "attendees"),
        ({"attendees": [999999]}, "attendees"),
        ({"decisions": [{"text": "x", "owner": 999999, "due_on": dt.date(2026, 8, 1)}]}, "decisions"),
        ({"decisions": [{"text": "x", "owner": 1, "due_on": dt.date(2026, 7, 1)}]}, "decisions"),
    ],
)
def test_r87_a_refused_meeting_saves_nothing(org, rnd, change, field):
    with pytest.raises(ValidationError) as refused:
        record_meeting(org, rnd, **change)
    assert field in refused.value.message_dict
    assert not rnd.__class__.objects.get(pk=rnd.pk).__dict__.get("review_meeting")
    assert not ReviewDecision.objects.exists()


def test_r87_only_marketing_records_and_owners_or_marketing_mark_done(org, rnd):
    for who in ("leader", "auditor", "east_manager", "east_staff"):
        with pytest.raises(PermissionDenied):
            record_meeting(org, rnd, by=org[who])
    meeting = record_meeting(org, rnd)
    south, mine = meeting.decisions.order_by("pk")
    assert mine.is_overdue and not south.is_overdue  # due 19 July, today is the 20th
    # Another branch's person does not even see the decision (404); the owner marks it done.
    from django.http import Http404

    with pytest.raises(Http404):
        services.review_decision_done(decision=south, by=org["east_manager"], note="x")
    with pytest.raises(ValidationError):
        services.review_decision_done(decision=south, by=org["south_manager"], note=" ")
    done = services.review_decision_done(decision=south, by=org["south_manager"], note="已整改")
    assert done.done_by == org["south_manager"] and done.done_note == "已整改"
    with pytest.raises(ValidationError, match="已确认完成"):
        services.review_decision_done(decision=south, by=org["marketing"], note="再次")
    services.review_decision_add(
        meeting=meeting, by=org["marketing"], text="补充", owner=org["east_staff"].pk, due_on="2026-08-01"
    )
    assert list(services.open_decisions_of(org["east_staff"]).values_list("text", flat=True)) == ["补充"]


def test_r88_the_circular_is_generated_from_the_round_edited_and_stale_edits_refused(org, rnd):
    meeting = record_meeting(org, rnd)
    circular = services.circular_generate(meeting=meeting, by=org["marketing"])
    assert circular.status == "draft"
    body = circular.body
    assert "华东分公司:优良" in body and "华南分公司:差" in body
    assert "第1名" in body  # the half year's ranking
    assert "对考核结果优良的华东分公司予以通报表扬" in body
    assert "暂停其客户信息库、客户档案库查询权利一个月" in body
    assert [r["rating"] for r in circular.facts["ratings"]] == ["excellent", "poor", "qualified", "qualified"]
    saved = services.circular_save(
        circular=circular, by=org["marketing"], title="通报", body=body + "\n附言", version=circular.version
    )
    with pytest.raises(StaleVersion):
        services.circular_save(
            circular=saved, by=org["marketing"], title="旧", body="旧", version=circular.version
        )
    with pytest.raises(ValidationError):
        services.circular_save(circular=saved, by=org["marketing"], title="", body="", version=saved.version)
    with pytest.raises(PermissionDenied):
        services.circular_save(circular=saved, by=org["leader"], title="x", body="y")
    again = services.circular_generate(meeting=meeting, by=org["marketing"])
    assert again.pk == circular.pk and again.title != "通报"  # drafted again from the round


def test_r88_no_circular_before_every_branch_is_rated(org, rnd):
    from assessments.models import Assessment

    meeting = record_meeting(org, rnd)
    Assessment.objects.filter(round=rnd, branch=org.branches["install"]).update(rated_at=None)
    with pytest.raises(ValidationError, match="未评定"):
        services.circular_generate(meeting=meeting, by=org["marketing"])
    assert not Circular.objects.exists()


def test_r89_r90_issued_to_every_branch_person_once_with_receipts_read_once(
    org, rnd, django_capture_on_commit_callbacks
):
    # A person of a project department (not the business department) receives it too.
    from crm.models import User

    site = User.objects.create_user("east_site", full_name="项目部王工")
    user_set_role(
        user=site,
        role=Role.STAFF,
        branch=org.branches["east"],
        department=org.departments[("east", "pd-suzhou")],
    )
    meeting = record_meeting(org, rnd)
    circular = services.circular_generate(meeting=meeting, by=org["marketing"])
    # A draft is group marketing's alone.
    assert not Circular.objects.restrict(org["east_staff"], "view").exists()
    with django_capture_on_commit_callbacks(execute=True):
        circular = services.circular_issue(circular=circular, by=org["marketing"])
    receipts = CircularReceipt.objects.filter(circular=circular)
    people = {"east_manager", "east_staff", "east_site", "south_manager", "south_staff", "design_manager",
              "design_staff", "install_manager", "install_staff"}  # fmt: skip
    assert set(receipts.values_list("user__username", flat=True)) == people
    assert receipts.get(user=site).department.code == "pd-suzhou"
    assert Notification.objects.filter(key=f"circular:{circular.pk}").count() == len(people)
    with pytest.raises(ValidationError, match="已印发"):
        services.circular_issue(circular=circular, by=org["marketing"])
    with pytest.raises(ValidationError):
        services.circular_save(circular=circular, by=org["marketing"], title="x", body="y")
    assert Circular.objects.restrict(site, "view").filter(pk=circular.pk).exists()
    assert not Circular.objects.restrict(org.norole, "view").exists()
    # The first opening is kept; a later one keeps it.
    first = services.circular_open(circular=circular, user=site)
    with time_machine.travel(at("2026-07-21T09:00"), tick=False):
        services.circular_open(circular=circular, user=site)
    assert CircularReceipt.objects.get(pk=first.pk).read_at == NOW
    # Marketing sees who has not read, per branch and department; a manager only his branch.
    groups = services.readers(circular, org["marketing"])
    east = next(g for g in groups if g["branch"].code == "east")
    assert east["read"] == 1 and east["total"] == 3
    suzhou = next(d for d in east["departments"] if d["department"] and d["department"].code == "pd-suzhou")
    assert [r.user.username for r in suzhou["read"]] == ["east_site"] and suzhou["unread"] == []
    assert {g["branch"].code for g in services.readers(circular, org["south_manager"])} == {"south"}


def test_r91_rankings_reach_every_person_of_the_branches(org, django_capture_on_commit_callbacks):
    from crm.models import User

    site = User.objects.create_user("south_site", full_name="项目部李工")
    user_set_role(
        user=site,
        role=Role.STAFF,
        branch=org.branches["south"],
        department=org.departments[("south", "pd-nansha")],
    )
    with django_capture_on_commit_callbacks(execute=True):
        monthly.ranking_build(kind="quarter", label="2026Q2", as_of=at("2026-07-01T00:00"))
    told = set(
        Notification.objects.filter(key="ranking:quarter:2026Q2").values_list(
            "recipient__username", flat=True
        )
    )
    assert {"south_site", "east_staff", "install_staff", "east_manager", "leader", "marketing"} <= told


def test_r92_r93_commendation_drafted_from_indicators_sent_and_read(
    org, rnd, django_capture_on_commit_callbacks
):
    from assessments.models import Assessment

    east = Assessment.objects.get(round=rnd, branch=org.branches["east"])
    south = Assessment.objects.get(round=rnd, branch=org.branches["south"])
    with pytest.raises(ValidationError, match="优良"):
        services.commendation_draft(assessment=south, by=org["marketing"])
    with pytest.raises(PermissionDenied):
        services.commendation_draft(assessment=east, by=org["leader"])
    report = services.commendation_draft(assessment=east, by=org["marketing"])
    assert report.kind == "commendation" and "考核结果为优良" in report.text
    assert f"客户数由{east.indicators['reporting']['growth']['start']}家" in report.text
    assert services.commendation_draft(assessment=east, by=org["marketing"]).pk == report.pk
    # A draft is not the leaders' yet.
    assert not LeaderReport.objects.restrict(org["leader"], "view").exists()
    report = services.leader_report_save(
        report=report,
        by=org["marketing"],
        title=report.title,
        text=report.text + "\n特此报告。",
        version=report.version,
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.leader_report_send(report=report, by=org["marketing"])
    assert Notification.objects.filter(recipient=org["leader"], key=f"leader-report:{report.pk}").count() == 1
    assert list(services.unread_for(org["leader"])) == [report]
    services.leader_report_open(report=report, user=org["leader"])
    assert LeaderReceipt.objects.get(report=report, user=org["leader"]).read_at == NOW
    assert not services.unread_for(org["leader"]).exists()
    reasons = list(report.history.order_by("history_date").values_list("history_change_reason", flat=True))
    assert reasons == ["根据考核指标撰写表扬材料", "修改表扬材料", "上报集团领导"]
    with pytest.raises(ValidationError):
        services.leader_report_send(report=report, by=org["marketing"])


def test_r92_a_submitted_work_summary_is_forwarded_with_a_remark(org, rnd):
    south = WorkSummary.objects.get(branch=org.branches["south"])
    design = WorkSummary.objects.get(branch=org.branches["design"])
    with pytest.raises(ValidationError, match="尚未提交"):
        services.summary_forward_draft(summary=design, by=org["marketing"])
    report = services.summary_forward_draft(
        summary=south, by=org["marketing"], remark="整改措施具体,建议跟踪落实。"
    )
    assert report.kind == "summary" and report.work_summary == south and report.text.startswith("整改措施")
    services.leader_report_send(report=report, by=org["marketing"])
    assert list(services.unread_for(org["leader"])) == [report]
    assert list(services.unread_for(org["auditor"])) == []  # the auditor reads it, it does not await him
