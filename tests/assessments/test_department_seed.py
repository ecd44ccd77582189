"""The demo's departments' reports (R80-R86): a person of each project department, a year of
their parts (some late, one returned and submitted again, one missing in the last period), this
period's drafts, and the department survey reports of the last campaign that ended."""

import pytest
import time_machine
from django.core.management import call_command

from assessments.models import DepartmentReport, DepartmentSurveyReport
from crm.figures import Period
from crm.models import User

from .helpers import at

pytestmark = pytest.mark.django_db


def test_the_demo_holds_a_year_of_department_parts():
    now = at("2026-12-02T09:00")
    with time_machine.travel(now, tick=False):
        call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
        assert User.objects.get(username="east_hongqiao_staff").department.code == "pd-hongqiao"
        assert (
            User.objects.filter(username__endswith="_staff", department__is_business_dept=False).count() == 9
        )
        last = Period.last_due(now)
        parts = DepartmentReport.objects.filter(period=last.label)
        assert parts.filter(status="submitted").count() == 8  # one department never submitted
        assert DepartmentReport.objects.filter(on_time=False).count() >= 3
        returned = DepartmentReport.objects.filter(events__action="returned").distinct()
        assert returned.count() == 1 and returned.get().status == "submitted"
        assert returned.get().events.count() == 3
        assert (
            DepartmentReport.objects.filter(period=Period.containing(now).label, status="draft").count() == 9
        )
        assert DepartmentReport.objects.values("period").distinct().count() == 13
        assert DepartmentSurveyReport.objects.filter(status="submitted").exists()
        # Idempotent.
        before = DepartmentReport.objects.count()
        call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
        assert DepartmentReport.objects.count() == before
