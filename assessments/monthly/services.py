"""Monthly reporting (R26-R29): the workflow of a branch's report, the closing of a period by the
25th job, the reminders and the rankings. Every step is a transaction, recorded as a
ReportEvent; jobs are idempotent (unique rows, notification keys) and catch up.

Roles: the branch manager (or an administrator) writes remarks and submits the branch's report;
group marketing accepts or returns it (403 for anyone else: PermissionDenied); a step the
report's state refuses is a ValidationError (400) with a message for a person.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import SYSTEM, has_global, in_scope
from crm.figures import Period, Result, Window, counting, evaluate
from crm.models import BRANCH_ROLES, Branch, Role, User
from crm.services import managers_of, notify

from ..models import ClosePart, MonthlyClose, MonthlyReport, Ranking, ReportEvent
from ..obligations import group_marketing, holds_sync, leaders, reporting_branches
from ..rounds.services import CLOSE, pending_branches

logger = logging.getLogger(__name__)

Status = MonthlyReport.Status


# ------------------------------------------------------------------------------- reports


def report_open(*, branch: Branch, period: Period) -> MonthlyReport:
    """The (branch, period) report, created as a draft on first use; two at once make one."""
    report = MonthlyReport.objects.filter(branch=branch, period=period.label).first()
    if report is not None:
        return report
    try:
        with transaction.atomic():
            return MonthlyReport.objects.create(branch=branch, period=period.label)
    except IntegrityError:
        return MonthlyReport.objects.get(branch=branch, period=period.label)


def report_window(report: MonthlyReport, at: dt.datetime | None = None) -> Window:
    """R26, R27: what a report counts. Its window runs from the previous report's freeze to its
    own, so every record lands in exactly one report: a client made after an early submission
    on the 20th, or between the deadline and midnight of the 25th, is the next report's. A
    frozen report keeps the window it froze; a draft runs to ``at`` (now), so the next period's
    draft shows what has accrued since the last freeze, whenever it is opened.

    The start is the previous report's freeze; where that report is not frozen (returned, or
    never closed) it is the nominal end of its period (the 26th), which is also where the first
    report of a branch starts. The end never runs past the start of a later report that froze
    first (a returned report submitted again after its successor), so windows never overlap."""
    if report.frozen_at is not None:
        return Window(report.window_start or report.period_obj.start, report.frozen_at, report.branch_id)
    return _open_window(report, at or timezone.now())


def _open_window(report: MonthlyReport, at: dt.datetime, neighbours: dict | None = None) -> Window:
    """The window a report would freeze at ``at`` (see :func:`report_window`); ``neighbours``:
    its previous report and the next frozen one, read for many reports at once by
    :func:`_open_windows`."""
    if neighbours is not None:
        before, later = neighbours.get("before"), neighbours.get("later")
    else:
        before = (
            MonthlyReport.objects.filter(branch_id=report.branch_id, period__lt=report.period)
            .order_by("-period")
            .only("period", "frozen_at")
            .first()
        )
        later = (
            MonthlyReport.objects.filter(
                branch_id=report.branch_id, period__gt=report.period, frozen_at__isnull=False
            )
            .order_by("period")
            .only("period", "window_start", "frozen_at")
            .first()
        )
    if before is None:
        start = report.period_obj.start
    else:
        start = before.frozen_at or before.period_obj.end
    end = at
    if later is not None:
        end = min(end, later.window_start or later.period_obj.start)
    return Window(start, max(start, end), report.branch_id)


def _open_windows(reports: list[MonthlyReport], at: dt.datetime) -> dict[int, Window]:
    """The windows of several drafts of one period (the roll-up's), their neighbours read in two
    queries instead of two per report."""
    if not reports:
        return {}
    period = reports[0].period
    branch_ids = [r.branch_id for r in reports]
    before: dict[int, MonthlyReport] = {}
    for r in (
        MonthlyReport.objects.filter(branch_id__in=branch_ids, period__lt=period)
        .order_by("branch_id", "-period")
        .only("branch_id", "period", "frozen_at")
    ):
        before.setdefault(r.branch_id, r)
    later: dict[int, MonthlyReport] = {}
    for r in (
        MonthlyReport.objects.filter(branch_id__in=branch_ids, period__gt=period, frozen_at__isnull=False)
        .order_by("branch_id", "period")
        .only("branch_id", "period", "window_start", "frozen_at")
    ):
        later.setdefault(r.branch_id, r)
    return {
        r.pk: _open_window(r, at, {"before": before.get(r.branch_id), "later": later.get(r.branch_id)})
        for r in reports
    }


def _sharing(drafts: list[MonthlyReport], windows: dict[int, Window]) -> dict[tuple, list[MonthlyReport]]:
    """The drafts grouped by their window's (start, end): those whose windows coincide (their
    predecessors frozen by the same 25th job, or none yet) are counted in one pass."""
    shared: dict[tuple, list[MonthlyReport]] = {}
    for r in drafts:
        shared.setdefault((windows[r.pk].start, windows[r.pk].end), []).append(r)
    return shared


def _draft_values(user, drafts: list[MonthlyReport]) -> dict[int, dict]:
    """The live figures of several drafts of one period, each over its own window (R27), in as
    few passes as the windows allow: drafts whose windows coincide (their predecessors frozen by
    the same 25th job, or none yet) are counted in one group-wide pass grouped by branch; a
    draft with a window of its own (its predecessor submitted early) in a pass of its own."""
    from crm.figures import branch_values

    windows = _open_windows(drafts, timezone.now())
    out: dict[int, dict] = {}
    for (start, end), group in _sharing(drafts, windows).items():
        with counting():
            if len(group) == 1:
                out[group[0].pk] = evaluate(user, windows[group[0].pk]).values
                continue
            result = evaluate(user, Window(start, end))
        for r in group:
            out[r.pk] = branch_values(result, r.branch_id)
    return out


def report_figures(report: MonthlyReport, reader) -> Result:
    """What the report shows ``reader``: its frozen snapshot once submitted (or frozen by the
    job), else the branch's figures computed live over the report's window through
    ``restrict(reader)`` (the whole branch for its manager and the group roles; only what a
    suspended branch's people own, R33). The lists of a frozen report are its ids read again
    through ``restrict(reader)`` (:func:`report_rows`)."""
    if report.snapshot is not None:
        return Result.from_json(report.snapshot)
    return evaluate(reader, report_window(report))


def report_values(report: MonthlyReport, reader) -> dict:
    """The report's figures without the lists: frozen, or counted live for ``reader``."""
    if report.values is not None:
        return report.values
    with counting():
        return evaluate(reader, report_window(report)).values  # one report (the API's list reads few)


def report_rows(report: MonthlyReport, reader, key: str) -> tuple[list[dict], int]:
    """The records behind one figure of the report that ``reader`` may see now, and the
    figure's value. Frozen ids are read again through ``restrict(reader, "view")``, so a
    suspension, an ended grant or a new role applies to a report's lists as everywhere else."""
    from crm import figures as fig

    if report.snapshot is not None:
        rows = (report.snapshot.get("lists") or {}).get(key, [])
        return fig.visible(reader, key, rows), len(rows)
    rows = evaluate(reader, report_window(report), only=[key]).lists.get(key, [])
    return rows, len(rows)


# ------------------------------------------------------------ the 客户信息统计表's clients (R74)

# The figures whose rows are changes of a client's archive form (the columns of the
# 客户信息统计表): the row key that holds the client's id. A client new or changed in a report's
# window is a row of that report's 客户信息统计表 (R74).
CLIENT_CHANGES = {
    "new_clients": "id",
    "changed_clients": "id",
    "grade_changes": "client_id",
    "stage_changes": "client_id",
    "clients_given_up": "client_id",
}


def client_ids(lists: dict[str, list]) -> set[int]:
    """The ids of the clients new or changed in the figures' ``lists`` (a report's, R74)."""
    return {row[key] for figure, key in CLIENT_CHANGES.items() for row in (lists.get(figure) or ())}


def report_client_ids(reports: list[MonthlyReport], reader) -> dict[int, set[int]]:
    """R74: for each report (by pk), the ids of the clients new or changed in its window (R27:
    from the previous report's freeze to its own). A frozen report gives the ids it froze (its
    snapshot's lists, read with the snapshot's other lists left in the database); a draft counts
    them now over its window through ``restrict(reader)``, drafts sharing a window in one
    group-wide pass (as the roll-up counts them). Callers read the ids again through
    ``restrict(reader, "view")``; a handful of queries for any number of reports and clients."""
    out: dict[int, set[int]] = {}
    frozen = [r.pk for r in reports if r.frozen_at is not None]
    if frozen:
        paths = [f"snapshot__lists__{figure}" for figure in CLIENT_CHANGES]
        for pk, *lists in MonthlyReport.objects.filter(pk__in=frozen, snapshot__isnull=False).values_list(
            "pk", *paths
        ):
            out[pk] = client_ids(dict(zip(CLIENT_CHANGES, lists, strict=True)))
    drafts = [r for r in reports if r.pk not in out]
    windows = _open_windows(drafts, timezone.now())
    for (start, end), group in _sharing(drafts, windows).items():
        if len(group) == 1:
            out[group[0].pk] = client_ids(evaluate(reader, windows[group[0].pk], only=CLIENT_CHANGES).lists)
            continue
        lists = evaluate(reader, Window(start, end), only=CLIENT_CHANGES).lists
        for r in group:
            out[r.pk] = client_ids(
                {
                    figure: [row for row in rows if row.get("branch_id") == r.branch_id]
                    for figure, rows in lists.items()
                }
            )
    return out


def statsheet_clients(reader, ids, *, department: int | None = None):
    """R74: the clients of a 客户信息统计表: ``ids`` read again through ``restrict(reader, "view")``
    (so a suspension or an ended grant applies, R4, R33), optionally one project department's
    (0: the clients of no department), in the order a branch fills the sheet: by project
    department, then by name."""
    from django.db.models import F

    from clients.models import Client

    qs = Client.objects.restrict(reader, "view").filter(pk__in=sorted(ids))
    if department is not None:
        qs = qs.filter(department_id=department) if department else qs.filter(department__isnull=True)
    return qs.order_by(F("department__name").asc(nulls_first=True), "name", "pk")


def report_lists(report: MonthlyReport, result: Result, reader) -> dict[str, list[dict]]:
    """The records behind each figure of ``result`` (the report's, :func:`report_figures`) that
    ``reader`` may see now: a frozen report's ids read again through ``restrict(reader)`` (one
    query per figure with records), a draft's as counted for the reader."""
    from crm import figures as fig

    if report.snapshot is None:
        return result.lists
    return {key: fig.visible(reader, key, rows) for key, rows in result.lists.items()}


def may_submit(user, report: MonthlyReport) -> bool:
    """R27: the branch's manager submits its report (an administrator may act for them)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.role == Role.ADMIN:
        return True
    return (
        user.role == Role.MANAGER and user.branch_id == report.branch_id and in_scope(user, "change", report)
    )


def may_review(user) -> bool:
    """R27: group marketing accepts or returns reports."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or (
        user.role in (Role.MARKETING, Role.ADMIN) and has_global(user, MonthlyReport, "change")
    )


