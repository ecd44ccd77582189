"""What monthly reporting and the half-year review both use, below both (imports only go down:
monthly and review import this module, never each other): who reports (R26), who is told (group
marketing, leaders), what a branch owes and by when, and the hold that an overdue item puts on
the branch (R33; what a hold refuses is crm.holds)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.figures import HalfYear
from crm.models import Branch, Role, Suspension, User
from crm.services import managers_of, notify

from .models import AnalysisReport, MonthlyReport, WorkSummary


def reporting_branches():
    """The branches that report (R26): every active branch but the group HQ itself."""
    return Branch.objects.filter(is_active=True).exclude(kind=Branch.Kind.HQ).order_by("sort_order", "code")


def group_marketing():
    return User.objects.filter(role=Role.MARKETING, is_active=True)


def leaders():
    return User.objects.filter(role=Role.LEADER, is_active=True)


def owed(branch: Branch, now: dt.datetime | None = None) -> list[dict]:
    """What the branch owes and by when (R33): monthly reports not submitted, the analysis
    report of the half year, work summaries; each with its due date and whether it is overdue."""
    from crm.figures import Period

    now = now or timezone.now()
    out = []
    for r in MonthlyReport.objects.filter(
        branch=branch,
        status__in=(MonthlyReport.Status.DRAFT, MonthlyReport.Status.MISSING, MonthlyReport.Status.RETURNED),
    ).order_by("period"):
        due = Period.parse(r.period).deadline
        if r.status == MonthlyReport.Status.DRAFT and due > now + dt.timedelta(days=10):
            continue
        out.append(
            {
                "kind": "monthly_report",
                "label": _("%(period)s 月度客户信息报表") % {"period": r.period},
                "due_at": due,
                "overdue": now > due,
                "url": reverse("assessments:report-detail", kwargs={"pk": r.pk}),
            }
        )
    half = HalfYear.containing(now)
    start = HalfYear.parse(settings.CRM_REVIEW_START)
    for h in (half.previous(), half):
        if h < start:
            continue
        report = AnalysisReport.objects.filter(branch=branch, half_year=h.label).first()
        if report and report.status == AnalysisReport.Status.SUBMITTED:
            continue
        if h.analysis_due > now + dt.timedelta(days=31):
            continue
        out.append(
            {
                "kind": "analysis_report",
                "label": _("%(half)s 客户分析报告") % {"half": h.label},
                "due_at": h.analysis_due,
                "overdue": now > h.analysis_due,
                "url": reverse("assessments:analysis-current") + f"?half_year={h.label}",
            }
        )
    for s in WorkSummary.objects.filter(branch=branch, submitted_at__isnull=True).select_related(
        "assessment"
    ):
        out.append(
            {
                "kind": "work_summary",
                "label": _("%(half)s 客户关系维护工作总结") % {"half": s.assessment.half_year},
                "due_at": s.due_at,
                "overdue": now > s.due_at,
                "url": reverse("assessments:summary-detail", kwargs={"pk": s.pk}),
            }
        )
    return sorted(out, key=lambda o: o["due_at"])


def _owed_reason(overdue: list[dict]) -> str:
    """The hold's reason: each overdue item with the day it was due, as people say it."""
    from crm.templatetags.crm_tags import last_day

    items = "、".join(
        _("%(item)s(应于%(due)s前交)") % {"item": o["label"], "due": last_day(o["due_at"])} for o in overdue
    )
    return (_("逾期未交:") + items)[:300]


def holds_sync(branch: Branch, now: dt.datetime | None = None) -> Suspension | None:
    """R33: a branch with anything overdue holds its other submissions and its pending access
    approvals (one "submissions" row, naming what is owed and by when); once it has submitted
    what it owes the row is lifted. What a hold refuses is defined once, in crm.holds. Called by
    every submission and daily by the job; idempotent."""
    now = now or timezone.now()
    overdue = [o for o in owed(branch, now) if o["overdue"]]
    reason = _owed_reason(overdue) if overdue else ""
    with transaction.atomic():
        active = list(
            Suspension.objects.select_for_update()
            .active(now)
            .filter(branch=branch, kind=Suspension.Kind.SUBMISSIONS)
        )
        if overdue and not active:
            hold = Suspension.objects.create(
                branch=branch,
                kind=Suspension.Kind.SUBMISSIONS,
                reason=reason,
                starts_at=now,
                ends_at=now + dt.timedelta(days=3650),
            )
            transaction.on_commit(
                lambda: notify(
                    recipients=managers_of(branch),
                    verb="hold",
                    title=lambda: _("本单位查阅申请的提交与审批已暂停"),
                    body=lambda: reason + _("。补交后自动恢复。"),
                    url=reverse("assessments:owed"),
                    key=f"hold:{hold.pk}",
                )
            )
            return hold
        if not overdue and active:
            Suspension.objects.filter(pk__in=[s.pk for s in active]).update(lifted_at=now)
            return None
        if active and active[0].reason != reason:  # what is owed changed: the hold says so
            Suspension.objects.filter(pk=active[0].pk).update(reason=reason)
            active[0].reason = reason
    return active[0] if active else None


def holds_sync_all(now: dt.datetime | None = None) -> int:
    return sum(1 for branch in reporting_branches() if holds_sync(branch, now))
