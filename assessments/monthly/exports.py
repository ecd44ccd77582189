"""Excel exports of monthly reporting (R36), in the group's layout of the 客户信息统计表: one row
per branch (or per figure), the figures in the order the report shows them, totals last.
Every sheet is written through crm.exports (safe from formula injection)."""

from __future__ import annotations

from io import BytesIO
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from crm import figures as fig
from crm.exports import XLSX, append_row, workbook

from ..models import TIMELINESS


def _response(wb, filename: str) -> HttpResponse:
    buffer = BytesIO()
    wb.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f'{filename}-{stamp}.xlsx')}"
    return response


def _value(item, value):
    if isinstance(item, fig.Rate):
        return "" if value is None else round(value * 100, 1)
    return value or 0


def _label(item) -> str:
    return f"{item.label}(%)" if isinstance(item, fig.Rate) else str(item.label)


def rollup(data: dict, columns) -> HttpResponse:
    headers = [_("分子公司"), _("上报情况"), _("上报时间")] + [_label(c) for c in columns]
    rows = []
    for row in data["rows"]:
        report = row["report"]
        submitted = (
            timezone.localtime(report.submitted_at).strftime("%Y-%m-%d %H:%M")
            if report and report.submitted_at
            else ""
        )
        rows.append(
            [str(row["branch"]), str(TIMELINESS[row["timeliness"]]), submitted]
            + [_value(c, row["values"].get(c.key)) for c in columns]
        )
    rows.append([_("合计"), "", ""] + [_value(c, data["totals"].get(c.key)) for c in columns])
    title = _("集团客户信息统计表 %(period)s") % {"period": data["period"].label}
    return _response(workbook(title, headers, rows), title)


def report(report, result: fig.Result, departments) -> HttpResponse:
    """A branch's report: the figures (and each department's part) on the first sheet, the
    records behind each figure on a sheet of its own."""
    items = list(fig.figures()) + list(fig.rates())
    items.sort(key=lambda i: i.order)
    headers = [_("项目"), _("数值")] + [d.name for d in departments] + [_("未分配项目经理部")]
    rows = []
    for item in items:
        row = [_label(item), _value(item, result.values.get(item.key))]
        for dept in departments + [None]:
            part = fig.department_values(result, dept.pk if dept else 0)
            row.append(_value(item, part.get(item.key)))
        rows.append(row)
    if result.no_change:
        rows.append([_("本期无变化"), "", *[""] * (len(departments) + 1)])
    if report.remarks:
        rows.append([pgettext("monthly report", "说明"), report.remarks, *[""] * (len(departments) + 1)])
    title = _("%(branch)s 客户信息统计表 %(period)s") % {"branch": report.branch, "period": report.period}
    wb = workbook(title, headers, rows)
    for f in fig.figures():
        rows = result.lists.get(f.key) or []
        if not rows:
            continue
        ws = wb.create_sheet(str(f.label)[:31])
        append_row(ws, [str(c.label) for c in f.columns])
        for r in rows:
            append_row(ws, [fig.display(c, r.get(c.key)) for c in f.columns])
    return _response(wb, title)


def figure_rows(report, f, table) -> HttpResponse:
    title = f"{f.label} {report.branch} {report.period}"
    return _response(workbook(title, [str(c.label) for c in f.columns], [r["cells"] for r in table]), title)


def report_list(qs) -> HttpResponse:
    headers = [_("期间"), _("分子公司"), _("状态"), _("上报情况"), _("上报时间"), _("上报人"), _("无变化")]
    rows = (
        [
            r.period,
            str(r.branch),
            r.get_status_display(),
            str(TIMELINESS[r.timeliness]),
            r.submitted_at,
            r.submitted_by.display_name if r.submitted_by else "",
            _("是") if r.no_change else "",
        ]
        for r in qs
    )
    title = _("月度客户信息报表")
    return _response(workbook(title, headers, rows), title)


def ranking(ranking) -> HttpResponse:
    headers = [
        _("名次"),
        _("分子公司"),
        _("A类客户"),
        _("B类客户"),
        _("C类客户"),
        _("合计"),
        _("A类变化"),
        _("名次变化"),
    ]
    rows = [
        [r["rank"], r["branch"], r["A"], r["B"], r["C"], r["total"], r.get("A_change"), r.get("rank_change")]
        for r in ranking.rows
    ]
    if ranking.remarks:
        rows.append([_("评价"), ranking.remarks])
    title = _("分子公司客户分级排名 %(label)s") % {"label": ranking.label}
    return _response(workbook(title, headers, rows), title)
