"""Attachments of needs and visits (R61-R64): stored through the storage API under generated
names and given back as downloads only; all or nothing (no file without its row, no row without
its file); deleted softly, with who, when and why kept; the same answers from the pages and the
API; another branch's reads logged (R4)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from clients.models import AccessLog, Client, Need, NeedAttachment, Visit, VisitAttachment
from crm.attachments import samples
from crm.attachments.files import attachment_storage
from crm.attachments.services import attachment_add, attachment_delete
from tests.clients.grants import make_grant

from .archive_helpers import make_need, make_visit, stored_files

pytestmark = pytest.mark.django_db

PDF = samples.pdf_document("会议纪要", ["3月12日设计交底会议"])
PNG = samples.png_picture()


def attach(org, need, content=PDF, name="会议纪要.pdf", *, by="east_staff", note="") -> NeedAttachment:
    return attachment_add(
        model=NeedAttachment, parent=need, upload=ContentFile(content, name=name), by=org[by], note=note
    )


# -- the service ------------------------------------------------------------------------------


def test_an_upload_is_stored_under_a_generated_name_and_recorded(org):
    """R61, R64: the name is kept for display, the file stored under a name made by the system."""
    need = make_need(org)
    before = stored_files()
    row = attach(org, need, name="../甲方来函(终稿).pdf", note="甲方书面提出")
    assert row.name == "甲方来函(终稿).pdf" and row.kind == "document" and row.size == len(PDF)
    assert row.stored_name.startswith("attachments/clients/needattachment/")
    assert row.stored_name.endswith(".pdf") and "甲方" not in row.stored_name
    assert stored_files() == sorted([*before, row.stored_name])
    with attachment_storage().open(row.stored_name, "rb") as handle:
        assert handle.read() == PDF
    first = row.history.get()
    assert first.history_type == "+" and first.history_user == org["east_staff"]
    assert first.history_change_reason == "上传附件"


def test_a_refused_upload_stores_nothing(org):
    need = make_need(org)
    before = stored_files()
    for content, name in ((b"", "空.pdf"), (PNG, "报价.pdf"), (b"MZ\x00\x00", "a.exe"), (PDF, "a\x00.pdf")):
        with pytest.raises(ValidationError):
            attach(org, need, content, name)
    with pytest.raises(ValidationError) as caught:
        attach(org, need, note="说" * 201)
    assert "note" in caught.value.message_dict
    assert stored_files() == before and not NeedAttachment.objects.exists()


@pytest.mark.parametrize(
    "persona,error",
    [("south_staff", Http404), ("leader", PermissionDenied), ("auditor", PermissionDenied)],
)
def test_only_those_who_may_change_the_need_upload(org, persona, error):
    """R62: another branch does not see the need (404); the group's readers may not change it."""
    need = make_need(org)
    before = stored_files()
    with pytest.raises(error):
        attach(org, need, by=persona)
    assert stored_files() == before and not NeedAttachment.objects.exists()
    assert attach(org, need, by="marketing").uploaded_by == org["marketing"]
    assert attach(org, need, by="east_manager").uploaded_by == org["east_manager"]


def test_a_grant_reads_but_does_not_upload(org):
    need = make_need(org)
    make_grant(org, org["south_staff"], need.client, active=True)
    with pytest.raises(PermissionDenied):
        attach(org, need, by="south_staff")


# A storage that, once it has stored the file, lets something happen to the need: what another
# person does while the file is still uploading. The file system storage otherwise.
WHILE_UPLOADING: list = []


class StorageWithSomeoneElse(FileSystemStorage):
    def _save(self, name, content):
        stored = super()._save(name, content)
        for happen in WHILE_UPLOADING:
            happen()
        return stored


@pytest.fixture
def someone_else(settings):
    storages = {**settings.STORAGES}
    storages["attachments"] = {"BACKEND": f"{__name__}.StorageWithSomeoneElse"}
    settings.STORAGES = storages
    yield WHILE_UPLOADING
    WHILE_UPLOADING.clear()


