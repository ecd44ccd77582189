"""The demo's weekly tracking checks (R71-R73), through the services, so every rule holds: the
past four weeks' checks of each demo branch as the job would have made them (each made at its
week's checkpoint, from the needs as they stood then), the latest week's owners and managers
notified, and a few 协调解决 remarks by east's manager. Idempotent: a branch with any check is
left as it is."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from .models import NeedCheck
from .services import need_check_make, need_check_notify, need_check_remark
from .weeks import last_due_week

DEMO_BRANCHES = ("east", "south", "design", "install")
WEEKS = 4
# R73 in the demo: east_manager's 协调解决 of the first findings of the last two weeks.
DEMO_REMARKS = (
    "已与负责人沟通,本周五前向客户书面答复处理方案。",
    "涉及设计与施工两个部门,已召集协调会明确分工,下周跟踪结果。",
    "客户方案尚未确定,已约定下周二现场沟通后再定处理时限。",
)


def seed_need_checks(org) -> str:
    now = timezone.now()
    latest = last_due_week(now)
    weeks = [latest]
    while len(weeks) < WEEKS:
        week = weeks[0].previous()
        while week.checkpoint() is None:  # a week without a working day has no check
            week = week.previous()
        weeks.insert(0, week)
    made = 0
    for code in DEMO_BRANCHES:
        branch = org.branches.get(code)
        if branch is None or NeedCheck.objects.filter(branch=branch).exists():
            continue
        for week in weeks:
            as_of = week.checkpoint()
            check, created = need_check_make(
                branch=branch, week=week, now=min(now, as_of + dt.timedelta(minutes=2))
            )
            made += created
            if week == latest:
                need_check_notify(check=check)
    remarked = 0
    manager, east = org.users.get("east_manager"), org.branches.get("east")
    if manager is not None and east is not None:
        texts = iter(DEMO_REMARKS)
        for check in NeedCheck.objects.filter(branch=east).order_by("-week_start")[:2]:
            for finding in check.findings.filter(remark="").order_by("received_at", "pk")[
                : 2 if remarked == 0 else 1
            ]:
                text = next(texts, None)
                if text is None:
                    break
                need_check_remark(finding=finding, by=manager, remark=text)
                remarked += 1
    return f"{made} need tracking checks, {remarked} remarks"
