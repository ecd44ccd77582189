"""The half-year review (R30-R34): the half year, the indicators and the records behind them, the
round opened once (and caught up), the reproducible sample, the auditor's rating and the
consequences that enforce themselves (suspension for a month, work summary within a week, holds
while anything is overdue, lifted by submitting it), the analysis report."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from assessments import obligations
from assessments.models import AnalysisReport, Assessment, AssessmentRound, SpotCheck, WorkSummary
from assessments.monthly import services as monthly
from assessments.review import services
from clients.access.services import access_request_approve, access_request_create, access_request_forward
from clients.models import Client
from crm.figures import HalfYear, Period
from crm.models import Notification, Suspension

from .helpers import at, new_client

pytestmark = pytest.mark.django_db

H1 = HalfYear(2026, 1)


def test_half_year_bounds_and_due_dates():
    assert H1.start == at("2026-01-01T00:00") and H1.end == at("2026-07-01T00:00")
    assert H1.analysis_due == at("2026-06-02T00:00")  # by the end of 1 June
    assert HalfYear(2026, 2).analysis_due == at("2027-01-01T00:00")  # by the end of 31 December
    assert HalfYear.last_ended(at("2026-07-01T00:30")) == H1
    assert [p.label for p in H1.periods()] == [
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-04",
        "2026-05",
        "2026-06",
    ]
    with pytest.raises(ValueError, match="2026H2"):
        HalfYear.parse("2026H3")


def _open(now="2026-07-01T01:30", capture=None):
    from contextlib import nullcontext

    with time_machine.travel(at(now), tick=False), capture(execute=True) if capture else nullcontext():
        rnd, pending = services.assessment_round_start(half=H1)
        for branch_id in pending:
            services.assessment_compute(round_id=rnd.pk, branch_id=branch_id)
    rnd.refresh_from_db()
    return rnd


def _clients(org, code, n, when="2026-03-01T10:00"):
    with time_machine.travel(at(when), tick=False):
        return [new_client(org, code) for _ in range(n)]


def test_the_round_opens_once_after_the_half_year_and_computes_every_branch(
    org, django_capture_on_commit_callbacks
):
    _clients(org, "east", 3)
    with time_machine.travel(at("2026-06-30T23:59"), tick=False), pytest.raises(ValidationError):
        services.assessment_round_start(half=H1)
    rnd = _open(capture=django_capture_on_commit_callbacks)
    assert rnd.state == "open" and rnd.done == rnd.total == obligations.reporting_branches().count()
    east = Assessment.objects.get(branch=org.branches["east"], half_year="2026H1")
    assert east.indicators["reporting"]["periods"] == 6
    assert east.indicators["reporting"]["growth"]["end"] == 3
    assert Notification.objects.filter(recipient=org["auditor"], key="assessment-open:2026H1").count() == 1
    before = (east.indicators, east.sample_seed, list(east.spot_checks.values_list("client_id", flat=True)))
    again = _open("2026-07-02T01:30", capture=django_capture_on_commit_callbacks)
    east.refresh_from_db()
    assert again.pk == rnd.pk and AssessmentRound.objects.count() == 1
    assert (
        east.indicators,
        east.sample_seed,
        list(east.spot_checks.values_list("client_id", flat=True)),
    ) == before
    assert Notification.objects.filter(key="assessment-open:2026H1").count() == 1
    with time_machine.travel(at("2026-07-03T00:10"), tick=False):
        assert services.halves_to_open() == []


def test_the_sample_is_reproducible_from_its_seed(org):
    clients = _clients(org, "east", 12)
    _open()
    east = Assessment.objects.get(branch=org.branches["east"])
    sample = sorted(east.spot_checks.values_list("client_id", flat=True))
    assert len(sample) == 8 and set(sample) <= {c.pk for c in clients}
    assert services._sample(org.branches["east"].pk, east.sample_seed, 8) == sample


def test_indicators_count_monthly_reports_and_complaints_of_the_half(org):
    with time_machine.travel(at("2026-03-20T10:00"), tick=False):
        monthly.report_submit(
            report=monthly.report_open(branch=org.branches["east"], period=Period(2026, 3)),
            by=org["east_manager"],
        )
    with time_machine.travel(at("2026-04-27T10:00"), tick=False):
        monthly.report_submit(
            report=monthly.report_open(branch=org.branches["east"], period=Period(2026, 4)),
            by=org["east_manager"],
        )
    _open()
    ind = Assessment.objects.get(branch=org.branches["east"]).indicators["reporting"]
    states = {m["period"]: m["state"] for m in ind["monthly"]}
    assert states["2026-03"] == "on_time" and states["2026-04"] == "late" and states["2026-01"] == "missing"
    assert ind["on_time"] == 1
    completeness = ind["completeness"]
    assert completeness["fields"] == [name for name, _label in services.REQUIRED_FIELDS]


def _check_all(assessment, by, *, accurate=True):
    for check in assessment.spot_checks.all():
        services.spot_check_record(check=check, by=by, accurate=accurate)


def test_only_auditors_rate_and_only_after_the_spot_check(org):
    _clients(org, "south", 3)
    _open()
    south = Assessment.objects.get(branch=org.branches["south"])
    for who in ("marketing", "leader", "south_manager"):
        with pytest.raises(PermissionDenied):
            services.assessment_rate(assessment=south, by=org[who], rating="poor", reason="x")
    with pytest.raises(ValidationError, match="抽查"):
        services.assessment_rate(assessment=south, by=org["auditor"], rating="poor", reason="x")
    _check_all(south, org["auditor"], accurate=False)
    with pytest.raises(ValidationError):
        services.assessment_rate(assessment=south, by=org["auditor"], rating="poor", reason=" ")
    with pytest.raises(ValidationError):
        services.assessment_rate(assessment=south, by=org["auditor"], rating="bad", reason="x")
    assert (
        org.web("marketing")
        .post(f"/reports/assessments/{south.pk}/rate/", {"rating": "poor", "reason": "x"})
        .status_code
        == 403
    )
    assert (
        org.api("leader")
        .post(f"/api/assessments/{south.pk}/rate/", {"rating": "poor", "reason": "x"}, format="json")
        .status_code
        == 403
    )
    assert (
        org.api("east_manager")
        .post(f"/api/assessments/{south.pk}/rate/", {"rating": "poor", "reason": "x"}, format="json")
        .status_code
        == 404
    )
    south.refresh_from_db()
    assert not south.rating


def test_poor_suspends_the_archive_for_a_month_and_owes_a_summary(org, django_capture_on_commit_callbacks):
    own = _clients(org, "south", 1)[0]
    own.owner = org["south_staff"]
    own.save()
    other = Client.objects.create(
        name="华南他人负责建设有限公司", branch=org.branches["south"], owner=org["south_manager"]
    )
    _open()
    south = Assessment.objects.get(branch=org.branches["south"])
    _check_all(south, org["auditor"], accurate=False)
    with (
        time_machine.travel(at("2026-07-10T16:00"), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.assessment_rate(assessment=south, by=org["auditor"], rating="poor", reason="抽查多处不准确")
    suspension = Suspension.objects.get(branch=org.branches["south"], kind="archive")
    assert suspension.ends_at == at("2026-08-10T16:00")
    summary = WorkSummary.objects.get(assessment=south)
    assert summary.due_at == at("2026-07-17T16:00")
    assert Notification.objects.filter(recipient=org["leader"], key=f"assessment-rated:{south.pk}").exists()
    with time_machine.travel(at("2026-07-20T10:00"), tick=False):
        from crm.models import User

        staff = User.objects.get(username="south_staff")
        visible = set(Client.objects.restrict(staff, "view").values_list("pk", flat=True))
        assert own.pk in visible and other.pk not in visible
        page = org.web("south_staff").get("/clients/")
        assert "8月10日 16:00" in page.content.decode()  # the suspension's end, in the banner
    with time_machine.travel(at("2026-08-10T16:01"), tick=False):
        staff = User.objects.get(username="south_staff")
        assert other.pk in set(Client.objects.restrict(staff, "view").values_list("pk", flat=True))


def test_excellent_is_commended_and_owes_nothing(org):
    _clients(org, "east", 2)
    _open()
    east = Assessment.objects.get(branch=org.branches["east"])
    _check_all(east, org["auditor"])
    east = services.assessment_rate(assessment=east, by=org["auditor"], rating="excellent", reason="各项优良")
    assert east.commended_at is not None and not WorkSummary.objects.filter(assessment=east).exists()
    assert not Suspension.objects.filter(branch=org.branches["east"]).exists()
    with pytest.raises(ValidationError):
        services.assessment_rate(assessment=east, by=org["auditor"], rating="poor", reason="改判")


def test_an_overdue_summary_holds_submissions_and_approvals_until_it_is_submitted(
    org, django_capture_on_commit_callbacks, settings
):
    settings.CRM_REVIEW_START = "2026H2"  # no analysis report owed: the summary alone
    _clients(org, "design", 2)
    target = _clients(org, "east", 1)[0]
    _open()
    design = Assessment.objects.get(branch=org.branches["design"])
    _check_all(design, org["auditor"])
    with time_machine.travel(at("2026-07-10T10:00"), tick=False):
        services.assessment_rate(assessment=design, by=org["auditor"], rating="qualified", reason="基本达标")
        request = access_request_create(
            requester=org["design_staff"],
            clients=[target],
            reason="投标需要了解合作历史",
            ends_on=dt.date(2026, 8, 30),
        )
        access_request_forward(access_request=request, by=org["marketing"])
    summary = WorkSummary.objects.get(assessment=design)
    with time_machine.travel(at("2026-07-18T00:10"), tick=False):
        assert obligations.holds_sync_all() >= 1
        assert (
            obligations.holds_sync_all() >= 1 and Suspension.objects.filter(kind="submissions").count() == 1
        )
        owed = obligations.owed(org.branches["design"])
        assert [o["kind"] for o in owed if o["overdue"]] == ["work_summary"]
        with pytest.raises(ValidationError, match="暂停审批该单位待批的查阅申请"):
            access_request_approve(access_request=request, by=org["leader"])
        # What is owed is never held (crm.holds): the month's report goes in; a new access
        # request does not, and the pending one shows no approve button before anyone clicks.
        july = monthly.report_submit(
            report=monthly.report_open(branch=org.branches["design"], period=Period(2026, 7)),
            by=org["design_manager"],
        )
        assert july.status == "submitted"
        with pytest.raises(ValidationError, match="暂停提交查阅申请"):
            access_request_create(
                requester=org["design_staff"],
                clients=[target],
                reason="再次申请",
                ends_on=dt.date(2026, 8, 30),
            )
        from clients.access.services import allowed_steps

        request.refresh_from_db()
        assert allowed_steps(org["leader"], request) == ["reject"]
        leader = org.web("leader")
        detail = leader.get(reverse("clients:access-request-detail", args=[request.pk]))
        assert (
            "暂停审批该单位待批的查阅申请" in detail.content.decode()
            and 'data-testid="approve"' not in detail.content.decode()
        )
        home = org.web("design_manager").get("/")
        assert (
            'data-testid="submissions-hold"' in home.content.decode()
            and "客户关系维护工作总结" in home.content.decode()
        )
        with pytest.raises(ValidationError):
            services.work_summary_submit(summary=summary, by=org["design_manager"], parts={"reporting": "x"})
        with pytest.raises(PermissionDenied):
            services.work_summary_submit(summary=summary, by=org["design_staff"], parts={})
        parts = dict.fromkeys(WorkSummary.PARTS, "已整改")
        with django_capture_on_commit_callbacks(execute=True):
            services.work_summary_submit(summary=summary, by=org["design_manager"], parts=parts)
        assert not Suspension.objects.active().filter(kind="submissions").exists()
        grant = access_request_approve(access_request=request, by=org["leader"])
    assert grant.pk


def test_the_analysis_report_needs_its_five_aspects_and_freezes_its_figures(org):
    _clients(org, "east", 2)
    report = services.analysis_open(branch=org.branches["east"], half=H1)
    texts = {"loyalty": "稳定", "profit": "增长", "future": "向好", "capability": "良好"}
    with time_machine.travel(at("2026-05-20T10:00"), tick=False):
        with pytest.raises(PermissionDenied):
            services.analysis_save(report=report, by=org["east_staff"], data=texts, submit=True)
        with pytest.raises(ValidationError) as refused:
            services.analysis_save(report=report, by=org["east_manager"], data=texts, submit=True)
        assert "product" in refused.value.message_dict
        report = services.analysis_save(
            report=report, by=org["east_manager"], data={**texts, "product": "装配式"}, submit=True
        )
    assert report.status == "submitted" and report.on_time is True
    assert report.figures["loyalty"]["clients"] == 2
    _clients(org, "east", 1, when="2026-05-25T10:00")
    report.refresh_from_db()
    assert report.figures["loyalty"]["clients"] == 2
    with pytest.raises(PermissionDenied):
        services.analysis_judge(report=report, by=org["marketing"], meets=True)
    assert services.analysis_judge(report=report, by=org["auditor"], meets=True).meets_requirements is True
    late = services.analysis_open(branch=org.branches["south"], half=H1)
    with time_machine.travel(at("2026-06-02T09:00"), tick=False):
        late = services.analysis_save(
            report=late, by=org["south_manager"], data={**texts, "product": "x"}, submit=True
        )
    assert late.on_time is False


ROUTES_COVERED = (
    "assessments:owed",
    "assessments:analysis-list",
    "assessments:analysis-current",
    "assessments:analysis-detail",
    "assessments:analysis-judge",
    "assessments:assessment-list",
    "assessments:assessment-open",
    "assessments:assessment-detail",
    "assessments:assessment-check",
    "assessments:assessment-rate",
    "assessments:summary-detail",
    "analysis-report-list",
    "analysis-report-detail",
    "analysis-report-submit",
    "assessment-list",
    "assessment-detail",
    "assessment-rate",
    "assessment-open",
    "work-summary-list",
    "work-summary-detail",
    "work-summary-submit",
)


def test_review_routes_by_role_and_scope(org):
    _clients(org, "east", 2)
    _open()
    east = Assessment.objects.get(branch=org.branches["east"])
    check = SpotCheck.objects.filter(assessment=east).first()
    report = services.analysis_open(branch=org.branches["east"], half=H1)
    _check_all(Assessment.objects.get(branch=org.branches["south"]), org["auditor"])
    services.assessment_rate(
        assessment=Assessment.objects.get(branch=org.branches["south"]),
        by=org["auditor"],
        rating="qualified",
        reason="ok",
    )
    summary = WorkSummary.objects.get()
    pages = {
        "/reports/analysis/": None,
        f"/reports/analysis/{report.pk}/": "east",
        "/reports/assessments/": None,
        f"/reports/assessments/{east.pk}/": "east",
        f"/reports/summaries/{summary.pk}/": "south",
        f"/api/analysis-reports/{report.pk}/": "east",
        f"/api/assessments/{east.pk}/": "east",
        f"/api/work-summaries/{summary.pk}/": "south",
    }
    for url, branch in pages.items():
        for who in ("marketing", "leader", "auditor"):
            assert org.web(who).get(url).status_code == 200, (who, url)
        assert org.web(None).get(url).status_code in (302, 401), url
        assert org.web("norole").get(url).status_code == 403, url
        if branch:
            assert org.web(f"{branch}_staff").get(url).status_code == 200, url
            other = "south" if branch == "east" else "east"
            assert org.web(f"{other}_staff").get(url).status_code == 404, url
    assert org.web("east_staff").get("/reports/owed/").status_code == 200
    assert org.web("leader").get("/reports/owed/").status_code == 403
    # The current half year's report does not exist yet: the page offers to open it (a GET
    # writes nothing); the POST opens it.
    assert org.web("east_manager").get("/reports/analysis/current/").status_code == 200
    assert org.web("east_manager").post("/reports/analysis/current/").status_code == 302
    assert org.web("marketing").get("/reports/assessments/open/").status_code == 200
    assert org.web("auditor").get("/reports/assessments/open/").status_code == 403
    assert (
        org.web("east_staff")
        .post(f"/reports/assessments/{east.pk}/checks/{check.pk}/", {"accurate": "yes"})
        .status_code
        == 403
    )
    assert (
        org.web("south_staff")
        .post(f"/reports/assessments/{east.pk}/checks/{check.pk}/", {"accurate": "yes"})
        .status_code
        == 404
    )
    assert (
        org.web("auditor")
        .post(f"/reports/assessments/{east.pk}/checks/{check.pk}/", {"accurate": "yes"})
        .status_code
        == 302
    )
    assert SpotCheck.objects.get(pk=check.pk).accurate is True
    assert (
        org.web("marketing").post(f"/reports/analysis/{report.pk}/judge/", {"meets": "yes"}).status_code
        == 403
    )
    assert (
        org.api("east_manager")
        .post(f"/api/analysis-reports/{report.pk}/submit/", {}, format="json")
        .status_code
        == 400
    )
    assert (
        org.api("south_manager")
        .post(f"/api/analysis-reports/{report.pk}/submit/", {}, format="json")
        .status_code
        == 404
    )
    assert (
        org.api("east_manager")
        .post(f"/api/work-summaries/{summary.pk}/submit/", {}, format="json")
        .status_code
        == 404
    )
    assert (
        org.api("south_staff")
        .post(
            f"/api/work-summaries/{summary.pk}/submit/", dict.fromkeys(WorkSummary.PARTS, "x"), format="json"
        )
        .status_code
        == 403
    )
    with time_machine.travel(at("2026-07-05T10:00"), tick=False):
        assert (
            org.api("auditor")
            .post("/api/assessments/open/", {"half_year": "2026H1"}, format="json")
            .status_code
            == 403
        )
        assert (
            org.api("marketing")
            .post("/api/assessments/open/", {"half_year": "2026H9"}, format="json")
            .status_code
            == 400
        )
        response = org.api("marketing").post("/api/assessments/open/", {"half_year": "2026H1"}, format="json")
        assert response.status_code == 202 and response.json()["state"] == "open"
        early = org.api("marketing").post("/api/assessments/open/", {"half_year": "2026H2"}, format="json")
        assert early.status_code == 400
    assert AnalysisReport.objects.get(pk=report.pk).status == "draft"


def test_group_marketing_sets_the_growth_standard(org):
    _clients(org, "east", 2, when="2025-12-01T10:00")
    _clients(org, "east", 1)
    with time_machine.travel(at("2026-07-01T01:30"), tick=False):
        web = org.web("marketing")
        assert (
            web.post(
                "/reports/assessments/open/", {"half_year": "2026H1", "growth_standard": "60"}
            ).status_code
            == 302
        )
        rnd = AssessmentRound.objects.get()
        assert rnd.growth_standard == 0.6
        rnd, pending = services.assessment_round_start(half=H1)
        for branch_id in pending:
            services.assessment_compute(round_id=rnd.pk, branch_id=branch_id)
        east = Assessment.objects.get(branch=org.branches["east"])
        growth = east.indicators["reporting"]["growth"]
        assert growth["growth"] == 0.5 and growth["meets"] is False
        assert (
            web.post(
                "/reports/assessments/open/", {"half_year": "2026H1", "growth_standard": "40%"}
            ).status_code
            == 302
        )
        east.refresh_from_db()
        assert east.indicators["reporting"]["growth"] == {**growth, "standard": 0.4, "meets": True}
        assert (
            web.post(
                "/reports/assessments/open/", {"half_year": "2026H1", "growth_standard": "abc"}
            ).status_code
            == 302
        )
        assert AssessmentRound.objects.get().growth_standard == 0.4
        with pytest.raises(PermissionDenied):
            services.round_set_standard(rnd=rnd, by=org["auditor"], standard=0.1)
