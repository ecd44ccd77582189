"""The import reads the rows a sheet holds, bounded (R36, issue 23): the rows the reader yields
count against a bound whether they are empty or not, so a single cell at row 20,000,000 is
refused at once instead of keeping the worker busy, and a wrong ``<dimension>`` in the file
(A1:T3 over five rows) neither hides rows nor lets them be dropped silently. A job stopped by the
task's soft time limit ends failed with a message a person can read."""

from __future__ import annotations

import io
import re
import time
import zipfile

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.uploadedfile import SimpleUploadedFile

from clients.imports import services as importing
from clients.imports import tasks as import_tasks
from clients.models import Client, ImportJob
from tests.clients.test_import import media  # noqa: F401
from tests.clients.test_import_batches import sheet

pytestmark = pytest.mark.django_db

SHEET_XML = "xl/worksheets/sheet1.xml"


def rewrite_sheet(content: bytes, change) -> bytes:
    """The workbook ``content`` with its first sheet's XML passed through ``change``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == SHEET_XML:
                data = change(data.decode()).encode()
            dst.writestr(item, data)
    return out.getvalue()


def with_dimension(content: bytes, ref: str) -> bytes:
    def change(xml):
        changed, n = re.subn(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>', xml)
        assert n == 1
        return changed

    return rewrite_sheet(content, change)


def with_cell_at(content: bytes, number: int, text: str = "x") -> bytes:
    """One more row, numbered ``number``, with a single cell in column B (客户单位名称)."""
    cell = f'<row r="{number}"><c r="B{number}" t="inlineStr"><is><t>{text}</t></is></c></row>'

    def change(xml):
        assert xml.count("</sheetData>") == 1
        return xml.replace("</sheetData>", cell + "</sheetData>")

    return rewrite_sheet(content, change)


def validate(user, content: bytes) -> ImportJob:
    job = importing.import_job_create(user=user, upload=SimpleUploadedFile("客户信息统计表.xlsx", content))
    return importing.import_validate(job=job)


def test_a_dimension_smaller_than_the_sheet_hides_no_row(org):
    content = with_dimension(sheet(5, grade=""), "A1:T3")
    assert b'<dimension ref="A1:T3"/>' in zipfile.ZipFile(io.BytesIO(content)).read(SHEET_XML)
    job = validate(org["east_manager"], content)
    assert job.summary["ok"], job.report
    assert job.summary["rows"] == 5 and job.total == 5
    assert [r["row"] for r in job.report["rows"]] == [2, 3, 4, 5, 6]
    importing.import_confirm(job=job)
    job = importing.import_commit(job_id=job.pk)
    assert job.state == "imported" and Client.objects.count() == 5


def test_a_dimension_larger_than_the_sheet_reads_only_what_is_there(org):
    content = with_dimension(sheet(3, grade=""), "A1:T20000000")
    started = time.monotonic()
    job = validate(org["east_manager"], content)
    assert time.monotonic() - started < 10
    assert job.summary["ok"] and job.summary["rows"] == 3


def test_a_single_cell_at_row_twenty_million_is_refused_at_once(org):
    content = with_cell_at(sheet(1, grade=""), 20_000_000, "杭州余杭建设有限公司")
    assert len(content) < 20_000  # a small file
    started = time.monotonic()
    job = validate(org["east_manager"], content)
    assert time.monotonic() - started < 10
    assert job.state == "validated" and not job.summary["ok"]
    assert "工作表超过 20000 行" in " ".join(job.summary["file_errors"])
    assert importing.MAX_SHEET_ROWS == 20_000


def test_empty_rows_count_against_the_bound_on_reading(org, monkeypatch):
    """Every row the reader yields counts, the header and the empty ones included: the last row
    of a sheet may be row ``MAX_SHEET_ROWS``, not one further."""
    monkeypatch.setattr(importing, "MAX_SHEET_ROWS", 10)
    user = org["east_manager"]
    # Header, two clients (rows 2-3), empty rows, a third client on the last row allowed.
    job = validate(user, with_cell_at(sheet(2, grade=""), 10, "杭州余杭建设有限公司"))
    assert job.summary["ok"], job.report
    assert [r["row"] for r in job.report["rows"]] == [2, 3, 10]
    job = validate(user, with_cell_at(sheet(2, grade=""), 11, "杭州余杭建设有限公司"))
    assert not job.summary["ok"] and job.summary["rows"] == 0
    assert job.summary["file_errors"] == ["工作表超过 10 行(空行也计算在内),请删除多余的空行或拆分文件。"]


def test_the_row_limit_still_counts_the_rows_with_data(org, monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 4)
    job = validate(org["east_manager"], with_dimension(sheet(5, grade=""), "A1:T3"))
    assert "一次最多导入 4 行" in " ".join(job.summary["file_errors"])


def with_cell_in_every_row(content: bytes, column: str, text: str = "内部编号") -> bytes:
    """Each row of the sheet with one more cell, in ``column`` (its letters)."""

    def change(xml):
        def add(match):
            number = match.group(1)
            cell = f'<c r="{column}{number}" t="inlineStr"><is><t>{text}</t></is></c>'
            return match.group(0).replace("</row>", cell + "</row>")

        changed, n = re.subn(r'<row r="(\d+)"[^>]*>.*?</row>', add, xml, flags=re.S)
        assert n >= 2
        return changed

    return rewrite_sheet(content, change)


def test_columns_up_to_the_bound_are_read(org):
    """Column 60 (BH) is read: its header is named as a column the template does not have (the
    import never ignores a column), not refused as too wide."""
    job = validate(org["east_manager"], with_cell_in_every_row(sheet(3, grade=""), "BH"))
    assert importing.MAX_COLUMNS == 60
    assert not job.summary["ok"]
    assert job.summary["file_errors"] == [
        "未知的列“内部编号”:客户信息统计表没有此列,请删除或改为模板中的列名(不会被忽略)"
    ]


def test_a_value_past_the_last_column_read_is_refused_not_dropped(org):
    """Column 61 (BI) holds a value: the file is refused with the row, not imported without it."""
    job = validate(org["east_manager"], with_cell_in_every_row(sheet(3, grade=""), "BI"))
    assert not job.summary["ok"] and job.summary["rows"] == 0
    assert job.summary["file_errors"] == ["第 1 行超过 60 列,请删除多余的列后再导入。"]


def test_a_cell_at_the_last_excel_column_in_every_row_costs_no_wide_rows(org, monkeypatch):
    """A cell at XFD (column 16,384) in each of 2,000 rows: the reader is asked for 61 columns,
    so no row of 16,384 values is built; what lies past column 61 is not read at all."""
    widths = []
    bounded = importing._bounded

    def watch(rows):
        def seen():
            for values in rows:
                widths.append(len(values or ()))
                yield values

        return bounded(seen())

    monkeypatch.setattr(importing, "_bounded", watch)
    content = with_cell_in_every_row(sheet(2_000, grade=""), "XFD")
    job = validate(org["east_manager"], content)
    assert job.summary["ok"] and job.summary["rows"] == 2_000, job.summary["file_errors"]
    assert len(widths) == 2_001 and max(widths) == importing.MAX_COLUMNS + 1


# ------------------------------------------------------------------ the soft time limit


def slow_rows(check):
    """A row check that runs out of time on the third row, as the worker's soft time limit
    would interrupt it."""
    seen = []

    def row(validator, *args, **kwargs):
        seen.append(1)
        if len(seen) == 3:
            raise SoftTimeLimitExceeded()
        return check(validator, *args, **kwargs)

    return row


def test_validation_stopped_by_the_soft_time_limit_fails_with_a_message(org, monkeypatch):
    monkeypatch.setattr(importing.Validator, "row", slow_rows(importing.Validator.row))
    job = importing.import_job_create(
        user=org["east_manager"], upload=SimpleUploadedFile("客户信息统计表.xlsx", sheet(5, grade=""))
    )
    import_tasks.import_validate(str(job.pk))  # the task's own function, run here
    job.refresh_from_db()
    assert job.state == "failed" and job.finished_at is not None and not job.running
    assert job.error == "校验用时过长,已被停止。请把文件拆分成几个较小的文件后重新上传。"
    assert job.history.filter(state="failed").exists()


def test_a_commit_stopped_by_the_soft_time_limit_saves_nothing_and_fails(org, monkeypatch):
    user = org["east_manager"]
    job = validate(user, sheet(5, grade=""))
    assert job.summary["ok"]
    importing.import_confirm(job=job)
    monkeypatch.setattr(importing, "IMPORT_BATCH", 2)
    batches = []
    real = importing._import_batch

    def batch(rows, **kwargs):
        batches.append(len(rows))
        if len(batches) == 2:  # the first batch is in, the second runs out of time
            raise SoftTimeLimitExceeded()
        return real(rows, **kwargs)

    monkeypatch.setattr(importing, "_import_batch", batch)
    import_tasks.import_commit(str(job.pk))
    job.refresh_from_db()
    assert batches == [2, 2]
    assert job.state == "failed" and job.finished_at is not None and not job.running
    assert job.error == "导入用时过长,已被停止。请把文件拆分成几个较小的文件后重新上传。"
    assert Client.objects.count() == 0 and job.created == []
