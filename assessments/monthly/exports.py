"""Excel exports of monthly reporting (R36).

The report's and the roll-up's exports are the group's 客户信息统计表 (seed 001: «按照《集团公司
客户信息统计表》填写,每月25日将汇总后的客户信息发送», R74): a workbook whose first sheet holds the
figures (a branch's, with each project department's part beside it; or the roll-up's, one row per
branch and the totals last) and whose next sheet is the client table in the layout of the
archive's export and import (序号, 客户单位名称, 统一社会信用代码 ... 备注, clients.imports.spreadsheet):
one row per client new or changed in the report's window. The roll-up's export holds one such
sheet per branch. A branch report's export then lists the records behind each figure, a sheet
each. Everything is read through ``restrict(reader)`` (a frozen report's ids read again), and the
workbook is streamed sheet after sheet (crm.exports.streamed_book_response): the client sheets
are read a chunk of clients at a time, a few queries per chunk, whatever their length.

The other exports (the list of reports, a figure's records, the rankings) are one-sheet tables.
Every sheet is written through crm.exports (safe from formula injection)."""

from __future__ import annotations

from io import BytesIO
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from clients.imports.spreadsheet import COLUMNS, EXPORT_ONLY_COLUMNS, EXPORT_WIDTHS, export_rows
from crm import figures as fig
from crm.exports import XLSX, Sheet, streamed_book_response, workbook

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


def client_sheet(title: str, clients) -> Sheet:
    """R74: the clients of ``clients`` (a restricted queryset, in its order) as the group's
    客户信息统计表, in the columns of the archive's export; read while the sheet is written."""
    return Sheet(
        title, [*COLUMNS, *EXPORT_ONLY_COLUMNS], export_rows(clients, with_export_columns=True), EXPORT_WIDTHS
    )


def rollup(data: dict, columns, clients: dict) -> HttpResponse:
    """The group's 客户信息统计表 of a period: the roll-up's figures, then one client sheet per
    branch (``clients``: branch id -> the restricted queryset of its clients new or changed in
    its report's window, None where the branch has no report yet)."""
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
    sheets = [Sheet(_("各分子公司汇总"), headers, rows, [20, 12, 18])]
    for row in data["rows"]:
        qs = clients.get(row["branch"].pk)
        if qs is None:
            sheets.append(Sheet(str(row["branch"]), [*COLUMNS, *EXPORT_ONLY_COLUMNS], [], EXPORT_WIDTHS))
        else:
            sheets.append(client_sheet(str(row["branch"]), qs))
    title = _("集团客户信息统计表 %(period)s") % {"period": data["period"].label}
    return streamed_book_response(title, sheets)


def report(report, result: fig.Result, departments, *, lists: dict, clients, department=None) -> HttpResponse:
    """A branch's report, or one project department's part of it (``department``): the figures
    (the branch's with each department's part beside it, or the department's alone), the
    客户信息统计表 of ``clients``, and the records behind each figure (``lists``: as the reader
    may see them), a sheet each."""
    items = list(fig.figures()) + list(fig.rates())
    items.sort(key=lambda i: i.order)
    if department is None:
        headers = [_("项目"), _("数值")] + [d.name for d in departments] + [_("未分配项目经理部")]
        parts = [fig.department_values(result, d.pk if d else 0) for d in [*departments, None]]
        values = result.values
    else:
        headers, parts = [_("项目"), department.name], []
        values = fig.department_values(result, department.pk)
    rows = []
    for item in items:
        rows.append(
            [_label(item), _value(item, values.get(item.key))]
            + [_value(item, part.get(item.key)) for part in parts]
        )
    blank = [""] * len(parts)
    if result.no_change:
        rows.append([_("本期无变化"), "", *blank])
    if report.remarks:
        rows.append([pgettext("monthly report", "说明"), report.remarks, *blank])
    sheets = [Sheet(_("统计数据"), headers, rows, [30, 10]), client_sheet(_("客户信息统计表"), clients)]
    for f in fig.figures():
        records = lists.get(f.key) or []
        if department is not None:
            records = [r for r in records if r.get("department_id") == department.pk]
        if records:
            sheets.append(
                Sheet(
                    str(f.label),
                    [str(c.label) for c in f.columns],
                    [[fig.display(c, r.get(c.key)) for c in f.columns] for r in records],
                )
            )
    title = _("%(branch)s 客户信息统计表 %(period)s") % {
        "branch": f"{report.branch} {department.name}" if department else report.branch,
        "period": report.period,
    }
    return streamed_book_response(title, sheets)


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
