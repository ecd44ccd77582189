"""Excel exports of the need analysis reports (R36, R69): the list as shown, and one report with
its five parts, its figures and counts, its meetings and decisions, and its history, one sheet
each. Every sheet is written through crm.exports (safe from formula injection)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from crm import figures as fig
from crm.exports import append_row, workbook, workbook_response, xlsx_response


def _name(user) -> str:
    return user.display_name if user else ""


def _moment(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def report_list(qs):
    """R36: exactly the rows the list shows, in its order."""
    headers = [
        _("季度"),
        _("分子公司"),
        _("状态"),
        _("提交人"),
        _("提交时间"),
        _("需求分析会议"),
        _("未完成的决定事项"),
        _("审核时间"),
        _("退回原因"),
    ]

    def out():
        for r in qs:
            yield [
                r.quarter,
                r.branch.name,
                r.get_status_display(),
                _name(r.submitted_by),
                _moment(r.submitted_at),
                r.meeting_count,
                r.open_decisions,
                _moment(r.reviewed_at),
                r.returned_reason,
            ]

    return xlsx_response(_("客户需求分析报告"), _("客户需求分析报告"), headers, out())


def _figure_value(item) -> str | int:
    if item["rate"]:
        return "" if item["value"] is None else f"{item['value'] * 100:.1f}%"
    return item["value"]


def report(report, sections, result: fig.Result, timeline) -> object:
    """One report: the parts (报告), the figures and counts beside each part (数据), the meetings
    (需求分析会议), their decisions (决定事项) and the history (办理记录)."""
    title = _("%(branch)s %(quarter)s 客户需求分析报告") % {
        "branch": report.branch,
        "quarter": report.quarter,
    }
    rows = [[str(s["label"]), s["text"]] for s in sections]
    rows.append([_("状态"), report.get_status_display()])
    if report.returned_reason:
        rows.append([_("退回原因"), report.returned_reason])
    wb = workbook(title, [_("部分"), _("内容")], rows)
    wb.active.column_dimensions["B"].width = 100
    data = wb.create_sheet(_("数据")[:31])
    append_row(data, [_("部分"), _("指标"), _("分项"), _("数值")])
    for s in sections:
        for item in s["figures"]:
            append_row(data, [str(s["label"]), str(item["label"]), "", _figure_value(item)])
        for breakdown in s["breakdowns"]:
            for entry in breakdown["items"]:
                append_row(data, [str(s["label"]), str(breakdown["label"]), entry["label"], entry["count"]])
    meetings_sheet = wb.create_sheet(_("需求分析会议")[:31])
    append_row(meetings_sheet, [_("会议日期"), _("会议地点"), _("参会人员"), _("讨论情况"), _("记录人")])
    decisions_sheet = wb.create_sheet(_("决定事项")[:31])
    append_row(
        decisions_sheet,
        [
            _("会议日期"),
            _("决定事项"),
            _("负责人"),
            _("完成期限"),
            _("完成时间"),
            _("完成情况"),
            _("确认完成人"),
        ],
    )
    meetings = report.meetings.prefetch_related("attendees", "decisions__owner", "decisions__done_by")
    for meeting in meetings.select_related("recorded_by").order_by("held_on", "pk"):
        append_row(
            meetings_sheet,
            [
                meeting.held_on.isoformat(),
                meeting.place,
                "、".join(_name(u) for u in meeting.attendees.all()),
                meeting.minutes,
                _name(meeting.recorded_by),
            ],
        )
        for d in meeting.decisions.all():
            append_row(
                decisions_sheet,
                [
                    meeting.held_on.isoformat(),
                    d.text,
                    _name(d.owner),
                    d.due_on.isoformat(),
                    _moment(d.done_at),
                    d.done_note,
                    _name(d.done_by),
                ],
            )
    history = wb.create_sheet(_("办理记录")[:31])
    append_row(history, [_("时间"), _("操作人"), _("操作")])
    for step in timeline:
        append_row(history, [_moment(step["at"]), _name(step["by"]), step["what"]])
    return workbook_response(wb, title)
