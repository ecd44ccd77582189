"""The API's counterparts of the review and reporting pages (issue 22): spot checks (R32.5), the
analysis report's judgement (R32.4), its saved draft and the single-client analyses (R30), the
branch's current report (R27, R31), group marketing's summary and re-grading (R31, R7), the
ranking's evaluation (R29), the work summary (R33) and the growth standard (R32.1).

Each action: done by the right role (and its history row written, with the caller as its
author), 403 for a role that may not take it, 404 out of scope, 400 with the service's message
for a refused step."""

from __future__ import annotations

import pytest
import time_machine
from django.utils import timezone

from assessments.models import (
    AnalysisReport,
    Assessment,
    AssessmentRound,
    ClientAnalysis,
    GroupSummary,
    Ranking,
    Regrading,
    SpotCheck,
    WorkSummary,
)
from assessments.review import services
from clients.models import Client, GradeChange
from crm.figures import HalfYear

from .helpers import at, new_client

pytestmark = pytest.mark.django_db

H1 = HalfYear(2026, 1)
TEXTS = {"loyalty": "稳定", "profit": "增长", "future": "向好", "capability": "良好", "product": "装配式"}

ROUTES_COVERED = (
    "spot-check-list",
    "spot-check-detail",
    "spot-check-record",
    "analysis-report-judge",
    "analysis-report-client-analyses",
    "analysis-report-current",
    "client-analysis-list",
    "client-analysis-detail",
    "group-summary-list",
    "group-summary-detail",
    "group-summary-save",
    "group-summary-submit",
    "group-summary-regradings",
    "group-summary-apply",
    "group-summary-candidates",
    "regrading-list",
    "regrading-detail",
    "ranking-remarks",
    "monthly-report-current",
)


def _open():
    with time_machine.travel(at("2026-07-01T01:30"), tick=False):
        rnd, pending = services.assessment_round_start(half=H1)
        for branch_id in pending:
            services.assessment_compute(round_id=rnd.pk, branch_id=branch_id)
    rnd.refresh_from_db()
    return rnd


def _east_assessment(org, n=2) -> Assessment:
    with time_machine.travel(at("2026-03-01T10:00"), tick=False):
        for _ in range(n):
            new_client(org, "east")
    _open()
    return Assessment.objects.get(branch=org.branches["east"], half_year=H1.label)


def _messages(response) -> str:
    return str(response.json())


def _last_history(obj):
    return type(obj).history.filter(id=obj.pk).order_by("-history_date", "-history_id").first()


# ------------------------------------------------------------------------------ spot checks


