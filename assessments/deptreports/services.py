"""Project departments report to their branch (seed 001; R80-R86). Every step is a transaction
recorded as a DepartmentEvent; the reminders are idempotent by key and catch up.

Seed 001 (客户关系管理办法): «各项目经理部...按照《集团公司客户信息统计表》填写...上报于所属区域分公司»;
«形成客户满意度调查报告,上报于所属分子公司».

- R80. Each project department (项目经理部, not the branch's 经营部) submits its part of the
  branch's monthly report to its branch by the branch's deadline: a day of the period's month
  before the 25th (the 22nd unless the branch manager sets another). The department's own people
  submit it; the first submission decides on time or late.
- R81. A part's figures are the registry's (crm.figures), counted over the department's records
  in the part's window, which runs from the department's previous part's freeze to its own, so
  every record of the department lands in exactly one part. A draft is counted live through
  ``restrict(reader)``; submitting freezes the figures and the ids behind them, which a reader
  sees again through ``restrict(reader, "view")``.
- R82. The branch's report shows each department's part: submitted on time, late, returned or
  missing (the deadline passed, nothing submitted), and the sums of the submitted parts.
- R83. The branch manager returns a submitted part with a reason; the department corrects and
  submits again; every step (submissions with their figures, returns with their reasons) is kept.
- R84. A daily job reminds the departments that have not submitted, from three days before the
  branch's deadline and on its last day: once per department and step (keyed), and a run after
  a missed day sends the step then due.
- R85. After each survey campaign (its deadline passed) a department submits its satisfaction
  survey report to its branch within ``SURVEY_REPORT_DAYS`` days: its surveys' results, the
  unsatisfied items and their follow-ups, offered pre-filled from the records (frozen on
  submission).
- R86. The branch's report of a campaign lists its departments' reports: submitted on time,
  late, or not yet.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import figures as fig
from crm.access import SYSTEM, in_scope
from crm.figures import Period, Result, Window, evaluate
from crm.models import Branch, ProjectDepartment, Role, User
from crm.services import managers_of, notify

from ..models import MonthlyReport
from .models import (
    DEFAULT_DAY,
    LAST_DAY,
    DepartmentDeadline,
    DepartmentEvent,
    DepartmentReport,
    DepartmentSurveyReport,
    part_deadline,
)

Status = DepartmentReport.Status
REMIND_DAYS = 3
SURVEY_REPORT_DAYS = 7


def reporting_departments(branch: Branch):
    """R80: the departments that report to ``branch``: its active project departments (the
    business department, 经营部, is the branch's own office and writes the branch's report)."""
    return ProjectDepartment.objects.filter(branch=branch, is_active=True, is_business_dept=False).order_by(
        "name", "pk"
    )


def deadline_day(branch: Branch) -> int:
    return (
        DepartmentDeadline.objects.filter(branch=branch).values_list("day", flat=True).first() or DEFAULT_DAY
    )


def is_branch_manager(user, branch_id: int) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or user.role == Role.ADMIN:
        return True
    return user.role == Role.MANAGER and user.branch_id == branch_id


@transaction.atomic
def deadline_set(*, branch: Branch, by, day: int) -> DepartmentDeadline:
    """R80: the branch manager sets the day its departments' parts are due (1 to 24). Parts
    already opened for a period not yet due follow the new day."""
    if not is_branch_manager(by, branch.pk):
        raise PermissionDenied(_("只有分公司经营部负责人可以设置项目经理部上报截止日。"))
    if not isinstance(day, int) or not 1 <= day <= LAST_DAY:
        raise ValidationError({"day": _("上报截止日应为每月 1 日至 %(last)s 日。") % {"last": LAST_DAY}})
    row, _created = DepartmentDeadline.objects.select_for_update().get_or_create(branch=branch)
    row.day = day
    row.full_clean()
    row.save()
    now = timezone.now()
    for part in DepartmentReport.objects.filter(branch=branch, on_time__isnull=True).select_for_update():
        period = part.period_obj
        if period.deadline > now:
            part.deadline = part_deadline(branch.pk, period, day)
            part.save(update_fields=["deadline", "updated_at"])
    return row


# ------------------------------------------------------------------------- the parts


def part_open(*, department: ProjectDepartment, period: Period) -> DepartmentReport:
    """The (department, period) part, created as a draft on first use; two at once make one."""
    part = DepartmentReport.objects.filter(department=department, period=period.label).first()
    if part is not None:
        return part
    if department.is_business_dept:
        raise ValidationError(_("经营部不单独上报,由分公司汇总上报。"))
    try:
        with transaction.atomic():
            return DepartmentReport.objects.create(
                department=department,
                branch_id=department.branch_id,
                period=period.label,
                deadline=part_deadline(department.branch_id, period),
            )
    except IntegrityError:
        return DepartmentReport.objects.get(department=department, period=period.label)


def part_window(part: DepartmentReport, at: dt.datetime | None = None) -> Window:
    """R81: what a part counts: the department's records from its previous part's freeze (or
    the nominal end of that period where it is not frozen; the period's start for a first
    part) to its own freeze; a draft runs to ``at`` (now). The end never runs past the start of
    a later part that froze first, so the windows never overlap."""
    if part.frozen_at is not None:
        return Window(
            part.window_start or part.period_obj.start, part.frozen_at, part.branch_id, part.department_id
        )
    at = at or timezone.now()
    before = (
        DepartmentReport.objects.filter(department_id=part.department_id, period__lt=part.period)
        .order_by("-period")
        .only("period", "frozen_at")
        .first()
    )
    later = (
        DepartmentReport.objects.filter(
            department_id=part.department_id, period__gt=part.period, frozen_at__isnull=False
        )
        .order_by("period")
        .only("period", "window_start", "frozen_at")
        .first()
    )
    start = part.period_obj.start if before is None else (before.frozen_at or before.period_obj.end)
    end = at
    if later is not None:
        end = min(end, later.window_start or later.period_obj.start)
    return Window(start, max(start, end), part.branch_id, part.department_id)


def part_figures(part: DepartmentReport, reader) -> Result:
    """R81: the part's frozen figures once submitted, else counted live over its window through
    ``restrict(reader)``."""
    if part.snapshot is not None:
        return Result.from_json(part.snapshot)
    return evaluate(reader, part_window(part))


def part_values(part: DepartmentReport, reader) -> dict:
    if part.values is not None:
        return part.values
    with fig.counting():
        return evaluate(reader, part_window(part)).values


def part_rows(part: DepartmentReport, reader, key: str) -> tuple[list[dict], int]:
    """R81: the records behind one figure of the part that ``reader`` may see now, and the
    figure's value: frozen ids read again through ``restrict(reader, "view")``."""
    if part.snapshot is not None:
        rows = (part.snapshot.get("lists") or {}).get(key, [])
        return fig.visible(reader, key, rows), len(rows)
    rows = evaluate(reader, part_window(part), only=[key]).lists.get(key, [])
    return rows, len(rows)