def test_no_half_save_when_the_need_is_deleted_while_its_file_uploads(org, someone_else):
    """R64: the file is stored, then the row cannot be saved (the need is gone): the stored file
    is removed again, and nothing is left of the upload."""
    need = make_need(org)
    before = stored_files()
    someone_else.append(lambda: Need.objects.filter(pk=need.pk).delete())
    with pytest.raises(Http404):
        attach(org, need)
    assert not NeedAttachment.objects.exists() and not NeedAttachment.history.exists()
    assert stored_files() == before


def test_no_half_save_when_the_right_is_lost_while_the_file_uploads(org, someone_else):
    """R62, R64: the client is transferred to another branch during the upload: the check made
    again inside the transaction refuses, and the stored file is removed."""
    need = make_need(org)
    before = stored_files()
    someone_else.append(lambda: Client.objects.filter(pk=need.client_id).update(branch=org.branches["south"]))
    with pytest.raises(Http404):
        attach(org, need)
    assert not NeedAttachment.objects.exists() and stored_files() == before


def test_a_delete_is_soft_and_recorded(org):
    """R63: the row leaves the lists, its file and history stay, with who, when and why."""
    need = make_need(org)
    row = attach(org, need)
    deleted = attachment_delete(attachment=row, by=org["east_manager"], reason="上传错了文件")
    assert deleted.deleted_by == org["east_manager"] and deleted.deleted_at is not None
    assert not NeedAttachment.objects.live().exists() and NeedAttachment.objects.deleted().count() == 1
    assert attachment_storage().exists(row.stored_name)
    last = deleted.history.order_by("history_date", "history_id").last()
    assert last.history_user == org["east_manager"] and last.history_change_reason == "删除附件:上传错了文件"
    with pytest.raises(ValidationError):
        attachment_delete(attachment=row, by=org["east_manager"])


@pytest.mark.parametrize("persona,error", [("south_manager", Http404), ("auditor", PermissionDenied)])
def test_only_those_who_may_change_the_need_delete(org, persona, error):
    row = attach(org, make_need(org))
    with pytest.raises(error):
        attachment_delete(attachment=row, by=org[persona])
    row.refresh_from_db()
    assert row.deleted_at is None
    # Deleting takes the right to change the record, not the branch's delete right (R62).
    assert attachment_delete(attachment=row, by=org["east_staff"]).deleted_at is not None


# -- the pages ----------------------------------------------------------------------------------


def test_the_need_page_lists_and_uploads(org):
    need = make_need(org)
    web = org.web("east_staff")
    page = web.get(reverse("clients:need-detail", args=[need.pk]))
    assert page.status_code == 200 and 'data-testid="attachment-form"' in page.content.decode()
    response = web.post(
        reverse("clients:need-attachment-add", args=[need.pk]),
        {"file": SimpleUploadedFile("座谈纪要.pdf", PDF, "application/pdf"), "note": "座谈会纪要"},
    )
    assert response.status_code == 302 and response["Location"].endswith(
        f"/clients/needs/{need.pk}/#attachments"
    )
    row = NeedAttachment.objects.get()
    assert (row.name, row.note, row.uploaded_by) == ("座谈纪要.pdf", "座谈会纪要", org["east_staff"])
    html = web.get(reverse("clients:need-detail", args=[need.pk])).content.decode()
    assert "座谈纪要.pdf" in html and row.get_download_url() in html


