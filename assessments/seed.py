"""Demo data of monthly reporting (R26-R29): a year of past periods closed by the 25th job (most
branches on time, some late, one report returned and submitted again, one never submitted),
this period's drafts, and the rankings of the last four quarters. Everything goes through the
services, as a user and the jobs would; deterministic, and idempotent like the rest of the demo."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from crm.figures import Period
from crm.models import Notification

from .models import DepartmentReport, MonthlyClose, MonthlyReport
from .monthly import services
from .obligations import reporting_branches

# (periods before the last one due, branch) -> what happened. Anything else: on time, accepted.
LATE = {(1, "south"), (4, "install"), (7, "south"), (9, "south")}
MISSING: set = set()  # a report never submitted would hold the branch to this day (R33)
RETURNED = {(2, "east")}
REMARKS = {
    "east": "本月重点跟进地铁集团二期项目需求;客户档案已按新表格补全联系人。",
    "south": "本期新增客户主要来自深圳前海片区,已安排拜访计划。",
    "design": "设计回访中客户对出图进度提出意见,已纳入整改。",
    "install": "",
}
RETURN_REASON = "新增客户中有两家缺少统一社会信用代码,请补全档案后重新上报。"


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_default_timezone())


def seed(org) -> str:
    from django.test.utils import override_settings

    # The demo's past notices stay in the app; e-mailing a year of them at install helps nobody.
    from .circulars.seed import seed as seed_circulars
    from .needreports.seed import seed as seed_need_reports

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        return f"{_seed(org)}; {seed_need_reports(org)}; {seed_circulars(org)}"


def _seed(org) -> str:
    if MonthlyReport.objects.exists():
        return f"already there: {MonthlyReport.objects.count()} monthly reports"
    marketing = org.users["marketing"]
    now = timezone.now()
    last = Period.last_due(now)
    periods = []
    period = last
    for _i in range(12):
        periods.append(period)
        period = period.previous()
    branches = list(reporting_branches())
    from .deptreports import seed as departments

    department_users = departments.department_users(org)
    analyses = _seed_analysis(org, branches)
    for back, period in sorted(enumerate(periods), key=lambda item: -item[0]):
        for i, branch in enumerate(branches):
            code = branch.code
            manager = org.users.get(f"{code}_manager")
            report = services.report_open(branch=branch, period=period)
            # R80: the project departments report to the branch before it reports to the group.
            departments.seed_period(org, branch, period, back)
            if (back, code) in MISSING or manager is None:
                continue
            remarks = REMARKS.get(code, "") if (back + i) % 3 == 0 else ""
            if (back, code) in LATE:
                services.report_close_branch(branch=branch, period=period, at=period.deadline)
                at = _at(period.last_day + dt.timedelta(days=2 + i % 2), 10, 15)
            else:
                at = _at(period.last_day - dt.timedelta(days=1 + (back + i) % 4), 16, 20 + i * 7)
            report = services.report_submit(report=report, by=manager, remarks=remarks, at=at)
            if (back, code) in RETURNED:
                report = services.report_return(
                    report=report, by=marketing, reason=RETURN_REASON, at=at + dt.timedelta(hours=20)
                )
                at = at + dt.timedelta(days=1, hours=2)
                report = services.report_submit(
                    report=report, by=manager, remarks="已补全两家客户的统一社会信用代码。", at=at
                )
            if back > 0:  # the last period's reports wait for group marketing's review
                services.report_accept(
                    report=report, by=marketing, at=max(at, period.deadline) + dt.timedelta(days=3)
                )
        close, pending = services.monthly_close_start(period=period)
        for branch_id in pending:
            services.monthly_close_part(close_id=close.pk, branch_id=branch_id)
        MonthlyClose.objects.filter(pk=close.pk).update(
            started_at=period.deadline, finished_at=period.deadline + dt.timedelta(minutes=1)
        )
    assessed = _seed_assessment(org, branches)
    regraded = _seed_regrading(org)
    current = Period.containing(now)
    for branch in branches:
        services.report_open(branch=branch, period=current)
    departments.seed_current(org, branches, current)
    survey_reports = departments.seed_survey_reports(org)
    rankings = services.rankings_catch_up(now)
    # The demo's past notifications of reporting are history: keep them, read.
    Notification.objects.filter(
        verb__in=(
            "monthly_report",
            "monthly_close",
            "ranking",
            "assessment",
            "department_report",
            "department_survey_report",
        ),
        read_at__isnull=True,
    ).update(read_at=now)
    return (
        f"{MonthlyReport.objects.count()} monthly reports over {len(periods) + 1} periods, "
        f"{len(rankings)} rankings, {analyses} analysis reports, {assessed} assessments, "
        f"{regraded} clients re-graded, {department_users} department logins, "
        f"{DepartmentReport.objects.count()} department parts, {survey_reports} department survey reports"
    )


GROUP_SUMMARY = (
    "各分子公司客户结构总体稳定:A类客户集中在地铁、城投等国有建设单位,忠诚度高;房地产客户分化,"
    "部分转向低价偏好。下半年重点:培养具备条件的B类客户,对诚信记录不良的客户调整为C类。"
)


def _seed_regrading(org) -> int:
    """The group's summary of the latest half year whose analysis reports are all in, and its
    re-grading (R31) of the first clients the grading criteria suggest moving: applied by group
    marketing, so every branch has its new A/B/C list in its notices (R75), whether or not one of
    its clients moved."""
    from .review import services as review

    halves = _reviewed_halves(timezone.now())
    if not halves:
        return 0
    half = halves[-1]
    marketing = org.users["marketing"]
    summary = review.summary_open(half)
    if summary.regraded_at:
        return 0
    review.summary_save(summary=summary, by=marketing, text=GROUP_SUMMARY, submit=True)
    for candidate in review.regrading_candidates(half, limit=3):
        review.regrading_propose(
            summary=summary,
            by=marketing,
            client=candidate["client"],
            to_grade=candidate["to"],
            reason=str(candidate["why"]),
        )
    return review.regrading_apply(summary=summary, by=marketing)


# ------------------------------------------------------------------- the half-year review (R30-R34)

ANALYSIS = {
    "loyalty": "重复合作客户占比稳定,地铁、城投类国有客户忠诚度高;两家房地产客户转向低价偏好,需加强沟通。",
    "profit": "上半年合同额同比增长,利润率约12%;大型公建项目规模大利润低,设计咨询类项目规模小利润高。",
    "future": "区域轨道交通和城市更新投资持续,客户未来半年需求以EPC和改造项目为主。",
    "capability": "主要客户资金实力和诚信良好;一家民营客户付款周期延长,已列入观察。",
    "product": "市场对装配式和绿色建筑方案反响较好,客户普遍要求缩短工期、提高出图质量。",
    "common_traits": "同属地铁集团的三家客户审批流程相近,付款集中在季度末。",
}
RATINGS = {
    "east": ("excellent", "月报全部按时上报,档案完整率高,投诉按期处理,抽查信息全部准确。"),
    "south": ("poor", "月报两次逾期,抽查发现多条档案信息与实际不符,投诉处理超期。"),
}
SUMMARY = {
    "reporting": "已指定专人负责月度报表,每月20日前完成内部审核。",
    "complaints": "建立投诉周例会制度,超期投诉逐条分析原因。",
    "satisfaction": "针对不满意项逐一回访,整改结果纳入下次调查。",
    "analysis": "分析报告增加同一母公司客户的共性分析。",
    "accuracy": "对抽查不准确的档案全部更正,并每季度自查一次。",
}


def _reviewed_halves(now) -> list:
    """The half years whose analysis reports are due by ``now`` (the last two, from the first
    one owed), so a demo built on any date has its reports in and holds nothing (R33)."""
    from crm.figures import HalfYear

    first = HalfYear.parse(settings.CRM_REVIEW_START)
    half = HalfYear.containing(now)
    return [
        h for h in (half.previous().previous(), half.previous(), half) if h >= first and h.analysis_due <= now
    ]


def _seed_analysis(org, branches) -> int:
    """Every branch's client analysis report of each half year due by now, submitted a few days
    before its due date (R31)."""
    from .review import services as review

    made = 0
    for half in _reviewed_halves(timezone.now()):
        due_day = timezone.localtime(half.analysis_due).date() - dt.timedelta(days=1)
        for i, branch in enumerate(branches):
            manager = org.users.get(f"{branch.code}_manager")
            if manager is None:
                continue
            report = review.analysis_open(branch=branch, half=half)
            _seed_client_analyses(org, report)
            review.analysis_save(
                report=report,
                by=manager,
                data=ANALYSIS,
                submit=True,
                at=_at(due_day - dt.timedelta(days=6 - i % 4), 15, 30),
            )
            made += 1
    return made


# Single-client analyses (R30) a branch's staff write into its report, by the client's grade:
# submitted with the report, each becomes the client's 我方对客户的评价 (seed 001, R54).
CLIENT_ANALYSES = {
    "A": "合作{n}年,付款及时,履约信誉好;二期项目已进入方案阶段,建议保持高层定期拜访,优先配置设计骨干。",
    "B": "项目规模中等,付款周期偏长(平均90天);对装配式和BIM深化有明确需求,具备培养为A类客户的条件。",
    "C": "近一年无新项目,资金紧张,存在拖欠进度款情况;维持基本联系,不主动投入营销资源。",
}


def _seed_client_analyses(org, report) -> None:
    """East's staff analyse one client of each grade in each report (the others write none)."""
    from clients.models import Client

    from .review import services as review

    staff = org.users.get(f"{report.branch.code}_staff")
    if staff is None or report.branch.code != "east":
        return
    for n, grade in enumerate(("A", "B", "C"), start=2):
        client = Client.objects.filter(branch=report.branch, grade=grade).order_by("pk").first()
        if client is not None:
            text = CLIENT_ANALYSES[grade].format(n=n)
            review.client_analysis_save(report=report, by=staff, client=client, text=text)