def _locked(report: MonthlyReport) -> MonthlyReport:
    return MonthlyReport.objects.select_for_update().get(pk=report.pk)


def _freeze(report: MonthlyReport, at: dt.datetime) -> dict:
    """Freeze the branch's figures over the report's window (ending at ``at``) with the ids
    behind them. The job's principal counts the whole branch (what is frozen is the branch's
    report, not what the submitter may read); readers see the lists through their own scope."""
    window = _open_window(report, at)
    result = evaluate(SYSTEM, window)
    report.snapshot = result.as_json()
    report.values = result.values
    report.window_start = window.start
    report.frozen_at = window.end
    report.no_change = result.no_change
    return report.snapshot


def _report_url(report: MonthlyReport) -> str:
    return reverse("assessments:report-detail", kwargs={"pk": report.pk})


@transaction.atomic
def report_set_remarks(*, report: MonthlyReport, by, remarks: str) -> MonthlyReport:
    if not may_submit(by, report):
        raise PermissionDenied(_("只有本单位经营部负责人可以填写和上报月度报表。"))
    report = _locked(report)
    if report.status in (Status.SUBMITTED, Status.ACCEPTED):
        raise ValidationError(_("报表已上报,不能再修改说明;如需更正,请市场营销部退回。"))
    report.remarks = remarks.strip()
    report.save()
    ReportEvent.objects.create(report=report, action=ReportEvent.Action.REMARKS, by=by, note=report.remarks)
    return report