def test_a_refused_upload_shows_why_and_keeps_the_note(org):
    need = make_need(org)
    response = org.web("east_staff").post(
        reverse("clients:need-attachment-add", args=[need.pk]),
        {"file": SimpleUploadedFile("报价单.pdf", PNG, "application/pdf"), "note": "客户报价确认"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and "内容与扩展名 .pdf 不符" in html
    assert 'value="客户报价确认"' in html and not NeedAttachment.objects.exists()


@override_settings(CRM_ATTACHMENT_MAX_MB=1, CRM_UPLOAD_LIMIT_BYTES=1024 * 1024)
def test_a_file_too_large_is_dropped_as_it_arrives(org):
    """R61: past the limit the file is not kept at all (the upload handler drops it while it
    streams in) and the page says it was too large, not that no file was chosen."""
    need = make_need(org)
    big = b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10)
    response = org.web("east_staff").post(
        reverse("clients:need-attachment-add", args=[need.pk]),
        {"file": SimpleUploadedFile("扫描件.pdf", big, "application/pdf"), "note": "扫描件"},
    )
    assert response.status_code == 200 and "超过单个附件 1 MB 的上限" in response.content.decode()
    api = org.api("east_staff").post(
        reverse("need-attachment-list"), {"need": need.pk, "file": SimpleUploadedFile("扫描件.pdf", big)}
    )
    assert api.status_code == 400 and "上限" in api.json()["file"][0]
    assert not NeedAttachment.objects.exists()


def test_the_download_is_an_attachment_never_inline(org):
    """R64: Content-Disposition attachment with the name, the recognised type, nosniff."""
    row = attach(org, make_need(org), PNG, "现场 照片(1).png")
    response = org.web("east_staff").get(row.get_download_url())
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


def test_a_deleted_attachment_is_listed_apart_and_no_longer_downloaded(org):
    need = make_need(org)
    row = attach(org, need)
    web = org.web("east_staff")
    response = web.post(reverse("clients:need-attachment-delete", args=[row.pk]), {"reason": "重复上传"})
    assert response.status_code == 302
    html = web.get(reverse("clients:need-detail", args=[need.pk])).content.decode()
    assert 'data-testid="deleted-attachments"' in html and "重复上传" in html
    assert web.get(row.get_download_url()).status_code == 404
    assert org.api("east_staff").get(reverse("need-attachment-download", args=[row.pk])).status_code == 404


def test_the_visit_page_shows_the_visit_and_its_attachments(org):
    visit = make_visit(org)
    row = attachment_add(
        model=VisitAttachment, parent=visit, upload=ContentFile(samples.wav_tone(0.2), name="座谈录音.wav"),
        by=org["east_staff"],
    )  # fmt: skip
    html = org.web("leader").get(reverse("clients:visit-detail", args=[visit.pk])).content.decode()
    assert "座谈录音.wav" in html and row.get_download_url() in html and "走访" in html
    assert 'data-testid="attachment-form"' not in html  # group leaders read, never change (R3)
    own = org.web("east_staff").get(reverse("clients:visit-detail", args=[visit.pk])).content.decode()
    assert 'data-testid="attachment-form"' in own
    tab = org.web("east_staff").get(reverse("clients:client-tab", args=[visit.client_id, "visits"]))
    assert reverse("clients:visit-detail", args=[visit.pk]) in tab.content.decode()


# -- R4: another branch's reads are logged ------------------------------------------------------


def test_a_cross_branch_download_under_a_grant_is_logged(org):
    need = make_need(org)
    row = attach(org, need)
    grant = make_grant(org, org["south_staff"], need.client, active=True)
    since = timezone.now() - dt.timedelta(seconds=1)
    assert org.web("south_staff").get(row.get_download_url()).status_code == 200
    logged = AccessLog.objects.filter(user=org["south_staff"], client=need.client, at__gte=since)
    assert [(r.grant_id, r.via, r.path) for r in logged] == [(grant.pk, "page", row.get_download_url())]
    api_url = reverse("need-attachment-download", args=[row.pk])
    assert org.api("south_staff").get(api_url).status_code == 200
    assert logged.filter(via="api", path=api_url).count() == 1
    # One's own branch and the group's readers read by right: nothing logged.
    before = AccessLog.objects.count()
    assert org.web("east_staff").get(row.get_download_url()).status_code == 200
    assert org.web("marketing").get(row.get_download_url()).status_code == 200
    assert AccessLog.objects.count() == before


# -- the API ----------------------------------------------------------------------------------


def test_the_api_uploads_lists_downloads_and_deletes(org):
    need = make_need(org)
    api = org.api("east_staff")
    created = api.post(
        reverse("need-attachment-list"),
        {
            "need": need.pk,
            "file": SimpleUploadedFile("需求确认单.docx", samples.docx_document("确认")),
            "note": "盖章版",
        },
        format="multipart",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["name"] == "需求确认单.docx" and body["kind"] == "document" and body["need"] == need.pk
    assert body["download_url"] == reverse("need-attachment-download", args=[body["id"]])
    listed = api.get(reverse("need-attachment-list"), {"need": need.pk}).json()
    assert [r["id"] for r in listed["results"]] == [body["id"]] and listed["count"] == 1
    download = api.get(body["download_url"])
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment;")
    gone = api.delete(reverse("need-attachment-detail", args=[body["id"]]) + "?reason=作废")
    assert gone.status_code == 204
    assert api.get(reverse("need-attachment-list"), {"need": need.pk}).json()["count"] == 0
    deleted = api.get(reverse("need-attachment-list"), {"need": need.pk, "deleted": "true"}).json()
    assert [r["delete_reason"] for r in deleted["results"]] == ["作废"]


@pytest.mark.parametrize(
    "content,name,expected",
    [
        (b"", "空.pdf", "空文件"),
        (PNG, "报价.pdf", "不符"),
        (b"MZ\x90\x00\x00\x00", "工具.exe", "可执行文件"),
        (PDF, "会" * 201 + ".pdf", "文件名过长"),
    ],
)
def test_the_api_refuses_with_the_reason_under_file(org, content, name, expected):
    need = make_need(org)
    response = org.api("east_staff").post(
        reverse("need-attachment-list"), {"need": need.pk, "file": SimpleUploadedFile(name, content)}
    )
    assert response.status_code == 400 and expected in response.json()["file"][0]
    assert not NeedAttachment.objects.exists()


def test_the_api_refuses_a_need_out_of_scope_and_readers(org):
    need = make_need(org)
    url = reverse("need-attachment-list")
    out = org.api("south_staff").post(url, {"need": need.pk, "file": SimpleUploadedFile("a.pdf", PDF)})
    assert out.status_code == 400 and "need" in out.json()
    leader = org.api("leader").post(url, {"need": need.pk, "file": SimpleUploadedFile("a.pdf", PDF)})
    assert leader.status_code == 403
    make_grant(org, org["south_staff"], need.client, active=True)
    granted = org.api("south_staff").post(url, {"need": need.pk, "file": SimpleUploadedFile("a.pdf", PDF)})
    assert granted.status_code == 403
    assert not NeedAttachment.objects.exists()


def test_visit_attachments_through_the_api(org):
    visit = make_visit(org)
    api = org.api("east_staff")
    created = api.post(
        reverse("visit-attachment-list"), {"visit": visit.pk, "file": SimpleUploadedFile("照片.png", PNG)}
    )
    assert created.status_code == 201 and created.json()["kind"] == "image"
    assert Visit.objects.get(pk=visit.pk).attachments.get().name == "照片.png"


def test_the_pages_and_refusals_speak_english_when_chosen(org):
    """The panel, the deleted list and a refusal in English, on the need's and the visit's page
    (the data, such as file names, stays as typed)."""
    from tests.crm.test_english_everywhere import _leftover, english

    need, visit = make_need(org), make_visit(org)
    attachment_delete(attachment=attach(org, need, name="旧.pdf"), by=org["east_staff"], reason="重复")
    attachment_add(
        model=VisitAttachment, parent=visit, upload=ContentFile(PNG, name="照片.png"), by=org["east_staff"]
    )
    web = english(org.web("east_staff"))
    for url in (
        reverse("clients:need-detail", args=[need.pk]),
        reverse("clients:visit-detail", args=[visit.pk]),
    ):
        html = web.get(url).content.decode()
        assert (
            "Attachments (recordings, videos, photos, typed records)" in html
            and "Up to 20 MB per file" in html
        )
        assert not _leftover(html), (url, _leftover(html))
    html = web.get(reverse("clients:need-detail", args=[need.pk])).content.decode()
    assert "Deleted attachments (1)" in html
    refused = web.post(
        reverse("clients:need-attachment-add", args=[need.pk]), {"file": SimpleUploadedFile("a.pdf", PNG)}
    ).content.decode()
    assert "is not what its extension .pdf says" in refused
