"""Figures by branch and month (R35): volume, timeliness, outcomes, through restrict()."""

import datetime as dt

import pytest
from django.utils import timezone

from complaints import services
from complaints.selectors import complaint_figures, due_return_visits

from .conftest import at, make_client, make_complaint

pytestmark = pytest.mark.django_db


def test_figures_by_branch_and_month(org, django_assert_max_num_queries):
    east = make_client(org)
    staff = org["east_staff"]
    on_time = make_complaint(org, client=east, received_at=at(2026, 3, 2, 9, 30))
    services.complaint_acknowledge(complaint=on_time, by=staff)  # acknowledged now: late for March
    a = make_complaint(org, client=east, received_at=timezone.now() - dt.timedelta(minutes=1))
    services.complaint_acknowledge(complaint=a, by=staff)
    services.complaint_investigate(complaint=a, by=staff)
    services.complaint_resolve(
        complaint=a, by=staff, finding="client_error", resolution="已解释", is_unreasonable=True
    )
    make_complaint(org, "south", received_at=at(2026, 3, 5, 10, 0))

    with django_assert_max_num_queries(3):  # the permission lookup, then one query
        rows = complaint_figures(org["marketing"])
    by_key = {(r["branch_id"], r["month"]): r for r in rows}
    march = by_key[(org.branches["east"].pk, dt.date(2026, 3, 1))]
    assert march["volume"] == 1 and march["acknowledged"] == 1 and march["acknowledged_on_time"] == 0
    assert march["ack_rate"] == 0 and march["resolve_rate"] is None
    now_month = timezone.localtime().date().replace(day=1)
    current = by_key[(org.branches["east"].pk, now_month)]
    assert current["resolved_on_time"] == 1 and current["resolve_rate"] == 1.0
    assert current["client_error"] == 1 and current["unreasonable"] == 1
    assert (org.branches["south"].pk, dt.date(2026, 3, 1)) in by_key
    # A branch's people see their branch's figures only.
    assert {r["branch_id"] for r in complaint_figures(org["east_manager"])} == {org.branches["east"].pk}
    assert complaint_figures(org["norole"]) == []
    only_march = complaint_figures(org["marketing"], start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31))
    assert sum(r["volume"] for r in only_march) == 2


def test_due_return_visits_listed_in_scope(org):
    c = make_complaint(org, client=make_client(org))
    staff = org["east_staff"]
    services.complaint_acknowledge(complaint=c, by=staff)
    services.complaint_investigate(complaint=c, by=staff)
    services.complaint_resolve(complaint=c, by=staff, finding="our_fault", resolution="已返修")
    assert [v.complaint_id for v in due_return_visits(staff)] == [c.pk]
    assert list(due_return_visits(org["south_staff"])) == []
