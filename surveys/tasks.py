"""Thin periodic jobs of the surveys (R22, R25a): load, call a service. The schedules are
declared here and created in django-celery-beat's tables after migrate (crm.schedules)."""

from celery import shared_task

from crm.schedules import declare

declare(
    name="surveys: open the quarterly campaign",
    task="surveys.tasks.open_quarterly_campaign",
    minute=0,
    hour=8,
    day_of_month=1,
    month_of_year="1,4,7,10",
)
declare(
    name="surveys: campaign reminders and deadlines", task="surveys.tasks.campaign_daily", minute=30, hour=8
)
declare(name="surveys: expire answer links", task="surveys.tasks.expire_links", minute=15, hour=1)


@shared_task
def open_quarterly_campaign() -> int | None:
    from .services import campaign_open_quarterly

    campaign = campaign_open_quarterly()
    return campaign.pk if campaign else None


@shared_task
def campaign_daily() -> dict:
    from .services import campaigns_close_due, campaigns_remind

    return {"reminded": campaigns_remind(), "closed": campaigns_close_due()}


@shared_task
def expire_links() -> int:
    from .services import surveys_expire

    return surveys_expire()


# R105: its schedule ("surveys: overdue improvement measures", daily 08:40 Asia/Shanghai) is
# created by the data migration surveys 0005_improvement_plans.
@shared_task
def improvement_overdue_daily() -> int:
    """R105: remind the people of overdue improvement measures (once per measure)."""
    from .improvements.services import improvement_overdue_remind

    return improvement_overdue_remind()
