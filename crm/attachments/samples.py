"""Small files made here, byte for byte the same on every run: the demo's attachments (a typed
record of a meeting, a letter as PDF, a site photo, a phone recording) and the tests' uploads.
Nothing is read from disk."""

from __future__ import annotations

import io
import math
import struct
import zipfile
import zlib


def text_record(title: str, lines: list[str]) -> bytes:
    """A typed record (文字记录), UTF-8."""
    return ("\n".join([title, "=" * 20, *lines]) + "\n").encode("utf-8")


def pdf_document(title: str, lines: list[str]) -> bytes:
    """A one-page PDF with Chinese text, in the Adobe-GB1 font every PDF reader has (STSong-Light,
    UCS-2 encoded), so no font is embedded: a letter or minutes of a few lines."""

    def hex_text(text: str) -> str:
        return "<" + text.encode("utf-16-be").hex().upper() + ">"

    rows = [f"BT /F1 16 Tf 56 780 Td {hex_text(title)} Tj ET"]
    for i, line in enumerate(lines):
        rows.append(f"BT /F1 11 Tf 56 {744 - 20 * i} Td {hex_text(line)} Tj ET")
    stream = "\n".join(rows).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [6 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 7 0 R "
        b"/DW 1000 >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def png_picture(width: int = 160, height: int = 100, *, variant: int = 0) -> bytes:
    """A small picture of a building on a site (sky, a block with windows, the ground): a
    "site photo". ``variant`` shifts the block, so two photos differ."""
    left, right, top = 40 + 12 * variant, 100 + 12 * variant, 25
    ground = int(height * 0.8)
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # no filter
        for x in range(width):
            if y >= ground:
                pixel = (120, 104, 80)
            elif left <= x < right and y >= top:
                window = (x - left) % 12 in (4, 5, 6, 7) and (y - top) % 12 in (4, 5, 6, 7)
                pixel = (60, 110, 160) if window else (200, 196, 188)
            else:
                shade = 235 - y
                pixel = (150 + y // 2, 190 + y // 4, shade)
            rows.extend(pixel)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def wav_tone(seconds: float = 1.5, *, rate: int = 8000) -> bytes:
    """A short recording: a soft tone that fades, 8 kHz, 8 bit, mono."""
    count = int(seconds * rate)
    samples = bytes(
        128 + round(40 * (1 - i / count) * math.sin(2 * math.pi * 440 * i / rate)) for i in range(count)
    )
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate, 1, 8)
    body = (
        b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", len(samples))
        + samples
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


def docx_document(text: str, *, macros: bool = False) -> bytes:
    """A minimal Word document (Office Open XML) with one paragraph; ``macros`` adds the part a
    macro-enabled document carries (what the upload refuses)."""
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        "word/document.xml": '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>'
        + text
        + "</w:t></w:r></w:p></w:body></w:document>",
    }
    if macros:
        parts["word/vbaProject.bin"] = "macro"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, body in parts.items():
            package.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), body)
    return out.getvalue()
