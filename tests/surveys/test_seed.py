"""The surveys' demo data: built on the archive's demo clients, believable and idempotent."""

import pytest

from clients import seed as clients_seed
from surveys import seed as demo
from surveys.models import Answer, Campaign, CampaignBranchReport, FollowUp, Survey

pytestmark = pytest.mark.django_db


def test_no_clients_no_surveys(org):
    assert demo.seed(org.org) == "no clients"
    assert not Survey.objects.exists()


def test_seed_builds_campaigns_answers_and_is_idempotent(org):
    clients_seed.seed(org.org)
    summary = demo.seed(org.org)
    assert "campaigns" in summary
    closed = Campaign.objects.filter(status=Campaign.Status.CLOSED)
    assert closed.count() >= 1
    assert CampaignBranchReport.objects.filter(campaign__in=closed).count() >= 2
    assert Survey.objects.filter(status=Survey.Status.ANSWERED).count() >= 10
    assert Survey.objects.filter(
        template__code="real-estate-benchmark", status=Survey.Status.ANSWERED
    ).exists()
    assert FollowUp.objects.exists()  # some unsatisfied items
    assert Answer.objects.filter(positive=True).count() > Answer.objects.filter(unsatisfied=True).count()
    before = (Survey.objects.count(), Answer.objects.count(), Campaign.objects.count())
    assert demo.seed(org.org) == "already there"
    assert (Survey.objects.count(), Answer.objects.count(), Campaign.objects.count()) == before
