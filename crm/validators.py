"""Validators and normalisers of the data conventions of domain.md section 2."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    """The check character of a unified social credit code (GB 32100-2015)."""
    total = sum(CREDIT_CODE_CHARS.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def normalize_credit_code(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip().upper().replace(" ", "")


def validate_credit_code(value: str) -> None:
    code = normalize_credit_code(value)
    if len(code) != 18:
        raise ValidationError(_("统一社会信用代码应为18位。"), code="credit_code_length")
    bad = [c for c in code if c not in CREDIT_CODE_CHARS]
    if bad:
        raise ValidationError(
            _("统一社会信用代码含有无效字符:%(chars)s(不使用 I、O、Z、S、V)。"),
            params={"chars": "".join(bad)},
            code="credit_code_chars",
        )
    if credit_code_check_char(code[:17]) != code[17]:
        raise ValidationError(_("统一社会信用代码校验位不正确,请核对。"), code="credit_code_check")


MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^(0\d{2,3})(\d{7,8})(\d{1,6})?$")


def normalize_phone(value: str) -> str:
    """Mainland mobile (11 digits, 1[3-9]) or landline with area code and optional extension.
    Returns the normalised form ("13812345678", "021-62345678", "0755-88886666-802")
    or raises ValidationError. Every common way of writing one is accepted: the country code as
    ``+86`` or ``0086`` (a landline then drops its trunk 0: ``+86-21-62345678``, also written
    ``+86 (0)21 ...``), the area code in brackets (``(021)6234 5678``), spaces and dashes between
    groups, and an extension after 转/ext/x/#."""
    raw = unicodedata.normalize("NFKC", value or "").strip()
    if not raw:
        return ""
    parts = re.split(r"(?:转|ext\.?|x|#)", raw, maxsplit=1, flags=re.IGNORECASE)
    ext = re.sub(r"\D", "", parts[1]) if len(parts) > 1 else ""
    main = parts[0]
    # The country code is a prefix, removed as a whole (not characters stripped one by one).
    country = re.match(r"^\s*(?:\+|00)\s*86\s*(?:\(\s*0\s*\))?[\s\-]*", main)
    if country:
        main = main[country.end() :]
    digits = re.sub(r"[\s\-()]", "", main)
    if not digits.isdigit():
        raise ValidationError(_("电话号码只能包含数字、空格和连字符。"), code="phone_chars")
    if MOBILE_RE.match(digits) and not ext:
        return digits
    # Dashes and brackets separate groups (area, number, extension); spaces only space digits.
    groups = [g for g in re.split(r"[\-()]", re.sub(r"\s", "", main)) if g]
    if country and not digits.startswith("0"):
        digits, groups = "0" + digits, ["0" + groups[0], *groups[1:]]
    if digits.startswith("0") and len(digits) > 1:
        # Area codes: 010 and 02x are three digits, the rest four.
        area_len = 3 if digits[1] in "12" else 4
        area, local = digits[:area_len], digits[area_len:]
        if len(groups) >= 2 and groups[0].startswith("0") and 3 <= len(groups[0]) <= 4:
            area, rest = groups[0], groups[1:]
            local = ""
            while rest and len(local) < 7:  # a number written in two groups: 6234-5678
                local += rest.pop(0)
            if rest and not ext:
                ext = "".join(rest)
        if 3 <= len(area) <= 4 and 7 <= len(local) <= 8 and local.isdigit():
            return f"{area}-{local}" + (f"-{ext}" if ext else "")
    raise ValidationError(
        _("电话号码格式不正确:手机号为1开头的11位数字,座机为区号-号码(如 021-62345678)。"),
        code="phone_format",
    )


def validate_phone(value: str) -> None:
    normalize_phone(value)


def validate_non_negative(value) -> None:
    if value is not None and value < 0:
        raise ValidationError(_("金额不能为负数。"), code="negative")


ORG_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团有限公司", "集团公司", "集团", "公司")


def normalize_name(value: str) -> str:
    """A client's name reduced for duplicate detection (R10): full/half width folded, spaces and
    punctuation removed, company suffixes dropped."""
    name = unicodedata.normalize("NFKC", value or "").lower()
    name = re.sub(r"[\s·.,,。()()\-_/]+", "", name)
    changed = True
    while changed:
        changed = False
        for suffix in ORG_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix) + 1:
                name = name[: -len(suffix)]
                changed = True
    return name


# Categories of characters that show nothing: controls (Cc), format characters such as zero-width
# spaces and bidi overrides (Cf), separators and spaces of every width (Z*), unassigned (Cn).
INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cn", "Co", "Cs", "Zs", "Zl", "Zp"}
# Fillers that Unicode classes as letters or symbols but that render blank.
INVISIBLE_CHARS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}


def is_visible_char(c: str) -> bool:
    return unicodedata.category(c) not in INVISIBLE_CATEGORIES and c not in INVISIBLE_CHARS


def validate_visible_text(value: str) -> None:
    """A name must show something: "\\u200b\\u200b", "\\t", "\\u3000\\u3000" or "\\u202e" alone
    look empty on every page and list yet are not empty strings, so `required` lets them by."""
    if value and not any(is_visible_char(c) for c in value):
        raise ValidationError(_("名称不能只由空白、控制字符或不可见字符组成。"), code="invisible")


# Bidirectional controls: embeddings and overrides (U+202A-U+202E), isolates (U+2066-U+2069)
# and the marks (U+200E, U+200F). In a name they make text display in another order than it is
# stored ("\u202e=1+1 gnp.exe" shows as "exe.png 1+1="), in lists, exports and spreadsheets.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def validate_no_bidi_controls(value: str) -> None:
    if value and any(c in BIDI_CONTROLS for c in value):
        raise ValidationError(_("名称不能包含改变文字方向的控制字符。"), code="bidi")


# The dates the product accepts (issue 23): nothing the group records happened before its
# founding era nor is planned past this century. Outside it, Python's datetime overflowed in
# deadline arithmetic and time-zone conversion (500s), and Asia/Shanghai before 1901 is local
# mean time (+08:05:43), which no client of the API expects.
EARLIEST_DATE = dt.date(1949, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)


def year_in_range(year: int) -> bool:
    return EARLIEST_DATE.year <= year <= LATEST_DATE.year


def validate_date_in_range(value) -> None:
    """A date or a date and time (aware or naive) between EARLIEST_DATE and LATEST_DATE. The
    one rule for model fields, page forms, API fields and list filters. The day is read as
    written (no time-zone conversion, which is what overflows)."""
    if value is None or value == "":
        return
    day = value.replace(tzinfo=None).date() if isinstance(value, dt.datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValidationError(
            _("日期应在 %(earliest)s 至 %(latest)s 之间。"),
            params={"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()},
            code="date_range",
        )


def validate_finite(value) -> None:
    """A number that is a number: NaN and infinity ("nan", "1e400") are refused. Stored, they
    made every computation that used them fail."""
    if value is None or value == "":
        return
    if isinstance(value, Decimal) and not value.is_finite():
        finite = False
    else:
        try:
            finite = math.isfinite(float(value))
        except (TypeError, ValueError):
            return  # not a number at all: the field's own parsing says so
        except OverflowError:
            finite = False
    if not finite:
        raise ValidationError(_("请输入有限的数值。"), code="not_finite")
