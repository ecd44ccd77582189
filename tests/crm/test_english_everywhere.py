"""English everywhere (issue 13): with English chosen, the main pages of several roles and the
API's errors show no Chinese outside the data, and a few messages that are built in the
services (a refused workflow step, a role refusal, a validation error) come out in English.

"Outside data" is decided by removing the data before looking: every text value stored in the
database (client, people's, branch and department names, free text, survey templates, stored
notifications) is taken out of the page, longest first, as it is and HTML-escaped, one line
at a time for multi-line text. Whatever Han character is left was put there by the program
and should have gone through gettext. Chosen over English fixture data because the personas,
branches and shipped survey templates of the other tests are Chinese and stay so; any record a
page shows is covered without keeping a list of names here. Two things are not data yet are
Chinese by design and also taken out: each language's own name in the language menu (简体中文),
and the spreadsheet vocabulary of the client import (the group's 客户信息统计表 columns and the
values the import reads), which the import page lists because files carry them. The group's
name (CRM_GROUP_NAME, configured per deployment) is data too.

The monthly reporting pages (a branch's report, the lists behind its figures, the group roll-up,
the monthly close, the rankings) and the reporting API's refusals are covered like the others:
reports in each state (draft, submitted on time, returned), a closing running and one done, a
ranking with its rows.

The half-year review is covered too: the auditor's list and workbench (spot checks half done, a
rating given), the items owed and an analysis report of a branch, the opening of a round, a work
summary, and the /api/assessments/ refusals. So are group marketing's summary of the half year with
its re-grading (a client whose R7 suggestion differs from its grade among the candidates, a
proposal made, then applied) and a branch report listing a project department's single-client
analysis."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone, translation

from assessments import obligations
from assessments.models import Assessment, AssessmentRound, ClosePart, MonthlyClose, WorkSummary
from assessments.monthly import services as report_services
from assessments.review import services as review_services
from clients.access import services as access_services
from clients.imports.spreadsheet import COLUMNS
from clients.models import OrgType, Stage
from complaints import services as complaint_services
from crm import figures as fig
from crm.models import User
from surveys import services as survey_services
from surveys.models import SurveyTemplate
from tests.assessments.helpers import at, new_client
from tests.clients.factories import ClientFactory, ContactFactory, NeedFactory, ProjectFactory
from tests.surveys.conftest import ensure_shipped_templates

pytestmark = pytest.mark.django_db

HAN = re.compile(r"[\u4e00-\u9fff]+")

# Chinese by design, not by omission (see the docstring).
LANGUAGE_NAMES = ["简体中文"]


SPREADSHEET_WORDS = [
    *COLUMNS,
    *(str(label) for _, label in OrgType.choices),
    *(str(label) for _, label in Stage.choices),
    "A类客户",
    "A类",
    "其他",
    "一般",
]


def _data_strings() -> set[str]:
    """Every Chinese text value stored in the database, with its lines and escaped forms."""
    found = set()
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField) and not f.choices
        ]
        if not fields:
            continue
        for row in model._default_manager.values_list(*fields):
            for value in row:
                if value and HAN.search(value):
                    for text in {value, *value.splitlines(), value.strip()}:
                        if HAN.search(text):
                            found.add(text.strip())
    return found | {html.escape(s) for s in found} | {html.escape(s, quote=False) for s in found}


def _leftover(text: str, extra=()) -> list[str]:
    """The Han runs of ``text`` once the data (and ``extra``) are taken out, with context."""
    known = [settings.CRM_GROUP_NAME, *LANGUAGE_NAMES, *extra]
    for value in sorted({*_data_strings(), *known}, key=len, reverse=True):
        text = text.replace(value, " ")
    return [text[max(0, m.start() - 60) : m.end() + 20].replace("\n", " ") for m in HAN.finditer(text)]


def english(web):
    response = web.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    return web


def english_api(org, username):
    api = org.api(username)
    api.credentials(HTTP_ACCEPT_LANGUAGE="en")
    return api


@pytest.fixture
def world(org):
    """A small but complete archive of east (owned by east_staff) and a client of south, with
    a complaint, a survey, a need, an access request and notifications made by the services."""
    ensure_shipped_templates()
    east = org.branches["east"]
    client = ClientFactory(branch=east, owner=org["east_staff"], grade="A")
    ContactFactory(client=client)
    project = ProjectFactory(client=client, department=org.departments[("east", "biz")], is_key=True)
    NeedFactory(client=client, response_due_at=timezone.now() + dt.timedelta(days=3))
    other = ClientFactory(branch=org.branches["south"], owner=org["south_staff"])
    complaint = complaint_services.complaint_receive(
        by=org["east_staff"],
        client=client,
        project=project,
        category="engineering_quality",
        title="三号楼外墙渗水",
        content="业主要求尽快处理。",
    )
    survey = survey_services.survey_create(
        by=org["east_staff"],
        client=client,
        template=SurveyTemplate.objects.get(code="standard"),
        project=project,
    )
    # Notifications are stored in each recipient's language (R113): these for readers of English.
    User.objects.update(language="en")
    for user in org.users.values():
        user.language = "en"
    with translation.override("en"):
        request = access_services.access_request_create(
            requester=org["east_staff"],
            clients=[other],
            reason="二期投标需要了解客户情况",
            ends_on=timezone.localdate() + dt.timedelta(days=30),
        )
        complaint_services.complaint_hand_over(
            complaint=complaint, by=org["east_staff"], to=org["east_manager"], reason="需要经理协调"
        )
    User.objects.update(language="")
    for user in org.users.values():
        user.language = ""
    complaint.refresh_from_db()
    return {"client": client, "other": other, "complaint": complaint, "survey": survey, "request": request}


def _pages(world):
    c = world["client"].pk
    return {
        "east_staff": [
            ("home", {}),
            ("clients:client-list", {}),
            ("clients:client-detail", {"pk": c}),
            ("clients:need-list", {}),
            ("clients:visit-overdue-list", {}),
            ("complaints:complaint-list", {}),
            ("complaints:complaint-detail", {"pk": world["complaint"].pk}),
            ("surveys:survey-list", {}),
            ("surveys:survey-detail", {"pk": world["survey"].pk}),
            ("clients:access-request-list", {}),
            ("clients:access-request-create", {}),
            ("clients:access-request-detail", {"pk": world["request"].pk}),
            ("clients:access-grant-list", {}),
            ("notification-list", {}),
        ],
        "east_manager": [
            ("home", {}),
            ("clients:client-list", {}),
            ("clients:client-detail", {"pk": c}),
            ("clients:visit-overdue-list", {}),
            ("clients:import-start", {}),
            ("complaints:complaint-detail", {"pk": world["complaint"].pk}),
            ("notification-list", {}),
        ],
        "marketing": [
            ("home", {}),
            ("clients:client-list", {}),
            ("clients:client-detail", {"pk": c}),
            ("clients:access-request-review", {}),
            ("clients:access-log-list", {}),
            ("complaints:complaint-list", {}),
            ("surveys:matrix", {}),
            ("notification-list", {}),
        ],
        "leader": [("home", {}), ("clients:client-list", {}), ("clients:access-request-approval", {})],
        "auditor": [("home", {}), ("complaints:complaint-list", {})],
    }


@pytest.mark.parametrize("persona", ["east_staff", "east_manager", "marketing", "leader", "auditor"])
def test_main_pages_show_no_chinese_outside_data(org, world, persona):
    web = english(org.web(persona))
    problems = {}
    for route, kwargs in _pages(world)[persona]:
        url = reverse(route, kwargs=kwargs)
        page = web.get(url)
        assert page.status_code == 200, (url, page.status_code)
        text = page.content.decode()
        assert 'lang="en"' in text, url
        extra = SPREADSHEET_WORDS if route == "clients:import-start" else ()
        left = _leftover(text, extra)
        if left:
            problems[url] = left[:8]
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


def test_no_access_page_for_another_branchs_client_is_english(org, world):
    page = english(org.web("east_staff")).get(
        reverse("clients:client-detail", kwargs={"pk": world["other"].pk})
    )
    assert page.status_code == 404
    text = page.content.decode()
    assert 'lang="en"' in text
    assert not _leftover(text), _leftover(text)


def test_refused_complaint_step_on_the_page_is_english(org, world):
    web = english(org.web("east_manager"))
    url = reverse("complaints:complaint-step", kwargs={"pk": world["complaint"].pk, "step": "close"})
    page = web.post(url, {"note": ""})
    assert page.status_code == 200
    text = html.unescape(page.content.decode())
    assert "The complaint's current status is “Received”; you cannot close it." in text
    assert not _leftover(text), _leftover(text)


def test_notifications_made_in_english_read_in_english(org, world):
    text = english(org.web("east_manager")).get(reverse("notification-list")).content.decode()
    assert f"Complaint {world['complaint'].code} has been handed over to you" in text
    text = english(org.web("marketing")).get(reverse("notification-list")).content.decode()
    assert f"To review: access request #{world['request'].pk} from" in text


def _api_errors(org, world):
    complaint, other = world["complaint"], world["other"]
    return [
        # A refused workflow step: closing a complaint that has only been received (400).
        ("east_manager", "post", f"/api/complaints/{complaint.pk}/close/", {"note": ""}, 400),
        # A role refusal (403): staff cannot review access requests, a manager cannot transfer.
        ("east_staff", "post", f"/api/access-requests/{world['request'].pk}/forward/", {}, 403),
        (
            "east_manager",
            "post",
            "/api/client-transfers/",
            {"client": other.pk, "to_branch": 1, "reason": "x"},
            403,
        ),
        ("norole", "get", "/api/clients/", None, 403),
        # Out of scope (404).
        ("east_staff", "get", f"/api/clients/{other.pk}/", None, 404),
        ("east_staff", "post", "/api/complaints/", {"client": other.pk, "title": "x", "content": "x"}, 404),
        # Validation errors of a new client.
        (
            "east_staff",
            "post",
            "/api/clients/",
            {"name": "", "credit_code": "123", "phone": "abc", "email": "not-an-email", "org_type": "nope"},
            400,
        ),
        ("east_staff", "get", "/api/clients/?page_size=100000", None, 400),
        # A complaint is never deleted (405), an access request never edited.
        ("east_manager", "delete", f"/api/complaints/{complaint.pk}/", None, 405),
        ("marketing", "delete", f"/api/access-requests/{world['request'].pk}/", None, 405),
    ]


def _api_problems(org, cases) -> dict:
    problems = {}
    for persona, method, url, data, expected in cases:
        api = english_api(org, persona)
        response = (
            getattr(api, method)(url, data, format="json") if data is not None else getattr(api, method)(url)
        )
        assert response.status_code == expected, (url, response.status_code, response.content[:300])
        left = _leftover(response.content.decode())
        if left:
            problems[f"{method.upper()} {url}"] = left
    return problems


def test_api_errors_are_english(org, world):
    problems = _api_problems(org, _api_errors(org, world))
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


def test_api_messages_in_english(org, world):
    complaint = world["complaint"]
    refused = english_api(org, "east_manager").post(
        f"/api/complaints/{complaint.pk}/close/", {}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["detail"] == ["The complaint's current status is “Received”; you cannot close it."]
    forward = english_api(org, "east_staff").post(f"/api/access-requests/{world['request'].pk}/forward/", {})
    assert forward.json()["detail"] == "Only the group marketing department can review access requests."
    transfer = english_api(org, "east_manager").post(
        "/api/client-transfers/", {"client": world["other"].pk, "reason": "x"}, format="json"
    )
    assert transfer.json()["detail"] == "Only the group marketing department can transfer clients."
    # The default language stays Chinese.
    chinese = org.api("east_manager").post(f"/api/complaints/{complaint.pk}/close/", {}, format="json")
    assert chinese.json()["detail"] == ["投诉当前状态为“已受理”,不能关闭。"]


# ------------------------------------------------------------------------- monthly reporting

DEC = fig.Period(2026, 12)


@pytest.fixture
def reporting(org, world):
    """December 2026's reports of east (a draft), south (submitted on time) and design (submitted,
    then returned with a reason), a closing running and one done, and a quarter's ranking."""
    east = report_services.report_open(branch=org.branches["east"], period=DEC)
    south = report_services.report_submit(
        report=report_services.report_open(branch=org.branches["south"], period=DEC),
        by=org["south_manager"],
        remarks="本月新增两家意向客户",
        at=at("2026-12-20T10:00"),
    )
    design = report_services.report_submit(
        report=report_services.report_open(branch=org.branches["design"], period=DEC),
        by=org["design_manager"],
        at=at("2026-12-21T10:00"),
    )
    design = report_services.report_return(
        report=design, by=org["marketing"], reason="新增客户数与台账不符", at=at("2026-12-22T10:00")
    )
    MonthlyClose.objects.create(period="2026-11", total=4, done=2)
    # A closing whose east part failed for good (R55).
    failed = MonthlyClose.objects.create(
        period="2026-09", state=MonthlyClose.State.FAILED, total=1, failed_at=at("2026-09-25T20:05")
    )
    ClosePart.objects.create(
        close=failed,
        branch=org.branches["east"],
        compute_error="RuntimeError: boom",
        compute_failed_at=at("2026-09-25T20:05"),
    )
    MonthlyClose.objects.create(
        period="2026-10",
        state=MonthlyClose.State.DONE,
        total=4,
        done=4,
        started_at=at("2026-10-25T20:00"),
        finished_at=at("2026-10-25T20:01"),
    )
    ranking, _ = report_services.ranking_build(kind="quarter", label="2026Q3", as_of=at("2026-10-01T00:00"))
    return {**world, "east": east, "south": south, "design": design, "ranking": ranking}


