"""The import journey (R36) on ``make run``'s shape: east_staff uploads a 客户信息统计表, the
worker (another process, reached through the filesystem broker) validates it and the preview
shows within seconds; on confirmation the worker saves the rows and the page says so; the new
clients are in the archive and the job's status endpoints agree."""

import io
import time
from urllib.parse import quote

import pytest
from openpyxl import Workbook

from clients.imports.spreadsheet import COLUMNS
from tests.clients.factories import make_credit_code

pytestmark = pytest.mark.e2e

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WORKER_TIMEOUT = 15_000  # ms: the worker's answer must reach the page within this
# Names that the demo does not have, with credit codes that pass crm.validators.
ROWS = [
    {"客户单位名称": "嘉兴秀洲高新区开发建设有限公司", "统一社会信用代码": make_credit_code(961_001),
     "客户类型": "国有企业", "联系人": "沈国良、钱晓燕", "职务": "总经理、工程部经理",
     "联系电话": "13957301234、0573-82251234", "客户阶段": "意向客户",
     "合作项目": "秀洲智创园二期施工总承包工程", "合同金额(万元)": 8600},
    {"客户单位名称": "湖州南太湖新区城市投资发展有限公司", "统一社会信用代码": make_credit_code(961_002),
     "客户类型": "国有企业", "联系人": "费建明", "联系电话": "0572-23881234", "客户阶段": "潜在客户"},
    {"客户单位名称": "绍兴滨海新区置业发展有限公司", "统一社会信用代码": make_credit_code(961_003),
     "客户类型": "房地产企业", "联系人": "俞佳", "联系电话": "13857501234", "客户阶段": "准客户",
     "客户需求": "希望了解装配式建筑方案"},
]  # fmt: skip
NAMES = [r["客户单位名称"] for r in ROWS]


def workbook() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(COLUMNS)
    for values in ROWS:
        ws.append([values.get(c, "") for c in COLUMNS])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_import_on_the_embedded_instance(journey, embedded):
    page = journey.login("east_staff")
    journey.shot("home")
    page.get_by_role("link", name="导入客户").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").first.inner_text().startswith("导入客户")
    assert "统一社会信用代码" in page.content()
    journey.shot("upload_page")

    # Upload: the page waits for the worker's validation, then shows the preview.
    page.set_input_files(
        "input[type=file]", {"name": "客户信息统计表.xlsx", "mimeType": XLSX, "buffer": workbook()}
    )
    started = time.monotonic()
    page.get_by_role("button", name="上传并校验").click()
    page.wait_for_url("**/clients/import/*/")
    job = page.url.rstrip("/").rsplit("/", 1)[-1]
    if page.locator("#import-status .spinner-border").count():
        journey.shot("validating")
    page.wait_for_selector("[data-testid=preview-table]", timeout=WORKER_TIMEOUT)
    validated_in = time.monotonic() - started
    body = page.locator("main").inner_text()
    assert "共 3 行" in body and "通过 3" in body and "有错误 0" in body, body
    for row, name in enumerate(NAMES, start=2):
        text = page.locator(f"tr[data-row='{row}']").inner_text()
        assert name in text and "通过" in text, text
    confirm = page.get_by_role("button", name="确认导入 3 个客户")
    assert confirm.is_visible()
    journey.shot("preview")

    status = page.request.get(f"{journey.base}/clients/import/{job}/status/").json()
    assert status["state"] == "validated" and status["total"] == 3 and status["summary"]["ok"], status

    # Confirm: the worker saves the rows in one transaction and the page says so.
    started = time.monotonic()
    confirm.click()
    page.wait_for_selector("[data-testid=import-done]", timeout=WORKER_TIMEOUT)
    imported_in = time.monotonic() - started
    assert "已导入 3 个客户" in page.locator("[data-testid=import-done]").inner_text()
    journey.shot("imported")

    # The job's status, as the page's session reads it, agrees; so does the API.
    status = page.request.get(f"{journey.base}/clients/import/{job}/status/").json()
    assert status["state"] == "imported" and status["done"] == 3 and len(status["created"]) == 3, status
    assert status["error"] == "" and status["summary"]["ok"], status
    api = page.request.get(f"{journey.base}/api/import-jobs/{job}/").json()
    assert api["state"] == "imported" and api["created_by"] == "east_staff", api
    assert [r["name"] for r in api["report"]["rows"]] == NAMES, api["report"]
    # The upload went to the instance's media folder.
    assert list((embedded.dir / "media").rglob("*.xlsx")), "the upload is not under DJANGO_MEDIA_ROOT"

    # The new clients are in the archive: found by name, and each one opens.
    page.get_by_role("link", name="查看客户档案").click()
    page.wait_for_load_state()
    for name in NAMES:
        journey.go(f"/clients/?q={quote(name[2:8])}")
        table = page.locator("[data-testid=client-table]").inner_text()
        assert name in table, table
    page.fill("#id_q", "南太湖新区")
    page.click("[data-testid=search]")
    page.wait_for_load_state()
    assert NAMES[1] in page.locator("[data-testid=client-table]").inner_text()
    journey.shot("archive_search")
    for pk in status["created"]:
        journey.go(f"/clients/{pk}/")
        assert page.locator("h1").first.inner_text().split()[0] in NAMES
    journey.shot("client_detail")

    # The upload page lists the job as imported.
    journey.go("/clients/import/")
    mine = page.locator("#my-imports").inner_text()
    assert "客户信息统计表.xlsx" in mine and "已导入" in mine, mine
    journey.shot("my_imports")
    embedded.timings["import: preview shown"] = validated_in
    embedded.timings["import: imported shown"] = imported_in
