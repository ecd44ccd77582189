"""A department's satisfaction survey report of a campaign (seed 001, «形成客户满意度调查报告,上报于
所属分子公司»; R85, R86): opened once the campaign ended, pre-filled from the department's surveys
(results, unsatisfied items, follow-ups), submitted to the branch on time or late; the branch's
campaign report lists every department; pages, API and their permission matrix."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from assessments.deptreports import services
from assessments.models import DepartmentSurveyReport
from surveys import services as surveys
from surveys.models import SurveyTemplate
from tests.clients.factories import ClientFactory, ProjectFactory
from tests.permissions import ObjectMatrix
from tests.surveys.conftest import ensure_shipped_templates, scores_for

from .dept_helpers import dept_staff
from .helpers import at

pytestmark = pytest.mark.django_db

ROUTES_COVERED = [
    "assessments:department-survey-list",
    "assessments:department-survey-open",
    "assessments:department-survey-submit",
    "department-survey-report-submit",
]


def campaign_with_surveys(org, *, unsatisfied=True):
    """A campaign of 10-31 October 2026: a hongqiao client answered (one item unsatisfied when
    asked), a suzhou client's survey never answered."""
    ensure_shipped_templates()
    template = SurveyTemplate.objects.get(code="standard")
    east = org.branches["east"]
    with time_machine.travel(at("2026-10-01T10:00"), tick=False):
        for dcode, name in (
            ("pd-hongqiao", "上海虹桥商务区投资有限公司"),
            ("pd-suzhou", "苏州园区置业有限公司"),
        ):
            client = ClientFactory(
                name=name,
                branch=east,
                department=org.departments[("east", dcode)],
                owner=org["east_staff"],
                grade="A",
            )
            ProjectFactory(
                client=client, department=org.departments[("east", dcode)], signed_on=dt.date(2026, 8, 1)
            )
    with time_machine.travel(at("2026-10-10T10:00"), tick=False):
        campaign = surveys.campaign_open(
            by=org["marketing"],
            template=template,
            name="2026年第4季度满意度调查",
            deadline=dt.date(2026, 10, 31),
        )
        survey = campaign.surveys.get(department__code="pd-hongqiao")
        surveys.survey_send(survey=survey, by=org["east_staff"])
        surveys.survey_enter_paper(
            survey=survey,
            by=org["east_staff"],
            scores=scores_for(template, low=(0,) if unsatisfied else ()),
            respondent="赵建国",
        )
    return campaign


def report_of(org, campaign, code="east", dcode="pd-hongqiao"):
    with time_machine.travel(at("2026-11-02T10:00"), tick=False):
        return services.survey_report_open(campaign=campaign, department=org.departments[(code, dcode)])[0]


class TestDepartmentSurveyReportMatrix(ObjectMatrix):
    model = DepartmentSurveyReport
    detail_route = "assessments:department-survey-detail"
    api_list_route = "department-survey-report-list"
    api_detail_route = "department-survey-report-detail"
    grants_apply = False
    covers = {
        "assessments:department-survey-detail",
        "department-survey-report-list",
        "department-survey-report-detail",
    }

    def make(self, org, branch_code):
        campaign = campaign_with_surveys(org) if not hasattr(self, "_campaign") else self._campaign
        self._campaign = campaign
        dcode = {"east": "pd-hongqiao", "south": "pd-qianhai"}[branch_code]
        return report_of(org, campaign, branch_code, dcode)