@transaction.atomic
def report_submit(*, report: MonthlyReport, by, remarks: str | None = None, at: dt.datetime | None = None):
    """R27: freeze the figures and the lists behind them and hand the report to group marketing.
    The first submission decides on time or late (R28): on time when made by the deadline; a
    report the 25th job froze as missing is late whenever it comes."""
    at = at or timezone.now()
    if not may_submit(by, report):
        raise PermissionDenied(_("只有本单位经营部负责人可以填写和上报月度报表。"))
    report = _locked(report)
    if report.status in (Status.SUBMITTED, Status.ACCEPTED):
        raise ValidationError(_("报表已上报,无需重复上报。"))
    if at < report.period_obj.start:
        raise ValidationError(_("期间尚未开始,不能上报。"))
    # What is owed is never held (R33, crm.holds): submitting it is how a hold ends.
    if remarks is not None:
        report.remarks = remarks.strip()
    snapshot = _freeze(report, at)
    if report.on_time is None:
        report.on_time = report.status != Status.MISSING and at <= report.period_obj.deadline
    report.status = Status.SUBMITTED
    report.submitted_at = at
    report.submitted_by = by
    report.returned_reason = ""
    report.save()
    submissions = report.events.filter(action=ReportEvent.Action.SUBMITTED).count()
    ReportEvent.objects.create(
        report=report,
        action=ReportEvent.Action.SUBMITTED,
        by=by,
        at=at,
        note=report.remarks,
        snapshot=snapshot,
    )
    transaction.on_commit(lambda: holds_sync(report.branch))
    transaction.on_commit(
        lambda: notify(
            recipients=group_marketing(),
            verb="monthly_report",
            title=lambda: (
                _("%(branch)s 已上报 %(period)s 月度客户信息报表")
                % {"branch": report.branch, "period": report.period}
            ),
            body=lambda: _("无变化。") if report.no_change else "",
            url=_report_url(report),
            key=f"monthly-report-submitted:{report.pk}:{submissions + 1}",
        )
    )
    return report


