"""Attachments journey (R61-R64; seed 003: «对客户沟通、市场调研等过程中的重要信息进行录音、录像或文字
记录,并妥善保存»): east_staff attaches the minutes of a meeting to a need, is refused a program
dressed as a photo, downloads the minutes (saved as a file, with its name), deletes a wrong upload
and sees it kept apart; a group leader reads and downloads but is offered no upload."""

import pytest

from clients import services
from clients.models import Need, NeedAttachment
from crm.attachments import samples
from tests.clients.factories import ClientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MINUTES = samples.pdf_document("设计交底会议纪要", ["时间:3月12日", "参会:甲方工程部、我方设计负责人"])


def test_a_need_gets_its_meeting_minutes_and_they_come_back_as_a_download(org, journey, tmp_path):
    client = ClientFactory(
        name="苏州工业园区城市更新投资有限公司", branch=org.branches["east"], owner=org["east_staff"]
    )
    need = services.need_create(
        need=Need(
            client=client, category="service", urgency="important", description="希望提供装配式建筑方案比选"
        ),
        by=org["east_staff"],
    )

    page = journey.login("east_staff")
    journey.go(f"/clients/needs/{need.pk}/")
    panel = page.locator("[data-testid=attachments]")
    assert panel.locator("[data-testid=no-attachments]").is_visible()
    journey.shot("need_without_attachments")

    # A program called .jpg is refused, with the reason, and the note typed is kept.
    form = panel.locator("[data-testid=attachment-form]")
    form.locator("input[type=file]").set_input_files(
        {"name": "现场照片.jpg", "mimeType": "image/jpeg", "buffer": b"MZ\x90\x00" + b"\x00" * 200}
    )
    form.locator("input[name=note]").fill("现场照片")
    with page.expect_navigation():
        form.locator("[data-testid=attachment-upload]").click()
    error = page.locator("[data-testid=attachment-error]")
    assert "不能上传可执行文件" in error.inner_text()
    assert page.locator("[data-testid=attachment-form] input[name=note]").input_value() == "现场照片"
    journey.shot("refused_program")

    # The minutes go in.
    form = page.locator("[data-testid=attachment-form]")
    form.locator("input[type=file]").set_input_files(
        {"name": "设计交底会议纪要.pdf", "mimeType": "application/pdf", "buffer": MINUTES}
    )
    form.locator("input[name=note]").fill("3月12日会议纪要(甲方已确认)")
    form.locator("[data-testid=attachment-upload]").click()
    page.wait_for_url(f"**/clients/needs/{need.pk}/#attachments")
    rows = page.locator("[data-testid=attachment]")
    assert rows.count() == 1 and "设计交底会议纪要.pdf" in rows.first.inner_text()
    assert "已上传" in page.locator(".alert-success").first.inner_text()
    journey.shot("minutes_attached")

    # The download is a file saved with its name and its bytes, never a page.
    with page.expect_download() as caught:
        rows.first.locator("[data-testid=attachment-download]").click()
    download = caught.value
    assert download.suggested_filename == "设计交底会议纪要.pdf"
    saved = tmp_path / "saved.pdf"
    download.save_as(saved)
    assert saved.read_bytes() == MINUTES
    assert page.url.endswith(f"/clients/needs/{need.pk}/#attachments")

    # A wrong upload is deleted with a reason; it is kept apart, not lost.
    form = page.locator("[data-testid=attachment-form]")
    form.locator("input[type=file]").set_input_files(
        {"name": "错传的照片.png", "mimeType": "image/png", "buffer": samples.png_picture(variant=1)}
    )
    form.locator("[data-testid=attachment-upload]").click()
    page.wait_for_url(f"**/clients/needs/{need.pk}/#attachments")
    wrong = page.locator("[data-testid=attachment]", has_text="错传的照片.png")
    wrong.locator("[data-testid=attachment-delete] summary").click()
    wrong.locator("input[name=reason]").fill("传错了客户的照片")
    with page.expect_navigation():
        wrong.locator("[data-testid=attachment-delete-confirm]").click()
    assert page.locator("[data-testid=attachment]").count() == 1
    kept = page.locator("[data-testid=deleted-attachments]")
    kept.locator("summary").click()
    assert "传错了客户的照片" in kept.inner_text()
    journey.shot("wrong_upload_deleted")
    assert NeedAttachment.objects.live().count() == 1 and NeedAttachment.objects.deleted().count() == 1

    # A group leader reads and downloads; no upload is offered (R3).
    page = journey.login("leader")
    journey.go(f"/clients/needs/{need.pk}/")
    assert page.locator("[data-testid=attachment]").count() == 1
    assert page.locator("[data-testid=attachment-form]").count() == 0
    with page.expect_download() as caught:
        page.locator("[data-testid=attachment-download]").click()
    assert caught.value.suggested_filename == "设计交底会议纪要.pdf"
    journey.shot("leader_reads")
