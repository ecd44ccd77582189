"""The demo's reporting and review (design.md, demo data), built on different dates: a year of
closed periods with some late and one returned, this period's drafts, rankings, the analysis
reports of every half year due, the latest finished assessment, and no branch held (R33)."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command

from assessments.models import (
    AnalysisReport,
    Assessment,
    CircularReceipt,
    LeaderReport,
    MonthlyClose,
    MonthlyReport,
    NeedAnalysisReport,
    Ranking,
    ReviewMeeting,
)
from crm.figures import HalfYear, Period, Quarter
from crm.models import Suspension

from .helpers import at

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "moment,assessed",
    [("2026-12-02T09:00", "2026H1"), ("2027-01-25T09:00", "2026H1"), ("2027-08-20T09:00", "2027H1")],
)
def test_the_demo_on_any_date(moment, assessed):
    now = at(moment)
    with time_machine.travel(now, tick=False):
        call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
        last = Period.last_due(now)
        assert MonthlyClose.objects.filter(state="done").count() == 12
        assert MonthlyReport.objects.filter(period=Period.containing(now).label, status="draft").count() == 4
        closed = MonthlyReport.objects.filter(period=last.label)
        assert closed.count() == 4 and set(closed.values_list("status", flat=True)) == {"submitted"}
        assert MonthlyReport.objects.filter(on_time=False).exists()
        assert MonthlyReport.objects.filter(events__action="returned").count() == 1
        assert not MonthlyReport.objects.filter(status="missing").exists()
        assert Ranking.objects.exists()
        rated = Assessment.objects.filter(half_year=assessed, rated_at__isnull=False)
        assert rated.count() == 4
        assert set(rated.values_list("rating", flat=True)) == {"excellent", "poor", "qualified"}
        halves = (HalfYear(2026, 1), HalfYear(2026, 2), HalfYear(2027, 1))
        due = [h for h in halves if h.analysis_due <= now][-2:]  # the last two due
        assert due
        for half in due:
            assert AnalysisReport.objects.filter(half_year=half.label, status="submitted").count() == 4
        assert not Suspension.objects.active(now).exists(), list(Suspension.objects.active(now))
        assert Suspension.objects.filter(kind="archive").get().ends_at < now - dt.timedelta(days=1)
        # R65-R68: last quarter's need analysis reports, east's accepted at its meeting.
        need_reports = NeedAnalysisReport.objects.filter(quarter=Quarter.containing(now).previous().label)
        assert dict(need_reports.values_list("branch__code", "status")) == {
            "east": "accepted",
            "south": "submitted",
            "design": "draft",
            "install": "draft",
        }
        # R87-R93: the round's review meeting, its circular issued and mostly read, east's
        # commendation waiting for the leader, south's summary forwarded and read.
        meeting = ReviewMeeting.objects.get()
        assert meeting.round.half_year == assessed and meeting.held_on <= now.date()
        assert meeting.decisions.filter(done_at__isnull=False).exists()
        assert meeting.decisions.filter(done_at__isnull=True).exists()
        assert meeting.circular.is_issued
        receipts = CircularReceipt.objects.filter(circular=meeting.circular)
        unread = set(receipts.filter(read_at__isnull=True).values_list("user__username", flat=True))
        assert unread == {"design_staff", "install_staff"}
        assert receipts.filter(read_at__isnull=False).count() > len(unread)
        assert all(r.read_at <= now for r in receipts.exclude(read_at=None))
        sent = LeaderReport.objects.filter(status="sent")
        assert set(sent.values_list("kind", "assessment__branch__code")) == {
            ("commendation", "east"),
            ("summary", "south"),
        }
        from assessments.circulars.services import unread_for
        from crm.models import User

        assert [r.kind for r in unread_for(User.objects.get(username="leader"))] == ["commendation"]