def test_a_department_reports_its_surveys_results_unsatisfied_items_and_follow_ups(org):
    """R85: not before the campaign ended; pre-filled from the department's surveys only; the
    department's people submit it, on time by seven days after the deadline."""
    staff = dept_staff(org, "east", "pd-hongqiao")
    campaign = campaign_with_surveys(org)
    hongqiao = org.departments[("east", "pd-hongqiao")]
    with time_machine.travel(at("2026-10-20T10:00"), tick=False), pytest.raises(ValidationError):
        services.survey_report_open(campaign=campaign, department=hongqiao)
    report = report_of(org, campaign)
    summary = services.survey_summary(campaign, hongqiao)
    assert summary["answered"] == 1 and summary["unsatisfied"] >= 1 and len(summary["follow_ups"]) == 1
    drafts = services.survey_drafts(summary)
    assert "回收 1 份" in drafts["results"] and "上海虹桥商务区投资有限公司" in drafts["unsatisfied"]
    with time_machine.travel(at("2026-11-05T10:00"), tick=False):
        with pytest.raises(PermissionDenied):
            services.survey_report_submit(report=report, by=org["east_staff"])
        services.survey_report_save(report=report, by=staff, texts={"follow_ups": "已回访,整改出图进度。"})
        report = services.survey_report_submit(report=report, by=staff)
    assert report.status == "submitted" and report.on_time is True
    assert report.follow_ups == "已回访,整改出图进度。" and report.results == drafts["results"]
    assert report.summary["answered"] == 1
    with pytest.raises(ValidationError):
        services.survey_report_submit(report=report, by=staff)
    assert report.events.get().action == "submitted"


def test_the_branch_s_campaign_report_lists_every_department(org):
    """R86: submitted on time, late, not yet; the branch sees its own, another branch none."""
    campaign = campaign_with_surveys(org)
    suzhou = dept_staff(org, "east", "pd-suzhou")
    report = report_of(org, campaign, dcode="pd-suzhou")
    with time_machine.travel(at("2026-11-09T10:00"), tick=False):
        services.survey_report_submit(report=report, by=suzhou)  # due 8 November: late
        rows = services.campaign_departments(campaign, org["east_manager"])
        by_code = {r["department"].code: r["timeliness"] for r in rows}
        assert by_code == {"pd-hongqiao": "missing", "pd-suzhou": "late", "pd-hangzhou": "missing"}
        assert {r["branch"].code for r in services.campaign_departments(campaign, org["marketing"])} == {
            "east",
            "south",
            "design",
            "install",
        }
        page = org.web("east_manager").get(
            reverse("assessments:department-survey-list") + f"?campaign={campaign.pk}"
        )
        assert page.status_code == 200 and page.content.decode().count("data-timeliness=") == 3
        other = org.web("south_manager").get(
            reverse("assessments:department-survey-list") + f"?campaign={campaign.pk}"
        )
        assert "苏州工业园项目经理部" not in other.content.decode()
        assert org.web("norole").get(reverse("assessments:department-survey-list")).status_code == 403


def test_pages_and_api_open_save_and_submit(org):
    staff = dept_staff(org, "east", "pd-hongqiao")
    campaign = campaign_with_surveys(org, unsatisfied=False)
    with time_machine.travel(at("2026-11-03T10:00"), tick=False):
        opened = org.web(staff.username).post(
            reverse("assessments:department-survey-open"), {"campaign": campaign.pk}
        )
        report = DepartmentSurveyReport.objects.get()
        assert opened["Location"] == reverse("assessments:department-survey-detail", kwargs={"pk": report.pk})
        detail = reverse("assessments:department-survey-detail", kwargs={"pk": report.pk})
        assert "本次调查无不满意项" in org.web(staff.username).get(detail).content.decode()
        assert org.web("east_staff").post(detail, {"results": "x"}).status_code == 403
        assert DepartmentSurveyReport.objects.get().results == ""  # refused, nothing saved
        api = org.api(staff.username)
        again = api.post(reverse("department-survey-report-list"), {"campaign": campaign.pk}, format="json")
        assert again.status_code == 200 and again.json()["id"] == report.pk
        url = reverse("department-survey-report-detail", kwargs={"pk": report.pk})
        saved = api.patch(url, {"results": "回收1份,满意。"}, format="json")
        assert saved.status_code == 200 and saved.json()["results"] == "回收1份,满意。"
        stale = api.patch(url, {"results": "旧版本", "version": 1}, format="json")
        assert stale.status_code == 409
        assert (
            org.api("south_staff")
            .post(reverse("department-survey-report-submit", kwargs={"pk": report.pk}), {}, format="json")
            .status_code
            == 404
        )
        done = org.web(staff.username).post(
            reverse("assessments:department-survey-submit", kwargs={"pk": report.pk})
        )
        assert done.status_code == 302
    report.refresh_from_db()
    assert report.status == "submitted" and report.results == "回收1份,满意。" and report.on_time
