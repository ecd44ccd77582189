"""Scheduled jobs of monthly reporting (R28, R29): thin, the services do the work. Schedules are
declared here and created in django-celery-beat's tables after migrate (crm.schedules), with
minute and hour given and the crontab's own timezone Asia/Shanghai."""

import logging

from celery import Task, shared_task
from django.conf import settings

from crm.figures import Period, deadline_time
from crm.schedules import declare
from crm.tasks import enqueue

from .monthly import services

# One branch's part of the 25th job or of the half-year review may take longer than the default
# limits (settings) where a branch holds much of the archive; still below the broker's visibility
# timeout. A part stopped at the soft limit is retried like any other failure.
PART_SOFT_TIME_LIMIT = 300
PART_TIME_LIMIT = 360

logger = logging.getLogger(__name__)


class FanOutPartTask(Task):
    """The task of one branch's part of a fan-out (``fan_out`` names it in
    assessments.rounds.services.FAN_OUTS), called with (round id, branch id). Celery calls
    ``on_failure`` once the part has failed for good (its autoretries used up, or an error it
    does not retry): the part and its round are marked failed, with why (R55)."""

    abstract = True
    fan_out = ""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        from .rounds.services import FAN_OUTS, part_failed

        given = dict(zip(("round_id", "branch_id"), args, strict=False))
        round_id = given.get("round_id", kwargs.get("round_id", kwargs.get("close_id")))
        branch_id = given.get("branch_id", kwargs.get("branch_id"))
        try:
            part_failed(FAN_OUTS[self.fan_out], round_id=round_id, branch_id=branch_id, exc=exc)
        except Exception:  # the failure is logged by Celery; recording it must not hide it
            logger.exception("could not record the failure of %s%r", self.name, args)


_hour, _minute = deadline_time()
declare(
    name="assessments: close the monthly reporting period on the 25th (R28)",
    task="assessments.tasks.monthly_close",
    minute=_minute,
    hour=_hour,
    day_of_month="25",
)
# The same job every morning: a no-op once the last period is closed, it catches up a 25th
# missed while beat was down and re-dispatches the parts of a closing whose worker died.
declare(
    name="assessments: catch up monthly closings (R28)",
    task="assessments.tasks.monthly_close",
    minute=30,
    hour=6,
)
declare(
    name="assessments: remind branches of the monthly report (R28)",
    task="assessments.tasks.monthly_reminders",
    minute=0,
    hour=9,
    day_of_month=",".join(str(d) for d in settings.CRM_MONTHLY_REMINDER_DAYS),
)
declare(
    name="assessments: rank the branches each quarter (R29)",
    task="assessments.tasks.rankings",
    minute=0,
    hour=7,
    day_of_month="1",
    month_of_year="1,4,7,10",
)


def dispatch_close(period: Period, by=None):
    """Open the closing of ``period`` and queue one task per branch not done yet (fan-out); the
    last part to finish builds the roll-up (the count is kept in the database)."""
    from .models import MonthlyClose

    was_done = MonthlyClose.objects.filter(period=period.label, state=MonthlyClose.State.DONE).exists()
    close, pending = services.monthly_close_start(period=period, by=by)
    for branch_id in pending:  # the broker away: the morning's catch-up dispatches them again
        if not enqueue(monthly_close_part, close.pk, branch_id):
            break
    # What this call did, for the person who asked: nothing (already closed), the rest, or all.
    close.was_done = was_done
    close.dispatched = len(pending)
    return close


@shared_task
def monthly_close(period: str | None = None) -> list[str]:
    """R28: close ``period`` or, without one, every period due and not closed (catching up)."""
    periods = [Period.parse(period)] if period else services.periods_to_close()
    for p in periods:
        dispatch_close(p)
    return [p.label for p in periods]


@shared_task(
    base=FanOutPartTask,
    fan_out="monthly_close",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    max_retries=5,
    retry_backoff=True,
    soft_time_limit=PART_SOFT_TIME_LIMIT,
    time_limit=PART_TIME_LIMIT,
)
def monthly_close_part(close_id: int, branch_id: int) -> bool:
    return services.monthly_close_part(close_id=close_id, branch_id=branch_id)


@shared_task
def monthly_reminders() -> int:
    return services.monthly_reminders()


@shared_task
def rankings() -> int:
    return len(services.rankings_catch_up())


# ------------------------------------------------------------------ the half-year review (R34)

declare(
    name="assessments: open the half-year assessment (R34)",
    task="assessments.tasks.assessment_open",
    minute=30,
    hour=1,
    day_of_month="1",
    month_of_year="1,7",
)
# Daily: catches up a round missed while beat was down, re-dispatches a dead worker's parts, and
# keeps the holds of branches with overdue submissions in step (R33).
declare(
    name="assessments: catch up assessments and sync submission holds (R33, R34)",
    task="assessments.tasks.review_daily",
    minute=10,
    hour=0,
)


def dispatch_assessment(half, by=None, standard=None):
    from .review.services import assessment_round_start

    rnd, pending = assessment_round_start(half=half, by=by, standard=standard)
    for branch_id in pending:  # the broker away: the daily catch-up dispatches them again
        if not enqueue(assessment_compute, rnd.pk, branch_id):
            break
    return rnd


@shared_task
def assessment_open(half_year: str | None = None) -> list[str]:
    from crm.figures import HalfYear

    from .review.services import halves_to_open

    halves = [HalfYear.parse(half_year)] if half_year else halves_to_open()
    for half in halves:
        dispatch_assessment(half)
    return [h.label for h in halves]


@shared_task(
    base=FanOutPartTask,
    fan_out="assessment",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    max_retries=5,
    retry_backoff=True,
    soft_time_limit=PART_SOFT_TIME_LIMIT,
    time_limit=PART_TIME_LIMIT,
)
def assessment_compute(round_id: int, branch_id: int) -> bool:
    from .review.services import assessment_compute as compute

    return compute(round_id=round_id, branch_id=branch_id)


@shared_task(ignore_result=True)
def dashboards_refresh() -> int:
    """The dashboards read lately, computed again after a change (issue 29; debounced by
    ``dashboards.selectors.refresh_soon``)."""
    from .dashboards.selectors import refresh

    return refresh()


@shared_task
def review_daily() -> int:
    from .obligations import holds_sync_all
    from .review.services import analysis_reminders

    assessment_open()
    analysis_reminders()
    b_evaluation_reminders()
    return holds_sync_all()


def b_evaluation_reminders(now=None) -> int:
    """R47: in the last month before each half year's client analysis is due (the branch's
    client analysis is the natural place of the evaluation), tell each branch's managers how
    many of their B clients are not yet evaluated, with the list. Idempotent per count."""
    import datetime as dt

    from django.utils import timezone

    from clients.cultivation.services import b_not_evaluated_reminders
    from crm.figures import HalfYear

    now = now or timezone.now()
    half = HalfYear.containing(now)
    if not half.analysis_due - dt.timedelta(days=31) <= now < half.end:
        return 0
    return b_not_evaluated_reminders(now)


declare(
    name="assessments: daily reminders of the project departments' monthly parts (R84)",
    task="assessments.tasks.department_reminders",
    minute=15,
    hour=9,
)


@shared_task
def department_reminders() -> int:
    """R84: daily; remind the departments that have not submitted their part to the branch
    (keyed per period, department and step, so it is idempotent and catches up)."""
    from .deptreports.services import department_reminders as remind

    return remind()
