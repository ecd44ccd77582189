"""Permission matrix, pages and API of the half-year review meeting, its circular and the reports
to the leaders (style.md 10; R87-R93): who reads what (group roles every meeting, every person
with a role an issued circular, group roles what was sent to the leaders), who writes (group
marketing; a decision's owner marks it done), 403 for a missing role, 404 out of scope, refused
writes change nothing; the pages keep what was typed on a refusal; the receipts export and the
print view; the API takes every step."""

from __future__ import annotations

import io

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from assessments.circulars import services
from assessments.models import (
    Assessment,
    Circular,
    CircularReceipt,
    LeaderReceipt,
    LeaderReport,
    ReviewDecision,
    ReviewMeeting,
    WorkSummary,
)

from .meeting_helpers import NOW, rated_round, record_meeting

pytestmark = pytest.mark.django_db

ROUTES_COVERED = [
    "assessments:review-meeting-list",
    "assessments:review-meeting-add",
    "assessments:review-meeting-detail",
    "assessments:review-decision-add",
    "assessments:review-decision-done",
    "assessments:circular-generate",
    "assessments:circular-list",
    "assessments:circular-detail",
    "assessments:circular-save",
    "assessments:circular-issue",
    "assessments:circular-receipts",
    "assessments:leader-report-list",
    "assessments:leader-report-detail",
    "assessments:leader-report-save",
    "assessments:leader-report-send",
    "assessments:commendation-draft",
    "assessments:summary-forward",
    "review-meeting-list",
    "review-meeting-detail",
    "review-meeting-decisions",
    "review-meeting-circular",
    "review-decision-list",
    "review-decision-detail",
    "review-decision-done",
    "circular-list",
    "circular-detail",
    "circular-issue",
    "circular-receipts",
    "leader-report-list",
    "leader-report-detail",
    "leader-report-send",
]


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(org):
    """A rated round, its meeting, an issued circular, a commendation sent and a draft forward."""
    rnd = rated_round(org)
    meeting = record_meeting(org, rnd)
    circular = services.circular_generate(meeting=meeting, by=org["marketing"])
    circular = services.circular_issue(circular=circular, by=org["marketing"])
    east = Assessment.objects.get(round=rnd, branch=org.branches["east"])
    sent = services.leader_report_send(
        report=services.commendation_draft(assessment=east, by=org["marketing"]), by=org["marketing"]
    )
    south = WorkSummary.objects.get(branch=org.branches["south"])
    draft = services.summary_forward_draft(summary=south, by=org["marketing"], remark="请阅")
    return {"rnd": rnd, "meeting": meeting, "circular": circular, "sent": sent, "draft": draft, "east": east}


def test_who_reads_what(org, world):
    meeting, circular, sent, draft = world["meeting"], world["circular"], world["sent"], world["draft"]
    m_url = reverse("assessments:review-meeting-detail", kwargs={"pk": meeting.pk})
    c_url = reverse("assessments:circular-detail", kwargs={"pk": circular.pk})
    s_url = reverse("assessments:leader-report-detail", kwargs={"pk": sent.pk})
    d_url = reverse("assessments:leader-report-detail", kwargs={"pk": draft.pk})
    # Anonymous: the login page; the API 401.
    for url in (m_url, c_url, s_url, reverse("assessments:circular-list")):
        assert org.web(None).get(url).status_code == 302
    assert org.api(None).get(reverse("circular-list")).status_code == 401
    # No role: 403 everywhere.
    for url in (
        m_url,
        c_url,
        s_url,
        reverse("assessments:review-meeting-list"),
        reverse("assessments:circular-list"),
    ):
        assert org.web("norole").get(url).status_code == 403, url
    for name in ("circular-list", "review-meeting-list", "leader-report-list", "review-decision-list"):
        assert org.api("norole").get(reverse(name)).status_code == 403, name
    # Group roles read the meeting; an attendee too; another branch's person not (404, not listed).
    for who in ("marketing", "leader", "auditor", "south_manager"):
        assert org.web(who).get(m_url).status_code == 200, who
        assert (
            org.api(who).get(reverse("review-meeting-detail", kwargs={"pk": meeting.pk})).status_code == 200
        )
    assert org.web("design_staff").get(m_url).status_code == 404
    assert org.api("design_staff").get(reverse("review-meeting-list")).json()["count"] == 0
    assert org.api("south_manager").get(reverse("review-decision-list")).json()["count"] == 1  # his own
    # Every person with a role reads the issued circular.
    for who in ("marketing", "leader", "auditor", "east_staff", "install_manager"):
        assert org.web(who).get(c_url).status_code == 200, who
        assert org.api(who).get(reverse("circular-detail", kwargs={"pk": circular.pk})).status_code == 200
    # What was sent to the leaders: group roles; a draft only group marketing; branches 403.
    for who in ("marketing", "leader", "auditor"):
        assert org.web(who).get(s_url).status_code == 200, who
    assert org.web("leader").get(d_url).status_code == 404
    assert org.web("marketing").get(d_url).status_code == 200
    assert org.web("east_manager").get(s_url).status_code == 403
    assert org.api("east_manager").get(reverse("leader-report-list")).status_code == 403
    assert org.api("leader").get(reverse("leader-report-list")).json()["count"] == 1