def _reporting_pages(reporting):
    east, south, design = reporting["east"], reporting["south"], reporting["design"]
    detail = "assessments:report-detail"
    return {
        "east_manager": [
            reverse("assessments:report-list"),
            # This period's report: followed to the report page.
            reverse("assessments:report-current"),
            reverse(detail, kwargs={"pk": east.pk}),
            reverse("assessments:report-figure", kwargs={"pk": east.pk, "key": "new_clients"}),
            reverse("assessments:ranking-list"),
        ],
        "marketing": [
            reverse("assessments:report-list"),
            reverse("assessments:rollup") + f"?period={DEC.label}",
            reverse(detail, kwargs={"pk": south.pk}),
            reverse(detail, kwargs={"pk": design.pk}),
            reverse("assessments:report-figure", kwargs={"pk": south.pk, "key": "new_clients"}),
            reverse("assessments:close-list"),
            reverse("assessments:close-detail", kwargs={"period": "2026-09"}),
            reverse("assessments:close-detail", kwargs={"period": "2026-10"}),
            reverse("assessments:ranking-list"),
            reverse("assessments:ranking-detail", kwargs={"pk": reporting["ranking"].pk}),
        ],
    }


@pytest.mark.parametrize("persona", ["east_manager", "marketing"])
def test_reporting_pages_show_no_chinese_outside_data(org, reporting, persona):
    web = english(org.web(persona))
    problems = {}
    for url in _reporting_pages(reporting)[persona]:
        page = web.get(url, follow=True)
        assert page.status_code == 200, (url, page.status_code)
        if url == reverse("assessments:report-current"):
            assert page.redirect_chain, url
            assert page.request["PATH_INFO"].startswith("/reports/monthly/"), page.redirect_chain
        text = page.content.decode()
        assert 'lang="en"' in text, url
        left = _leftover(text)
        if left:
            problems[url] = left[:8]
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


