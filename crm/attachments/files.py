"""What may be attached (R61) and where it is kept (R63, R64).

An upload is accepted when all of this holds, checked in this order so that the person reads
the reason that matters most:

1. its name shows something, has no NUL, control or text-direction characters (a name such as
   "\\u202efdp.exe" displays as "exe.pdf") and is at most ``NAME_MAX`` characters;
2. it is not empty and not larger than ``CRM_ATTACHMENT_MAX_MB``;
3. it is not an executable or a script, by its extension or by its first bytes (a Windows or
   Linux program, a Mach-O binary, a ``#!`` script), whatever it is called;
4. its extension is one of ``TYPES``: documents (PDF, Word, Excel, PowerPoint, text), images,
   audio and video, the forms records of meetings, site photos and phone recordings take;
5. its content is what the extension says, sniffed from the bytes (a PNG called .pdf, or a
   program called .jpg, is refused); Office documents with macros are refused.

The name is kept for display only; the file is stored under a generated name (``stored_name``)
through Django's storage API: the storage named by ``CRM_ATTACHMENT_STORAGE`` in ``STORAGES``
(the file system under MEDIA_ROOT by default, a shared object store where configured), so no
local path is ever opened here.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import InvalidStorageError, default_storage, storages
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.validators import BIDI_CONTROLS, is_visible_char

logger = logging.getLogger(__name__)

NAME_MAX = 200  # characters of the name shown; longer ones are refused (the person renames)
HEAD_BYTES = 8192  # what the signatures are read from


class Kind(models.TextChoices):
    """What an attachment is, by its type: the page groups and labels them so."""

    DOCUMENT = "document", gettext_lazy("文档/文字记录")
    IMAGE = "image", gettext_lazy("照片/图片")
    AUDIO = "audio", gettext_lazy("录音")
    VIDEO = "video", gettext_lazy("录像")


# -- signatures -------------------------------------------------------------------------------

Sniff = Callable[[bytes, Callable[[], bytes]], bool]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# ISO base media (ftyp) brands of HEIF images; every other brand is audio or video (mp4, m4a, mov, 3gp).
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}


def _starts(*magics: bytes) -> Sniff:
    return lambda head, _all: head.startswith(magics)


def _riff(form: bytes) -> Sniff:
    return lambda head, _all: head[:4] == b"RIFF" and head[8:12] == form


def _ftyp(*, heif: bool) -> Sniff:
    def check(head, _all):
        return head[4:8] == b"ftyp" and ((head[8:12] in HEIF_BRANDS) == heif)

    return check


def _quicktime(head, _all) -> bool:
    """A .mov: an ftyp box, or (older cameras) a file that starts with a movie atom."""
    return _ftyp(heif=False)(head, _all) or head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip")


def _mp3(head, _all) -> bool:
    # An ID3 tag, or an MPEG audio frame: 11 sync bits and a layer that is not "reserved" (00,
    # which is how AAC's ADTS header reads).
    return head[:3] == b"ID3" or (
        len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and bool(head[1] & 0x06)
    )


def _aac(head, _all) -> bool:
    return head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0)


def _pdf(head, _all) -> bool:
    return b"%PDF-" in head[:1024]


def _ole(*streams: str) -> Sniff:
    """A legacy Office file (OLE compound document) holding one of these streams, found by its
    name in the directory (UTF-16): an installer (.msi) is an OLE file too, and has none."""

    def check(head, read_all):
        if not head.startswith(OLE_MAGIC):
            return False
        data = read_all()
        return any(s.encode("utf-16-le") in data for s in streams)

    return check


def _ooxml(folder: str) -> Sniff:
    """An Office Open XML package (a zip) of the right application: word/, xl/ or ppt/."""

    def check(head, read_all):
        if not head.startswith(b"PK\x03\x04"):
            return False
        names = _zip_names(read_all)
        return (
            names is not None and "[Content_Types].xml" in names and any(n.startswith(folder) for n in names)
        )

    return check


def _zip_names(read_all) -> list[str] | None:
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(read_all())) as package:
            return package.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def _text(head, read_all) -> bool:
    """Plain text (a typed record of a meeting): UTF-8, UTF-16 with its mark, or GB18030 (what
    older Chinese Windows editors save), with no control characters but tabs and line breaks."""
    data = read_all()
    for encoding in ("utf-16",) if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return not any(unicodedata.category(c) == "Cc" and c not in "\t\n\r\f" for c in text)
    return False


@dataclass(frozen=True)
class FileType:
    kind: str
    content_type: str
    sniff: Sniff


DOC, IMG, AUD, VID = Kind.DOCUMENT, Kind.IMAGE, Kind.AUDIO, Kind.VIDEO
OOXML = "application/vnd.openxmlformats-officedocument."
# extension -> what it is; the content type is the one the download answers with.
TYPES: dict[str, FileType] = {
    "pdf": FileType(DOC, "application/pdf", _pdf),
    "doc": FileType(DOC, "application/msword", _ole("WordDocument")),
    "docx": FileType(DOC, OOXML + "wordprocessingml.document", _ooxml("word/")),
    "xls": FileType(DOC, "application/vnd.ms-excel", _ole("Workbook", "Book")),
    "xlsx": FileType(DOC, OOXML + "spreadsheetml.sheet", _ooxml("xl/")),
    "ppt": FileType(DOC, "application/vnd.ms-powerpoint", _ole("PowerPoint Document")),
    "pptx": FileType(DOC, OOXML + "presentationml.presentation", _ooxml("ppt/")),
    "txt": FileType(DOC, "text/plain", _text),
    "jpg": FileType(IMG, "image/jpeg", _starts(b"\xff\xd8\xff")),
    "jpeg": FileType(IMG, "image/jpeg", _starts(b"\xff\xd8\xff")),
    "png": FileType(IMG, "image/png", _starts(b"\x89PNG\r\n\x1a\n")),
    "gif": FileType(IMG, "image/gif", _starts(b"GIF87a", b"GIF89a")),
    "webp": FileType(IMG, "image/webp", _riff(b"WEBP")),
    "heic": FileType(IMG, "image/heic", _ftyp(heif=True)),
    "mp3": FileType(AUD, "audio/mpeg", _mp3),
    "wav": FileType(AUD, "audio/wav", _riff(b"WAVE")),
    "m4a": FileType(AUD, "audio/mp4", _ftyp(heif=False)),
    "aac": FileType(AUD, "audio/aac", _aac),
    "amr": FileType(AUD, "audio/amr", _starts(b"#!AMR")),
    "ogg": FileType(AUD, "audio/ogg", _starts(b"OggS")),
    "mp4": FileType(VID, "video/mp4", _ftyp(heif=False)),
    "mov": FileType(VID, "video/quicktime", _quicktime),
    "3gp": FileType(VID, "video/3gpp", _ftyp(heif=False)),
    "avi": FileType(VID, "video/x-msvideo", _riff(b"AVI ")),
    "webm": FileType(VID, "video/webm", _starts(b"\x1a\x45\xdf\xa3")),
}
ALLOWED_EXTENSIONS = tuple(TYPES)
ACCEPT = ",".join(f".{ext}" for ext in TYPES)  # the file input's accept attribute

# Refused by name whatever they hold: programs, scripts, installers, shortcuts.
EXECUTABLE_EXTENSIONS = frozenset(
    "exe dll com bat cmd msi msp scr pif cpl hta jar js jse vbs vbe wsf wsh ps1 psm1 sh bash zsh "
    "csh py pl rb php apk ipa app dmg deb rpm run bin elf so dylib lnk reg inf sys drv ocx gadget "
    "docm dotm xlsm xltm xlam pptm potm ppsm sldm".split()
)
MACHO_MAGICS = (
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
)


def looks_executable(head: bytes) -> bool:
    """A program or script by its first bytes: a Windows program (MZ, which is binary: a NUL in
    its header), ELF, Mach-O, or a ``#!`` script (an AMR recording's own header excepted)."""
    if head[:2] == b"MZ" and b"\x00" in head[:64]:
        return True
    if head.startswith((b"\x7fELF", *MACHO_MAGICS)):
        return True
    return head.startswith(b"#!") and not head.startswith(b"#!AMR")


