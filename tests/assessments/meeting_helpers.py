"""A rated half-year round for the tests of the review meeting, its circular and the reports to
the leaders (R87-R93): 2026H1, east 优良, south 差, design and install 合格; south's work summary
submitted; the half year's ranking built. Through the real services, with the clock moved."""

from __future__ import annotations

import datetime as dt

import time_machine

from assessments.models import Assessment, AssessmentRound, WorkSummary
from assessments.monthly import services as monthly
from assessments.review import services as review
from crm.figures import HalfYear

from .helpers import at, new_client

H1 = HalfYear(2026, 1)
RATINGS = {"east": "excellent", "south": "poor", "design": "qualified", "install": "qualified"}
# The review meeting is held after the round is rated; the tests run at NOW.
NOW = at("2026-07-20T10:00")
MEETING_DAY = dt.date(2026, 7, 18)


def rated_round(org) -> AssessmentRound:
    with time_machine.travel(at("2026-03-01T10:00"), tick=False):
        for code in RATINGS:
            new_client(org, code)
            new_client(org, code)
    with time_machine.travel(at("2026-07-01T01:30"), tick=False):
        rnd, pending = review.assessment_round_start(half=H1)
        for branch_id in pending:
            review.assessment_compute(round_id=rnd.pk, branch_id=branch_id)
        monthly.ranking_build(kind="half", label="2026H1", as_of=at("2026-07-01T00:00"))
    with time_machine.travel(at("2026-07-10T16:00"), tick=False):
        for code, rating in RATINGS.items():
            a = Assessment.objects.get(round=rnd, branch=org.branches[code])
            for check in a.spot_checks.all():
                review.spot_check_record(check=check, by=org["auditor"], accurate=rating != "poor")
            review.assessment_rate(assessment=a, by=org["auditor"], rating=rating, reason=f"{code} 评定理由")
    with time_machine.travel(at("2026-07-12T10:00"), tick=False):
        summary = WorkSummary.objects.get(branch=org.branches["south"], assessment__round=rnd)
        review.work_summary_submit(
            summary=summary, by=org["south_manager"], parts={p: f"{p} 总结" for p in WorkSummary.PARTS}
        )
    rnd.refresh_from_db()
    return rnd


def record_meeting(org, rnd, **kw):
    from assessments.circulars import services

    args = {
        "rnd": rnd,
        "by": org["marketing"],
        "held_on": MEETING_DAY,
        "place": "集团总部三楼会议室",
        "minutes": "通报半年考核结果,讨论下半年客户关系维护重点。",
        "attendees": [org["marketing"].pk, org["leader"].pk, org["east_manager"].pk, org["south_manager"].pk],
        "decisions": [
            {
                "text": "华南分公司整改档案准确性",
                "owner": org["south_manager"].pk,
                "due_on": dt.date(2026, 8, 31),
            },
            {"text": "市场营销部修订考核细则", "owner": org["marketing"].pk, "due_on": dt.date(2026, 7, 19)},
        ],
    }
    args.update(kw)
    return services.review_meeting_record(**args)
