"""Journey of the import (R36): east_staff downloads the template, uploads a file with a bad
row and sees the row and column named, fixes it, watches the progress and imports."""

import io

import pytest
from openpyxl import Workbook

from clients.imports.spreadsheet import COLUMNS
from clients.models import Client
from tests.clients.factories import make_credit_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def workbook(bad_phone: bool) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(COLUMNS)
    rows = [
        {"客户单位名称": "上海浦东开发建设集团有限公司", "统一社会信用代码": make_credit_code(930_001),
         "客户类型": "国有企业", "联系人": "王建国、陈丽华", "职务": "工程管理部经理、成本合约部经理",
         "联系电话": "13812345678、021-68881234", "客户阶段": "签约客户", "合作项目": "张江科学城人才公寓施工总承包工程",
         "合同金额(万元)": 12850.5},
        {"客户单位名称": "苏州工业园区城市重建有限公司", "统一社会信用代码": make_credit_code(930_002),
         "联系人": "周海涛", "联系电话": "0512-1234" if bad_phone else "0512-62881234", "客户阶段": "意向客户"},
    ]  # fmt: skip
    for values in rows:
        ws.append([values.get(c, "") for c in COLUMNS])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_east_staff_imports_clients(org, journey, celery_worker, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    page = journey.login("east_staff")
    page.get_by_role("link", name="导入客户").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").first.inner_text().startswith("导入客户")
    assert "统一社会信用代码" in page.content()
    with page.expect_download() as download:
        page.get_by_role("link", name="下载导入模板").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    journey.shot("upload_page")

    page.set_input_files(
        "input[type=file]", {"name": "客户信息统计表.xlsx", "mimeType": XLSX, "buffer": workbook(True)}
    )
    page.get_by_role("button", name="上传并校验").click()
    page.wait_for_selector("[data-testid=preview-table]")
    bad = page.locator("tr[data-row='3']")
    assert "联系电话" in bad.inner_text()
    assert page.get_by_role("button", name="确认导入").count() == 0
    journey.shot("preview_with_error")
    assert Client.objects.count() == 0

    page.get_by_role("link", name="重新上传").click()
    page.set_input_files(
        "input[type=file]", {"name": "客户信息统计表.xlsx", "mimeType": XLSX, "buffer": workbook(False)}
    )
    page.get_by_role("button", name="上传并校验").click()
    page.wait_for_selector("[data-testid=preview-table]")
    journey.shot("preview_ok")
    page.get_by_role("button", name="确认导入 2 个客户").click()
    page.wait_for_selector("[data-testid=import-done]")
    assert "已导入 2 个客户" in page.locator("[data-testid=import-done]").inner_text()
    journey.shot("imported")
    assert Client.objects.filter(branch=org.branches["east"], owner=org["east_staff"]).count() == 2