def _has_macros(ext: str, read_all) -> bool:
    if ext in ("docx", "xlsx", "pptx"):
        return any(name.lower().endswith("vbaproject.bin") for name in _zip_names(read_all) or ())
    if ext in ("doc", "xls", "ppt"):
        return "_VBA_PROJECT".encode("utf-16-le") in read_all()
    return False


# -- limits and names -------------------------------------------------------------------------


def max_bytes() -> int:
    return settings.CRM_ATTACHMENT_MAX_MB * 1024 * 1024


def max_label() -> str:
    """The limit as people state it: "20 MB" (a whole number of megabytes, as configured)."""
    return f"{settings.CRM_ATTACHMENT_MAX_MB} MB"


def allowed_summary() -> str:
    """The types, in words, as the page and the refusals state them."""
    return _(
        "PDF、Word、Excel、PowerPoint、文本文件、照片(JPG、PNG 等)、录音(MP3、M4A、AMR 等)和录像(MP4、MOV 等)"
    )


def display_name(raw: str) -> str:
    """The name shown for an upload: the last part of what the browser sent (some send a whole
    Windows path), refused if it would show nothing, mislead or not fit (R61)."""
    raw = raw or ""
    if "\x00" in raw:
        raise ValidationError(_("文件名含有不允许的空字符(NUL),请重命名后再上传。"), code="nul")
    name = unicodedata.normalize("NFC", raw.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    if any(c in BIDI_CONTROLS or unicodedata.category(c) == "Cc" for c in name):
        raise ValidationError(_("文件名含有控制字符或改变文字方向的字符,请重命名后再上传。"), code="control")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    if not any(is_visible_char(c) for c in stem):
        raise ValidationError(_("文件名不能为空,请重命名后再上传。"), code="no_name")
    if len(name) > NAME_MAX:
        raise ValidationError(
            _("文件名过长(%(n)d 个字符),最多 %(max)d 个字符,请重命名后再上传。"),
            params={"n": len(name), "max": NAME_MAX},
            code="name_too_long",
        )
    return name


def extension(name: str) -> str:
    return name.rsplit(".", 1)[1].lower() if "." in name else ""


def too_large_error(name: str = "") -> ValidationError:
    limit = max_label()
    if name:
        return ValidationError(
            _("文件“%(name)s”超过单个附件 %(max)s 的上限,未上传。"),
            params={"name": name, "max": limit},
            code="too_large",
        )
    return ValidationError(
        _("文件超过单个附件 %(max)s 的上限,未上传。"), params={"max": limit}, code="too_large"
    )


@dataclass(frozen=True)
class Inspected:
    """What an accepted upload is."""

    name: str
    ext: str
    kind: str
    content_type: str
    size: int
    sha256: str


def inspect_upload(upload) -> Inspected:
    """Check an uploaded file (a Django ``File``) against R61; a ValidationError says why not,
    in words the person can act on. The file is left at its start."""
    name = display_name(getattr(upload, "name", "") or "")
    size = upload.size
    if not size:
        raise ValidationError(
            _("文件“%(name)s”是空文件(0 字节),请重新选择。"), params={"name": name}, code="empty"
        )
    if size > max_bytes():
        raise too_large_error(name)
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    cache: list[bytes] = []

    def read_all() -> bytes:
        if not cache:
            upload.seek(0)
            cache.append(upload.read())
        return cache[0]

    ext = extension(name)
    if ext in EXECUTABLE_EXTENSIONS or looks_executable(head):
        raise ValidationError(
            _("不能上传可执行文件、脚本或含宏的文档(“%(name)s”)。"), params={"name": name}, code="executable"
        )
    kind = TYPES.get(ext)
    if kind is None:
        message = (
            _("不支持上传 .%(ext)s 文件。可上传:%(allowed)s。")
            if ext
            else _("无法识别文件“%(name)s”的类型(没有扩展名)。可上传:%(allowed)s。")
        )
        raise ValidationError(
            message, params={"ext": ext, "name": name, "allowed": allowed_summary()}, code="type_not_allowed"
        )
    if not kind.sniff(head, read_all):
        raise ValidationError(
            _("文件“%(name)s”的内容与扩展名 .%(ext)s 不符(可能已损坏或被改过扩展名),未上传。"),
            params={"name": name, "ext": ext},
            code="mismatch",
        )
    if _has_macros(ext, read_all):
        raise ValidationError(
            _("不能上传含宏的 Office 文档(“%(name)s”),请另存为不含宏的格式后再上传。"),
            params={"name": name},
            code="macros",
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return Inspected(
        name=name,
        ext=ext,
        kind=kind.kind,
        content_type=kind.content_type,
        size=size,
        sha256=digest.hexdigest(),
    )


# -- where files are kept ------------------------------------------------------------------------


def attachment_storage():
    """The storage attachments are kept in: ``STORAGES[CRM_ATTACHMENT_STORAGE]``, else the
    default storage. Looked up on every use (not bound at import), so a deployment, or a test,
    that changes STORAGES is followed."""
    try:
        return storages[settings.CRM_ATTACHMENT_STORAGE]
    except InvalidStorageError:
        return default_storage


def new_stored_name(model, ext: str) -> str:
    """A generated name (no part of it comes from the person): the model, the month, a random
    id and the checked extension."""
    label = model._meta.label_lower.replace(".", "/")
    return f"attachments/{label}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{ext}"


def discard(storage, name: str) -> None:
    """Remove a stored file whose row was not saved (R64: no half-save)."""
    try:
        storage.delete(name)
    except Exception:  # the refusal the person sees matters more; the file is logged for cleanup
        logger.exception("could not remove the stored attachment %s", name)


# -- the request side ---------------------------------------------------------------------------

OVERSIZED = "crm_oversized_uploads"


class UploadLimitHandler(FileUploadHandler):
    """First of ``FILE_UPLOAD_HANDLERS``: a file larger than ``CRM_UPLOAD_LIMIT_BYTES`` is dropped
    while it streams in (``SkipFile``: nothing of it is kept in memory or in a temporary file)
    and the request remembers it, so that the view says "too large" rather than "no file".
    Without it, a multipart body is read in full (by the first middleware that reads the form)
    before any view could look at its size."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received = start + len(raw_data)
        if self.received > settings.CRM_UPLOAD_LIMIT_BYTES:
            if self.request is not None:
                self.request.__dict__.setdefault(OVERSIZED, []).append(self.field_name)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None


def oversized(request) -> bool:
    """Whether a file of this request (a page's, or the API's wrapped one) was dropped for size."""
    request = getattr(request, "_request", request)
    return bool(request.__dict__.get(OVERSIZED))