@transaction.atomic
def report_return(*, report: MonthlyReport, by, reason: str, at: dt.datetime | None = None) -> MonthlyReport:
    """R27: group marketing returns a submitted report with a reason; the branch corrects its
    records and submits again (the first submission's snapshot stays in the history)."""
    if not may_review(by):
        raise PermissionDenied(_("只有集团市场营销部可以确认或退回月度报表。"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写退回原因。")})
    report = _locked(report)
    if report.status != Status.SUBMITTED:
        raise ValidationError(
            _("报表当前状态为“%(status)s”,只有已上报的报表可以退回。")
            % {"status": report.get_status_display()}
        )
    report.status = Status.RETURNED
    report.returned_reason = reason
    report.snapshot = None  # live again, so the corrections show
    report.values = None
    report.frozen_at = None
    report.window_start = None
    report.save()
    event = ReportEvent.objects.create(
        report=report, action=ReportEvent.Action.RETURNED, by=by, note=reason, at=at or timezone.now()
    )
    transaction.on_commit(
        lambda: notify(
            recipients=managers_of(report.branch),
            verb="monthly_report",
            title=lambda: _("%(period)s 月度客户信息报表被退回") % {"period": report.period},
            body=reason,
            url=_report_url(report),
            key=f"monthly-report-returned:{event.pk}",
        )
    )
    return report


@transaction.atomic
def report_accept(*, report: MonthlyReport, by, at: dt.datetime | None = None) -> MonthlyReport:
    if not may_review(by):
        raise PermissionDenied(_("只有集团市场营销部可以确认或退回月度报表。"))
    report = _locked(report)
    if report.status != Status.SUBMITTED:
        raise ValidationError(
            _("报表当前状态为“%(status)s”,只有已上报的报表可以确认。")
            % {"status": report.get_status_display()}
        )
    report.status = Status.ACCEPTED
    report.accepted_at = at or timezone.now()
    report.accepted_by = by
    report.save()
    ReportEvent.objects.create(
        report=report, action=ReportEvent.Action.ACCEPTED, by=by, at=report.accepted_at
    )
    return report


# ------------------------------------------------------------------------ the 25th job (R28)


def report_close_branch(*, branch: Branch, period: Period, at: dt.datetime | None = None) -> MonthlyReport:
    """One branch's part of closing a period: a report never submitted is assembled and frozen as
    未上报 (so the roll-up has every branch), or as 无变化 when nothing happened in its window;
    the report is marked closed. Idempotent: a second run finds it closed and changes nothing.

    The job freezes at the period's deadline, whenever it runs (R28: a run after a missed day
    gives the same result): what was recorded after the deadline is the next report's."""
    at = min(at or timezone.now(), period.deadline)
    report = report_open(branch=branch, period=period)
    with transaction.atomic():
        report = _locked(report)
        if report.closed_at is not None:
            return report
        if report.status == Status.DRAFT:
            _freeze(report, at)
            if report.no_change:
                # R26 (seed 001, «若无变化,则不用重复上报»): nothing new, changed, received,
                # done or visited in the window: recorded as 无变化, on time, nothing owed.
                report.status = Status.NO_CHANGE
                report.on_time = True
                ReportEvent.objects.create(report=report, action=ReportEvent.Action.NO_CHANGE, at=at)
            else:
                report.status = Status.MISSING
                ReportEvent.objects.create(report=report, action=ReportEvent.Action.MISSING, at=at)
        report.closed_at = at
        report.save()
    holds_sync(branch, at)  # a report now missing holds the branch's other submissions (R33)
    return report


def first_period() -> Period:
    """The first period a closing may cover (R28): the one of the first record a report counts
    (a client made, a need received, a visit, a complaint received, a survey answered); on an
    empty installation, the last period due. Closing earlier months would make reports (and
    holds) for a time the system did not exist. One indexed MIN per kind of record."""
    from django.db.models import Min

    from clients.models import Client, Need, Visit
    from complaints.models import Complaint
    from surveys.models import Survey

    moments = [
        model.objects.aggregate(first=Min(field))["first"]
        for model, field in (
            (Client, "created_at"),
            (Need, "received_at"),
            (Visit, "visited_at"),
            (Complaint, "received_at"),
            (Survey, "answered_at"),
        )
    ]
    moments = [m for m in moments if m is not None]
    return Period.containing(min(moments)) if moments else Period.last_due()


def monthly_close_start(*, period: Period, by=None) -> tuple[MonthlyClose, list[int]]:
    """Open (or find) the closing of ``period`` and its parts; returns it with the branches
    whose part is neither done nor failed, for the caller to dispatch. Two calls at once make
    one closing."""
    if period.deadline > timezone.now():
        raise ValidationError(_("期间 %(period)s 尚未到上报截止时间。") % {"period": period.label})
    first = first_period()
    if period < first and not MonthlyClose.objects.filter(period=period.label).exists():
        raise ValidationError(
            _("期间 %(period)s 早于系统中最早的记录所在的期间(%(first)s),无需截止。")
            % {"period": period.label, "first": first.label}
        )
    try:
        with transaction.atomic():
            close, _created = MonthlyClose.objects.get_or_create(
                period=period.label, defaults={"started_by": by}
            )
    except IntegrityError:
        close = MonthlyClose.objects.get(period=period.label)
    if close.state == MonthlyClose.State.DONE:
        return close, []
    branches = list(reporting_branches().values_list("pk", flat=True))
    with transaction.atomic():
        close = MonthlyClose.objects.select_for_update().get(pk=close.pk)
        for branch_id in branches:
            ClosePart.objects.get_or_create(close=close, branch_id=branch_id)
        close.total = close.parts.count()
        close.done = close.parts.filter(done_at__isnull=False).count()
        close.save(update_fields=["total", "done", "updated_at"])
    # A failed part waits for 重新执行 (R55): neither the job nor its daily catch-up queues it.
    pending = pending_branches(CLOSE, close)
    if not pending:
        monthly_close_finish(close_id=close.pk)
    return close, pending


def monthly_close_part(*, close_id: int, branch_id: int) -> bool:
    """Close one branch's report and count the part done (once); the last part finishes the
    closing. Safe to run twice or from two workers at once."""
    close = MonthlyClose.objects.get(pk=close_id)
    branch = Branch.objects.get(pk=branch_id)
    period = Period.parse(close.period)
    ClosePart.objects.filter(close=close, branch=branch).update(attempts=F("attempts") + 1)
    report_close_branch(branch=branch, period=period)
    with transaction.atomic():
        first = ClosePart.objects.filter(close=close, branch=branch, done_at__isnull=True).update(
            done_at=timezone.now(), compute_error="", compute_failed_at=None
        )
        if first:
            MonthlyClose.objects.filter(pk=close.pk).update(done=F("done") + 1)
    monthly_close_finish(close_id=close.pk)
    return bool(first)


def monthly_close_finish(*, close_id: int) -> bool:
    """When every part is done: the group roll-up, frozen on the closing, and the notices
    (group marketing; the managers of late or missing branches). Exactly once."""
    with transaction.atomic():
        close = MonthlyClose.objects.select_for_update().get(pk=close_id)
        if close.state == MonthlyClose.State.DONE:
            return False
        if close.parts.filter(done_at__isnull=True).exists():
            return False
        period = Period.parse(close.period)
        data = rollup(SYSTEM, period)
        close.rollup = {
            "branches": [
                {
                    "branch_id": row["branch"].pk,
                    "branch": str(row["branch"]),
                    "timeliness": row["timeliness"],
                    "values": row["values"],
                }
                for row in data["rows"]
            ],
            "totals": data["totals"],
        }
        close.state = MonthlyClose.State.DONE
        close.finished_at = timezone.now()
        close.done = close.total
        close.save()
    missing = [r for r in data["rows"] if r["timeliness"] in ("missing", "late")]
    url = reverse("assessments:rollup") + f"?period={period.label}"
    transaction.on_commit(
        lambda: _notify_closed(
            period=period,
            missing=missing,
            url=url,
            counts={
                **data["counts"],
                "no_change": sum(
                    1 for r in data["rows"] if r["report"] and r["report"].status == Status.NO_CHANGE
                ),
            },
        )
    )
    return True


def _notify_closed(*, period: Period, missing: list[dict], url: str, counts: dict) -> None:
    notify(
        recipients=group_marketing(),
        verb="monthly_close",
        title=lambda: _("%(period)s 月度报表已截止汇总") % {"period": period.label},
        body=lambda: (
            _("按时上报 %(on_time)s 家(其中无变化 %(quiet)s 家),逾期 %(late)s 家,未上报 %(missing)s 家。")
            % {
                "on_time": counts.get("on_time", 0),
                "quiet": counts.get("no_change", 0),
                "late": counts.get("late", 0),
                "missing": counts.get("missing", 0),
            }
        ),
        url=url,
        key=f"monthly-close:{period.label}",
    )
    for row in missing:
        report = row["report"]
        notify(
            recipients=managers_of(row["branch"]),
            verb="monthly_report",
            title=lambda: (
                (
                    _("%(period)s 月度客户信息报表逾期上报")
                    if row["timeliness"] == "late"  # noqa: B023 (rendered at once, in each language)
                    else _("%(period)s 月度客户信息报表未按时上报")
                )
                % {"period": period.label}
            ),
            body=lambda: _("请尽快上报;逾期情况计入半年考核。"),
            url=_report_url(report) if report else "",
            key=f"monthly-late:{period.label}:{row['branch'].pk}",
        )


def periods_to_close(now: dt.datetime | None = None, *, limit: int = 12) -> list[Period]:
    """Catching up (R28): every period whose deadline has passed since the last closing that
    finished (the latest one only on a new installation), oldest first."""
    now = now or timezone.now()
    last_due = Period.last_due(now)
    done = MonthlyClose.objects.filter(state=MonthlyClose.State.DONE).order_by("-period").first()
    running = set(
        MonthlyClose.objects.filter(state=MonthlyClose.State.RUNNING).values_list("period", flat=True)
    )
    periods = []
    period = last_due
    stop = Period.parse(done.period) if done else last_due.previous()
    while period > stop and len(periods) < limit:
        periods.append(period)
        period = period.previous()
    periods += [Period.parse(p) for p in running if Period.parse(p) not in periods]
    return sorted(set(periods))


def monthly_reminders(now: dt.datetime | None = None) -> int:
    """R28: before the deadline, remind the managers of branches that have not submitted."""
    now = now or timezone.now()
    period = Period.containing(now)
    if now > period.deadline:
        return 0
    submitted = set(
        MonthlyReport.objects.filter(
            period=period.label, status__in=(Status.SUBMITTED, Status.ACCEPTED)
        ).values_list("branch_id", flat=True)
    )
    day = timezone.localtime(now).date()
    sent = 0
    for branch in reporting_branches():
        if branch.pk in submitted:
            continue
        report = report_open(branch=branch, period=period)
        sent += len(
            notify(
                recipients=managers_of(branch),
                verb="monthly_reminder",
                title=lambda: (
                    _("请在 %(deadline)s 前上报 %(period)s 月度客户信息报表")
                    % {
                        "deadline": timezone.localtime(period.deadline).strftime("%m-%d %H:%M"),
                        "period": period.label,
                    }
                ),
                url=_report_url(report),
                key=f"monthly-reminder:{period.label}:{day.isoformat()}:{branch.pk}",
            )
        )
    return sent


# ------------------------------------------------------------------------------- roll-up


def rollup(user, period: Period) -> dict:
    """R27: the group roll-up of a period, branch by branch (the branches of ``user``'s scope),
    with each report's status against its deadline and its figures (frozen where submitted,
    live where not), and the totals. Drafts are computed in one group-wide pass."""
    from crm.figures import branch_values, totals

    branches = list(reporting_branches().filter(pk__in=Branch.objects.restrict(user, "view")))

    def read():
        return {
            r.branch_id: r
            for r in MonthlyReport.objects.restrict(user, "view")
            .filter(period=period.label, branch__in=branches)
            .defer("snapshot")
        }

    reports = read()
    if period.start <= timezone.now() and len(reports) < len(branches):
        for branch in branches:  # every branch has its report (and its window) once the period runs
            if branch.pk not in reports:
                report_open(branch=branch, period=period)
        reports = read()
    live = _draft_values(user, [r for r in reports.values() if r.values is None])
    rows = []
    counts: dict[str, int] = {}
    for branch in branches:
        report = reports.get(branch.pk)
        if report is not None:
            values = report.values if report.values is not None else live[report.pk]
        else:  # a period not yet begun: nothing to count
            values = branch_values(Result(), branch.pk)
        timeliness = (
            report.timeliness if report else ("missing" if timezone.now() > period.deadline else "pending")
        )
        counts[timeliness] = counts.get(timeliness, 0) + 1
        rows.append(
            {
                "branch": branch,
                "report": report,
                "timeliness": timeliness,
                "values": values,
                "frozen": report is not None and report.values is not None,
            }
        )
    return {"period": period, "rows": rows, "totals": totals(r["values"] for r in rows), "counts": counts}


# ------------------------------------------------------------------------------ rankings (R29)


def _quarter_end(year: int, quarter: int) -> dt.datetime:
    month = quarter * 3 + 1
    year, month = (year + 1, 1) if month > 12 else (year, month)
    return dt.datetime(year, month, 1, tzinfo=timezone.get_default_timezone())


def ranking_periods_due(
    now: dt.datetime | None = None, *, back: int = 4
) -> list[tuple[str, str, dt.datetime]]:
    """The rankings due by ``now`` (kind, label, as_of) for the last ``back`` quarters: each
    ended quarter, and the half year and the year they end."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    year, quarter = local.year, (local.month - 1) // 3 + 1
    out = []
    for _step in range(back):
        quarter -= 1
        if quarter == 0:
            year, quarter = year - 1, 4
        end = _quarter_end(year, quarter)
        out.append((Ranking.Kind.QUARTER, f"{year}Q{quarter}", end))
        if quarter in (2, 4):
            out.append((Ranking.Kind.HALF, f"{year}H{quarter // 2}", end))
        if quarter == 4:
            out.append((Ranking.Kind.YEAR, f"{year}", end))
    return sorted(out, key=lambda k: (k[2], k[0]))


def ranking_build(*, kind: str, label: str, as_of: dt.datetime) -> tuple[Ranking, bool]:
    """R29: rank the branches by their A, then B, then C clients as they stood at ``as_of`` (read
    back from the grading trail, so a late run gives the same ranking) with the change since
    the previous ranking of the kind. Once per (kind, label); leaders, group marketing and every
    person of the branches and their project departments are told (R91)."""
    from clients.figures import grades_as_of

    existing = Ranking.objects.filter(kind=kind, label=label).first()
    if existing is not None:
        return existing, False
    branches = list(reporting_branches())
    counts = grades_as_of(as_of, branch_ids=[b.pk for b in branches])
    previous = Ranking.objects.filter(kind=kind, as_of__lt=as_of).order_by("-as_of").first()
    before = {row["branch_id"]: row for row in (previous.rows if previous else [])}
    rows = []
    for branch in branches:
        c = counts.get(branch.pk, {"A": 0, "B": 0, "C": 0})
        rows.append({"branch_id": branch.pk, "branch": str(branch), "A": c["A"], "B": c["B"], "C": c["C"]})
        rows[-1]["total"] = c["A"] + c["B"] + c["C"]
    rows.sort(key=lambda r: (-r["A"], -r["B"], -r["total"], r["branch"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
        old = before.get(row["branch_id"])
        for key in ("A", "B", "C", "rank"):
            row[f"{key}_change"] = (row[key] - old[key]) if old else None
    try:
        with transaction.atomic():
            ranking = Ranking.objects.create(kind=kind, label=label, as_of=as_of, rows=rows)
    except IntegrityError:
        return Ranking.objects.get(kind=kind, label=label), False
    url = reverse("assessments:ranking-detail", kwargs={"pk": ranking.pk})
    recipients = (
        list(leaders())
        + list(group_marketing())
        # R91: «印发至...各分子公司、项目部»: every person of the branches, whatever their
        # project department, not only the managers.
        + list(User.objects.filter(role__in=BRANCH_ROLES, is_active=True, branch__in=branches))
    )
    transaction.on_commit(
        lambda: notify(
            recipients=recipients,
            verb="ranking",
            title=lambda: (
                _("%(kind)s分子公司客户分级排名(%(label)s)已发布")
                % {"kind": ranking.get_kind_display(), "label": label}
            ),
            url=url,
            key=f"ranking:{kind}:{label}",
        )
    )
    return ranking, True


def rankings_catch_up(now: dt.datetime | None = None) -> list[Ranking]:
    made = []
    for kind, label, as_of in ranking_periods_due(now):
        ranking, created = ranking_build(kind=kind, label=label, as_of=as_of)
        if created:
            made.append(ranking)
    return made


@transaction.atomic
def ranking_set_remarks(*, ranking: Ranking, by, remarks: str) -> Ranking:
    """R29: group marketing's evaluation of a ranking."""
    if not has_global(by, Ranking, "change"):
        raise PermissionDenied(_("只有集团市场营销部可以填写排名评价。"))
    ranking = Ranking.objects.select_for_update().get(pk=ranking.pk)
    ranking.remarks = (remarks or "").strip()
    ranking.remarks_by = by
    ranking.remarks_at = timezone.now()
    ranking.save()
    return ranking
