"""The import's tasks executed by a real Celery worker on Redis (R36): validation, then the
all-or-nothing save, with the progress the page polls; a repeated delivery changes nothing."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from clients.imports import services as importing
from clients.imports.spreadsheet import COLUMNS
from clients.imports.tasks import import_commit, import_validate
from clients.models import Client, Contact
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


def test_real_worker_validates_then_imports(org, celery_worker, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    user = org["install_staff"]
    job = importing.job_create(user=user, upload=SimpleUploadedFile("clients.xlsx", workbook(120)))
    state = import_validate.delay(job).get(timeout=30)
    assert state["state"] == "validated" and state["summary"]["ok"] and state["summary"]["rows"] == 120
    assert importing.job_read(job)["done"] == 120
    assert Client.objects.count() == 0

    state = import_commit.delay(job).get(timeout=60)
    assert state["state"] == "imported" and len(state["created"]) == 120
    assert Client.objects.filter(branch=org.branches["install"], owner=user).count() == 120
    assert Contact.objects.count() == 120
    # At-least-once delivery: the same message again imports nothing more.
    assert import_commit.delay(job).get(timeout=30)["state"] == "imported"
    assert Client.objects.count() == 120


def test_real_worker_saves_nothing_when_a_row_turned_bad(org, celery_worker, settings, tmp_path):
    """Validated, then someone else created one of the clients: the commit validates again
    and saves none of the rows."""
    settings.MEDIA_ROOT = tmp_path
    user = org["install_staff"]
    job = importing.job_create(user=user, upload=SimpleUploadedFile("clients.xlsx", workbook(30)))
    assert import_validate.delay(job).get(timeout=30)["summary"]["ok"]
    Client.objects.create(
        name="另一家公司", credit_code=make_credit_code(920_007), branch=org.branches["install"], owner=user
    )
    state = import_commit.delay(job).get(timeout=30)
    assert state["state"] == "validated" and not state["summary"]["ok"]
    assert Client.objects.count() == 1
    bad = [r for r in importing.load_report(job)["rows"] if r["errors"]]
    assert [(r["row"], r["errors"][0]["column"]) for r in bad] == [(9, "统一社会信用代码")]
