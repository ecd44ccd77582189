"""Helpers of the improvement plan tests (R102-R108): a priority matrix of east with one
dimension in each quadrant, targets for the year, and a plan made from it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from surveys import services as survey_services
from surveys.improvements import services
from surveys.models import Dimension, SurveyTemplate, Target

from .conftest import make_client, scores_for

# The standard template's questions in order: customer service 0-1, engineering quality 2-4,
# service quality 5-6, after-completion service 7-8. With these weights (mean 0.25) and the
# scores of ``LOW`` set to 1, east's matrix has customer service in 优先改进区 (1/2 satisfied),
# service quality in 次要改进区 (0/2), engineering in 优势保持区 and after-completion service in
# 维持观察区 (tests/surveys/test_priority_matrix.py).
IMPORTANCE = {
    "customer_service": "0.30",
    "engineering_quality": "0.40",
    "service_quality": "0.15",
    "after_service": "0.15",
}
LOW = (0, 5, 6)


def dim(code: str, template=None) -> Dimension:
    template = template or SurveyTemplate.objects.get(code="standard")
    return Dimension.objects.get(template=template, code=code)


def east_matrix(org, *, year: int | None = None, branch_code: str = "east"):
    """An answered survey of a client of ``branch_code`` shaping the matrix above, and the
    targets of the year (base 59%, target 70%)."""
    standard = SurveyTemplate.objects.get(code="standard")
    for code, weight in IMPORTANCE.items():
        Dimension.objects.filter(template=standard, code=code).update(importance=Decimal(weight))
    year = year or timezone.localdate().year
    for d in Dimension.objects.filter(template=standard):
        Target.objects.update_or_create(
            dimension=d, year=year, defaults={"base": Decimal("0.590"), "target": Decimal("0.700")}
        )
    client = make_client(org, branch_code)
    staff = org[f"{branch_code}_staff"]
    survey = survey_services.survey_create(by=staff, client=client, template=standard)
    survey_services.survey_enter_paper(
        survey=survey, by=staff, scores=scores_for(standard, low=LOW), respondent="王工"
    )
    return standard, client


def measure(org, owner: str = "east_staff", days: int = 10, **kw) -> dict:
    return {
        "description": kw.pop("description", "建立维修项目卡片管理,明示维修单位和联系方式"),
        "department": kw.pop("department", "客服部"),
        "client_group": kw.pop("client_group", "all"),
        "due_on": timezone.localdate() + dt.timedelta(days=days),
        "owner": org[owner].pk,
        **kw,
    }


def make_plan(
    org, *, by: str = "east_manager", code: str = "customer_service", branch_code="east", measures=None
):
    """A plan of ``branch_code`` (None: the group's) for ``code``, from the matrix above."""
    standard = SurveyTemplate.objects.get(code="standard")
    return services.improvement_plan_create(
        by=org[by],
        template=standard,
        year=timezone.localdate().year,
        dimension=dim(code),
        branch=org.branches[branch_code] if branch_code else None,
        goal="提高客户服务满意率",
        measures=measures if measures is not None else [measure(org), measure(org, "east_manager", 20)],
    )
