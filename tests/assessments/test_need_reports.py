"""The quarterly client need analysis report and its meeting (seed 003, 三(四); R65-R69): which
quarters a branch writes, the pre-filled figures and drafts (R66: counts by urgency, category,
nature, origin, value and feasibility; the R12 rates; handling satisfaction; merges and
contradictions), the workflow draft -> submitted -> accepted / returned with its meeting (R67),
the meeting's decisions tracked to done (R68), and every step in the history. The clock is
fixed: the records fall in 2026Q3, the report is written in October."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import translation

from assessments.models import NeedAnalysisReport, NeedMeetingDecision
from assessments.needreports import services
from clients import services as archive
from clients.models import Need
from clients.needcare import services as care
from crm.figures import Quarter
from crm.models import Notification, StaleVersion
from tests.clients.archive_helpers import make_client

from .helpers import at

pytestmark = pytest.mark.django_db

Q3 = Quarter(2026, 3)
IN_Q3 = at("2026-08-10T10:00")
OCTOBER = at("2026-10-09T10:00")
TODAY = OCTOBER.date()


@pytest.fixture(autouse=True)
def _chinese():
    """The services' messages in the group's language, whatever an earlier test of the worker
    left active (a request in English leaves its language on the thread)."""
    with translation.override("zh-hans"):
        yield


def _need(client, **kw) -> Need:
    kw.setdefault("category", "service")
    kw.setdefault("urgency", "general")
    kw.setdefault("description", "希望缩短施工图出图周期")
    return archive.need_create(need=Need(client=client, **kw), by=client.owner)


@pytest.fixture
def quarter_of_needs(org):
    """East's needs of 2026Q3 (and some that must not count): five needs of its own (a sixth
    merged into one of them), one answered on time, done and rated satisfied; two marked as
    contradicting; a need of Q2 and one of south."""
    staff = org["east_staff"]
    east = make_client(org, "east", name="宁波城投置业有限公司")
    with time_machine.travel(at("2026-06-20T10:00"), tick=False):
        _need(east, description="二季度的需求")
    with time_machine.travel(IN_Q3, tick=False):
        done = _need(
            east,
            category="product",
            urgency="urgent",
            is_functional=True,
            feasibility="high",
            value_assessment="high",
        )
        archive.need_respond(need=done, by=staff, note="已安排设计负责人对接")
        archive.need_close(need=done, by=staff, done=True, note="已完成")
        care.need_rate(need=done, by=staff, rating="satisfied", respondent="王工")
        _need(east, urgency="important", is_functional=False, feasibility="low", value_assessment="medium")
        kept = _need(east, category="price", description="希望按面积计价的设计费报价")
        again = _need(east, category="price", description="希望按面积计价的设计费报价(再次来电)")
        care.need_merge(duplicate=again, into=kept, by=staff, note="重复登记")
        first = _need(east, description="要求十一月底前出图")
        second = _need(east, description="要求十二月中旬再出图,留出方案调整时间")
        care.need_mark_conflict(need=first, other=second, by=staff, note="出图时间要求相互矛盾")
        _need(make_client(org, "south"), description="南方分公司的需求")
    return east


def _open(org, code="east", quarter=Q3, who=None):
    report, _created = services.need_report_open(
        branch=org.branches[code], quarter=quarter, by=org[who or f"{code}_staff"]
    )
    return report


def _write_all(org, report, who="east_staff"):
    return services.need_report_save(
        report=report, by=org[who], parts={name: f"{name} 的内容" for name in services.PART_NAMES}
    )


# -- R65: which quarters, who opens ----------------------------------------------------------------


def test_a_branch_opens_the_current_quarter_and_four_before_it_once(org):
    with time_machine.travel(OCTOBER, tick=False):
        assert [q.label for q in services.quarters_open()] == [
            "2026Q4",
            "2026Q3",
            "2026Q2",
            "2026Q1",
            "2025Q4",
        ]
        report, created = services.need_report_open(
            branch=org.branches["east"], quarter=Q3, by=org["east_staff"]
        )
        again, created_again = services.need_report_open(
            branch=org.branches["east"], quarter=Q3, by=org["east_manager"]
        )
        assert created and not created_again and again.pk == report.pk
        assert (
            report.status == "draft"
            and report.history.first().history_change_reason == "新建客户需求分析报告"
        )
        for label in ("2025Q3", "2027Q1"):
            with pytest.raises(ValidationError) as refused:
                services.need_report_open(
                    branch=org.branches["east"], quarter=Quarter.parse(label), by=org["east_staff"]
                )
            assert "quarter" in refused.value.message_dict
        for who in ("marketing", "south_manager", "leader"):
            with pytest.raises(PermissionDenied):
                services.need_report_open(branch=org.branches["east"], quarter=Q3, by=org[who])
        with pytest.raises(PermissionDenied):
            services.need_report_open(branch=org.branches["hq"], quarter=Q3, by=org["east_staff"])
    assert NeedAnalysisReport.objects.count() == 1


def test_quarters_parse_and_bound():
    assert Quarter.parse("2026q3") == Q3 and Q3.first_day == dt.date(2026, 7, 1)
    assert Q3.last_day == dt.date(2026, 9, 30) and Q3.end == at("2026-10-01T00:00")
    assert Quarter(2026, 4).next() == Quarter(2027, 1) and Quarter(2027, 1).previous() == Quarter(2026, 4)
    assert Quarter.containing(at("2026-12-31T23:59")) == Quarter(2026, 4)
    for bad in ("2026Q5", "2026-3", "", "1999Q1"):
        with pytest.raises(ValueError):
            Quarter.parse(bad)


# -- R66: the pre-filled figures and drafts ---------------------------------------------------


def test_the_figures_count_the_quarters_needs_of_the_branch(org, quarter_of_needs):
    with time_machine.travel(OCTOBER, tick=False):
        report = _open(org)
        result = services.report_figures(report, org["east_manager"])
    values = result.values
    assert values["needs_received"] == 5  # the merged duplicate, Q2's and south's are not
    assert values["needs_due"] == 5 and values["needs_on_time"] == 1 and values["needs_on_time_rate"] == 0.2
    assert values["needs_done"] == 1 and values["needs_completion_rate"] == 0.2
    assert values["needs_rated"] == 1 and values["needs_rating_satisfaction"] == 1.0
    assert values["needs_merged"] == 1 and values["need_conflicts"] == 1
    counts = {
        b["key"]: {i["code"]: i["count"] for i in b["items"]}
        for s in services.sections(report, result)
        for b in s["breakdowns"]
    }
    assert counts["urgency"] == {"urgent": 1, "important": 1, "general": 3}
    assert counts["category"] == {"product": 1, "service": 3, "price": 1, "other": 0}
    assert counts["nature"] == {"True": 4, "False": 1}
    assert counts["origin"] == {"initial": 5, "derived": 0}
    assert counts["value"] == {"high": 1, "medium": 1, "low": 0, "": 3}
    assert counts["feasibility"] == {"high": 1, "medium": 0, "low": 1, "": 3}
    # Each count is its list: the figure's rows narrowed to the value.
    for key, by_code in counts.items():
        for code, n in by_code.items():
            rows, hidden, applied = services.figure_list(
                report, org["east_manager"], "needs_received", {key: code}
            )
            assert len(rows) == n and hidden == 0 and applied, (key, code)
    rows, _h, _a = services.figure_list(
        report, org["east_manager"], "needs_received", {"value": "high", "feasibility": "high"}
    )
    assert len(rows) == 1


def test_the_drafts_are_written_from_the_figures_in_the_readers_language(org, quarter_of_needs):
    with time_machine.travel(OCTOBER, tick=False):
        report = _open(org)
        result = services.report_figures(report, org["east_staff"])
        with translation.override("zh-hans"):
            drafts = services.drafts(report, result)
        with translation.override("en"):
            english = services.drafts(report, result)
    assert set(drafts) == set(services.PART_NAMES)
    assert "收到客户需求 5 条" in drafts["overview"] and "需求响应及时率 20.0%" in drafts["overview"]
    assert "需求处理满意度 100.0%" in drafts["overview"]
    assert "紧急 1 条、重要 1 条、一般 3 条" in drafts["analysis"]
    assert "高 1 条" in drafts["value"] and "价值高且可行性高的需求 1 条" in drafts["feasibility"]
    assert "合并重复需求 1 条" in drafts["integration"] and "矛盾的需求 1 对" in drafts["integration"]
    assert "5" in english["overview"] and "收到" not in english["overview"]


# -- R67: the workflow --------------------------------------------------------------------------


def _meeting(
    org, report, *, held_on=None, who="east_manager", attendees=("east_manager", "east_staff"), **kw
):
    return services.need_meeting_record(
        report=report,
        by=org[who],
        held_on=held_on or TODAY,
        place="三楼会议室",
        minutes="逐项讨论报告",
        attendees=[org[a].pk for a in attendees],
        **kw,
    )


def test_submit_freezes_the_figures_and_only_the_manager_submits_after_the_quarter(org, quarter_of_needs):
    with time_machine.travel(at("2026-09-20T10:00"), tick=False):
        report = _write_all(org, _open(org))
        with pytest.raises(ValidationError, match="尚未结束"):
            services.need_report_submit(report=report, by=org["east_manager"])
    with time_machine.travel(OCTOBER, tick=False):
        with pytest.raises(PermissionDenied):
            services.need_report_submit(report=report, by=org["east_staff"])
        services.need_report_save(report=report, by=org["east_staff"], parts={"value": "  "})
        with pytest.raises(ValidationError) as refused:
            services.need_report_submit(report=report, by=org["east_manager"])
        assert list(refused.value.message_dict) == ["value"]
        report = services.need_report_submit(
            report=report, by=org["east_manager"], parts={"value": "价值较高"}
        )
        assert report.status == "submitted" and report.values["needs_received"] == 5
        assert report.submitted_by == org["east_manager"] and report.frozen_at
        # A need recorded later in Q3's window (back-dated) does not change the frozen report.
        _need(quarter_of_needs, received_at=at("2026-09-29T10:00"), description="补录的需求")
        assert services.report_figures(report, org["leader"]).values["needs_received"] == 5
        rows, hidden, _applied = services.figure_list(report, org["marketing"], "needs_received")
        assert len(rows) == 5 and hidden == 0
        with pytest.raises(ValidationError):
            services.need_report_save(report=report, by=org["east_staff"], parts={"overview": "改"})


def test_a_stale_save_is_refused_and_changes_nothing(org):
    with time_machine.travel(OCTOBER, tick=False):
        report = _open(org)
        version = report.version
        services.need_report_save(report=report, by=org["east_staff"], parts={"overview": "第一稿"})
        with pytest.raises(StaleVersion):
            services.need_report_save(
                report=report,
                by=org["east_manager"],
                parts={"overview": "旧版本上的修改"},
                expected_version=version,
            )
        with pytest.raises(ValidationError):
            services.need_report_save(report=report, by=org["east_staff"], parts={"nonsense": "x"})
        with pytest.raises(PermissionDenied):
            services.need_report_save(report=report, by=org["marketing"], parts={"overview": "集团改写"})
    report.refresh_from_db()
    assert report.overview == "第一稿"


def test_the_meeting_reviews_a_submitted_report_returned_then_accepted(
    org, quarter_of_needs, django_capture_on_commit_callbacks
):
    with time_machine.travel(OCTOBER, tick=False):
        report = _write_all(org, _open(org))
        early = _meeting(org, report, held_on=dt.date(2026, 10, 8))  # discussed the draft
        report = services.need_report_submit(report=report, by=org["east_manager"])
        with pytest.raises(ValidationError) as refused:
            services.need_report_review(report=report, by=org["east_manager"], meeting=early, accept=True)
        assert "meeting" in refused.value.message_dict  # held before the submission
        meeting = _meeting(org, report, attendees=("east_staff", "marketing"))
        with pytest.raises(ValidationError, match="参会人员"):  # the recorder was not there
            services.need_report_review(report=report, by=org["east_manager"], meeting=meeting, accept=True)
        meeting = _meeting(org, report)
        with pytest.raises(PermissionDenied):
            services.need_report_review(report=report, by=org["east_staff"], meeting=meeting, accept=True)
        with pytest.raises(ValidationError) as refused:
            services.need_report_review(report=report, by=org["east_manager"], meeting=meeting, accept=False)
        assert "reason" in refused.value.message_dict
        with django_capture_on_commit_callbacks(execute=True):
            report = services.need_report_review(
                report=report,
                by=org["east_manager"],
                meeting=meeting,
                accept=False,
                reason="价值评估过于笼统",
            )
        assert report.status == "returned" and report.returned_reason == "价值评估过于笼统"
        assert report.snapshot is None and report.is_editable  # live again while it is written
        report = services.need_report_save(
            report=report, by=org["east_staff"], parts={"value": "按客户逐一评估"}
        )
    with time_machine.travel(at("2026-10-15T10:00"), tick=False):
        report = services.need_report_submit(report=report, by=org["east_manager"])
        with pytest.raises(ValidationError):  # the meeting of the 9th was before this submission
            services.need_report_review(report=report, by=org["east_manager"], meeting=meeting, accept=True)
        second = _meeting(
            org, report, held_on=dt.date(2026, 10, 15), attendees=("east_manager", "east_staff", "marketing")
        )
        with django_capture_on_commit_callbacks(execute=True):
            report = services.need_report_review(
                report=report, by=org["east_manager"], meeting=second, accept=True
            )
        assert report.status == "accepted" and report.review_meeting == second
        with pytest.raises(ValidationError):
            services.need_report_review(
                report=report, by=org["east_manager"], meeting=second, accept=False, reason="x"
            )
        with pytest.raises(ValidationError, match="审核通过"):
            _meeting(org, report)
    reasons = [step["what"] for step in services.timeline(report)]
    assert reasons[0] == "新建客户需求分析报告"
    for expected in (
        "提交需求分析会议审核",
        "需求分析会议(2026-10-09)退回修改:价值评估过于笼统",
        "需求分析会议(2026-10-15)审核通过",
        "记录需求分析会议(2026-10-08)",
    ):
        assert expected in reasons, expected
    assert Notification.objects.filter(recipient=org["marketing"], verb="need_report").count() == 1
    assert Notification.objects.filter(recipient=org["east_manager"], verb="need_report").count() == 0


def test_a_meeting_needs_its_date_attendees_and_decisions_right_and_saves_nothing_otherwise(org):
    with time_machine.travel(OCTOBER, tick=False):
        report = _open(org)
        cases = [
            ({"held_on": TODAY + dt.timedelta(days=1)}, "held_on"),
            ({"held_on": dt.date(2026, 6, 30)}, "held_on"),
            ({"attendees": ("east_manager",)}, "attendees"),
            ({"attendees": ("east_manager", "south_staff")}, "attendees"),
            ({"decisions": [{"text": "跟进", "owner": org["south_staff"].pk, "due_on": TODAY}]}, "decisions"),
            (
                {
                    "decisions": [
                        {
                            "text": "跟进",
                            "owner": org["east_staff"].pk,
                            "due_on": TODAY - dt.timedelta(days=1),
                        }
                    ]
                },
                "decisions",
            ),
            ({"decisions": [{"text": "", "owner": org["east_staff"].pk, "due_on": TODAY}]}, "decisions"),
        ]
        for kw, field in cases:
            with pytest.raises(ValidationError) as refused:
                _meeting(org, report, **kw)
            assert field in refused.value.message_dict, kw
        with pytest.raises(PermissionDenied):
            _meeting(org, report, who="marketing")
        with pytest.raises(Http404):  # another branch's report: out of scope
            _meeting(org, report, who="south_manager")
    assert not report.meetings.exists() and not NeedMeetingDecision.objects.exists()


def test_decisions_are_tracked_to_done_by_their_owner_or_the_manager(org, django_capture_on_commit_callbacks):
    with time_machine.travel(OCTOBER, tick=False):
        report = _open(org)
        with django_capture_on_commit_callbacks(execute=True):
            meeting = _meeting(
                org,
                report,
                decisions=[
                    {
                        "text": "出具BIM深化实施方案",
                        "owner": org["east_staff"].pk,
                        "due_on": TODAY + dt.timedelta(days=5),
                    },
                    {
                        "text": "建立驻场需求台账",
                        "owner": org["east_manager"].pk,
                        "due_on": TODAY + dt.timedelta(days=30),
                    },
                    {"text": "", "owner": None, "due_on": None},  # an empty row of the form
                ],
            )
        first, second = meeting.decisions.order_by("due_on")
        assert Notification.objects.filter(recipient=org["east_staff"], verb="need_decision").count() == 1
        assert not Notification.objects.filter(recipient=org["east_manager"], verb="need_decision").exists()
        for who in ("south_manager", "marketing", "leader"):
            with pytest.raises((PermissionDenied, Http404)):
                services.need_decision_done(decision=first, by=org[who], note="做完了")
        with pytest.raises(PermissionDenied):  # staff mark their own decisions only
            services.need_decision_done(decision=second, by=org["east_staff"], note="已建立")
        with pytest.raises(ValidationError):
            services.need_decision_done(decision=first, by=org["east_staff"], note=" ")
        done = services.need_decision_done(decision=first, by=org["east_staff"], note="方案已发客户")
        assert done.is_done and done.done_by == org["east_staff"] and done.done_note == "方案已发客户"
        with pytest.raises(ValidationError, match="已确认完成"):
            services.need_decision_done(decision=first, by=org["east_manager"], note="再次确认")
        services.need_decision_done(decision=second, by=org["east_manager"], note="台账已建立")
        later = services.need_decision_add(
            meeting=meeting,
            by=org["east_staff"],
            text="回访客户确认方案",
            owner=org["east_staff"].pk,
            due_on=TODAY,
        )
    assert not later.is_done
    with time_machine.travel(at("2026-10-12T10:00"), tick=False):
        assert later.is_overdue and list(services.open_decisions_of(org["east_staff"])) == [later]
        assert list(services.open_decisions_of(org["south_staff"])) == []
    steps = [s["what"] for s in services.timeline(report)]
    assert "决定事项已完成:出具BIM深化实施方案" in steps and "记录会议决定事项:回访客户确认方案" in steps


def test_the_demo_has_last_quarters_reports_obeying_the_rules(org):
    """Demo data (design.md): east's report accepted at its meeting with one decision done and
    one open; south's submitted; the others being written."""
    from assessments.needreports.seed import seed

    with time_machine.travel(OCTOBER, tick=False):
        assert "4 need analysis reports of 2026Q3" in seed(org.org)
        assert seed(org.org).startswith("already there")
    reports = {r.branch.code: r for r in NeedAnalysisReport.objects.select_related("branch")}
    assert reports["east"].status == "accepted" and reports["south"].status == "submitted"
    assert reports["design"].status == reports["install"].status == "draft"
    meeting = reports["east"].meetings.get()
    assert reports["east"].review_meeting == meeting and meeting.attendees.count() == 3
    assert [d.is_done for d in meeting.decisions.order_by("due_on")] == [True, False]
    assert reports["east"].snapshot is not None and reports["install"].overview == ""
