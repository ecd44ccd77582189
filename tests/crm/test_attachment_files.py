"""R61: what may be attached, decided from the name, the size and the bytes themselves
(crm.attachments.files.inspect_upload); no database needed."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.test import override_settings

from crm.attachments import samples
from crm.attachments.files import NAME_MAX, TYPES, inspect_upload

PDF = samples.pdf_document("会议纪要", ["3月12日设计交底会议", "参会:甲方工程部、我方设计负责人"])
PNG = samples.png_picture()
WAV = samples.wav_tone(0.2)
DOCX = samples.docx_document("需求确认单")
JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 200
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x10" + b"\xff\xfb\x90\x00" * 50
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 100
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 100
AMR = b"#!AMR\n" + b"\x3c" * 100
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"PE\x00\x00"
    + b"\x00" * 100
)
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 100
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500


def upload(content: bytes, name: str) -> ContentFile:
    return ContentFile(content, name=name)


def refusal(content: bytes, name: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        inspect_upload(upload(content, name))
    return caught.value


@pytest.mark.parametrize(
    "content,name,kind,content_type",
    [
        (PDF, "会议纪要.pdf", "document", "application/pdf"),
        (DOCX, "需求确认单.DOCX", "document", TYPES["docx"].content_type),
        ("会议记录:客户要求增加地下车库充电桩。\n".encode(), "记录.txt", "document", "text/plain"),
        (
            "会议记录:客户要求增加地下车库充电桩。\n".encode("gb18030"),
            "旧电脑记录.txt",
            "document",
            "text/plain",
        ),
        (OLE + "WordDocument".encode("utf-16-le"), "旧版文档.doc", "document", "application/msword"),
        (PNG, "现场照片.png", "image", "image/png"),
        (JPG, "IMG_0001.JPG", "image", "image/jpeg"),
        (HEIC, "IMG_0002.HEIC", "image", "image/heic"),
        (WAV, "座谈录音.wav", "audio", "audio/wav"),
        (MP3, "电话录音.mp3", "audio", "audio/mpeg"),
        (AMR, "通话录音.amr", "audio", "audio/amr"),
        (MP4, "现场录像.mp4", "video", "video/mp4"),
    ],
)
def test_documents_images_recordings_and_videos_are_accepted(content, name, kind, content_type):
    seen = inspect_upload(upload(content, name))
    assert (seen.name, seen.kind, seen.content_type, seen.size) == (name, kind, content_type, len(content))
    assert len(seen.sha256) == 64


def test_the_name_shown_is_the_last_part_of_what_the_browser_sent():
    assert inspect_upload(upload(PDF, "C:\\Users\\张工\\桌面\\会议纪要.pdf")).name == "会议纪要.pdf"
    assert inspect_upload(upload(PDF, "../../etc/会议纪要.pdf")).name == "会议纪要.pdf"


def test_an_empty_file_is_refused():
    error = refusal(b"", "空白.pdf")
    assert error.code == "empty" and "空文件" in error.messages[0]


@override_settings(CRM_ATTACHMENT_MAX_MB=1)
def test_a_file_over_the_limit_is_refused_and_one_at_the_limit_accepted():
    limit = 1024 * 1024
    at_limit = b"%PDF-1.4\n" + b"0" * (limit - 9)
    assert inspect_upload(upload(at_limit, "正好.pdf")).size == limit
    error = refusal(at_limit + b"0", "太大.pdf")
    assert error.code == "too_large" and "超过单个附件 1 MB 的上限" in error.messages[0]


@pytest.mark.parametrize(
    "content,name",
    [
        (EXE, "setup.exe"),
        (EXE, "报价单.pdf"),  # a program called .pdf
        (EXE, "照片.jpg"),
        (ELF, "记录.txt"),
        (b"#!/bin/sh\nrm -rf /\n", "说明.txt"),
        (PDF, "报价单.pdf.exe"),
        (b"MsgBox 1", "宏.vbs"),
        (DOCX, "带宏文档.docm"),
    ],
)
def test_executables_and_scripts_are_refused_whatever_they_are_called(content, name):
    error = refusal(content, name)
    assert error.code == "executable" and "可执行文件" in error.messages[0]


@pytest.mark.parametrize(
    "content,name",
    [
        (PNG, "报价单.pdf"),  # a photo called .pdf
        (PDF, "现场照片.png"),
        (PDF, "需求.docx"),
        (DOCX, "表格.xlsx"),  # a Word document called a workbook
        (OLE, "旧版文档.doc"),  # an OLE file without a Word stream (an installer is one)
        (b"\x00\x01\x02binary", "记录.txt"),
        (PNG, "录音.mp3"),
        (HEIC, "录像.mp4"),  # a HEIF photo is no video
        (b"plain words", "现场录像.mp4"),
    ],
)
def test_content_that_does_not_match_its_extension_is_refused(content, name):
    error = refusal(content, name)
    assert error.code == "mismatch" and "不符" in error.messages[0]


def test_types_not_listed_are_refused_with_what_is_allowed():
    error = refusal(b"PK\x03\x04" + b"\x00" * 50, "资料.zip")
    assert error.code == "type_not_allowed" and ".zip" in error.messages[0] and "PDF" in error.messages[0]
    assert refusal(PDF, "没有扩展名").code == "type_not_allowed"


def test_office_documents_with_macros_are_refused():
    assert refusal(samples.docx_document("x", macros=True), "需求.docx").code == "macros"
    legacy = OLE + "WordDocument".encode("utf-16-le") + "_VBA_PROJECT".encode("utf-16-le")
    assert refusal(legacy, "旧版.doc").code == "macros"


def test_a_huge_name_is_refused_and_the_longest_allowed_accepted():
    longest = "会" * (NAME_MAX - 4) + ".pdf"
    assert inspect_upload(upload(PDF, longest)).name == longest
    error = refusal(PDF, "会" * NAME_MAX + ".pdf")
    assert error.code == "name_too_long" and str(NAME_MAX) in error.messages[0]


@pytest.mark.parametrize(
    "name,code",
    [
        ("会议\x00纪要.pdf", "nul"),
        ("纪要.pdf\x00.exe", "nul"),
        ("\u202efdp.exe", "control"),  # shows as "exe.pdf"
        ("会议\n纪要.pdf", "control"),
        ("\u200b.pdf", "no_name"),
        (".pdf", "no_name"),
        ("   ", "no_name"),
    ],
)
def test_names_that_would_mislead_or_show_nothing_are_refused(name, code):
    assert refusal(PDF, name).code == code
