"""The import's tasks executed by a real Celery worker on Redis (R36): validation, then the
all-or-nothing save, with the progress the page polls; a repeated delivery changes nothing."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from clients.imports import services as importing
from clients.imports.spreadsheet import COLUMNS
from clients.imports.tasks import import_commit, import_validate
from clients.models import Client, Contact, ImportJob
from tests.clients.factories import make_credit_code

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def workbook(n: int) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(COLUMNS)
    for i in range(n):
        values = dict.fromkeys(COLUMNS, "")
        values.update(
            {
                "客户单位名称": f"南京江北新区第{i + 1}建设发展有限公司",
                "统一社会信用代码": make_credit_code(920_000 + i),
                "联系人": "钱立新",
                "联系电话": f"139{i:08d}",
                "所属分公司": "安装分公司",
            }
        )
        ws.append([values[c] for c in COLUMNS])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def row(job) -> ImportJob:
    return ImportJob.objects.get(pk=job.pk)


def test_real_worker_validates_then_imports(org, celery_worker, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    user = org["install_staff"]
    job = importing.import_job_create(user=user, upload=SimpleUploadedFile("clients.xlsx", workbook(120)))
    import_validate.delay(str(job.pk)).get(timeout=30)
    done = row(job)
    assert done.state == "validated" and done.summary["ok"] and done.summary["rows"] == 120
    assert done.done == 120 and len(done.report["rows"]) == 120
    assert Client.objects.count() == 0

    importing.import_confirm(job=done)
    import_commit.delay(str(job.pk)).get(timeout=60)
    done = row(job)
    assert done.state == "imported" and len(done.created) == 120
    assert Client.objects.filter(branch=org.branches["install"], owner=user).count() == 120
    assert Contact.objects.count() == 120
    # At-least-once delivery: the same message again imports nothing more.
    import_commit.delay(str(job.pk)).get(timeout=30)
    assert row(job).state == "imported"
    assert Client.objects.count() == 120
    # Every state the job went through is in its history, oldest first.
    states = [h.state for h in done.history.order_by("history_date")]
    assert states == ["queued", "running", "validated", "queued", "running", "imported"]


def test_real_worker_saves_nothing_when_a_row_turned_bad(org, celery_worker, settings, tmp_path):
    """Validated, then someone else created one of the clients: the commit validates again
    and saves none of the rows."""
    settings.MEDIA_ROOT = tmp_path
    user = org["install_staff"]
    job = importing.import_job_create(user=user, upload=SimpleUploadedFile("clients.xlsx", workbook(30)))
    import_validate.delay(str(job.pk)).get(timeout=30)
    assert row(job).summary["ok"]
    importing.import_confirm(job=row(job))
    Client.objects.create(
        name="另一家公司", credit_code=make_credit_code(920_007), branch=org.branches["install"], owner=user
    )
    import_commit.delay(str(job.pk)).get(timeout=30)
    after = row(job)
    assert after.state == "validated" and not after.summary["ok"]
    assert Client.objects.count() == 1
    bad = [r for r in after.report["rows"] if r["errors"]]
    assert [(r["row"], r["errors"][0]["column"]) for r in bad] == [(9, "统一社会信用代码")]