def test_an_auditor_records_a_spot_check_through_the_api(org):
    assessment = _east_assessment(org)
    check = assessment.spot_checks.first()
    url = f"/api/spot-checks/{check.pk}/record/"
    body = {"accurate": False, "note": "地址已变更"}

    assert org.api("east_staff").post(url, body, format="json").status_code == 403  # in scope, not an auditor
    assert org.api("marketing").post(url, body, format="json").status_code == 403
    assert org.api("norole").post(url, body, format="json").status_code == 403
    assert org.api("south_staff").post(url, body, format="json").status_code == 404  # out of scope
    assert org.api("auditor").post(url, {"note": "x"}, format="json").status_code == 400  # accurate missing
    check.refresh_from_db()
    assert check.accurate is None

    response = org.api("auditor").post(url, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["accurate"] is False and response.json()["note"] == "地址已变更"
    check.refresh_from_db()
    assert check.accurate is False and check.checked_by == org["auditor"]
    row = _last_history(check)
    assert row.history_user == org["auditor"] and row.accurate is False

    # Readable like the page: the branch sees its sample, another branch does not.
    listed = org.api("east_staff").get("/api/spot-checks/", {"assessment": assessment.pk}).json()
    assert check.pk in {r["id"] for r in listed["results"]}
    assert org.api("south_staff").get("/api/spot-checks/").json()["count"] == 0
    assert org.api("south_staff").get(f"/api/spot-checks/{check.pk}/").status_code == 404


def test_spot_checks_are_final_once_the_assessment_is_rated(org):
    assessment = _east_assessment(org)
    for check in assessment.spot_checks.all():
        org.api("auditor").post(f"/api/spot-checks/{check.pk}/record/", {"accurate": True}, format="json")
    response = org.api("auditor").post(
        f"/api/assessments/{assessment.pk}/rate/",
        {"rating": "qualified", "reason": "基本达标"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    check = assessment.spot_checks.first()
    refused = org.api("auditor").post(
        f"/api/spot-checks/{check.pk}/record/", {"accurate": False}, format="json"
    )
    assert refused.status_code == 400 and "不能再修改" in _messages(refused)
    check.refresh_from_db()
    assert check.accurate is True


def test_the_collection_takes_no_post(org):
    """Rows are made by the workflow: POST on a collection is 405 for everyone, even group
    marketing, who holds every model right."""
    for url in ("/api/assessments/", "/api/spot-checks/", "/api/analysis-reports/", "/api/monthly-reports/"):
        for who in ("marketing", "east_manager"):
            assert org.api(who).post(url, {}, format="json").status_code == 405, (who, url)
    assert org.api("marketing").post("/api/rankings/", {}, format="json").status_code == 405
    assert not Assessment.objects.exists() and not AnalysisReport.objects.exists()


# ------------------------------------------------------------------------- analysis reports


def _submitted_report(org, code="east") -> AnalysisReport:
    report = services.analysis_open(branch=org.branches[code], half=H1)
    with time_machine.travel(at("2026-05-20T10:00"), tick=False):
        return services.analysis_save(report=report, by=org[f"{code}_manager"], data=TEXTS, submit=True)


def test_an_auditor_judges_a_submitted_report(org):
    draft = services.analysis_open(branch=org.branches["east"], half=H1)
    url = f"/api/analysis-reports/{draft.pk}/judge/"
    refused = org.api("auditor").post(url, {"meets_requirements": True}, format="json")
    assert refused.status_code == 400 and "尚未提交" in _messages(refused)

    report = _submitted_report(org)
    assert org.api("marketing").post(url, {"meets_requirements": True}, format="json").status_code == 403
    assert org.api("east_manager").post(url, {"meets_requirements": True}, format="json").status_code == 403
    assert org.api("south_staff").post(url, {"meets_requirements": True}, format="json").status_code == 404
    response = org.api("auditor").post(url, {"meets_requirements": False}, format="json")
    assert response.status_code == 200 and response.json()["meets_requirements"] is False
    report.refresh_from_db()
    assert report.meets_requirements is False
    assert _last_history(report).history_user == org["auditor"]


def test_the_branch_manager_saves_a_draft_without_submitting(org):
    report = services.analysis_open(branch=org.branches["east"], half=H1)
    url = f"/api/analysis-reports/{report.pk}/"
    assert org.api("east_staff").patch(url, {"loyalty": "x"}, format="json").status_code == 403
    assert org.api("leader").patch(url, {"loyalty": "x"}, format="json").status_code == 403
    assert org.api("south_manager").patch(url, {"loyalty": "x"}, format="json").status_code == 404

    response = org.api("east_manager").patch(
        url, {"loyalty": "回头客占六成", "profit": "稳中有升"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "draft" and response.json()["loyalty"] == "回头客占六成"
    report.refresh_from_db()
    assert (report.loyalty, report.profit, report.status) == ("回头客占六成", "稳中有升", "draft")
    assert _last_history(report).history_user == org["east_manager"]
    version = response.json()["version"]
    assert response["ETag"] == f'W/"{version}"'

    # A save based on an older version is refused (409) and changes nothing.
    stale = org.api("east_manager").patch(
        url, {"future": "x"}, format="json", HTTP_IF_MATCH=f'W/"{version - 1}"'
    )
    assert stale.status_code == 409 and stale.json()["current"]["loyalty"] == "回头客占六成"
    report.refresh_from_db()
    assert report.future == ""

    submitted = _submitted_report(org, "south")
    refused = org.api("south_manager").patch(
        f"/api/analysis-reports/{submitted.pk}/", {"loyalty": "改"}, format="json"
    )
    assert refused.status_code == 400 and "已提交" in _messages(refused)


def test_a_department_adds_single_client_analyses(org):
    client = new_client(org, "east")
    other = new_client(org, "south")
    report = services.analysis_open(branch=org.branches["east"], half=H1)
    url = f"/api/analysis-reports/{report.pk}/client-analyses/"
    body = {"client": client.pk, "text": "二期项目需求明确"}

    assert org.api("leader").post(url, body, format="json").status_code == 403
    assert org.api("marketing").post(url, body, format="json").status_code == 403
    assert org.api("south_staff").post(url, body, format="json").status_code == 404
    blank = org.api("east_staff").post(url, {"client": client.pk, "text": " "}, format="json")
    assert blank.status_code == 400 and "请填写分析内容" in _messages(blank)
    # Another branch's client: not in the user's scope, refused like an absent one.
    assert (
        org.api("east_staff").post(url, {"client": other.pk, "text": "x"}, format="json").status_code == 400
    )

    response = org.api("east_staff").post(url, body, format="json")
    assert response.status_code == 200, response.json()
    analysis = ClientAnalysis.objects.get(report=report, client=client)
    assert analysis.written_by == org["east_staff"] and response.json()["id"] == analysis.pk
    row = analysis.history.get()
    assert row.history_type == "+" and row.history_user == org["east_staff"]

    listed = org.api("east_manager").get("/api/client-analyses/", {"report": report.pk}).json()
    assert [r["text"] for r in listed["results"]] == ["二期项目需求明确"]
    assert org.api("south_staff").get(f"/api/client-analyses/{analysis.pk}/").status_code == 404

    services.analysis_save(report=report, by=org["east_manager"], data=TEXTS, submit=True)
    refused = org.api("east_staff").post(url, body, format="json")
    assert refused.status_code == 400 and "已提交" in _messages(refused)


def test_the_branch_opens_its_current_reports(org):
    url = "/api/analysis-reports/current/"
    response = org.api("east_manager").post(url, {"half_year": "2026H1"}, format="json")
    assert response.status_code == 200, response.json()
    report = AnalysisReport.objects.get(branch=org.branches["east"], half_year="2026H1")
    assert response.json()["id"] == report.pk and report.history.get().history_type == "+"
    again = org.api("east_staff").post(url, {"half_year": "2026H1"}, format="json")
    assert again.json()["id"] == report.pk and AnalysisReport.objects.count() == 1
    assert org.api("east_manager").post(url, {"half_year": "2026H3"}, format="json").status_code == 400
    refused = org.api("leader").post(url, {}, format="json")
    assert refused.status_code == 400 and "分子公司" in _messages(refused)
    assert org.api("norole").post(url, {}, format="json").status_code == 403

    monthly = org.api("east_manager").post("/api/monthly-reports/current/", format="json")
    assert monthly.status_code == 200, monthly.json()
    assert monthly.json()["branch"] == org.branches["east"].pk and monthly.json()["status"] == "draft"
    assert org.api("east_staff").post("/api/monthly-reports/current/").json()["id"] == monthly.json()["id"]
    assert org.api("marketing").post("/api/monthly-reports/current/").status_code == 400
    assert org.api("norole").post("/api/monthly-reports/current/").status_code == 403


# --------------------------------------------------------------- group summary, re-grading


def test_group_marketing_writes_and_submits_the_summary(org):
    url = "/api/group-summaries/2026H1/"
    assert org.api("leader").get(url).status_code == 200  # leaders read it
    assert org.api("east_manager").get(url).status_code == 403
    assert org.api("marketing").get("/api/group-summaries/2026H3/").status_code == 404
    assert org.api("leader").post(url + "save/", {"text": "x"}, format="json").status_code == 403
    assert org.api("auditor").post(url + "submit/", {"text": "x"}, format="json").status_code == 403
    assert org.api("marketing").post("/api/group-summaries/2026H5/save/", {"text": "x"}).status_code == 404

    saved = org.api("marketing").post(url + "save/", {"text": "初稿"}, format="json")
    assert (
        saved.status_code == 200 and saved.json()["text"] == "初稿" and saved.json()["submitted_at"] is None
    )
    empty = org.api("marketing").post(url + "submit/", {"text": " "}, format="json")
    assert empty.status_code == 400 and "请填写汇总分析" in _messages(empty)
    done = org.api("marketing").post(url + "submit/", {"text": "各分子公司客户结构稳定。"}, format="json")
    assert done.status_code == 200 and done.json()["submitted_at"]
    summary = GroupSummary.objects.get(half_year="2026H1")
    assert summary.text == "各分子公司客户结构稳定。" and summary.submitted_by == org["marketing"]
    assert _last_history(summary).history_user == org["marketing"]
    assert done.json()["due_at"] is None  # not every branch has submitted its analysis


def test_regradings_are_proposed_and_applied_through_the_api(org, django_capture_on_commit_callbacks):
    a = new_client(org, "east", integrity_good=True, credit_good=True)  # suggested B, now C
    hidden = new_client(org, "south")
    url = "/api/group-summaries/2026H1/"

    candidates = org.api("marketing").get(url + "candidates/")
    assert candidates.status_code == 200
    assert any(c["client"] == a.pk and c["to_grade"] == "B" and c["why"] for c in candidates.json())
    assert org.api("leader").get(url + "candidates/").status_code == 403

    body = {"client": a.pk, "to_grade": "B", "reason": "诚信资信良好"}
    for who in ("leader", "auditor", "east_manager"):
        assert org.api(who).post(url + "regradings/", body, format="json").status_code == 403, who
    no_reason = org.api("marketing").post(url + "regradings/", {**body, "reason": " "}, format="json")
    assert no_reason.status_code == 400 and "请填写重新分级的理由" in _messages(no_reason)
    same = org.api("marketing").post(url + "regradings/", {**body, "to_grade": "C"}, format="json")
    assert same.status_code == 400 and "相同" in _messages(same)
    bad = org.api("marketing").post(url + "regradings/", {**body, "to_grade": "D"}, format="json")
    assert bad.status_code == 400 and "无效的客户分级" in _messages(bad)
    assert (
        org.api("marketing").post(url + "regradings/", {**body, "client": 999999}, format="json").status_code
        == 400
    )

    response = org.api("marketing").post(url + "regradings/", body, format="json")
    assert response.status_code == 200, response.json()
    proposal = Regrading.objects.get(client=a)
    assert response.json()["id"] == proposal.pk and proposal.proposed_by == org["marketing"]
    assert proposal.history.get().history_user == org["marketing"]
    detail = org.api("leader").get(url).json()
    assert [p["client"] for p in detail["proposals"]] == [a.pk]
    # A proposal is read in its client's scope: the branch sees its own, another branch does not.
    assert proposal.pk in {r["id"] for r in org.api("east_staff").get("/api/regradings/").json()["results"]}
    assert org.api("south_staff").get(f"/api/regradings/{proposal.pk}/").status_code == 404

    assert org.api("leader").post(url + "apply/", format="json").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        applied = org.api("marketing").post(url + "apply/", format="json")
    assert applied.status_code == 200, applied.json()
    assert applied.json()["applied"] == 1 and applied.json()["summary"]["regraded_at"]
    a.refresh_from_db()
    change = GradeChange.objects.filter(client=a).latest("changed_at")
    assert a.grade == "B" and change.changed_by == org["marketing"] and change.reason == "诚信资信良好"
    assert _last_history(a).history_user == org["marketing"]
    proposal.refresh_from_db()
    assert proposal.applied_at is not None
    again = org.api("marketing").post(url + "apply/", format="json")
    assert again.status_code == 400 and "已执行" in _messages(again)
    assert org.api("marketing").get(url + "candidates/").json() == []
    assert Client.objects.get(pk=hidden.pk).grade == hidden.grade


# ------------------------------------------------------------------- rankings, work summary


def test_group_marketing_evaluates_a_ranking(org):
    ranking = Ranking.objects.create(kind="quarter", label="2026Q1", as_of=timezone.now(), rows=[])
    url = f"/api/rankings/{ranking.pk}/remarks/"
    for who in ("leader", "east_manager", "auditor"):
        assert org.api(who).post(url, {"remarks": "x"}, format="json").status_code == 403, who
    assert org.api("norole").post(url, {"remarks": "x"}, format="json").status_code == 403
    assert org.api("marketing").post("/api/rankings/999999/remarks/", {"remarks": "x"}).status_code == 404
    too_long = org.api("marketing").post(url, {"remarks": "长" * 2001}, format="json")
    assert too_long.status_code == 400 and "remarks" in too_long.json()
    response = org.api("marketing").post(url, {"remarks": "华东区域A类客户增长最快。"}, format="json")
    assert response.status_code == 200 and response.json()["remarks"] == "华东区域A类客户增长最快。"
    ranking.refresh_from_db()
    assert ranking.remarks_by == org["marketing"]
    assert _last_history(ranking).history_user == org["marketing"]


def test_the_work_summary_is_submitted_with_its_parts(org):
    assessment = _east_assessment(org)
    for check in assessment.spot_checks.all():
        services.spot_check_record(check=check, by=org["auditor"], accurate=True)
    services.assessment_rate(assessment=assessment, by=org["auditor"], rating="qualified", reason="基本达标")
    summary = WorkSummary.objects.get(assessment=assessment)
    url = f"/api/work-summaries/{summary.pk}/submit/"
    parts = dict.fromkeys(WorkSummary.PARTS, "已整改")
    assert org.api("east_staff").post(url, parts, format="json").status_code == 403
    assert org.api("south_manager").post(url, parts, format="json").status_code == 404
    missing = org.api("east_manager").post(url, {"reporting": "已整改"}, format="json")
    assert missing.status_code == 400 and set(missing.json()) == set(WorkSummary.PARTS) - {"reporting"}
    assert "请填写这一部分" in _messages(missing)
    response = org.api("east_manager").post(url, parts, format="json")
    assert response.status_code == 200 and response.json()["submitted_at"]
    summary.refresh_from_db()
    assert summary.submitted_by == org["east_manager"]
    assert _last_history(summary).history_user == org["east_manager"]
    again = org.api("east_manager").post(url, parts, format="json")
    assert again.status_code == 400 and "已提交" in _messages(again)


def test_group_marketing_sets_the_growth_standard_of_an_open_round(org):
    _east_assessment(org)
    with time_machine.travel(at("2026-07-05T10:00"), tick=False):
        body = {"half_year": "2026H1", "growth_standard": 0.4}
        assert org.api("auditor").post("/api/assessments/open/", body, format="json").status_code == 403
        out = org.api("marketing").post(
            "/api/assessments/open/", {**body, "growth_standard": 20}, format="json"
        )
        assert out.status_code == 400 and "growth_standard" in out.json()
        response = org.api("marketing").post("/api/assessments/open/", body, format="json")
    assert response.status_code == 200 and response.json()["growth_standard"] == 0.4
    rnd = AssessmentRound.objects.get()
    assert rnd.growth_standard == 0.4 and _last_history(rnd).history_user == org["marketing"]
    east = Assessment.objects.get(branch=org.branches["east"])
    assert east.indicators["reporting"]["growth"]["standard"] == 0.4
    assert SpotCheck.objects.filter(assessment=east).exists()


@pytest.mark.parametrize("typed", ["nan", "inf", "1e400", "-Infinity"])
def test_a_growth_standard_that_is_not_a_finite_number_is_refused_everywhere(org, typed):
    """NaN or infinity stored as a round's standard made every branch's part fail and the round
    stay "running": the one rule refuses it from the job's service, the page and the API."""
    from django.core.exceptions import ValidationError

    from assessments.models import AssessmentRound as Round

    with time_machine.travel(at("2026-07-05T10:00"), tick=False):
        with pytest.raises(ValidationError):
            services.assessment_round_start(half=HalfYear(2026, 1), standard=float(typed))
        page = org.web("marketing").post(
            "/reports/assessments/open/", {"half_year": "2026H1", "growth_standard": typed}
        )
        assert page.status_code in (200, 302)
        api = org.api("marketing").post(
            "/api/assessments/open/", {"half_year": "2026H1", "growth_standard": typed}, format="multipart"
        )
        assert api.status_code == 400, api.content
    assert not Round.objects.exists()
