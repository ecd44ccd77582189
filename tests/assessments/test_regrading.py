"""R30, R31: single-client analyses in the branch report; group marketing's summary, due 30
days after the last branch submitted; re-gradings proposed from the R7 candidates and applied
through the one grading service, with leaders and branches told."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from assessments.models import AnalysisReport, GroupSummary, Regrading
from assessments.review import services
from clients.models import GradeChange
from crm.figures import HalfYear
from crm.models import Notification

from .helpers import at, new_client

pytestmark = pytest.mark.django_db

H1 = HalfYear(2026, 1)
TEXTS = {"loyalty": "稳定", "profit": "增长", "future": "向好", "capability": "良好", "product": "装配式"}


def test_a_department_writes_single_client_analyses_listed_in_the_report(org):
    client = new_client(org, "east")
    report = services.analysis_open(branch=org.branches["east"], half=H1)
    services.client_analysis_save(report=report, by=org["east_staff"], client=client, text="二期项目需求明确")
    services.client_analysis_save(report=report, by=org["east_staff"], client=client, text="二期项目已立项")
    assert [a.text for a in report.client_analyses.all()] == ["二期项目已立项"]
    other = new_client(org, "south")
    with pytest.raises(ValidationError):
        services.client_analysis_save(report=report, by=org["east_staff"], client=other, text="x")
    with pytest.raises(PermissionDenied):
        services.client_analysis_save(report=report, by=org["south_staff"], client=client, text="x")
    page = org.web("east_manager").get(f"/reports/analysis/{report.pk}/")
    assert "二期项目已立项" in page.content.decode()
    assert (
        org.web("south_staff")
        .post(f"/reports/analysis/{report.pk}/clients/", {"client": client.pk, "text": "x"})
        .status_code
        == 404
    )


def test_the_summary_is_due_30_days_after_the_last_branch(org):
    from assessments.obligations import reporting_branches

    branches = list(reporting_branches())
    for i, branch in enumerate(branches):
        report = services.analysis_open(branch=branch, half=H1)
        assert services.summary_due(H1) is None
        with time_machine.travel(at(f"2026-05-2{i}T10:00"), tick=False):
            services.analysis_save(report=report, by=org[f"{branch.code}_manager"], data=TEXTS, submit=True)
    assert services.summary_due(H1) == at(f"2026-05-2{len(branches) - 1}T10:00") + dt.timedelta(days=30)


def test_regradings_are_proposed_applied_through_the_grading_service_and_announced(
    org, django_capture_on_commit_callbacks
):
    a = new_client(org, "east", integrity_good=True, credit_good=True)  # suggested B, now C
    b = new_client(org, "south", demanding=True)
    summary = services.summary_open(H1)
    candidates = services.regrading_candidates(H1)
    assert any(c["client"].pk == a.pk and c["to"] == "B" for c in candidates)
    for who in ("east_manager", "leader", "auditor"):
        with pytest.raises(PermissionDenied):
            services.regrading_propose(summary=summary, by=org[who], client=a, to_grade="B", reason="x")
    with pytest.raises(ValidationError):
        services.regrading_propose(summary=summary, by=org["marketing"], client=a, to_grade="B", reason=" ")
    with pytest.raises(ValidationError):
        services.regrading_propose(
            summary=summary, by=org["marketing"], client=b, to_grade="C", reason="不变"
        )
    services.regrading_propose(
        summary=summary, by=org["marketing"], client=a, to_grade="B", reason="诚信资信良好"
    )
    services.regrading_propose(
        summary=summary, by=org["marketing"], client=a, to_grade="A", reason="重点客户"
    )
    assert Regrading.objects.get(client=a).to_grade == "A"
    with django_capture_on_commit_callbacks(execute=True):
        assert services.regrading_apply(summary=summary, by=org["marketing"]) == 1
    a.refresh_from_db()
    change = GradeChange.objects.filter(client=a).latest("changed_at")
    assert (
        a.grade == "A"
        and change.from_grade == "C"
        and change.reason == "重点客户"
        and change.changed_by == org["marketing"]
    )
    assert Notification.objects.filter(key="regrading:2026H1", recipient=org["leader"]).exists()
    # R75: every branch gets its own list, the one with a change and the ones without.
    for who in ("east_manager", "south_manager", "design_staff"):
        assert Notification.objects.filter(
            key=f"regrading-list:2026H1:{org[who].branch_id}", recipient=org[who]
        ).exists(), who
    with pytest.raises(ValidationError):
        services.regrading_apply(summary=summary, by=org["marketing"])


def test_the_summary_page_by_role(org):
    url = "/reports/analysis/summary/2026H1/"
    for who in ("marketing", "leader", "auditor"):
        assert org.web(who).get(url).status_code == 200, who
    for who in ("east_manager", "east_staff", "norole"):
        assert org.web(who).get(url).status_code == 403, who
    assert org.web("marketing").get("/reports/analysis/summary/2026H9/").status_code == 404
    assert org.web("leader").post(url, {"action": "save", "text": "x"}).status_code == 403
    response = org.web("marketing").post(url, {"action": "submit", "text": "各分子公司客户结构稳定。"})
    assert response.status_code == 302
    summary = GroupSummary.objects.get(half_year="2026H1")
    assert summary.submitted_at and summary.text == "各分子公司客户结构稳定。"
    assert AnalysisReport.objects.count() == 0


def test_reminders_before_the_analysis_is_due(org, settings):
    settings.CRM_REVIEW_START = "2026H2"
    report = services.analysis_open(branch=org.branches["east"], half=HalfYear(2026, 2))
    with time_machine.travel(at("2026-12-17T09:00"), tick=False):  # 14 days before 1 January
        services.analysis_save(report=report, by=org["east_manager"], data=TEXTS, submit=True)
        assert services.analysis_reminders() == 3  # every branch but east, which has submitted
        assert services.analysis_reminders() == 0  # once a day
    reminded = set(
        Notification.objects.filter(verb="analysis_reminder").values_list("recipient__username", flat=True)
    )
    assert reminded == {"south_manager", "design_manager", "install_manager"}
    with time_machine.travel(at("2026-12-20T09:00"), tick=False):
        assert services.analysis_reminders() == 0
    with time_machine.travel(at("2026-12-28T09:00"), tick=False):  # 3 days before
        assert services.analysis_reminders() == 3


ROUTES_COVERED = ("assessments:summary-group", "assessments:client-analysis-add")
