"""Demo improvement plans (R102-R107): each branch's manager turns the top dimension of the
branch's priority matrix into a plan with seed 002's kind of measures; one measure is done with
its evidence, one is overdue, one is still to come. The plans were made about six weeks ago, so
this quarter's campaign (under way) is their next one and shows each planned dimension before
and after. Built through the workflow's services (every step in the history), then the dates
moved back as the survey seed does; idempotent (a branch with a plan is left alone)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from crm.models import Branch, Role, User

from .. import selectors
from ..models import Answer, Survey, SurveyTemplate
from . import services
from .models import ImprovementMeasure, ImprovementPlan, Quadrant

# Measures in seed 002's manner (措施 / 时间点 / 部门 / 负责人), by dimension; (text, department,
# client group, days from now: negative is overdue, None done).
MEASURES = {
    "engineering_quality": [
        ("外聘专家小组针对在建工程中出现的系统性质量问题提供技术支持,每月组织一次。", "工程部", "all", None),
        ("施工现场开放日,展示工程做法与质量样板。", "项目经理部", "A", -6),
        ("制定“标准化的工程施工做法和统一的材料部品标准”指引手册。", "工程部", "all", 45),
    ],
    "after_service": [
        ("建立维修项目“卡片”管理:明示维修单位、维修监理人员、客户大使及联系方式。", "客服部", "all", None),
        ("前台接报后10分钟内填写报修表格并转维修组,维修关闭后24小时内进行第一次回访。", "客服部", "A", -5),
        ("每月组织客服组与维修组就客户沟通方法与技巧开展交流会。", "项目经理部", "all", 40),
    ],
}
DEFAULT = [
    ("建立客户意见反馈库,逐条落实调查中反映的问题并回复客户。", "经营部", "all", None),
    ("对不满意项涉及的客户逐一上门回访,说明整改措施。", "经营部", "A", -4),
    ("每季度选择一个项目经理部轮岗一天,了解客户需求,形成改进报告。", "项目经理部", "B", 50),
]
DAYS_AGO = 42


def _year_of_answers(template: SurveyTemplate) -> int | None:
    latest = (
        Survey.objects.filter(template=template, status=Survey.Status.ANSWERED)
        .order_by("-answered_at")
        .values_list("answered_at", flat=True)
        .first()
    )
    return timezone.localtime(latest).year if latest else None


def seed(org) -> str:
    template = SurveyTemplate.objects.filter(is_default=True).first()
    if template is None:
        return "no improvement plans (no default template)"
    year = _year_of_answers(template)
    if year is None:
        return "no improvement plans (no answers)"
    today = timezone.localdate()
    made, skipped = 0, []
    for branch in Branch.objects.exclude(kind=Branch.Kind.HQ).order_by("sort_order", "code"):
        if ImprovementPlan.objects.filter(branch=branch).exists():
            continue
        manager = (
            org.users.get(f"{branch.code}_manager")
            or User.objects.filter(branch=branch, role=Role.MANAGER, is_active=True).first()
        )
        staff = org.users.get(f"{branch.code}_staff") or manager
        if manager is None:
            skipped.append(branch.code)
            continue
        matrix = selectors.priority_matrix(manager, template=template, year=year, branch=branch)
        top = next((p for p in matrix["points"] if p["quadrant"] in Quadrant.values), None)
        if top is None or services.target_of(top["dimension"], year) is None:
            skipped.append(branch.code)
            continue
        rows = MEASURES.get(top["dimension"].code, DEFAULT)
        plan = services.improvement_plan_create(
            by=manager,
            template=template,
            year=year,
            branch=branch,
            dimension=top["dimension"],
            goal=f"针对{top['dimension'].name}满意率偏低(行动重点:{top['quadrant_label']}),拟定有针对性的改进措施。",
            measures=[
                {
                    "description": text,
                    "department": department,
                    "client_group": group,
                    "due_on": today + dt.timedelta(days=abs(days) if days is not None else 10),
                    "owner": (staff if i % 2 == 0 else manager).pk,
                }
                for i, (text, department, group, days) in enumerate(rows)
            ],
        )
        measures = list(plan.measures.order_by("pk"))
        for measure, (_text, _dept, _group, days) in zip(measures, rows, strict=True):
            if days is None:
                services.improvement_measure_complete(
                    plan=plan, measure=measure, by=manager, evidence="已按计划落实,相关记录已归档。"
                )
        # The plan was made six weeks ago: move its dates back (the overdue measure's too).
        made_at = timezone.now() - dt.timedelta(days=DAYS_AGO)
        done_at = made_at + dt.timedelta(days=20)
        ImprovementPlan.objects.filter(pk=plan.pk).update(created_at=made_at)
        ImprovementPlan.history.filter(id=plan.pk, history_type="+").update(history_date=made_at)
        ImprovementPlan.history.filter(id=plan.pk, history_type="~").update(history_date=done_at)
        for measure, (_text, _dept, _group, days) in zip(measures, rows, strict=True):
            changes = {"created_at": made_at}
            if days is None:
                changes["done_at"] = done_at
            elif days < 0:
                changes["due_on"] = today + dt.timedelta(days=days)
            ImprovementMeasure.objects.filter(pk=measure.pk).update(**changes)
        made += 1
    if not made:
        return ""  # every branch has its plan already (or none has a dimension to improve)
    answers = Answer.objects.filter(survey__campaign__isnull=False).count()
    note = f"; no plan for {', '.join(skipped)} (no dimension to improve)" if skipped else ""
    return f"{made} improvement plans ({answers} campaign answers behind their effects){note}"
