"""The periodic jobs of R25a and R22: declared with a minute and an hour, thin, idempotent."""

import datetime as dt

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from crm.schedules import _declared, ensure_declared
from surveys import services, tasks
from surveys.models import Campaign, Survey
from tests.surveys.conftest import make_client

pytestmark = pytest.mark.django_db


def test_schedules_declared_with_minute_and_hour():
    ours = {d["task"]: d for d in _declared if d["task"].startswith("surveys.")}
    assert set(ours) == {
        "surveys.tasks.open_quarterly_campaign",
        "surveys.tasks.campaign_daily",
        "surveys.tasks.expire_links",
    }
    quarterly = ours["surveys.tasks.open_quarterly_campaign"]
    assert (quarterly["minute"], quarterly["hour"], quarterly["day_of_month"]) == (0, 8, 1)
    assert quarterly["month_of_year"] == "1,4,7,10"
    ensure_declared()
    ensure_declared()
    # The three declared here, and the improvement plans' daily reminder its migration made.
    assert PeriodicTask.objects.filter(task__startswith="surveys.tasks.").count() == 4
    row = PeriodicTask.objects.get(task="surveys.tasks.open_quarterly_campaign")
    assert str(row.crontab.timezone) == "Asia/Shanghai"


def test_tasks_run_the_services_idempotently(org, standard):
    make_client(org, "east")
    first = tasks.open_quarterly_campaign()
    assert tasks.open_quarterly_campaign() == first
    assert Campaign.objects.count() == 1
    campaign = Campaign.objects.get()
    assert tasks.campaign_daily() == {"reminded": 0, "closed": 0}  # 45 days to go
    today = timezone.localdate()
    Campaign.objects.filter(pk=campaign.pk).update(
        opens_on=today - dt.timedelta(days=50), deadline=today - dt.timedelta(days=1)
    )
    assert tasks.campaign_daily()["closed"] == 1
    assert tasks.campaign_daily()["closed"] == 0
    assert Survey.objects.get().status == Survey.Status.EXPIRED


def test_expire_links_task(org, east_client, standard):
    survey = services.survey_create(by=org["east_staff"], client=east_client, template=standard)
    services.survey_send(survey=survey, by=org["east_staff"])
    Survey.objects.filter(pk=survey.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert tasks.expire_links() == 1
    assert tasks.expire_links() == 0