def test_a_draft_circular_is_marketings_alone(org):
    rnd = rated_round(org)
    meeting = record_meeting(org, rnd)
    circular = services.circular_generate(meeting=meeting, by=org["marketing"])
    url = reverse("assessments:circular-detail", kwargs={"pk": circular.pk})
    assert org.web("east_manager").get(url).status_code == 404
    assert org.api("east_manager").get(reverse("circular-list")).json()["count"] == 0
    page = org.web("marketing").get(url)
    assert page.status_code == 200 and 'data-testid="circular-form"' in page.content.decode()


@pytest.mark.parametrize("who", ["leader", "auditor", "east_manager", "east_staff", "norole"])
def test_every_write_is_refused_to_others_and_changes_nothing(org, who):
    rnd = rated_round(org)
    meeting = record_meeting(org, rnd)
    circular = services.circular_generate(meeting=meeting, by=org["marketing"])
    east = Assessment.objects.get(round=rnd, branch=org.branches["east"])
    report = services.commendation_draft(assessment=east, by=org["marketing"])
    south = WorkSummary.objects.get(branch=org.branches["south"])
    decision = meeting.decisions.get(owner=org["south_manager"])
    before = (
        ReviewMeeting.objects.count(),
        ReviewDecision.objects.filter(done_at__isnull=False).count(),
        ReviewDecision.objects.count(),
        list(Circular.objects.values_list("status", "title", "version")),
        list(LeaderReport.objects.values_list("status", "title", "version")),
    )
    web = org.web(who)
    posts = [
        (reverse("assessments:review-meeting-add", kwargs={"half_year": rnd.half_year}), {}),
        (reverse("assessments:review-decision-add", kwargs={"pk": meeting.pk}), {"d-text": "x"}),
        (reverse("assessments:review-decision-done", kwargs={"pk": decision.pk}), {"done-note": "x"}),
        (reverse("assessments:circular-generate", kwargs={"pk": meeting.pk}), {}),
        (reverse("assessments:circular-save", kwargs={"pk": circular.pk}), {"title": "x", "text": "y"}),
        (reverse("assessments:circular-issue", kwargs={"pk": circular.pk}), {}),
        (reverse("assessments:leader-report-save", kwargs={"pk": report.pk}), {"title": "x", "text": "y"}),
        (reverse("assessments:leader-report-send", kwargs={"pk": report.pk}), {}),
        (reverse("assessments:commendation-draft", kwargs={"pk": east.pk}), {}),
        (reverse("assessments:summary-forward", kwargs={"pk": south.pk}), {}),
    ]
    for url, data in posts:
        assert web.post(url, data).status_code in (403, 404), (who, url)
    api = org.api(who)
    calls = [
        (
            "post",
            reverse("review-meeting-list"),
            {"half_year": rnd.half_year, "held_on": "2026-07-18", "attendees": [1, 2], "minutes": "x"},
        ),
        (
            "post",
            reverse("review-meeting-decisions", kwargs={"pk": meeting.pk}),
            {"text": "x", "owner": 1, "due_on": "2026-08-01"},
        ),
        ("post", reverse("review-meeting-circular", kwargs={"pk": meeting.pk}), {}),
        ("post", reverse("review-decision-done", kwargs={"pk": decision.pk}), {"note": "x"}),
        ("patch", reverse("circular-detail", kwargs={"pk": circular.pk}), {"title": "x", "body": "y"}),
        ("post", reverse("circular-issue", kwargs={"pk": circular.pk}), {}),
        ("post", reverse("leader-report-list"), {"kind": "commendation", "assessment": east.pk}),
        ("patch", reverse("leader-report-detail", kwargs={"pk": report.pk}), {"title": "x", "text": "y"}),
        ("post", reverse("leader-report-send", kwargs={"pk": report.pk}), {}),
    ]
    for method, url, body in calls:
        code = getattr(api, method)(url, body, format="json").status_code
        assert code in (403, 404), (who, method, url, code)
    after = (
        ReviewMeeting.objects.count(),
        ReviewDecision.objects.filter(done_at__isnull=False).count(),
        ReviewDecision.objects.count(),
        list(Circular.objects.values_list("status", "title", "version")),
        list(LeaderReport.objects.values_list("status", "title", "version")),
    )
    assert after == before


