"""The archive list's per-row facts (clients.selectors.list_facts): R12's 需求收集逾期 flag is
decided from the row in memory, and it must say what the filter and the figure say
(needs_collection_overdue_q) for every case: A monthly, others quarterly, never asked but
older than a period, given up (R38) never."""

import datetime as dt

import pytest
from django.utils import timezone

from clients import selectors
from clients.models import Client

from .archive_helpers import make_client

pytestmark = pytest.mark.django_db


def test_the_rows_flag_agrees_with_the_filter(org):
    today = timezone.localdate()
    made = []
    for grade in ("A", "B", "C"):
        for days in (None, 20, 31, 32, 40, 92, 93, 100):
            collected = None if days is None else today - dt.timedelta(days=days)
            made.append(make_client(org, grade=grade, needs_collected_on=collected))
    # Never asked: created long ago, just over a period ago, and today.
    for grade in ("A", "B"):
        for age in (120, 93, 32, 0):
            client = make_client(org, grade=grade)
            Client.objects.filter(pk=client.pk).update(created_at=timezone.now() - dt.timedelta(days=age))
            made.append(client)
    gone = make_client(org, grade="C")
    Client.objects.filter(pk=gone.pk).update(
        tracking="given_up", created_at=timezone.now() - dt.timedelta(days=200)
    )
    made.append(gone)

    ids = [c.pk for c in made]
    rows = list(Client.objects.filter(pk__in=ids).order_by("pk"))
    selectors.list_facts(rows)
    by_row = {c.pk for c in rows if c.needs_overdue}
    by_query = set(
        Client.objects.filter(pk__in=ids)
        .filter(selectors.needs_collection_overdue_q())
        .values_list("pk", flat=True)
    )
    assert by_row == by_query
    # Both kinds occur, so the comparison means something.
    assert by_query and set(ids) - by_query
    assert gone.pk not in by_row


def test_the_list_shows_the_flag_on_its_row(org):
    """R12: the badge 需求收集逾期 on the overdue row of the archive list, not on the other."""
    today = timezone.localdate()
    late = make_client(
        org, grade="A", name="逾期收集建设有限公司", needs_collected_on=today - dt.timedelta(days=40)
    )
    make_client(org, grade="A", name="按时收集建设有限公司", needs_collected_on=today)
    web = org.web("east_staff")
    html = web.get("/clients/?grade=A").content.decode()
    row_late = html.split(late.name)[1].split("</tr>")[0]
    assert "需求收集逾期" in row_late
    row_ok = html.split("按时收集建设有限公司")[1].split("</tr>")[0]
    assert "需求收集逾期" not in row_ok
