"""Excel export (R36): every table a manager looks at can be exported as shown.

Every export goes through :func:`workbook` (or :func:`append_row` for a sheet built by hand), so
every export is safe from formula injection (OWASP "CSV injection"): a text value that begins
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written as a plain string cell with
Excel's "quote prefix" style, which is what Excel itself stores when a person types
``'=1+1``. The cell shows and holds the original text exactly (no ``'`` is added to the value,
so a re-import reads back what was exported), Excel and LibreOffice never evaluate it, and
editing it in Excel keeps it text. Numbers and dates are not text and stay numbers and dates
(-5 is a number, not an injection).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from io import BytesIO
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What a spreadsheet may read as the start of a formula (OWASP CSV injection guidance).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def as_text(cell) -> None:
    """Make a formula-looking text cell a plain string cell (openpyxl reads a str beginning with
    ``=`` as a formula and would write it as one)."""
    if is_formula_like(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True


def append_row(ws: Worksheet, values: Sequence) -> None:
    """``ws.append(values)`` with every formula-looking text written as text."""
    values = list(values)
    ws.append(values)
    row = ws.max_row
    for column, value in enumerate(values, start=1):
        if is_formula_like(value):
            as_text(ws.cell(row=row, column=column))


def _cell(value):
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, Decimal):
        return float(value)
    if value is None:
        return ""
    return value


def workbook(title: str, headers: Sequence[str], rows: Iterable[Sequence]) -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    append_row(ws, headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE6F0")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    widths = [max(6, len(str(h)) * 2 + 2) for h in headers]
    for row in rows:
        values = [_cell(v) for v in row]
        append_row(ws, values)
        for i, v in enumerate(values[: len(widths)]):
            widths[i] = min(60, max(widths[i], len(str(v)) + 2 if v != "" else 0))
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "A2"
    return wb


def streamed_xlsx_response(
    filename: str, title: str, headers: Sequence[str], rows: Iterable[Sequence], *, widths: Sequence[int] = ()
) -> HttpResponse:
    """An .xlsx of any length at a bounded memory cost (R36: the whole archive, 100k rows): the
    rows are written one by one through openpyxl's write-only mode into a temporary file, so
    only the finished file (a few MB per 10k rows) is ever held whole. Formula-looking text is
    written as text, as everywhere (:func:`as_text`)."""
    import tempfile

    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    ws.freeze_panes = "A2"
    for i, header in enumerate(headers, start=1):
        width = widths[i - 1] if i - 1 < len(widths) else max(8, len(str(header)) * 2 + 2)
        ws.column_dimensions[get_column_letter(i)].width = width
    head = []
    for header in headers:
        cell = WriteOnlyCell(ws, value=str(header))
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE6F0")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        head.append(cell)
    ws.append(head)
    for row in rows:
        values = []
        for value in row:
            value = _cell(value)
            if is_formula_like(value):
                cell = WriteOnlyCell(ws, value=value)
                as_text(cell)
                values.append(cell)
            else:
                values.append(value)
        ws.append(values)
    with tempfile.TemporaryFile() as buffer:
        wb.save(buffer)
        buffer.seek(0)
        response = HttpResponse(buffer.read(), content_type=XLSX)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f'{filename}-{stamp}.xlsx')}"
    return response


def xlsx_response(
    filename: str, title: str, headers: Sequence[str], rows: Iterable[Sequence]
) -> HttpResponse:
    """An .xlsx download; ``filename`` without extension, Chinese allowed."""
    buffer = BytesIO()
    workbook(title, headers, rows).save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f'{filename}-{stamp}.xlsx')}"
    return response
