"""The list filters written for speed (issue 24) say what Django's general ones say."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from complaints.models import Complaint, Severity, Status
from complaints.templatetags.complaint_tags import severity_badge, status_badge
from crm.templatetags.crm_tags import label, stamp


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_label_says_what_get_display_says_in_each_language(language):
    with translation.override(language):
        for severity in Severity:
            c = Complaint(severity=severity, status=Status.RECEIVED)
            assert str(label(c, "severity")) == c.get_severity_display()
        for status in Status:
            c = Complaint(status=status)
            assert str(label(c, "status")) == c.get_status_display()
    assert label(Complaint(status="nonsense"), "status") == "nonsense"  # as get_FOO_display


def test_stamp_is_local_time():
    moment = dt.datetime(2026, 12, 31, 17, 5, tzinfo=dt.UTC)
    assert stamp(moment) == "2027-01-01 01:05"  # Asia/Shanghai
    assert stamp(moment, "day") == "2027-01-01"
    assert stamp(dt.date(2026, 3, 1)) == "2026-03-01"
    assert stamp(None) == "" and stamp("") == ""


def test_badges():
    c = Complaint(severity=Severity.URGENT, status=Status.CLOSED)
    assert "text-bg-danger" in severity_badge(c) and c.get_severity_display() in severity_badge(c)
    assert "text-bg-secondary" in status_badge(c, False) and "overdue" not in status_badge(c, False)
    assert 'data-testid="overdue"' in status_badge(c, True)
