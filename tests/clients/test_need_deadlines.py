"""R11 as the rule says it: an urgent need's hours are clock hours, the others working days;
the page says how each deadline was computed."""

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse

from clients import services
from clients.models import Need
from tests.clients.factories import ClientFactory

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_urgent_is_four_clock_hours_even_after_office_hours_and_on_a_holiday():
    # 17:00 + 4 h is 21:00 the same evening, not the next morning in office time.
    assert services.need_due_at(urgency="urgent", received_at=at("2026-06-02T17:00")).at == at(
        "2026-06-02T21:00"
    )
    # On National Day too: an urgent need does not wait for the holiday to end.
    due = services.need_due_at(urgency="urgent", received_at=at("2026-10-01T10:00"))
    assert due.at == at("2026-10-01T14:00") and due.provisional is False


def test_important_and_general_count_working_days():
    # Received Wed 30 September 2026: National Day holiday to 7 October, then working days.
    due = services.need_due_at(urgency="important", received_at=at("2026-09-30T10:00"))
    assert due.at.astimezone(SHANGHAI).date() == dt.date(2026, 10, 9)


def test_the_client_page_says_how_each_deadline_was_computed(org):
    client = ClientFactory(branch=org.branches["east"], owner=org["east_staff"])
    for urgency in ("urgent", "general"):
        services.need_create(
            need=Need(client=client, urgency=urgency, category="service", description=f"{urgency} 需求"),
            by=org["east_staff"],
        )
    html = (
        org.web("east_staff")
        .get(reverse("clients:client-tab", kwargs={"pk": client.pk, "tab": "needs"}))
        .content.decode()
    )
    assert "收到后 4 小时内响应(按自然小时计)" in html
    assert "收到后 5 个工作日内响应(按国家法定节假日及调休安排计)" in html