def test_reporting_refusals_on_the_pages_are_english(org, reporting):
    web = english(org.web("marketing"))
    url = reverse("assessments:report-return", kwargs={"pk": reporting["east"].pk})
    page = web.post(url, {"reason": "x"}, follow=True)
    assert page.status_code == 200
    text = html.unescape(page.content.decode())
    assert (
        "The report's current status is “Not yet submitted”; only a submitted report can be returned." in text
    )
    assert not _leftover(text), _leftover(text)
    page = web.get(reverse("assessments:rollup") + "?period=2026/12")
    text = html.unescape(page.content.decode())
    assert "The period must be written as “year-month”, for example 2026-12." in text
    assert not _leftover(text), _leftover(text)


def _reporting_api_errors(reporting):
    east, south, design = reporting["east"], reporting["south"], reporting["design"]
    reports = "/api/monthly-reports"
    return [
        # Refused steps (400): a draft is neither returned nor accepted, a submitted report not
        # submitted again, a return needs its reason.
        ("marketing", "post", f"{reports}/{east.pk}/return/", {"reason": "x"}, 400),
        ("marketing", "post", f"{reports}/{east.pk}/accept/", {}, 400),
        ("south_manager", "post", f"{reports}/{south.pk}/submit/", {}, 400),
        ("marketing", "post", f"{reports}/{south.pk}/return/", {"reason": ""}, 400),
        # A period that is not "year-month" (400).
        ("marketing", "post", f"{reports}/close/", {"period": "2026/12"}, 400),
        ("marketing", "get", f"{reports}/rollup/?period=2026/12", None, 400),
        ("marketing", "get", f"{reports}/?period=12-2026", None, 400),
        # Role refusals (403).
        ("east_manager", "post", f"{reports}/{east.pk}/return/", {"reason": "x"}, 403),
        ("east_manager", "post", f"{reports}/close/", {"period": "2026-11"}, 403),
        ("east_manager", "get", f"{reports}/rollup/?period=2026-12", None, 403),
        ("norole", "get", "/api/rankings/", None, 403),
        # Out of scope (404), never deleted (405).
        ("east_manager", "get", f"{reports}/{design.pk}/", None, 404),
        ("marketing", "delete", f"{reports}/{east.pk}/", None, 405),
    ]