def part_lists(part: DepartmentReport, result: Result, reader) -> dict[str, list[dict]]:
    if part.snapshot is None:
        return result.lists
    return {key: fig.visible(reader, key, rows) for key, rows in result.lists.items()}


def may_submit_part(user, part) -> bool:
    """R80: the department's own people (its staff or its head) submit its part; an
    administrator may act for them."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or user.role == Role.ADMIN:
        return True
    return (
        user.role in (Role.STAFF, Role.MANAGER)
        and user.branch_id == part.branch_id
        and user.department_id == part.department_id
        and in_scope(user, "change", part)
    )


def may_return_part(user, part) -> bool:
    """R83: the branch manager returns a department's part."""
    return is_branch_manager(user, part.branch_id) and in_scope(user, "change", part)


def _locked(part: DepartmentReport) -> DepartmentReport:
    return DepartmentReport.objects.select_for_update().get(pk=part.pk)


def part_url(part: DepartmentReport) -> str:
    return reverse("assessments:department-report-detail", kwargs={"pk": part.pk})


def _branch_report_url(part: DepartmentReport) -> str:
    from ..monthly.services import report_open

    report = report_open(branch=part.branch, period=part.period_obj)
    return reverse("assessments:report-detail", kwargs={"pk": report.pk}) + "#department-parts"


