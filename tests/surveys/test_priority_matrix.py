"""R24: the priority matrix (行动重点) puts each dimension in its quadrant by importance against
satisfaction (the axes cross at the means of the dimensions) and lists what to improve first:
优先改进区 (important, below the mean satisfaction), then 次要改进区, 优势保持区, 维持观察区; within a
quadrant, the lowest satisfaction for its importance first."""

from decimal import Decimal

import pytest

from surveys import selectors, services
from surveys.models import Dimension

from .conftest import make_client, scores_for

pytestmark = pytest.mark.django_db

# The standard template's questions in order: customer service 0-1, engineering quality 2-4,
# service quality 5-6, after-completion service 7-8, then the summary (not in the matrix).
IMPORTANCE = {
    "customer_service": "0.30",
    "engineering_quality": "0.40",
    "service_quality": "0.15",
    "after_service": "0.15",
}  # mean 0.25


def _matrix(org, standard, low):
    for code, weight in IMPORTANCE.items():
        Dimension.objects.filter(template=standard, code=code).update(importance=Decimal(weight))
    client = make_client(org)
    survey = services.survey_create(by=org["east_staff"], client=client, template=standard)
    survey = services.survey_enter_paper(
        survey=survey, by=org["east_staff"], scores=scores_for(standard, low=low), respondent="王工"
    )
    matrix = selectors.priority_matrix(org["marketing"], template=standard, year=survey.answered_at.year)
    return [(p["dimension"].code, p["quadrant"], round(p["rate"], 3)) for p in matrix["points"]], matrix


def test_each_dimension_is_in_its_quadrant_and_the_priority_comes_first(org, standard):
    # Rates: customer service 1/2, engineering 3/3, service quality 0/2, after-completion 2/2
    # (mean 0.625); importance: 0.30, 0.40, 0.15, 0.15 (mean 0.25).
    points, matrix = _matrix(org, standard, low=(0, 5, 6))
    assert matrix["x_mid"] == pytest.approx(0.25) and matrix["y_mid"] == pytest.approx(0.625)
    assert points == [
        ("customer_service", "priority", 0.5),  # important and below the mean: first
        ("service_quality", "secondary", 0.0),  # below the mean but less important
        ("engineering_quality", "strength", 1.0),  # important and above the mean
        ("after_service", "maintain", 1.0),
    ]


def test_within_a_quadrant_the_lowest_for_its_importance_comes_first(org, standard):
    # Customer service 1/2 (importance 0.30) and engineering 0/3 (0.40) are both priorities;
    # engineering is further below its importance: it comes first.
    points, _matrix_ = _matrix(org, standard, low=(0, 2, 3, 4))
    assert [(code, quadrant) for code, quadrant, _rate in points] == [
        ("engineering_quality", "priority"),
        ("customer_service", "priority"),
        ("service_quality", "maintain"),
        ("after_service", "maintain"),
    ]
