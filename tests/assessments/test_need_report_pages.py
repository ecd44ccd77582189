"""Permission matrix, pages and API of the quarterly need analysis report (style.md 10; R65-R69):
a branch's people read and write their own report, another branch's get 404 and do not see it
listed, group marketing, leaders and auditors read every branch's and write nothing, nobody
without a role (403), anonymous (login / 401); every write route refuses the others and changes
nothing; the pages keep what was typed on a refusal; the figures are their lists; exports and
the print view."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from assessments.models import NeedAnalysisMeeting, NeedAnalysisReport, NeedMeetingDecision
from assessments.needreports import services
from clients import services as archive
from clients.models import Need
from crm.figures import Quarter
from tests.clients.archive_helpers import make_client
from tests.permissions import ObjectMatrix

from .helpers import at

pytestmark = pytest.mark.django_db

NOW = at("2026-10-09T10:00")
TODAY = NOW.date()
Q3 = Quarter(2026, 3)

ROUTES_COVERED = [
    "assessments:need-report-open",
    "assessments:need-report-figure",
    "assessments:need-report-save",
    "assessments:need-report-submit",
    "assessments:need-report-review",
    "assessments:need-meeting-add",
    "assessments:need-decision-add",
    "assessments:need-decision-done",
    "need-analysis-report-submit",
    "need-analysis-report-review",
    "need-analysis-report-meetings",
    "need-analysis-report-decisions",
    "need-meeting-decision-done",
]


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def report_of(org, code="east", quarter=None) -> NeedAnalysisReport:
    report, _created = services.need_report_open(
        branch=org.branches[code], quarter=quarter or services.quarters_open()[0], by=org[f"{code}_staff"]
    )
    return report


def meeting_of(org, report, code="east", decisions=True) -> NeedAnalysisMeeting:
    today = TODAY
    return services.need_meeting_record(
        report=report,
        by=org[f"{code}_manager"],
        held_on=today,
        minutes="讨论需求分析报告",
        attendees=[org[f"{code}_manager"].pk, org[f"{code}_staff"].pk],
        decisions=[
            {"text": "出具实施方案", "owner": org[f"{code}_staff"].pk, "due_on": today + dt.timedelta(days=7)}
        ]
        if decisions
        else [],
    )


class TestNeedAnalysisReportMatrix(ObjectMatrix):
    model = NeedAnalysisReport
    list_route = "assessments:need-report-list"
    detail_route = "assessments:need-report-detail"
    api_list_route = "need-analysis-report-list"
    api_detail_route = "need-analysis-report-detail"
    grants_apply = False  # a grant opens clients, never a branch's report
    covers = {
        "assessments:need-report-list",
        "assessments:need-report-detail",
        "need-analysis-report-list",
        "need-analysis-report-detail",
    }

    def make(self, org, branch_code):
        return report_of(org, branch_code)


class TestNeedMeetingDecisionMatrix(ObjectMatrix):
    model = NeedMeetingDecision
    api_list_route = "need-meeting-decision-list"
    api_detail_route = "need-meeting-decision-detail"
    grants_apply = False
    covers = {"need-meeting-decision-list", "need-meeting-decision-detail"}

    def make(self, org, branch_code):
        return meeting_of(org, report_of(org, branch_code), branch_code).decisions.get()


def _parts(**overrides):
    data = {name: f"{name} 的分析" for name in services.PART_NAMES}
    data.update(overrides)
    return data


def _state(report):
    return (
        NeedAnalysisReport.objects.filter(pk=report.pk).values().get(),
        NeedAnalysisMeeting.objects.count(),
        NeedMeetingDecision.objects.filter(done_at__isnull=False).count(),
        NeedMeetingDecision.objects.count(),
    )


REFUSED = [(None, 302, 401), ("norole", 403, 403), ("south_staff", 404, 404), ("south_manager", 404, 404),
           ("marketing", 403, 403), ("leader", 403, 403), ("auditor", 403, 403)]  # fmt: skip


@pytest.mark.parametrize("persona,page,api", REFUSED)
def test_every_write_is_refused_to_others_and_changes_nothing(org, persona, page, api):
    report = services.need_report_save(
        report=report_of(org, quarter=Q3), by=org["east_staff"], parts=_parts()
    )
    meeting = meeting_of(org, report)
    decision = meeting.decisions.get()
    before = _state(report)
    pages = [
        (reverse("assessments:need-report-save", args=[report.pk]), _parts(overview="别人的修改")),
        (reverse("assessments:need-report-submit", args=[report.pk]), _parts()),
        (reverse("assessments:need-meeting-add", args=[report.pk]), {"m-held_on": TODAY.isoformat(), "m-minutes": "x",
                                                                    "m-attendees": [org["east_staff"].pk, org["east_manager"].pk]}),
        (reverse("assessments:need-decision-add", args=[meeting.pk]), {f"d{meeting.pk}-text": "x", f"d{meeting.pk}-owner": org["east_staff"].pk,
                                                                      f"d{meeting.pk}-due_on": TODAY.isoformat()}),
        (reverse("assessments:need-decision-done", args=[decision.pk]), {"done-note": "完成"}),
    ]  # fmt: skip
    for url, data in pages:
        assert org.web(persona).post(url, data).status_code == page, url
    apis = [
        (reverse("need-analysis-report-submit", args=[report.pk]), {}),
        (reverse("need-analysis-report-meetings", args=[report.pk]), {"held_on": TODAY.isoformat(), "minutes": "x",
                                                                     "attendees": [org["east_staff"].pk, org["east_manager"].pk]}),
        (reverse("need-analysis-report-decisions", args=[report.pk]), {"meeting": meeting.pk, "text": "x",
                                                                      "owner": org["east_staff"].pk, "due_on": TODAY.isoformat()}),
        (reverse("need-meeting-decision-done", args=[decision.pk]), {"note": "完成"}),
    ]  # fmt: skip
    for url, data in apis:
        assert org.api(persona).post(url, data, format="json").status_code == api, url
    patch = org.api(persona).patch(
        reverse("need-analysis-report-detail", args=[report.pk]), {"overview": "改"}, format="json"
    )
    assert patch.status_code == api
    assert _state(report) == before
    services.need_report_submit(report=report, by=org["east_manager"])
    before = _state(report)
    review = {"r-meeting": meeting.pk, "r-outcome": "accept"}
    assert (
        org.web(persona).post(reverse("assessments:need-report-review", args=[report.pk]), review).status_code
        == page
    )
    answer = org.api(persona).post(
        reverse("need-analysis-report-review", args=[report.pk]),
        {"meeting": meeting.pk, "outcome": "accept"},
        format="json",
    )
    assert answer.status_code == api
    assert _state(report) == before


@pytest.mark.parametrize(
    "persona,expected", [(None, 302), ("norole", 403), ("marketing", 403), ("leader", 403)]
)
def test_only_a_branch_person_opens_a_report(org, persona, expected):
    url = reverse("assessments:need-report-open")
    assert org.web(persona).post(url, {"quarter": "2026Q3"}).status_code == expected
    assert not NeedAnalysisReport.objects.exists()


def test_the_branch_writes_submits_meets_and_reviews_through_the_pages(org):
    web, manager = org.web("east_staff"), org.web("east_manager")
    response = web.post(reverse("assessments:need-report-open"), {"quarter": "2026Q3"})
    report = NeedAnalysisReport.objects.get(branch=org.branches["east"], quarter="2026Q3")
    assert response.status_code == 302 and response["Location"] == reverse(
        "assessments:need-report-detail", args=[report.pk]
    )
    assert web.post(reverse("assessments:need-report-open"), {"quarter": "2026Q3"})["Location"].endswith(
        f"/{report.pk}/"
    )
    page = web.get(reverse("assessments:need-report-detail", args=[report.pk]))
    html = page.content.decode()
    assert 'data-testid="prefilled-overview"' in html and "收到客户需求 0 条" in html
    url = reverse("assessments:need-report-save", args=[report.pk])
    assert web.post(url, {**_parts(), "version": report.version}).status_code == 302
    report.refresh_from_db()
    assert report.value == "value 的分析"
    # Staff do not submit (403); the manager does, the quarter over.
    submit = reverse("assessments:need-report-submit", args=[report.pk])
    assert web.post(submit, {**_parts(), "version": report.version}).status_code == 403
    assert manager.post(submit, {**_parts(), "version": report.version}).status_code == 302
    report.refresh_from_db()
    assert report.status == "submitted"
    meeting = {"m-held_on": TODAY.isoformat(), "m-place": "三楼会议室", "m-minutes": "逐项讨论",
               "m-attendees": [org["east_staff"].pk, org["east_manager"].pk, org["marketing"].pk],
               "m-d0_text": "出具实施方案", "m-d0_owner": org["east_staff"].pk, "m-d0_due_on": "2026-10-20"}  # fmt: skip
    assert web.post(reverse("assessments:need-meeting-add", args=[report.pk]), meeting).status_code == 302
    held = report.meetings.get()
    assert held.attendees.count() == 3 and held.decisions.get().owner == org["east_staff"]
    review = reverse("assessments:need-report-review", args=[report.pk])
    assert web.post(review, {"r-meeting": held.pk, "r-outcome": "accept"}).status_code == 403
    assert manager.post(review, {"r-meeting": held.pk, "r-outcome": "accept"}).status_code == 302
    report.refresh_from_db()
    assert report.status == "accepted" and report.review_meeting == held
    decision = held.decisions.get()
    done = reverse("assessments:need-decision-done", args=[decision.pk])
    assert web.post(done, {"done-note": "已发客户"}).status_code == 302
    decision.refresh_from_db()
    assert decision.is_done
    # A decision added after the acceptance is still followed up.
    add = reverse("assessments:need-decision-add", args=[held.pk])
    data = {
        f"d{held.pk}-text": "回访确认",
        f"d{held.pk}-owner": org["east_manager"].pk,
        f"d{held.pk}-due_on": "2026-10-30",
    }
    assert web.post(add, data).status_code == 302 and held.decisions.count() == 2
    # Marketing reads it: the text, the meeting, no forms.
    html = (
        org.web("marketing").get(reverse("assessments:need-report-detail", args=[report.pk])).content.decode()
    )
    assert "value 的分析" in html and "出具实施方案" in html and 'data-testid="parts-form"' not in html
    assert 'data-testid="meeting-form"' not in html and 'data-testid="accepted"' in html


def test_a_refused_page_step_keeps_what_was_typed(org):
    report = report_of(org, quarter=Q3)
    web = org.web("east_manager")
    url = reverse("assessments:need-report-save", args=[report.pk])
    assert web.post(url, {**_parts(overview="第一稿"), "version": report.version}).status_code == 302
    stale = web.post(url, {**_parts(overview="基于旧版本的修改"), "version": report.version})
    assert stale.status_code == 400 and "基于旧版本的修改" in stale.content.decode()
    assert "该记录已被他人修改" in stale.content.decode()
    report.refresh_from_db()
    assert report.overview == "第一稿"
    # Submitting with a part left empty: the part says why, the others keep their text.
    submit = web.post(
        reverse("assessments:need-report-submit", args=[report.pk]),
        {**_parts(value=""), "version": report.version},
    )
    assert submit.status_code == 400 and 'data-testid="error-value"' in submit.content.decode()
    assert "feasibility 的分析" in submit.content.decode()
    # A meeting in the future: the form says so, the minutes typed are still there.
    meeting = {"m-held_on": "2026-10-30", "m-minutes": "会后补记的讨论情况",
               "m-attendees": [org["east_staff"].pk, org["east_manager"].pk]}  # fmt: skip
    response = web.post(reverse("assessments:need-meeting-add", args=[report.pk]), meeting)
    assert response.status_code == 400 and "会后补记的讨论情况" in response.content.decode()
    assert "会议日期不能晚于今天" in response.content.decode() and not report.meetings.exists()
    bad = web.post(
        reverse("assessments:need-meeting-add", args=[report.pk]), {**meeting, "m-held_on": "not-a-date"}
    )
    assert bad.status_code == 400
    assert NeedAnalysisReport.objects.get(pk=report.pk).status == "draft"


def _figure_links(html: str) -> list[tuple[str, str, int]]:
    found = re.findall(r'<a href="([^"]+)" data-figure="([^"]+)">([^<]*)</a>', html)
    return [
        (key, href.replace("&amp;", "&"), int(text)) for href, key, text in found if text.strip().isdigit()
    ]


def test_every_figure_of_the_report_is_its_list_live_and_frozen(org):
    client = make_client(org, "east")
    with time_machine.travel(at("2026-08-12T10:00"), tick=False):
        for urgency, value in (("urgent", "high"), ("general", ""), ("general", "low")):
            archive.need_create(
                need=Need(
                    client=client,
                    category="service",
                    urgency=urgency,
                    description="需求",
                    value_assessment=value,
                ),
                by=org["east_staff"],
            )
    report = report_of(org, quarter=Q3)
    for who in ("east_staff", "marketing"):
        web = org.web(who)
        html = web.get(reverse("assessments:need-report-detail", args=[report.pk])).content.decode()
        links = _figure_links(html)
        assert len(links) > 20
        for key, href, value in links:
            response = web.get(href)
            assert response.status_code == 200 and response.context["page"].paginator.count == value, (
                who,
                key,
                href,
            )
    assert ("needs_received-urgency-general", 2) in [(k, v) for k, _h, v in _figure_links(html)]
    services.need_report_submit(
        report=services.need_report_save(report=report, by=org["east_staff"], parts=_parts()),
        by=org["east_manager"],
    )
    html = org.web("leader").get(reverse("assessments:need-report-detail", args=[report.pk])).content.decode()
    for key, href, value in _figure_links(html):
        assert org.web("leader").get(href).context["page"].paginator.count == value, key
    figure = reverse("assessments:need-report-figure", args=[report.pk, "needs_received"])
    assert org.web("south_staff").get(figure).status_code == 404
    assert org.web("norole").get(figure).status_code == 403
    assert (
        org.web("east_staff")
        .get(reverse("assessments:need-report-figure", args=[report.pk, "nope"]))
        .status_code
        == 404
    )
    assert (
        org.web("east_staff")
        .get(reverse("assessments:need-report-figure", args=[report.pk, "needs_on_time_rate"]))
        .status_code
        == 404
    )
    book = openpyxl.load_workbook(
        io.BytesIO(org.web("east_staff").get(figure + "?value=&export=xlsx").content)
    )
    assert book.active.max_row == 1 + 1  # the header and the one need not assessed


def test_the_list_filters_states_its_total_and_exports_what_it_shows(org):
    east, south = report_of(org, quarter=Q3), report_of(org, "south", quarter=Q3)
    services.need_report_save(report=east, by=org["east_staff"], parts=_parts(analysis="BIM深化设计需求集中"))
    services.need_report_submit(report=NeedAnalysisReport.objects.get(pk=east.pk), by=org["east_manager"])
    report_of(org, "east")  # this quarter's, being written
    web = org.web("marketing")
    url = reverse("assessments:need-report-list")
    assert web.get(url).context["page"].paginator.count == 3
    assert list(web.get(url + "?status=submitted").context["page"].object_list) == [
        NeedAnalysisReport.objects.get(pk=east.pk)
    ]
    assert web.get(url + "?quarter=2026q3").context["page"].paginator.count == 2
    assert web.get(url + f"?branch={org.branches['south'].pk}").context["page"].object_list[0] == south
    assert web.get(url + "?q=BIM深化").context["page"].paginator.count == 1
    assert org.web("east_staff").get(url).context["page"].paginator.count == 2
    book = openpyxl.load_workbook(io.BytesIO(web.get(url + "?quarter=2026Q3&export=xlsx").content))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 3 and {r[1] for r in rows[1:]} == {
        org.branches["east"].name,
        org.branches["south"].name,
    }
    html = org.web("east_staff").get(url).content.decode()
    assert (
        'data-testid="open-form"' in html and 'data-testid="open-form"' not in web.get(url).content.decode()
    )


def test_a_report_exports_to_excel_and_prints(org):
    report = services.need_report_save(
        report=report_of(org, quarter=Q3), by=org["east_staff"], parts=_parts()
    )
    meeting_of(org, report)
    response = org.web("leader").get(
        reverse("assessments:need-report-detail", args=[report.pk]) + "?export=xlsx"
    )
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[1:] == ["数据", "需求分析会议", "决定事项", "办理记录"]
    parts = list(book.worksheets[0].iter_rows(values_only=True))
    assert parts[1] == ("一、需求概述", "overview 的分析")
    assert list(book["决定事项"].iter_rows(values_only=True))[1][1] == "出具实施方案"
    printed = org.web("leader").get(reverse("assessments:need-report-detail", args=[report.pk]) + "?print=1")
    assert printed.status_code == 200 and "data-autoprint" in printed.content.decode()
    assert "overview 的分析" in printed.content.decode()


# -- the API ---------------------------------------------------------------------------------------


def test_the_api_takes_every_step(org):
    staff, manager = org.api("east_staff"), org.api("east_manager")
    url = reverse("need-analysis-report-list")
    opened = staff.post(url, {"quarter": "2026Q3"}, format="json")
    assert opened.status_code == 201 and opened.json()["status"] == "draft"
    body = opened.json()
    assert (
        set(body["drafts"]) == set(services.PART_NAMES) and body["figures"]["values"]["needs_received"] == 0
    )
    assert staff.post(url, {"quarter": "2026Q3"}, format="json").status_code == 200
    pk = body["id"]
    detail = reverse("need-analysis-report-detail", args=[pk])
    saved = staff.patch(detail, _parts(), format="json", HTTP_IF_MATCH=f'W/"{body["version"]}"')
    assert saved.status_code == 200 and saved.json()["overview"] == "overview 的分析"
    stale = manager.patch(
        detail, {"overview": "旧版本"}, format="json", HTTP_IF_MATCH=f'W/"{body["version"]}"'
    )
    assert stale.status_code == 409
    assert staff.post(reverse("need-analysis-report-submit", args=[pk]), {}, format="json").status_code == 403
    submitted = manager.post(reverse("need-analysis-report-submit", args=[pk]), {}, format="json")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    meeting = {"held_on": TODAY.isoformat(), "place": "会议室", "minutes": "讨论",
               "attendees": [org["east_staff"].pk, org["east_manager"].pk],
               "decisions": [{"text": "出具实施方案", "owner": org["east_staff"].pk, "due_on": "2026-10-20"}]}  # fmt: skip
    recorded = staff.post(reverse("need-analysis-report-meetings", args=[pk]), meeting, format="json")
    assert recorded.status_code == 201 and len(recorded.json()["meetings"]) == 1
    meeting_pk = recorded.json()["meetings"][0]["id"]
    returned = manager.post(
        reverse("need-analysis-report-review", args=[pk]),
        {"meeting": meeting_pk, "outcome": "return"},
        format="json",
    )
    assert returned.status_code == 400 and "reason" in returned.json()
    accepted = manager.post(
        reverse("need-analysis-report-review", args=[pk]),
        {"meeting": meeting_pk, "outcome": "accept"},
        format="json",
    )
    assert (
        accepted.status_code == 200
        and accepted.json()["status"] == "accepted"
        and accepted.json()["drafts"] == {}
    )
    added = staff.post(
        reverse("need-analysis-report-decisions", args=[pk]),
        {"meeting": meeting_pk, "text": "回访", "owner": org["east_manager"].pk, "due_on": "2026-10-30"},
        format="json",
    )
    assert added.status_code == 201
    decisions = staff.get(reverse("need-meeting-decision-list") + f"?report={pk}&open=true").json()["results"]
    assert len(decisions) == 2
    mine = [d for d in decisions if d["owner"] == org["east_staff"].pk][0]
    done = staff.post(
        reverse("need-meeting-decision-done", args=[mine["id"]]), {"note": "已完成"}, format="json"
    )
    assert done.status_code == 200 and done.json()["done_note"] == "已完成"
    again = staff.post(
        reverse("need-meeting-decision-done", args=[mine["id"]]), {"note": "再次"}, format="json"
    )
    assert again.status_code in (400, 409)
    assert org.api("marketing").get(detail).json()["status"] == "accepted"


@pytest.mark.parametrize(
    "path,body,field",
    [
        ("list", {"quarter": "2026Q9"}, "quarter"),
        ("list", {"quarter": "2024Q1"}, "quarter"),
        ("meetings", {"held_on": "2099-01-01", "minutes": "x", "attendees": [1, 2]}, "held_on"),
        ("meetings", {"held_on": "0001-01-01", "minutes": "x", "attendees": []}, None),
        (
            "meetings",
            {"held_on": "2026-10-09", "minutes": "x", "attendees": [2**31 - 1, 2**31 - 2]},
            "attendees",
        ),
        ("review", {"meeting": 2**31 - 1, "outcome": "accept"}, "meeting"),
        ("review", {"meeting": "abc", "outcome": "maybe"}, None),
        ("decisions", {"meeting": 0, "text": "", "owner": -1, "due_on": "x"}, None),
    ],
)
def test_bad_input_is_a_400_with_a_message_and_saves_nothing(org, path, body, field):
    report = report_of(org, quarter=Q3)
    url = (
        reverse("need-analysis-report-list")
        if path == "list"
        else reverse(f"need-analysis-report-{path}", args=[report.pk])
    )
    response = org.api("east_manager").post(url, body, format="json")
    assert response.status_code == 400, response.content
    if field:
        assert field in response.json()
    assert NeedAnalysisReport.objects.count() == 1 and not NeedAnalysisMeeting.objects.exists()