def department_people(department_id: int):
    return User.objects.filter(
        department_id=department_id, is_active=True, role__in=(Role.STAFF, Role.MANAGER)
    ).exclude(role=Role.MANAGER, department__is_business_dept=True)


@transaction.atomic
def part_submit(
    *, part: DepartmentReport, by, remarks: str | None = None, at: dt.datetime | None = None
) -> DepartmentReport:
    """R80, R81: freeze the department's figures over the part's window and the ids behind them,
    and hand the part to the branch. The first submission decides on time or late against the
    branch's deadline; a part submitted again after a return keeps that."""
    at = at or timezone.now()
    if not may_submit_part(by, part):
        raise PermissionDenied(_("只有本项目经理部人员可以上报本部的月度客户信息。"))
    part = _locked(part)
    if part.status == Status.SUBMITTED:
        raise ValidationError(_("本部月度客户信息已上报,无需重复上报。"))
    if at < part.period_obj.start:
        raise ValidationError(_("期间尚未开始,不能上报。"))
    if remarks is not None:
        part.remarks = remarks.strip()[:2000]
    window = part_window(part, at)
    result = evaluate(SYSTEM, window)
    part.snapshot = result.as_json()
    part.values = result.values
    part.window_start = window.start
    part.frozen_at = window.end
    if part.on_time is None:
        part.on_time = at < part.deadline
    part.status = Status.SUBMITTED
    part.submitted_at = at
    part.submitted_by = by
    part.returned_reason = ""
    part.full_clean()
    part.save()
    DepartmentEvent.objects.create(
        branch_id=part.branch_id,
        report=part,
        action=DepartmentEvent.Action.SUBMITTED,
        by=by,
        at=at,
        note=part.remarks,
        values=part.values,
    )
    n = part.events.filter(action=DepartmentEvent.Action.SUBMITTED).count()
    url = _branch_report_url(part)
    transaction.on_commit(
        lambda: notify(
            recipients=managers_of(part.branch),
            verb="department_report",
            title=_("%(department)s 已上报 %(period)s 月度客户信息")
            % {"department": part.department.name, "period": part.period},
            body="" if part.on_time else _("逾期上报。"),
            url=url,
            key=f"department-report-submitted:{part.pk}:{n}",
        )
    )
    return part


