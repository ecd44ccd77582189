"""The half-year review journey (issue 15; R32-R34), on 2026H1: the job opens the assessment on
1 July; the auditor spot-checks east's sample and rates east 优良, then checks south's sample and
rates south 差; south_staff can no longer search the archive (only the clients they own) and sees
why and until when; south's work summary is owed within a week, and once it is overdue (the daily
job) south's pending access request is held: the leader's approval is refused; south_manager
submits the summary from the owed page, the hold lifts by itself and the leader approves; a month
after the rating the archive (and the paused grant) is back without any job.

The browser and the live server run in this process, so time_machine moves the server's clock
too. The job is run in-process as its worker tasks run it (assessments.tasks.dispatch_assessment:
assessment_round_start, then assessment_compute for each pending branch; review_daily:
holds_sync_all)."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.utils import timezone

from assessments import obligations
from assessments.models import AnalysisReport, Assessment, AssessmentRound, SpotCheck, WorkSummary
from assessments.review import services as review
from clients.access import services as access
from clients.models import AccessRequest, Client
from crm import figures as fig
from crm.models import Notification, Suspension
from tests.clients.factories import ClientFactory, ContactFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
HALF = fig.HalfYear(2026, 1)

EAST_TARGET = "宁波前湾新区城市开发投资有限公司"  # the east client south_staff asks to read
STAFF_OWN = "深圳前海湾区城市更新有限公司"  # south, account owner south_staff
MANAGER_OWN = "深圳湾科技发展有限公司"  # south, account owner south_manager
INACCURATE_NOTE = "联系电话已变更,档案未更新"
EAST_REASON = "客户数增长达标,客户分析报告按时提交,抽查信息全部准确,无客户投诉。"
SOUTH_REASON = "抽查发现档案信息与实际不符,上半年月度报表均未上报。"
SUMMARY = {
    "reporting": "上半年月度报表均已上报,下半年指定专人负责,确保每月25日前上报。",
    "complaints": "上半年无客户投诉,继续保持回访制度。",
    "satisfaction": "满意度调查不满意项已逐项整改并回访确认。",
    "analysis": "客户分析报告补充利润和未来趋势分析,按母公司归类总结共性。",
    "accuracy": "对全部客户档案开展核对,联系电话、地址变更当日更新。",
}


def at(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def local(moment, fmt="%Y-%m-%d %H:%M"):
    return timezone.localtime(moment, SHANGHAI).strftime(fmt)


def said(moment):
    """A deadline as the pages say it (an end at another time than midnight): 8月1日 09:30."""
    at = timezone.localtime(moment, SHANGHAI)
    return f"{at.month}月{at.day}日 {at:%H:%M}"


def client(org, name, branch, owner, department):
    c = ClientFactory(
        name=name,
        branch=org.branches[branch],
        department=org.departments[(branch, department)],
        owner=org[owner],
    )
    ContactFactory(client=c)
    return c


def record_the_archive(org, clock):
    """East and south each have clients from before and during the half year (the samples);
    both branches hand in their 2026H1 client analysis report on time."""
    client(org, "上海虹桥商务区投资发展有限公司", "east", "east_staff", "pd-hongqiao")
    client(org, "苏州工业园区科技城开发有限公司", "east", "east_staff", "pd-suzhou")
    client(org, STAFF_OWN, "south", "south_staff", "pd-qianhai")
    client(org, MANAGER_OWN, "south", "south_manager", "pd-qianhai")
    clock.move_to(at("2026-03-16T10:00"))
    target = client(org, EAST_TARGET, "east", "east_staff", "pd-hangzhou")
    client(org, "广州南沙新区产业投资有限公司", "south", "south_staff", "pd-nansha")
    client(org, "珠海横琴新区建设开发有限公司", "south", "south_manager", "pd-nansha")
    clock.move_to(at("2026-05-28T15:00"))
    for code in ("east", "south"):
        report = review.analysis_open(branch=org.branches[code], half=HALF)
        review.analysis_save(
            report=report,
            by=org[f"{code}_manager"],
            data={
                "loyalty": "重复合作客户稳定。",
                "profit": "利润率与去年持平。",
                "future": "城市更新项目增多。",
                "capability": "主要客户资信良好。",
                "product": "以住宅和商业综合体为主。",
            },
            submit=True,
        )
    assert AnalysisReport.objects.filter(half_year="2026H1", on_time=True).count() == 2
    return target


def follow(page, locator):
    """Click something that loads a page and wait for it."""
    with page.expect_navigation():
        locator.click()
    return page


def message(page, kind="success"):
    alert = page.locator(f".alert-{kind}")
    assert alert.count() >= 1, page.content()[:3000]
    return alert.first.inner_text()


def check_sample(page, findings):
    """Mark every record of the sample on the workbench: ``findings`` maps client names to a
    note for 不准确; the others are 准确."""
    rows = page.locator("[data-testid=spot-checks] tr[data-check]")
    for pk in rows.evaluate_all("els => els.map(e => e.dataset.check)"):
        row = page.locator(f"[data-testid=spot-checks] tr[data-check='{pk}']")
        name = row.locator("td").first.inner_text().strip()
        if name in findings:
            row.locator("input[name=note]").fill(findings[name])
            follow(page, row.get_by_role("button", name="不准确"))
        else:
            follow(page, row.get_by_role("button", name="准确", exact=True))


def rate(page, rating, reason):
    form = page.locator("[data-testid=rate-form]")
    form.locator(f"input[name=rating][value={rating}]").check()
    form.locator("textarea[name=reason]").fill(reason)
    follow(page, form.locator("button"))


def header_search(page, text):
    box = page.locator("header form[role=search] input[name=q]")
    box.fill(text)
    with page.expect_navigation():
        box.press("Enter")
    return page


def test_half_year_review_from_the_job_to_the_archive_back(org, journey):
    east, south = org.branches["east"], org.branches["south"]
    with time_machine.travel(at("2025-12-10T10:00"), tick=True) as clock:
        target = record_the_archive(org, clock)

        # Before the result: south_staff asks to read an east client; marketing forwards it.
        clock.move_to(at("2026-06-29T10:00"))
        req = access.access_request_create(
            requester=org["south_staff"],
            clients=[target],
            reason="拟与该客户合作宁波前湾项目投标,需了解其合作历史与资信",
            ends_on=dt.date(2026, 9, 20),
        )
        access.access_request_forward(access_request=req, by=org["marketing"], note="理由充分,建议批准")

        # The job on 1 July, 01:30, as its worker runs it: open the round, compute each branch.
        clock.move_to(at("2026-07-01T01:30"))
        rnd, pending = review.assessment_round_start(half=HALF)
        assert len(pending) == 4  # east, south, design, install; not the group HQ
        for branch_id in pending:
            assert review.assessment_compute(round_id=rnd.pk, branch_id=branch_id)
        rnd.refresh_from_db()
        assert rnd.state == AssessmentRound.State.OPEN and rnd.done == rnd.total == 4
        assert review.assessment_round_start(half=HALF) == (rnd, [])  # twice: nothing new
        east_a = Assessment.objects.get(branch=east, half_year="2026H1")
        south_a = Assessment.objects.get(branch=south, half_year="2026H1")
        assert SpotCheck.objects.filter(assessment=east_a).count() == 3
        assert SpotCheck.objects.filter(assessment=south_a).count() == 4
        assert Notification.objects.filter(
            recipient=org["auditor"], title="2026H1 分子公司客户关系维护成效考核已开始"
        ).exists()

        # The auditor opens the results page: every branch of 2026H1 to rate.
        clock.move_to(at("2026-07-01T09:30"))
        page = journey.login("auditor")
        journey.go("/reports/assessments/")
        matrix = page.locator("[data-testid=results-matrix]")
        assert "2026H1" in matrix.locator("thead").inner_text()
        assert matrix.locator("a[data-rating=pending]").count() == 4
        journey.shot("auditor_results_pending")

        # East's workbench: the indicators, the analysis report on time, the sample.
        follow(page, matrix.locator("tr", has_text="华东分公司").locator("a[data-rating=pending]"))
        assert page.url.endswith(f"/reports/assessments/{east_a.pk}/")
        assert page.locator("[data-testid=rating]").inner_text().strip() == "待评定"
        analysis = page.locator("[data-indicator=analysis]").inner_text()
        assert "已提交" in analysis and "按时提交" in analysis
        assert "月度报表按时上报 0/6 期" in page.locator("[data-indicator=reporting]").inner_text()
        sample = page.locator("[data-testid=spot-checks]").inner_text()
        assert EAST_TARGET in sample and "上海虹桥商务区投资发展有限公司" in sample
        journey.shot("east_workbench")
        check_sample(page, {})
        checks = page.locator("[data-indicator=accuracy] .card-header").inner_text()
        assert "已抽查 3/3,准确 3" in checks, checks
        assert page.locator("[data-testid=spot-checks] .badge.text-bg-success").count() == 3
        rate(page, "excellent", EAST_REASON)
        assert "考核结果已评定" in message(page)
        assert page.locator("[data-testid=rating]").inner_text().strip() == "优良"
        assert EAST_REASON in page.locator("[data-testid=result]").inner_text()
        assert page.locator("[data-testid=rate-form]").count() == 0
        journey.shot("east_rated_excellent")
        east_a.refresh_from_db()
        assert east_a.commended_at is not None and not WorkSummary.objects.filter(assessment=east_a).exists()

        # South's workbench: one record found inaccurate; rated 差.
        journey.go("/reports/assessments/?half_year=2026H1")
        follow(page, matrix.locator("tr", has_text="华南分公司").locator("a[data-rating=pending]"))
        assert page.url.endswith(f"/reports/assessments/{south_a.pk}/")
        check_sample(page, {MANAGER_OWN: INACCURATE_NOTE})
        row = page.locator("[data-testid=spot-checks] tr", has_text=MANAGER_OWN)
        assert "不准确" in row.locator(".badge").inner_text() and INACCURATE_NOTE in row.inner_text()
        assert "已抽查 4/4,准确 3" in page.locator("[data-indicator=accuracy] .card-header").inner_text()
        form = page.locator("[data-testid=rate-form]")
        form.locator("input[name=rating][value=poor]").check()
        form.locator("textarea[name=reason]").fill(SOUTH_REASON)
        journey.shot("south_before_rating")
        follow(page, form.locator("button"))
        assert "考核结果已评定" in message(page)
        assert page.locator("[data-testid=rating]").inner_text().strip() == "差"
        summary = WorkSummary.objects.get(assessment__branch=south, assessment__half_year="2026H1")
        suspension = Suspension.objects.get(branch=south, kind=Suspension.Kind.ARCHIVE)
        south_a.refresh_from_db()
        assert summary.due_at == south_a.rated_at + dt.timedelta(days=7)
        until = local(suspension.ends_at)
        assert until.startswith("2026-08-01 09:3"), until  # a month after the rating
        result = page.locator("[data-testid=result]").inner_text()
        assert SOUTH_REASON in result and f"应于 {said(summary.due_at)} 前提交" in result
        journey.shot("south_rated_poor")
        journey.go("/reports/assessments/?half_year=2026H1")
        assert matrix.locator("a[data-rating=excellent]").count() == 1
        assert matrix.locator("a[data-rating=poor]").count() == 1
        journey.shot("auditor_results_rated")

        # south_staff: the archive query is suspended, the banner says why and until when; only
        # the clients they own can be found.
        page = journey.login("south_staff")
        banner = page.locator("[data-testid=suspension]")
        assert (
            said(suspension.ends_at) in banner.inner_text()
            and "2026H1 客户关系维护成效考核结果为“差”" in banner.inner_text()
        )
        header_search(page, "深圳")
        results = " ".join(page.locator(".list-group").all_inner_texts())
        assert STAFF_OWN in results and MANAGER_OWN not in results, results
        assert said(suspension.ends_at) in page.locator("[data-testid=suspension]").inner_text()
        journey.shot("south_staff_search_suspended")
        journey.go("/clients/?q=%E6%B7%B1%E5%9C%B3")  # 深圳
        table = page.locator("[data-testid=client-table]").inner_text()
        assert STAFF_OWN in table and MANAGER_OWN not in table, table
        journey.shot("south_staff_list_suspended")
        manager_client = Client.objects.get(name=MANAGER_OWN)
        assert page.goto(journey.base + f"/clients/{manager_client.pk}/").status == 404

        # south_manager: the work summary is owed within the week, not overdue yet.
        page = journey.login("south_manager")
        journey.go("/reports/owed/")
        owed = page.locator("[data-testid=owed-table] tbody tr")
        assert owed.count() == 1 and owed.first.get_attribute("data-kind") == "work_summary"
        assert "待提交" in owed.first.inner_text() and said(summary.due_at) in owed.first.inner_text()
        assert said(suspension.ends_at) in page.locator("[data-testid=suspension]").first.inner_text()
        assert page.locator("[data-testid=hold]").count() == 0
        journey.shot("south_manager_owed")

        # A week later the summary is overdue; the daily job holds south's submissions.
        clock.move_to(summary.due_at + dt.timedelta(minutes=30))
        obligations.holds_sync_all()
        hold = Suspension.objects.active().get(branch=south, kind=Suspension.Kind.SUBMISSIONS)
        # The hold names what is owed and by when, as people say it.
        assert hold.reason == f"逾期未交:2026H1 客户关系维护工作总结(应于{said(summary.due_at)}前交)", (
            hold.reason
        )
        assert not Suspension.objects.active().filter(branch=east, kind=Suspension.Kind.SUBMISSIONS).exists()

        # The leader sees south's request held before clicking anything: marked in the queue,
        # the reason on the request, and no approve button (crm.holds).
        page = journey.login("leader")
        journey.go("/clients/access/requests/approval/")
        assert page.locator("[data-testid=held]").count() == 1
        follow(page, page.locator(f"a[href='/clients/access/requests/{req.pk}/']").first)
        held = page.locator("[data-testid=hold]").inner_text()
        assert "华南分公司" in held and "客户关系维护工作总结" in held, held
        assert page.locator("[data-testid=approve]").count() == 0
        req.refresh_from_db()
        assert req.status == AccessRequest.Status.FORWARDED
        journey.shot("leader_approval_held")

        # south_manager follows the owed page to the summary, writes the five parts, submits.
        page = journey.login("south_manager")
        journey.go("/reports/owed/")
        assert hold.reason in page.locator("[data-testid=hold]").inner_text()
        row = page.locator("[data-testid=owed-table] tr[data-kind=work_summary]")
        assert "已逾期" in row.inner_text()
        journey.shot("south_manager_owed_overdue")
        with page.expect_navigation() as opened:
            row.get_by_role("link").click()
        assert page.url.endswith(f"/reports/summaries/{summary.pk}/")
        # R33: a branch whose archive query is suspended still submits what it owes.
        assert opened.value.status == 200, "the suspended branch's manager cannot open the work summary"
        assert "text-danger" in page.locator("[data-testid=due]").get_attribute("class")
        for part, text in SUMMARY.items():
            page.fill(f"#id_{part}", text)
        journey.shot("south_summary_filled")
        follow(page, page.locator("[data-testid=submit]"))
        assert "工作总结已提交" in message(page)
        assert page.locator("[data-testid=submit]").count() == 0
        assert SUMMARY["accuracy"] in page.locator("[data-testid=summary-form]").inner_text()
        journey.shot("south_summary_submitted")
        assert not Suspension.objects.active().filter(branch=south, kind=Suspension.Kind.SUBMISSIONS).exists()
        journey.go("/reports/owed/")
        assert page.locator("[data-testid=hold]").count() == 0
        assert page.locator("[data-testid=owed-table] tbody tr[data-kind]").count() == 0
        journey.shot("south_manager_owed_clear")

        # The leader approves now.
        page = journey.login("leader")
        journey.go(f"/clients/access/requests/{req.pk}/")
        follow(page, page.locator("[data-testid=approve]"))
        assert "已批准" in message(page)
        req.refresh_from_db()
        assert req.status == AccessRequest.Status.APPROVED
        journey.shot("leader_approved")

        # ... but the grant stays paused while south's archive query is suspended.
        page = journey.login("south_staff")
        journey.go("/clients/access/grants/")
        assert "暂停" in page.locator("[data-testid=grant-table]").inner_text()
        journey.shot("south_staff_grant_paused")
        assert page.goto(journey.base + f"/clients/{target.pk}/").status == 404

        # A month after the rating the archive is back by itself (no job), the grant too.
        clock.move_to(suspension.ends_at + dt.timedelta(minutes=5))
        page = journey.login("south_staff")
        assert page.locator("[data-testid=suspension]").count() == 0
        header_search(page, "深圳")
        results = " ".join(page.locator(".list-group").all_inner_texts())
        assert MANAGER_OWN in results and STAFF_OWN in results, results
        journey.shot("south_staff_search_back")
        journey.go("/clients/?q=%E6%B7%B1%E5%9C%B3")
        table = page.locator("[data-testid=client-table]").inner_text()
        assert STAFF_OWN in table and MANAGER_OWN in table, table
        assert page.locator("[data-testid=suspension]").count() == 0
        journey.shot("south_staff_list_back")
        assert page.goto(journey.base + f"/clients/{target.pk}/").status == 200
        assert EAST_TARGET in page.locator("h1").inner_text()
        journey.shot("south_staff_opens_granted_client")