def test_reporting_api_errors_are_english(org, reporting):
    problems = _api_problems(org, _reporting_api_errors(reporting))
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


def test_reporting_api_messages_in_english(org, reporting):
    east = reporting["east"]
    marketing = english_api(org, "marketing")
    refused = marketing.post(f"/api/monthly-reports/{east.pk}/return/", {"reason": "x"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["detail"] == [
        "The report's current status is “Not yet submitted”; only a submitted report can be returned."
    ]
    close = marketing.post("/api/monthly-reports/close/", {"period": "2026/12"}, format="json")
    assert close.status_code == 400
    assert close.json()["period"] == ["The period must be written as “year-month”, for example 2026-12."]
    role = english_api(org, "east_manager").post(
        f"/api/monthly-reports/{east.pk}/return/", {"reason": "x"}, format="json"
    )
    assert (
        role.json()["detail"] == "Only the group marketing department can accept or return monthly reports."
    )
    # The default language stays Chinese.
    chinese = org.api("marketing").post("/api/monthly-reports/close/", {"period": "2026/12"}, format="json")
    assert chinese.json()["period"] == ["期间格式应为“年-月”,例如 2026-12。"]


# ---------------------------------------------------------------------------- half-year review

H1 = fig.HalfYear(2026, 1)
ASPECT_TEXTS = {
    "loyalty": "老客户稳定",
    "profit": "利润率上升",
    "future": "新区域可期",
    "capability": "履约能力良好",
    "product": "装配式项目增多",
}


@pytest.fixture
def review(org, world):
    """2026H1 reviewed: east's analysis report a draft (and owed), south's submitted; the round
    opened on 1 July, east's spot check half done and not rated, south rated 差 (its archive
    suspended, a work summary owed), and a later round still computing."""
    with time_machine.travel(at("2026-03-01T10:00"), tick=False):
        for code in ("east", "south"):
            for _ in range(3):
                new_client(org, code)
    east_report = review_services.analysis_open(branch=org.branches["east"], half=H1)
    east_report = review_services.analysis_save(
        report=east_report, by=org["east_manager"], data={"loyalty": "老客户稳定"}, submit=False
    )
    with time_machine.travel(at("2026-05-20T10:00"), tick=False):
        south_report = review_services.analysis_save(
            report=review_services.analysis_open(branch=org.branches["south"], half=H1),
            by=org["south_manager"],
            data=ASPECT_TEXTS,
            submit=True,
        )
    with time_machine.travel(at("2026-07-01T01:30"), tick=False):
        rnd, pending = review_services.assessment_round_start(half=H1)
        for branch_id in pending:
            review_services.assessment_compute(round_id=rnd.pk, branch_id=branch_id)
    east = Assessment.objects.get(branch=org.branches["east"], half_year=H1.label)
    south = Assessment.objects.get(branch=org.branches["south"], half_year=H1.label)
    first, second = east.spot_checks.all()[:2]
    review_services.spot_check_record(check=first, by=org["auditor"], accurate=True)
    review_services.spot_check_record(check=second, by=org["auditor"], accurate=False, note="电话号码已停用")
    review_services.analysis_judge(report=south_report, by=org["auditor"], meets=False)
    for check in south.spot_checks.all():
        review_services.spot_check_record(check=check, by=org["auditor"], accurate=False)
    with time_machine.travel(at("2026-07-10T16:00"), tick=False):
        south = review_services.assessment_rate(
            assessment=south, by=org["auditor"], rating="poor", reason="抽查多处不准确"
        )
    AssessmentRound.objects.create(half_year="2025H2", total=4, done=1)
    # A round whose east part failed for good (R55): its page, with the reason and the button.
    failed = AssessmentRound.objects.create(
        half_year="2025H1", state=AssessmentRound.State.FAILED, total=1, failed_at=at("2025-07-01T02:00")
    )
    Assessment.objects.create(
        round=failed,
        branch=org.branches["east"],
        half_year="2025H1",
        compute_error="RuntimeError: boom",
        compute_failed_at=at("2025-07-01T02:00"),
    )
    return {
        **world,
        "east_report": east_report,
        "south_report": south_report,
        "east": east,
        "south": south,
        "summary": WorkSummary.objects.get(assessment=south),
    }


def _review_pages(review):
    detail = "assessments:assessment-detail"
    analysis = "assessments:analysis-detail"
    summary = reverse("assessments:summary-detail", kwargs={"pk": review["summary"].pk})
    return {
        "auditor": [
            reverse("home"),
            reverse("assessments:assessment-list"),
            reverse(detail, kwargs={"pk": review["east"].pk}),
            reverse(detail, kwargs={"pk": review["south"].pk}),
            reverse("assessments:analysis-list"),
            reverse(analysis, kwargs={"pk": review["south_report"].pk}),
            summary,
        ],
        "east_manager": [
            reverse("home"),
            reverse("assessments:owed"),
            reverse(analysis, kwargs={"pk": review["east_report"].pk}),
            reverse("assessments:analysis-list"),
        ],
        "south_manager": [reverse("assessments:owed"), summary],
        "marketing": [
            reverse("home"),
            reverse("assessments:assessment-open"),
            reverse("assessments:assessment-list"),
            reverse(detail, kwargs={"pk": review["south"].pk}),
            reverse("assessments:round-detail", kwargs={"half_year": "2025H1"}),
            reverse("assessments:round-detail", kwargs={"half_year": "2026H1"}),
        ],
    }


@pytest.mark.parametrize("persona", ["auditor", "east_manager", "south_manager", "marketing"])
def test_review_pages_show_no_chinese_outside_data(org, review, persona):
    web = english(org.web(persona))
    problems = {}
    for url in _review_pages(review)[persona]:
        page = web.get(url)
        assert page.status_code == 200, (url, page.status_code)
        text = page.content.decode()
        assert 'lang="en"' in text, url
        left = _leftover(text)
        if left:
            problems[url] = left[:8]
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


def test_review_pages_read_in_english(org, review):
    workbench = english(org.web("auditor")).get(
        reverse("assessments:assessment-detail", kwargs={"pk": review["east"].pk})
    )
    text = html.unescape(workbench.content.decode())
    for words in ("1. Information reporting", "Complaints received", "Rate the assessment", "Excellent"):
        assert words in text, words
    owed = english(org.web("east_manager")).get(reverse("assessments:owed"))
    assert "Client analysis report for 2026H1" in html.unescape(owed.content.decode())
    # While south's archive is suspended and its overdue work summary holds its submissions.
    web = english(org.web("south_manager"))
    with time_machine.travel(at("2026-07-20T10:00"), tick=False):
        assert obligations.holds_sync_all() >= 1
        owed = web.get(reverse("assessments:owed"))
    text = html.unescape(owed.content.decode())
    assert "client archive query permission is suspended until 10 August 16:00" in text
    assert "Your branch's other submissions and pending access request approvals are on hold (" in text
    assert not _leftover(owed.content.decode()), _leftover(owed.content.decode())


def _review_api_errors(review):
    east = review["east"]
    return [
        # Only auditors rate (403); a rating that is not one of the three (400); a rating before
        # the spot check is done (400); a half year that is not "yearH1/H2" (400).
        ("leader", "post", f"/api/assessments/{east.pk}/rate/", {"rating": "poor", "reason": "x"}, 403),
        ("auditor", "post", f"/api/assessments/{east.pk}/rate/", {"rating": "bad", "reason": "x"}, 400),
        ("auditor", "post", f"/api/assessments/{east.pk}/rate/", {"rating": "poor", "reason": "x"}, 400),
        ("marketing", "post", "/api/assessments/open/", {"half_year": "2026H9"}, 400),
        ("east_manager", "post", "/api/assessments/open/", {"half_year": "2026H1"}, 403),
    ]


def test_review_api_errors_are_english(org, review):
    problems = _api_problems(org, _review_api_errors(review))
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


def test_review_api_messages_in_english(org, review):
    url = f"/api/assessments/{review['east'].pk}/rate/"
    role = english_api(org, "leader").post(url, {"rating": "poor", "reason": "x"}, format="json")
    assert role.json()["detail"] == "Only auditors can carry out spot checks and rate assessments."
    early = english_api(org, "auditor").post(url, {"rating": "poor", "reason": "x"}, format="json")
    assert early.json()["detail"] == ["Please complete all information accuracy spot checks first."]
    half = english_api(org, "marketing").post(
        "/api/assessments/open/", {"half_year": "2026H9"}, format="json"
    )
    assert half.json()["half_year"] == [
        "The half year must be written as “yearH1” or “yearH2”, for example 2026H2."
    ]
    # The default language stays Chinese.
    chinese = org.api("marketing").post("/api/assessments/open/", {"half_year": "2026H9"}, format="json")
    assert chinese.json()["half_year"] == ["半年度格式应为“年H1/H2”,例如 2026H2。"]


# ------------------------------------------------- group summary, re-grading, single-client analyses


@pytest.fixture
def regrading(org, review):
    """On top of the review: an east client whose R7 suggestion (B) differs from its grade (C),
    a single-client analysis of it in east's draft report, group marketing's summary of 2026H1
    written and a re-grading of the client proposed (not applied yet)."""
    client = new_client(org, "east", grade="C", integrity_good=True, credit_good=True)
    analysis = review_services.client_analysis_save(
        report=review["east_report"], by=org["east_staff"], client=client, text="二期项目需求明确"
    )
    summary = review_services.summary_open(H1)
    summary = review_services.summary_save(
        summary=summary, by=org["marketing"], text="各分子公司客户结构稳定。", submit=True
    )
    proposal = review_services.regrading_propose(
        summary=summary, by=org["marketing"], client=client, to_grade="B", reason="诚信资信良好"
    )
    return {**review, "regraded": client, "client_analysis": analysis, "group": summary, "proposal": proposal}


def _regrading_pages(regrading):
    summary = reverse("assessments:summary-group", kwargs={"half_year": H1.label})
    east_report = reverse("assessments:analysis-detail", kwargs={"pk": regrading["east_report"].pk})
    return {
        "marketing": [summary, reverse("assessments:analysis-list"), east_report],
        "leader": [summary],
        "east_manager": [east_report],
    }


@pytest.mark.parametrize("persona", ["marketing", "leader", "east_manager"])
def test_summary_and_single_client_analyses_show_no_chinese_outside_data(org, regrading, persona):
    web = english(org.web(persona))
    problems = {}
    for url in _regrading_pages(regrading)[persona]:
        page = web.get(url)
        assert page.status_code == 200, (url, page.status_code)
        text = page.content.decode()
        assert 'lang="en"' in text, url
        left = _leftover(text)
        if left:
            problems[url] = left[:8]
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


def test_summary_and_single_client_analyses_read_in_english(org, regrading):
    client = regrading["regraded"]
    web = english(org.web("marketing"))
    url = reverse("assessments:summary-group", kwargs={"half_year": H1.label})
    text = html.unescape(web.get(url).content.decode())
    # The candidates (the client suggested B) and the proposal made through the service.
    assert 'data-testid="candidates"' in text and 'data-testid="proposals"' in text
    assert text.count(client.name) >= 2
    for words in (
        "Group client analysis summary for 2026H1",
        "Branch reports",
        "Re-grading",
        "Clients the system suggests re-grading (by the grading criteria)",
        "Propose re-grading",
        "Apply the re-grading and notify group leaders and branches",
    ):
        assert words in text, words
    report = reverse("assessments:analysis-detail", kwargs={"pk": regrading["east_report"].pk})
    text = html.unescape(english(org.web("east_manager")).get(report).content.decode())
    assert "Single-client analyses (project departments)" in text and "二期项目需求明确" in text
    assert "Add single-client analysis" in text
    # Applying the re-grading: the message and the page after it.
    page = web.post(url, {"action": "apply"}, follow=True)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Re-grading applied: 1 clients re-graded." in html.unescape(text)
    assert "Applied at " in html.unescape(text)
    assert not _leftover(text), _leftover(text)
    client.refresh_from_db()
    assert client.grade == "B"


def test_the_analysis_list_offers_the_group_summary_in_english(org, regrading):
    page = english(org.web("marketing")).get(reverse("assessments:analysis-list"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Group summary and re-grading for" in html.unescape(text)
    assert not _leftover(text), _leftover(text)