def _seed_assessment(org, branches) -> int:
    """The latest half year whose assessment is finished by now (45 days after it ended): east
    优良, south 差 (its month of suspension over), the others 合格 with their summaries."""
    from crm.figures import HalfYear

    from .models import AnalysisReport
    from .review import services as review

    now = timezone.now()
    half = HalfYear.last_ended(now)
    if now < half.end + dt.timedelta(days=45):
        half = half.previous()
    if half < HalfYear.parse(settings.CRM_REVIEW_START):
        return 0
    rnd, pending = review.assessment_round_start(half=half)
    for branch_id in pending:
        review.assessment_compute(round_id=rnd.pk, branch_id=branch_id)
    auditor = org.users["auditor"]
    opened = timezone.localtime(half.end).date()
    rated = 0
    for i, branch in enumerate(branches):
        assessment = rnd.assessments.get(branch=branch)
        checked_at = _at(opened + dt.timedelta(days=5), 10, 0)
        for n, check in enumerate(assessment.spot_checks.order_by("pk")):
            wrong = branch.code == "south" and n % 3 == 0
            review.spot_check_record(
                check=check,
                by=auditor,
                accurate=not wrong,
                note="联系电话已变更" if wrong else "",
                at=checked_at,
            )
        report = AnalysisReport.objects.filter(branch=branch, half_year=half.label).first()
        if report:
            review.analysis_judge(report=report, by=auditor, meets=branch.code != "south")
        rating, reason = RATINGS.get(branch.code, ("qualified", "各项指标基本达标,档案完整率有待提高。"))
        rated_at = _at(opened + dt.timedelta(days=9), 16, i * 5)
        review.assessment_rate(assessment=assessment, by=auditor, rating=rating, reason=reason, at=rated_at)
        summary = getattr(assessment, "work_summary", None)
        if summary is not None:
            manager = org.users[f"{branch.code}_manager"]
            review.work_summary_submit(
                summary=summary, by=manager, parts=SUMMARY, at=rated_at + dt.timedelta(days=5)
            )
        rated += 1
    return rated