@transaction.atomic
def part_return(
    *, part: DepartmentReport, by, reason: str, at: dt.datetime | None = None
) -> DepartmentReport:
    """R83: the branch manager returns a submitted part with a reason; its figures are live
    again so the corrections show; the department submits it again (its first submission's
    figures stay in the history)."""
    if not may_return_part(by, part):
        raise PermissionDenied(_("只有分公司经营部负责人可以退回项目经理部的上报。"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写退回原因。")})
    if len(reason) > 2000:
        raise ValidationError({"reason": _("退回原因不能超过 2000 字。")})
    part = _locked(part)
    if part.status != Status.SUBMITTED:
        raise ValidationError(
            _("当前状态为“%(status)s”,只有已上报的可以退回。") % {"status": part.get_status_display()}
        )
    branch_report = MonthlyReport.objects.filter(branch_id=part.branch_id, period=part.period).first()
    if branch_report is not None and branch_report.status in (
        MonthlyReport.Status.SUBMITTED,
        MonthlyReport.Status.ACCEPTED,
    ):
        raise ValidationError(_("分公司月度报表已上报集团,不能再退回项目经理部的上报。"))
    part.status = Status.RETURNED
    part.returned_reason = reason
    part.snapshot = None
    part.values = None
    part.frozen_at = None
    part.window_start = None
    part.save()
    event = DepartmentEvent.objects.create(
        branch_id=part.branch_id,
        report=part,
        action=DepartmentEvent.Action.RETURNED,
        by=by,
        at=at or timezone.now(),
        note=reason,
    )
    url = part_url(part)
    transaction.on_commit(
        lambda: notify(
            recipients=department_people(part.department_id),
            verb="department_report",
            title=_("%(period)s 本部月度客户信息被分公司退回") % {"period": part.period},
            body=reason,
            url=url,
            key=f"department-report-returned:{event.pk}",
        )
    )
    return part


def branch_parts(report: MonthlyReport, reader) -> dict:
    """R82: the branch's report's view of its departments' parts of the period: each reporting
    department with its part (None where none was opened), how it stands against the branch's
    deadline, its figures (frozen where submitted, live otherwise, through ``restrict(reader)``)
    and the sums of the submitted parts."""
    period = report.period_obj
    departments = list(reporting_departments(report.branch))
    parts = {
        p.department_id: p
        for p in DepartmentReport.objects.restrict(reader, "view")
        .filter(branch_id=report.branch_id, period=report.period)
        .select_related("submitted_by")
        .defer("snapshot")
    }
    deadline = part_deadline(report.branch_id, period)
    rows = []
    counts = {"on_time": 0, "late": 0, "returned": 0, "missing": 0, "pending": 0}
    for department in departments:
        part = parts.get(department.pk)
        if part is not None:
            timeliness = part.timeliness
            values = part.values if part.values is not None else None
        else:
            timeliness = "missing" if timezone.now() >= deadline else "pending"
            values = None
        counts[timeliness] += 1
        rows.append({"department": department, "part": part, "timeliness": timeliness, "values": values})
    submitted = [r["values"] for r in rows if r["part"] is not None and r["part"].status == Status.SUBMITTED]
    return {
        "rows": rows,
        "deadline": deadline,
        "counts": counts,
        "submitted": len(submitted),
        "sums": fig.totals(submitted),
    }


def rollup_counts(period: Period, branch_ids) -> dict[int, tuple[int, int]]:
    """For the group's roll-up (R82): per branch, (parts submitted, departments reporting), in
    one query."""
    from django.db.models import Count, Q

    rows = (
        ProjectDepartment.objects.filter(branch_id__in=branch_ids, is_active=True, is_business_dept=False)
        .values("branch_id")
        .annotate(
            n=Count("pk", distinct=True),
            done=Count(
                "monthly_parts",
                filter=Q(monthly_parts__period=period.label, monthly_parts__status=Status.SUBMITTED),
                distinct=True,
            ),
        )
        .order_by()
    )
    counts = {row["branch_id"]: (row["done"], row["n"]) for row in rows}
    return {b: counts.get(b, (0, 0)) for b in branch_ids}


def department_reminders(now: dt.datetime | None = None) -> int:
    """R84: remind the departments that have not submitted their part of the current period:
    from ``REMIND_DAYS`` days before the branch's deadline ("first") and on its last day
    ("last"). Keyed by (period, department, step): a second run the same day sends nothing; a
    run after a missed day sends the step then due."""
    from ..obligations import reporting_branches

    now = now or timezone.now()
    period = Period.containing(now)
    sent = 0
    for branch in reporting_branches():
        deadline = part_deadline(branch.pk, period)
        if now >= deadline or now < deadline - dt.timedelta(days=REMIND_DAYS):
            continue
        step = "last" if now >= deadline - dt.timedelta(days=1) else "first"
        done = set(
            DepartmentReport.objects.filter(
                branch=branch, period=period.label, status=Status.SUBMITTED
            ).values_list("department_id", flat=True)
        )
        for department in reporting_departments(branch):
            if department.pk in done:
                continue
            part = part_open(department=department, period=period)
            sent += len(
                notify(
                    recipients=department_people(department.pk),
                    verb="department_reminder",
                    title=_("请在 %(deadline)s 前向分公司上报 %(period)s 月度客户信息")
                    % {
                        "deadline": timezone.localtime(deadline - dt.timedelta(minutes=1)).strftime(
                            "%m-%d %H:%M"
                        ),
                        "period": period.label,
                    },
                    url=part_url(part),
                    key=f"department-reminder:{period.label}:{department.pk}:{step}",
                )
            )
    return sent


# ---------------------------------------------------------------- survey reports (R85, R86)


def survey_report_due(campaign) -> dt.datetime:
    """R85: a department's survey report is due ``SURVEY_REPORT_DAYS`` days after the campaign's
    deadline (the end of that day)."""
    return dt.datetime.combine(
        campaign.deadline + dt.timedelta(days=SURVEY_REPORT_DAYS + 1),
        dt.time.min,
        tzinfo=timezone.get_default_timezone(),
    )


def survey_summary(campaign, department: ProjectDepartment) -> dict:
    """R85: the department's surveys of the campaign: counts, satisfaction per dimension, the
    unsatisfied items and their follow-ups (the system's count, whoever reads it)."""
    from surveys.models import FollowUp, Survey
    from surveys.services import _stats

    surveys = Survey.objects.filter(campaign=campaign, department=department)
    summary = _stats(surveys)
    follow_ups = list(
        FollowUp.objects.filter(survey__in=surveys)
        .select_related("client")
        .order_by("status", "pk")
        .values("pk", "client__name", "items", "status", "note")
    )
    summary["follow_ups"] = [
        {
            "id": f["pk"],
            "client": f["client__name"],
            "items": f["items"],
            "status": f["status"],
            "note": f["note"],
        }
        for f in follow_ups
    ]
    summary["follow_ups_done"] = sum(1 for f in follow_ups if f["status"] == "done")
    return summary


def survey_drafts(summary: dict) -> dict[str, str]:
    """R85: the texts offered pre-filled from the records."""
    dims = "; ".join(
        _("%(name)s 满意率 %(rate)s") % {"name": d["name"], "rate": f"{round(d['rate'] * 100)}%"}
        for d in summary.get("dimensions", [])
        if d.get("rate") is not None
    )
    results = _("发出调查 %(sent)s 份,回收 %(answered)s 份,过期 %(expired)s 份。") % {
        "sent": summary.get("sent", 0),
        "answered": summary.get("answered", 0),
        "expired": summary.get("expired", 0),
    }
    if dims:
        results += dims + "。"
    unsatisfied = "\n".join(f"{f['client']}: {f['items']}" for f in summary.get("follow_ups", [])) or _(
        "本次调查无不满意项。"
    )
    follow = _("不满意项 %(n)s 项,已跟进 %(done)s 项。") % {
        "n": len(summary.get("follow_ups", [])),
        "done": summary.get("follow_ups_done", 0),
    }
    notes = [f"{f['client']}: {f['note']}" for f in summary.get("follow_ups", []) if f.get("note")]
    if notes:
        follow += "\n" + "\n".join(notes)
    return {"results": results, "unsatisfied": unsatisfied, "follow_ups": follow}


def survey_report_open(*, campaign, department: ProjectDepartment) -> tuple[DepartmentSurveyReport, bool]:
    """R85: the department's report of a campaign, opened once its deadline has passed."""
    existing = DepartmentSurveyReport.objects.filter(campaign=campaign, department=department).first()
    if existing is not None:
        return existing, False
    if department.is_business_dept:
        raise ValidationError(_("经营部不单独上报,由分公司汇总上报。"))
    if timezone.localdate() <= campaign.deadline:
        raise ValidationError(_("调查活动尚未截止,截止后再编写本部的满意度调查报告。"))
    try:
        with transaction.atomic():
            return (
                DepartmentSurveyReport.objects.create(
                    campaign=campaign,
                    department=department,
                    branch_id=department.branch_id,
                    due_at=survey_report_due(campaign),
                ),
                True,
            )
    except IntegrityError:
        return DepartmentSurveyReport.objects.get(campaign=campaign, department=department), False


def _texts(report: DepartmentSurveyReport, texts: dict) -> None:
    for name in DepartmentSurveyReport.TEXTS:
        if name in texts and texts[name] is not None:
            setattr(report, name, str(texts[name]).strip())


@transaction.atomic
def survey_report_save(
    *, report: DepartmentSurveyReport, by, texts: dict, expected_version: int | None = None
) -> DepartmentSurveyReport:
    """R85: the department writes its report (409 through StaleVersion when stale)."""
    if not may_submit_part(by, report):
        raise PermissionDenied(_("只有本项目经理部人员可以编写本部的满意度调查报告。"))
    locked = DepartmentSurveyReport.objects.select_for_update().get(pk=report.pk)
    if expected_version is not None:
        locked.version = expected_version
    if locked.status == DepartmentSurveyReport.Status.SUBMITTED:
        raise ValidationError(_("报告已上报,不能再修改。"))
    _texts(locked, texts)
    locked.full_clean()
    locked.save()
    return locked


@transaction.atomic
def survey_report_submit(
    *,
    report: DepartmentSurveyReport,
    by,
    texts: dict | None = None,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> DepartmentSurveyReport:
    """R85: submit the department's survey report to the branch: the texts (the drafts where
    left empty), and the survey figures frozen as they stand; on time by its due date."""
    at = at or timezone.now()
    if not may_submit_part(by, report):
        raise PermissionDenied(_("只有本项目经理部人员可以上报本部的满意度调查报告。"))
    locked = DepartmentSurveyReport.objects.select_for_update().get(pk=report.pk)
    if expected_version is not None:
        locked.version = expected_version
    if locked.status == DepartmentSurveyReport.Status.SUBMITTED:
        raise ValidationError(_("报告已上报,无需重复上报。"))
    _texts(locked, texts or {})
    summary = survey_summary(locked.campaign, locked.department)
    drafts = survey_drafts(summary)
    for name in DepartmentSurveyReport.TEXTS:
        if not getattr(locked, name):
            setattr(locked, name, drafts[name])
    locked.summary = summary
    locked.status = DepartmentSurveyReport.Status.SUBMITTED
    locked.submitted_at = at
    locked.submitted_by = by
    locked.on_time = at < locked.due_at
    locked.full_clean()
    locked.save()
    DepartmentEvent.objects.create(
        branch_id=locked.branch_id,
        survey_report=locked,
        action=DepartmentEvent.Action.SUBMITTED,
        by=by,
        at=at,
        values={k: summary.get(k) for k in ("sent", "answered", "expired", "unsatisfied")},
    )
    url = reverse("assessments:department-survey-list") + f"?campaign={locked.campaign_id}"
    transaction.on_commit(
        lambda: notify(
            recipients=managers_of(locked.branch),
            verb="department_survey_report",
            title=_("%(department)s 已上报「%(campaign)s」满意度调查报告")
            % {"department": locked.department.name, "campaign": locked.campaign.name},
            url=url,
            key=f"department-survey-report:{locked.pk}",
        )
    )
    return locked


def campaign_departments(campaign, reader, branch_id: int | None = None) -> list[dict]:
    """R86: the branch's (or every branch in the reader's scope) report of a campaign: each
    reporting department with its report (None where not opened), submitted on time, late or
    not yet, and its figures (frozen once submitted, else counted now)."""
    branches = Branch.objects.restrict(reader, "view").exclude(kind=Branch.Kind.HQ)
    if branch_id is not None:
        branches = branches.filter(pk=branch_id)
    reports = {
        r.department_id: r
        for r in DepartmentSurveyReport.objects.restrict(reader, "view")
        .filter(campaign=campaign)
        .select_related("submitted_by")
    }
    due = survey_report_due(campaign)
    rows = []
    for branch in branches:
        for department in reporting_departments(branch):
            report = reports.get(department.pk)
            if report is not None:
                timeliness = report.timeliness
            else:
                timeliness = "missing" if timezone.now() >= due else "pending"
            summary = report.summary if report is not None and report.summary else None
            rows.append(
                {
                    "branch": branch,
                    "department": department,
                    "report": report,
                    "timeliness": timeliness,
                    "summary": summary,
                }
            )
    return rows
