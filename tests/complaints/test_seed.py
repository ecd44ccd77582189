"""The demo complaints: believable, in every status, some overdue, idempotent."""

import pytest

from complaints.models import Complaint, HandOver, ReturnVisit, Status
from complaints.seed import seed

from .conftest import make_client

pytestmark = pytest.mark.django_db


def test_seed_without_clients(org):
    assert seed(org.org) == "no clients"
    assert not Complaint.objects.exists()


def test_seed_every_status_overdue_and_idempotent(org):
    for code in ("east", "south", "design", "install"):
        for _ in range(3):
            make_client(org, code)
    summary = seed(org.org)
    total = Complaint.objects.count()
    assert total == 4 * 13 and summary.startswith(f"{total} complaints")
    assert set(Complaint.objects.values_list("status", flat=True)) == set(Status.values)
    assert Complaint.objects.overdue().exists()
    assert Complaint.objects.filter(acknowledge_breached_at__isnull=False).exists()
    assert HandOver.objects.exists() and ReturnVisit.objects.filter(visited_at__isnull=False).exists()
    old = Complaint.objects.filter(status="closed").order_by("received_at").first()
    assert old.closed_at > old.resolved_at > old.acknowledged_at > old.received_at
    assert list(old.events.values_list("at", flat=True)) == sorted(old.events.values_list("at", flat=True))
    assert seed(org.org).startswith("already there")
    assert Complaint.objects.count() == total
