"""Demo data of the half-year review meeting and what the group sends back (R87-R93): the last
rated round's 客户关系管理工作研讨会 (held a week after the ratings, attended by group marketing, the
leader, the auditor and every branch manager) with three decisions (two done, one open), its
circular generated from the round, edited and issued to every branch and project department,
read by most of its people (design's and install's staff have not opened it yet); east's
commendation written up from its indicators and sent to the leader (not read yet: it waits on
his home page), and south's work summary forwarded with a remark (read). Through the services
as the people would act; deterministic; idempotent (nothing is made twice)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from crm.models import Notification

from ..models import Assessment, AssessmentRound, WorkSummary
from . import services
from .models import CircularReceipt, ReviewMeeting

MINUTES = (
    "集团公司市场营销部通报了上半年客户关系维护成果和各分子公司考核结果、客户分级排名。"
    "华东分公司介绍了客户档案规范化和重点客户拜访计划的做法;华南分公司就档案信息准确性问题作了说明,"
    "提出整改措施。会议讨论了下半年客户关系维护工作重点。"
)
UNREAD = {"design_staff", "install_staff"}


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_default_timezone())


def seed(org) -> str:
    if ReviewMeeting.objects.exists():
        return f"already there: {ReviewMeeting.objects.count()} review meetings"
    rnd = (
        AssessmentRound.objects.filter(state=AssessmentRound.State.OPEN)
        .exclude(assessments__rated_at__isnull=True)
        .order_by("-half_year")
        .first()
    )
    if rnd is None:
        return "no rated round: no review meeting"
    users = org.users
    marketing = users["marketing"]
    rated = max(a.rated_at for a in rnd.assessments.all())
    day = timezone.localtime(rated).date() + dt.timedelta(days=8)
    if _at(day + dt.timedelta(days=5), 18) > timezone.now():
        return "the round was rated too recently: no review meeting yet"
    attendees = [users[n] for n in ("marketing", "leader", "auditor")]
    attendees += [u for n, u in users.items() if n.endswith("_manager")]
    meeting = services.review_meeting_record(
        rnd=rnd,
        by=marketing,
        held_on=day,
        place="集团总部三楼第一会议室",
        minutes=MINUTES,
        attendees=[u.pk for u in attendees],
        decisions=[
            {
                "text": "华南分公司对抽查不准确的客户档案逐一核实更正,并报送整改情况",
                "owner": users["south_manager"].pk,
                "due_on": day + dt.timedelta(days=30),
            },
            {
                "text": "市场营销部修订客户档案信息准确性抽查细则",
                "owner": marketing.pk,
                "due_on": day + dt.timedelta(days=45),
            },
            {
                "text": "各分子公司推广华东分公司重点客户拜访计划的做法",
                "owner": users["east_manager"].pk,
                "due_on": day + dt.timedelta(days=60),
            },
        ],
        at=_at(day, 17, 30),
    )
    south, rules, _east = meeting.decisions.order_by("pk")
    # Done by now (a demo built soon after the meeting has them still open).
    for decision, by, note, moment in (
        (
            south,
            users["south_manager"],
            "已核实更正23家客户的联系电话和地址。",
            _at(day + dt.timedelta(days=25), 15),
        ),
        (rules, marketing, "抽查细则已修订并印发。", _at(day + dt.timedelta(days=40), 11)),
    ):
        if moment <= timezone.now():
            services.review_decision_done(decision=decision, by=by, note=note, at=moment)
    circular = services.circular_generate(
        meeting=meeting, by=marketing, at=_at(day + dt.timedelta(days=1), 9)
    )
    circular = services.circular_save(
        circular=circular,
        by=marketing,
        title=circular.title,
        body=circular.body.replace(
            "\n\n集团公司市场营销部",
            "\n\n希望各分子公司、项目经理部对照考核指标查找不足,做好下半年客户关系维护工作。\n\n集团公司市场营销部",
        ),
    )
    issued_at = _at(day + dt.timedelta(days=2), 10)
    circular = services.circular_issue(circular=circular, by=marketing, at=issued_at)
    for n, receipt in enumerate(
        CircularReceipt.objects.filter(circular=circular).select_related("user").order_by("pk")
    ):
        if receipt.user.username in UNREAD:
            continue
        services.circular_open(
            circular=circular, user=receipt.user, at=issued_at + dt.timedelta(hours=1 + n * 3)
        )
    east = Assessment.objects.filter(round=rnd, rating=Assessment.Rating.EXCELLENT).first()
    sent = 0
    if east is not None:
        report = services.commendation_draft(
            assessment=east, by=marketing, at=_at(day + dt.timedelta(days=3), 10)
        )
        report = services.leader_report_save(
            report=report, by=marketing, title=report.title, text=report.text.replace("建议", "特此报告,建议")
        )
        services.leader_report_send(report=report, by=marketing, at=_at(day + dt.timedelta(days=3), 16))
        sent += 1
    summary = (
        WorkSummary.objects.filter(assessment__round=rnd, submitted_at__isnull=False)
        .order_by("branch__sort_order")
        .first()
    )
    if summary is not None:
        report = services.summary_forward_draft(
            summary=summary,
            by=marketing,
            remark="该单位已针对信息准确性问题制定整改措施,市场营销部将跟踪落实,呈集团领导阅示。",
            at=_at(day + dt.timedelta(days=4), 10),
        )
        report = services.leader_report_send(
            report=report, by=marketing, at=_at(day + dt.timedelta(days=4), 11)
        )
        services.leader_report_open(
            report=report, user=users["leader"], at=_at(day + dt.timedelta(days=5), 9)
        )
        sent += 1
    # The notices of what was read are read; the rest wait in the bell.
    read = CircularReceipt.objects.filter(circular=circular, read_at__isnull=False).values_list(
        "user_id", flat=True
    )
    Notification.objects.filter(key=f"circular:{circular.pk}", recipient_id__in=list(read)).update(
        read_at=issued_at
    )
    Notification.objects.filter(verb="review_decision").update(read_at=issued_at)
    return f"1 review meeting, its circular read by {len(read)}, {sent} reports to the leaders"
