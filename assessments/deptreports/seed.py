"""Demo data of the departments' reports to their branch (R80-R86): one person of each project
department (``<branch>_<department>_staff``, the demo's password), a year of their monthly
parts (most on time, some late, one returned by the branch manager and submitted again), and
their satisfaction survey reports of the last campaign that ended. Run by assessments.seed inside
each period, before the branch submits its report, as the departments would; idempotent."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from crm.figures import Period
from crm.models import Role, User
from crm.services import user_set_role

from ..models import DepartmentReport, DepartmentSurveyReport
from . import services

NAMES = ["王磊", "赵敏", "钱俊", "孙悦", "周涛", "吴昊", "郑琳", "冯刚", "陈静", "褚亮", "卫平", "蒋欣"]
# (periods before the last one due, department code) -> late / returned.
LATE = {(1, "pd-suzhou"), (3, "pd-nansha"), (5, "pd-hefei"), (8, "pd-studio2"), (10, "pd-suzhou")}
RETURNED = {(2, "pd-hongqiao")}
RETURN_REASON = "新增客户联系人电话缺失,请补全后重新上报。"
SKIPPED = {(0, "pd-hangzhou")}  # the last period: one department never submitted (missing)


def username(department) -> str:
    return f"{department.branch.code}_{department.code.removeprefix('pd-')}_staff"


def department_users(org) -> int:
    """One person of each project department, if missing, with the demo's password (copied from
    the branch's staff login, so ``--password`` applies to them too)."""
    made = 0
    n = 0
    for branch in org.branches.values():
        template = org.users.get(f"{branch.code}_staff")
        if template is None:
            continue
        for department in services.reporting_departments(branch):
            name = username(department)
            user = User.objects.filter(username=name).first()
            if user is None:
                user = User.objects.create(
                    username=name,
                    full_name=NAMES[n % len(NAMES)],
                    title="项目商务经理",
                    email=f"{name}@example.com",
                    password=template.password,
                )
                made += 1
            n += 1
            if user.department_id != department.pk or user.role != Role.STAFF:
                user_set_role(user=user, role=Role.STAFF, branch=branch, department=department)
            org.users[name] = user
    return made


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_default_timezone())


def seed_period(org, branch, period: Period, back: int) -> None:
    """The departments' parts of one period, before the branch's report is submitted."""
    manager = org.users.get(f"{branch.code}_manager")
    for i, department in enumerate(services.reporting_departments(branch)):
        staff = org.users.get(username(department))
        if staff is None or (back, department.code) in SKIPPED:
            continue
        part = services.part_open(department=department, period=period)
        if part.status == DepartmentReport.Status.SUBMITTED:
            continue
        deadline_day = timezone.localtime(part.deadline - dt.timedelta(minutes=1)).date()
        if (back, department.code) in LATE:
            at = _at(deadline_day + dt.timedelta(days=1), 9, 30 + i)
        else:
            at = _at(deadline_day - dt.timedelta(days=2 + (back + i) % 3), 15, 10 + i * 7)
        part = services.part_submit(part=part, by=staff, remarks="", at=at)
        if (back, department.code) in RETURNED and manager is not None:
            part = services.part_return(
                part=part, by=manager, reason=RETURN_REASON, at=at + dt.timedelta(hours=18)
            )
            services.part_submit(
                part=part, by=staff, remarks="已补全两位联系人的电话。", at=at + dt.timedelta(days=1, hours=1)
            )


def seed_current(org, branches, period: Period) -> None:
    """This period: the parts opened as drafts (the reminders point at them)."""
    for branch in branches:
        for department in services.reporting_departments(branch):
            services.part_open(department=department, period=period)


def seed_survey_reports(org) -> int:
    """R85: the departments' satisfaction survey reports of the last campaign that ended: all
    but one submitted, most on time."""
    from surveys.models import Campaign

    campaign = Campaign.objects.filter(deadline__lt=timezone.localdate()).order_by("-deadline").first()
    if campaign is None or DepartmentSurveyReport.objects.filter(campaign=campaign).exists():
        return 0
    made = 0
    due = services.survey_report_due(campaign)
    for branch in org.branches.values():
        for i, department in enumerate(services.reporting_departments(branch)):
            staff = org.users.get(username(department))
            if staff is None or department.code == "pd-hefei":
                continue
            report, _created = services.survey_report_open(campaign=campaign, department=department)
            at = min(
                timezone.now(),
                due - dt.timedelta(days=3 - i % 2)
                if department.code != "pd-nansha"
                else due + dt.timedelta(hours=10),
            )
            if at > timezone.now():
                continue
            services.survey_report_submit(report=report, by=staff, at=at)
            made += 1
    return made
