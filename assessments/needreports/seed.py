"""Demo data of the quarterly need analysis report (R65-R69): last quarter's reports of the demo
branches, through the services as the people would write them: east's reviewed and accepted at
its need analysis meeting, whose two decisions are one done and one open; south's submitted and
waiting for its meeting; design's being written (two parts saved); install's just opened (its
parts still the system's drafts). Deterministic; idempotent (nothing is made twice)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone, translation

from crm.access import SYSTEM

from ..obligations import reporting_branches
from . import services
from .models import PART_NAMES, NeedAnalysisReport

TODO = "(请补充)"
# What each branch's people wrote where the drafts ask for more (seed 003's words).
WRITTEN = {
    "east": {
        "analysis": "主要需求集中在施工图阶段的BIM深化设计和现场配合,重点客户(地铁集团、城投公司)提出的"
        "需求多为功能性需求,且多由首次合作后的派生需求产生。",
        "value": "BIM深化设计和全过程咨询需求对提升客户满意度和后续项目中标的价值较大;价格类需求价值较低,"
        "按公司报价政策统一答复。",
        "feasibility": "技术上现有BIM团队可承接;经济上需按项目核算人工成本;时间上需与施工进度协调,"
        "建议优先安排价值高且可行性高的需求。",
        "integration": "已将同一客户重复登记的需求合并,两条关于出图时间的需求存在矛盾,已与客户沟通确认。"
        "整合后形成“BIM深化”“驻场服务”“报价答疑”三组需求,分别由经营部和项目经理部跟进。",
    },
    "south": {
        "analysis": "前海片区新客户的需求以服务需求为主,集中在设计周期和驻场配合方面。",
        "value": "驻场配合需求有助于提升客户满意度和签约率,价值较高。",
        "feasibility": "驻场人员紧张,需经营部统筹;部分紧急需求的响应时间需要压缩。",
        "integration": "本季度未发现重复需求,暂无矛盾需求。",
    },
    "design": {
        "analysis": "设计回访中客户对出图进度提出的需求较多,属非功能性需求。",
    },
}
MINUTES = (
    "会议逐项讨论了报告的需求概述、详细分析、价值评估、可行性分析和整合情况,核对了需求响应及时率和"
    "完成率的明细。与会人员认为报告数据准确、分析切合实际,同意审核通过,并明确了下季度需求处理的重点。"
)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_default_timezone())


def _texts(report: NeedAnalysisReport, code: str, names) -> dict:
    """The parts the branch wrote: the system's draft, its placeholders filled in."""
    with translation.override("zh-hans"):
        drafts = services.drafts(report, services.report_figures(report, SYSTEM))
    written = WRITTEN.get(code, {})
    out = {}
    for name in names:
        text = drafts[name]
        if name in written:
            text = text.replace(TODO, written[name])
        out[name] = text.replace(TODO, "见会议讨论。")
    return out


def seed(org) -> str:
    if NeedAnalysisReport.objects.exists():
        return f"already there: {NeedAnalysisReport.objects.count()} need analysis reports"
    now = timezone.now()
    quarter = services.quarters_open(now)[1]  # last quarter
    made = 0
    for branch in reporting_branches():
        code = branch.code
        staff, manager = org.users.get(f"{code}_staff"), org.users.get(f"{code}_manager")
        if staff is None or manager is None:
            continue
        opened = _at(quarter.last_day - dt.timedelta(days=12), 9, 30)
        report, _created = services.need_report_open(branch=branch, quarter=quarter, by=staff, at=opened)
        made += 1
        if code == "install":
            continue  # just opened: its parts are still the system's drafts
        written = min(_at(quarter.end.date() + dt.timedelta(days=2), 17), now)
        if code == "design":
            parts = _texts(report, code, ("overview", "analysis"))
            services.need_report_save(report=report, by=staff, parts=parts, at=written)
            continue
        report = services.need_report_save(
            report=report, by=staff, parts=_texts(report, code, PART_NAMES), at=written
        )
        # Submitted a few days into the new quarter (never later than now).
        submitted = min(_at(quarter.end.date() + dt.timedelta(days=4 if code == "east" else 6), 10), now)
        submitted = max(submitted, quarter.end + dt.timedelta(minutes=1))
        report = services.need_report_submit(report=report, by=manager, at=submitted)
        if code != "east":
            continue
        held_on = timezone.localdate(submitted)
        meeting = services.need_meeting_record(
            report=report,
            by=manager,
            held_on=held_on,
            place="华东区域分公司三楼会议室",
            minutes=MINUTES,
            attendees=[manager.pk, staff.pk, org.users["marketing"].pk],
            decisions=[
                {
                    "text": "对地铁集团二期项目BIM深化需求出具实施方案并报价",
                    "owner": staff.pk,
                    "due_on": held_on + dt.timedelta(days=14),
                },
                {
                    "text": "建立重点客户驻场服务需求台账,每月更新一次",
                    "owner": manager.pk,
                    "due_on": held_on + dt.timedelta(days=120),
                },
            ],
            at=min(_at(held_on, 15), now),
        )
        services.need_report_review(
            report=report, by=manager, meeting=meeting, accept=True, at=min(_at(held_on, 16), now)
        )
        first = meeting.decisions.order_by("due_on", "pk").first()
        services.need_decision_done(
            decision=first,
            by=staff,
            note="实施方案和报价已于周例会后发送客户,客户已确认。",
            at=min(_at(held_on + dt.timedelta(days=10), 15), now),
        )
    return f"{made} need analysis reports of {quarter.label}"