def test_marketing_takes_every_step_through_the_pages(org):
    rnd = rated_round(org)
    web = org.web("marketing")
    add = reverse("assessments:review-meeting-add", kwargs={"half_year": rnd.half_year})
    assert rnd.half_year in web.get(reverse("assessments:review-meeting-list")).content.decode()
    # A refusal keeps what was typed.
    refused = web.post(
        add, {"m-held_on": "2026-07-18", "m-minutes": "会议纪要草稿", "m-attendees": [org["leader"].pk]}
    )
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "会议纪要草稿" in text and "请选择至少 2 名参会人员" in text
    assert not ReviewMeeting.objects.exists()
    done = web.post(
        add,
        {
            "m-held_on": "2026-07-18",
            "m-place": "集团总部",
            "m-minutes": "通报考核结果",
            "m-attendees": [org["leader"].pk, org["east_manager"].pk],
            "m-d0_text": "华南分公司整改",
            "m-d0_owner": org["south_manager"].pk,
            "m-d0_due_on": "2026-08-31",
        },
    )
    meeting = ReviewMeeting.objects.get()
    assert done.status_code == 302 and meeting.decisions.count() == 1
    page = web.get(reverse("assessments:review-meeting-detail", kwargs={"pk": meeting.pk})).content.decode()
    assert (
        "华东分公司" in page
        and 'data-testid="ranking"' in page
        and 'data-testid="draft-commendation"' in page
    )
    web.post(reverse("assessments:circular-generate", kwargs={"pk": meeting.pk}))
    circular = Circular.objects.get()
    bad = web.post(
        reverse("assessments:circular-save", kwargs={"pk": circular.pk}),
        {"title": "", "text": "保留的正文", "version": circular.version},
    )
    assert bad.status_code == 400 and "保留的正文" in bad.content.decode()
    stale = web.post(
        reverse("assessments:circular-save", kwargs={"pk": circular.pk}),
        {"title": "标题", "text": "正文", "version": circular.version + 5},
    )
    assert stale.status_code == 409
    ok = web.post(
        reverse("assessments:circular-save", kwargs={"pk": circular.pk}),
        {"title": "关于考核结果的通报", "text": "正文", "version": circular.version},
    )
    assert ok.status_code == 302
    web.post(reverse("assessments:circular-issue", kwargs={"pk": circular.pk}))
    circular.refresh_from_db()
    assert circular.is_issued and circular.title == "关于考核结果的通报"
    # A branch manager opens it: the receipt appears for marketing.
    org.web("east_manager").get(reverse("assessments:circular-detail", kwargs={"pk": circular.pk}))
    assert CircularReceipt.objects.get(circular=circular, user=org["east_manager"]).read_at == NOW
    detail = web.get(reverse("assessments:circular-detail", kwargs={"pk": circular.pk})).content.decode()
    assert 'data-testid="receipts"' in detail
    printed = web.get(reverse("assessments:circular-detail", kwargs={"pk": circular.pk}) + "?print=1")
    assert 'data-testid="print-view"' in printed.content.decode()
    export = web.get(reverse("assessments:circular-receipts", kwargs={"pk": circular.pk}))
    rows = list(openpyxl.load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("分子公司", "项目经理部", "接收人")
    read = [r for r in rows[1:] if r[5] == "已读"]
    assert len(read) == 1 and read[0][2] == org["east_manager"].display_name
    assert len(rows) - 1 == CircularReceipt.objects.filter(circular=circular).count()
    # The manager's own export holds his branch only; a staff member has none (403).
    mine = org.web("east_manager").get(reverse("assessments:circular-receipts", kwargs={"pk": circular.pk}))
    branches = {
        r[0]
        for r in list(openpyxl.load_workbook(io.BytesIO(mine.content)).active.iter_rows(values_only=True))[1:]
    }
    assert branches == {org.branches["east"].name}
    assert (
        org.web("east_staff")
        .get(reverse("assessments:circular-receipts", kwargs={"pk": circular.pk}))
        .status_code
        == 403
    )
    # The decision's owner marks it done on the page.
    decision = meeting.decisions.get()
    org.web("south_manager").post(
        reverse("assessments:review-decision-done", kwargs={"pk": decision.pk}), {"done-note": "已整改"}
    )
    decision.refresh_from_db()
    assert decision.is_done
    # The commendation: drafted, edited, sent; the leader's home shows it until opened.
    east = Assessment.objects.get(round=rnd, branch=org.branches["east"])
    web.post(reverse("assessments:commendation-draft", kwargs={"pk": east.pk}))
    report = LeaderReport.objects.get(kind="commendation")
    web.post(
        reverse("assessments:leader-report-save", kwargs={"pk": report.pk}),
        {"title": report.title, "text": report.text + "特此报告。", "version": report.version},
    )
    web.post(reverse("assessments:leader-report-send", kwargs={"pk": report.pk}))
    home = org.web("leader").get("/").content.decode()
    assert report.title in home
    org.web("leader").get(reverse("assessments:leader-report-detail", kwargs={"pk": report.pk}))
    assert LeaderReceipt.objects.get(report=report, user=org["leader"]).read_at is not None
    assert report.title not in org.web("leader").get("/").content.decode()
    # The forwarded summary.
    south = WorkSummary.objects.get(branch=org.branches["south"])
    web.post(reverse("assessments:summary-forward", kwargs={"pk": south.pk}), {"f-remark": "整改到位"})
    forward = LeaderReport.objects.get(kind="summary")
    assert forward.text == "整改到位" and forward.work_summary == south


def test_the_api_takes_every_step(org):
    rnd = rated_round(org)
    api = org.api("marketing")
    made = api.post(
        reverse("review-meeting-list"),
        {
            "half_year": rnd.half_year,
            "held_on": "2026-07-18",
            "attendees": [org["leader"].pk, org["south_manager"].pk],
            "minutes": "通报考核结果",
            "decisions": [{"text": "整改", "owner": org["south_manager"].pk, "due_on": "2026-08-31"}],
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    meeting = made.json()["id"]
    assert (
        api.post(
            reverse("review-meeting-list"),
            {"half_year": rnd.half_year, "held_on": "2026-07-18", "attendees": [1, 2], "minutes": "x"},
            format="json",
        ).status_code
        == 400
    )
    assert (
        api.post(
            reverse("review-meeting-decisions", kwargs={"pk": meeting}),
            {"text": "补充", "owner": org["east_staff"].pk, "due_on": "2026-08-01"},
            format="json",
        ).status_code
        == 201
    )
    generated = api.post(reverse("review-meeting-circular", kwargs={"pk": meeting}), format="json")
    assert generated.status_code == 201 and "优良" in generated.json()["body"]
    cid, version = generated.json()["id"], generated.json()["version"]
    assert (
        api.patch(
            reverse("circular-detail", kwargs={"pk": cid}),
            {"title": "通报", "body": "正文"},
            format="json",
            HTTP_IF_MATCH=f'W/"{version + 3}"',
        ).status_code
        == 409
    )
    assert (
        api.patch(
            reverse("circular-detail", kwargs={"pk": cid}),
            {"title": "通报", "body": "正文"},
            format="json",
            HTTP_IF_MATCH=f'W/"{version}"',
        ).status_code
        == 200
    )
    issued = api.post(reverse("circular-issue", kwargs={"pk": cid}), format="json")
    assert issued.status_code == 200 and issued.json()["status"] == "issued"
    assert api.post(reverse("circular-issue", kwargs={"pk": cid}), format="json").status_code in (400, 409)
    org.api("east_staff").get(reverse("circular-detail", kwargs={"pk": cid}))
    receipts = api.get(reverse("circular-receipts", kwargs={"pk": cid})).json()
    assert [r["user_name"] for r in receipts if r["read_at"]] == [org["east_staff"].display_name]
    assert org.api("east_staff").get(reverse("circular-receipts", kwargs={"pk": cid})).status_code == 403
    decision = ReviewDecision.objects.get(owner=org["south_manager"])
    done = org.api("south_manager").post(
        reverse("review-decision-done", kwargs={"pk": decision.pk}), {"note": "已整改"}, format="json"
    )
    assert done.status_code == 200 and done.json()["done_note"] == "已整改"
    east = Assessment.objects.get(round=rnd, branch=org.branches["east"])
    drafted = api.post(
        reverse("leader-report-list"), {"kind": "commendation", "assessment": east.pk}, format="json"
    )
    assert drafted.status_code == 201 and "优良" in drafted.json()["text"]
    assert (
        api.post(
            reverse("leader-report-list"), {"kind": "commendation", "assessment": east.pk}, format="json"
        ).status_code
        == 200
    )
    south = WorkSummary.objects.get(branch=org.branches["south"])
    forward = api.post(
        reverse("leader-report-list"),
        {"kind": "summary", "work_summary": south.pk, "remark": "请阅"},
        format="json",
    )
    assert forward.status_code == 201
    assert api.post(reverse("leader-report-list"), {"kind": "summary"}, format="json").status_code == 400
    rid = drafted.json()["id"]
    assert (
        api.patch(
            reverse("leader-report-detail", kwargs={"pk": rid}),
            {"title": "表扬", "text": "正文"},
            format="json",
        ).status_code
        == 200
    )
    assert api.post(reverse("leader-report-send", kwargs={"pk": rid}), format="json").status_code == 200
    leader = org.api("leader")
    assert leader.get(reverse("leader-report-list")).json()["count"] == 1
    leader.get(reverse("leader-report-detail", kwargs={"pk": rid}))
    assert LeaderReceipt.objects.get(report_id=rid, user=org["leader"]).read_at is not None


@pytest.mark.parametrize("persona", ["marketing", "leader", "east_manager"])
def test_the_pages_show_no_chinese_outside_data_in_english(org, world, persona):
    """English everywhere (issue 13): with English chosen, the meeting, the circular, the reports
    to the leaders and the home page show no Chinese but the data."""
    from tests.crm.test_english_everywhere import _leftover, english

    services.circular_open(circular=world["circular"], user=org["east_manager"])
    urls = {
        "marketing": [
            reverse("assessments:review-meeting-list"),
            reverse("assessments:review-meeting-detail", kwargs={"pk": world["meeting"].pk}),
            reverse("assessments:circular-detail", kwargs={"pk": world["circular"].pk}),
            reverse("assessments:leader-report-list"),
            reverse("assessments:leader-report-detail", kwargs={"pk": world["draft"].pk}),
        ],
        "leader": ["/", reverse("assessments:leader-report-detail", kwargs={"pk": world["sent"].pk})],
        "east_manager": [
            "/",
            reverse("assessments:circular-list"),
            reverse("assessments:circular-detail", kwargs={"pk": world["circular"].pk}),
        ],
    }[persona]
    web = english(org.web(persona))
    problems = {}
    for url in urls:
        page = web.get(url)
        assert page.status_code == 200, url
        left = _leftover(page.content.decode(), extra=["客户关系管理工作研讨会"])
        if left:
            problems[url] = left[:8]
    assert not problems, problems


def test_the_receipts_and_lists_read_a_bounded_number_of_queries(org, world):
    """Query budgets (style.md 12): the circular's page with its receipts, the receipts' API and
    the lists read as many queries for ten more recipients as without them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crm.models import Role, User
    from crm.services import user_set_role

    circular = world["circular"]
    urls = [
        (org.web("marketing"), reverse("assessments:circular-detail", kwargs={"pk": circular.pk})),
        (org.api("marketing"), reverse("circular-receipts", kwargs={"pk": circular.pk})),
        (org.api("marketing"), reverse("circular-list")),
        (org.api("leader"), reverse("leader-report-list")),
    ]

    def counts():
        out = []
        for client, url in urls:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200, url
            out.append(len(captured))
        return out

    counts()  # the first requests warm the session and permission caches
    before = counts()
    for n in range(10):
        user = User.objects.create_user(f"site{n}", full_name=f"项目部人员{n}")
        user_set_role(
            user=user,
            role=Role.STAFF,
            branch=org.branches["east"],
            department=org.departments[("east", "pd-hongqiao")],
        )
        CircularReceipt.objects.create(
            circular=circular, user=user, branch=user.branch, department=user.department, sent_at=NOW
        )
    assert counts() == before
