"""Demo data of monthly reporting (R26-R29): a year of past periods closed by the 25th job (most
branches on time, some late, one report returned and submitted again, one never submitted),
this period's drafts, and the rankings of the last four quarters. Everything goes through the
services, as a user and the jobs would; deterministic, and idempotent like the rest of the demo."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from crm.figures import Period
from crm.models import Notification

from . import services
from .models import MonthlyClose, MonthlyReport

# (periods before the last one due, branch) -> what happened. Anything else: on time, accepted.
LATE = {(1, "south"), (4, "install"), (7, "south")}
MISSING = {(9, "south")}
RETURNED = {(2, "east")}
REMARKS = {
    "east": "本月重点跟进地铁集团二期项目需求;客户档案已按新表格补全联系人。",
    "south": "本期新增客户主要来自深圳前海片区,已安排拜访计划。",
    "design": "设计回访中客户对出图进度提出意见,已纳入整改。",
    "install": "",
}
RETURN_REASON = "新增客户中有两家缺少统一社会信用代码,请补全档案后重新上报。"


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_default_timezone())


def seed(org) -> str:
    if MonthlyReport.objects.exists():
        return f"already there: {MonthlyReport.objects.count()} monthly reports"
    marketing = org.users["marketing"]
    now = timezone.now()
    last = Period.last_due(now)
    periods = []
    period = last
    for _i in range(12):
        periods.append(period)
        period = period.previous()
    branches = list(services.reporting_branches())
    for back, period in sorted(enumerate(periods), key=lambda item: -item[0]):
        for i, branch in enumerate(branches):
            code = branch.code
            manager = org.users.get(f"{code}_manager")
            report = services.report_open(branch=branch, period=period)
            if (back, code) in MISSING or manager is None:
                continue
            remarks = REMARKS.get(code, "") if (back + i) % 3 == 0 else ""
            if (back, code) in LATE:
                services.report_close_branch(branch=branch, period=period, at=period.deadline)
                at = _at(period.last_day + dt.timedelta(days=2 + i % 2), 10, 15)
            else:
                at = _at(period.last_day - dt.timedelta(days=1 + (back + i) % 4), 16, 20 + i * 7)
            report = services.report_submit(report=report, by=manager, remarks=remarks, at=at)
            if (back, code) in RETURNED:
                report = services.report_return(report=report, by=marketing, reason=RETURN_REASON)
                report = services.report_submit(
                    report=report,
                    by=manager,
                    remarks="已补全两家客户的统一社会信用代码。",
                    at=at + dt.timedelta(days=1),
                )
            if back > 0 or (back, code) not in LATE:
                services.report_accept(report=report, by=marketing)
        close, pending = services.monthly_close_start(period=period)
        for branch_id in pending:
            services.monthly_close_part(close_id=close.pk, branch_id=branch_id)
        MonthlyClose.objects.filter(pk=close.pk).update(
            started_at=period.deadline, finished_at=period.deadline + dt.timedelta(minutes=1)
        )
    current = Period.containing(now)
    for branch in branches:
        services.report_open(branch=branch, period=current)
    rankings = services.rankings_catch_up(now)
    # The demo's past notifications of reporting are history: keep them, read.
    Notification.objects.filter(
        verb__in=("monthly_report", "monthly_close", "ranking"), read_at__isnull=True
    ).update(read_at=now)
    return (
        f"{MonthlyReport.objects.count()} monthly reports over {len(periods) + 1} periods, "
        f"{len(rankings)} rankings"
    )
