"""Periods and half years that are not due (issue 23): a GET never creates a report, and a
report is opened (POST, or the API) only for a half year that is due (R31)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from assessments.models import AnalysisReport
from assessments.review import services
from crm.figures import HalfYear

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("half", ["2099H1", "2000H1", "2100H2", "9999H2"])
def test_a_get_of_the_current_report_writes_nothing(org, half):
    response = org.web("east_manager").get(f"/reports/analysis/current/?half_year={half}")
    assert response.status_code == 200
    assert not AnalysisReport.objects.exists()


def test_the_page_offers_to_open_a_due_report_and_the_post_opens_it(org):
    half = HalfYear.containing().label
    web = org.web("east_manager")
    page = web.get(f"/reports/analysis/current/?half_year={half}")
    assert 'data-testid="analysis-open"' in page.content.decode()
    assert not AnalysisReport.objects.exists()
    response = web.post(f"/reports/analysis/current/?half_year={half}", {"half_year": half})
    report = AnalysisReport.objects.get()
    assert (report.branch.code, report.half_year) == ("east", half)
    assert response.status_code == 302 and response["Location"].endswith(f"/{report.pk}/")
    # Once it exists, a GET leads to it.
    assert web.get("/reports/analysis/current/")["Location"].endswith(f"/{report.pk}/")


def test_a_half_year_not_due_is_not_offered_and_its_post_is_refused(org):
    web = org.web("east_manager")
    page = web.get("/reports/analysis/current/?half_year=2099H1")
    assert 'data-testid="analysis-not-due"' in page.content.decode()
    response = web.post("/reports/analysis/current/?half_year=2099H1", {"half_year": "2099H1"}, follow=True)
    assert "尚不需要编写" in response.content.decode()
    assert not AnalysisReport.objects.exists()


def test_the_service_and_the_api_refuse_a_half_year_not_due(org):
    with pytest.raises(ValidationError):
        services.analysis_open(branch=org.branches["east"], half=HalfYear.containing().next())
    api = org.api("east_manager")
    response = api.post("/api/analysis-reports/current/", {"half_year": "2099H1"}, format="json")
    assert response.status_code == 400 and "half_year" in response.json()
    assert not AnalysisReport.objects.exists()
    response = api.post("/api/analysis-reports/current/", {}, format="json")
    assert response.status_code == 200 and AnalysisReport.objects.count() == 1
