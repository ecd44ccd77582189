"""Import of the group's spreadsheet, 客户信息统计表 (R36).

The flow: an upload becomes an ``ImportJob`` row with its file; a Celery task validates every
row and stores the row report on the job (``import_validate``); the user looks at the preview
with row-by-row errors; on confirmation a second task validates again against the database as
it is then and saves everything in one transaction (``import_commit``), or nothing. Pages, the
API and the worker all read the job row, so they agree on every deployment (design.md).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import unicodedata
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history

from crm.access import has_global
from crm.models import Branch, ProjectDepartment, Role, User
from crm.services import managers_of, notify
from crm.signals import rows_bulk_written
from crm.validators import normalize_credit_code, normalize_name, normalize_phone, validate_credit_code

from ..models import (
    Client,
    Contact,
    Grade,
    GradeChange,
    ImportJob,
    Need,
    OrgType,
    Phase,
    Project,
    ProjectType,
    Stage,
    StageChange,
)
from .spreadsheet import COLUMNS, EXPORT_ONLY_COLUMNS, SEPARATOR

MAX_ROWS = 10_000
# Rows read from the sheet, empty ones and the header included: the bound on the reading itself.
# Empty rows are skipped rather than imported, but they still cost reading (a single cell at row
# 20,000,000 makes the reader yield twenty million empty rows), so they count here; room is left
# for blank rows a template may carry below its data (ruled borders, deleted contents).
MAX_SHEET_ROWS = 2 * MAX_ROWS
# Columns read from each row. The template has 20; a sheet may carry columns of its own beside
# them (reported as unknown headers), but never a row as wide as Excel allows: a cell at column
# XFD makes the reader build 16,384 values for that row, in every row that has one. One column
# past the bound is read, so that a value there is refused rather than dropped unseen.
MAX_COLUMNS = 60
REQUIRED = ("客户单位名称",)
SPLIT_RE = re.compile(r"[、;;\n]")
IMPORT_REASON = "由客户信息统计表导入"

# What each column accepts: shown in the template's explanation sheet and on the upload page.
COLUMN_RULES = {
    "序号": gettext_lazy("可留空,仅供核对,不导入"),
    "客户单位名称": gettext_lazy("必填;与已有客户(名称规范化后)或本表其他行重复的,报错"),
    "统一社会信用代码": gettext_lazy("18位,校验位须正确;与已有客户或本表其他行重复的,报错"),
    "客户类型": gettext_lazy("政府部门、房地产企业、社会团体、国有企业、民营企业、其他;留空为“其他”"),
    "所属行业": gettext_lazy("文字,50字以内"),
    "单位地址": gettext_lazy("文字,300字以内"),
    "联系人": gettext_lazy("多个联系人用“、”分隔,第一个为主要联系人"),
    "职务": gettext_lazy("与联系人一一对应,用“、”分隔"),
    "联系电话": gettext_lazy("与联系人一一对应;手机11位,座机为区号-号码(可带分机);无联系人时作为单位电话"),
    "电子邮箱": gettext_lazy("与联系人一一对应,用“、”分隔"),
    "客户阶段": gettext_lazy(
        "潜在客户、意向客户(跟踪客户)、准客户(投标客户)、签约客户、已开发客户、合作伙伴客户;留空为潜在客户"
    ),
    "客户分级": gettext_lazy("A、B、C(或A类、A类客户);仅集团市场营销部和分公司经营部负责人导入的分级生效"),
    "合作项目": gettext_lazy("多个项目用“、”分隔"),
    "合同金额(万元)": gettext_lazy("单位万元,不能为负;多个项目时按顺序用“、”分隔,或填合计(记入第一个项目)"),
    "客户需求": gettext_lazy("多条需求用“、”分隔,按“一般”需求登记并计算响应期限"),
    "所属分公司": gettext_lazy("分公司全称、简称或代码;须为您有权录入的单位;留空为您所在单位"),
    "项目经理部": gettext_lazy("须为所属分公司下的项目经理部或经营部,可留空"),
    "填报人": gettext_lazy("所属分公司人员的姓名或用户名,作为客户经理;留空或找不到时为导入人"),
    "填报日期": gettext_lazy("日期,如 2026-03-25"),
    "备注": gettext_lazy("文字"),
    "我方对客户的评价": gettext_lazy("客户档案导出时附带;导入时不读取(取自客户分析报告,在档案中修改)"),
    "跟踪状态": gettext_lazy("客户档案导出时附带;导入时不读取(放弃跟踪须经经营部负责人确认)"),
}
EXAMPLE_ROW = [
    1,
    "上海浦东开发建设集团有限公司",
    "91310115MA1H7GKQ1F",
    "国有企业",
    "城市基础设施投资",
    "上海市浦东新区世纪大道1200号",
    "王建国、陈丽华",
    "工程管理部经理、成本合约部经理",
    "13812345678、021-68881234-802",
    "wangjg@example.com、",
    "签约客户",
    "A",
    "张江科学城人才公寓施工总承包工程",
    "12850.5",
    "希望引入BIM全过程应用",
    "华东区域分公司",
    "经营部",
    "李娜",
    "2026-03-25",
    "示例行,导入前请删除",
]


class ImportFileError(Exception):
    """The file cannot be read as a 客户信息统计表 at all."""


# ---------------------------------------------------------------------------------------------
# The job row
# ---------------------------------------------------------------------------------------------


def import_job_create(*, user, upload) -> ImportJob:
    """Save an uploaded file as a new job (state ``queued``, phase ``validate``)."""
    job = ImportJob(created_by=user, filename=os.path.basename(upload.name or "upload.xlsx")[:120])
    job.file.save("upload.xlsx", upload, save=False)
    job.save()
    return job


def _tick(job: ImportJob, **changes) -> None:
    """Progress and other passing details: written without a history row."""
    changes["updated_at"] = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(**changes)
    for k, v in changes.items():
        setattr(job, k, v)


def _move(job: ImportJob, **changes) -> ImportJob:
    """A change of state: saved through the model, so that history keeps it."""
    for k, v in changes.items():
        setattr(job, k, v)
    job.save()
    return job


# ---------------------------------------------------------------------------------------------
# Reading and validating
# ---------------------------------------------------------------------------------------------


@dataclass
class RowReport:
    row: int  # the spreadsheet's row number
    name: str = ""
    credit_code: str = ""
    branch: str = ""
    contacts: int = 0
    projects: int = 0
    needs: int = 0
    errors: list[dict] = field(default_factory=list)  # {"column", "message"}
    warnings: list[dict] = field(default_factory=list)
    data: dict = field(default_factory=dict)  # cleaned values, ids instead of objects

    def error(self, column: str, message: str) -> None:
        self.errors.append({"column": column, "message": str(message)})

    def warn(self, column: str, message: str) -> None:
        self.warnings.append({"column": column, "message": str(message)})


@dataclass
class Report:
    file_errors: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    rows: list[RowReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.file_errors and all(not r.errors for r in self.rows) and bool(self.rows)

    def summary(self) -> dict:
        bad = sum(1 for r in self.rows if r.errors)
        return {
            "rows": len(self.rows),
            "valid": len(self.rows) - bad,
            "invalid": bad,
            "file_errors": self.file_errors,
            "missing_columns": self.missing_columns,
            "ok": self.ok,
        }

    def as_json(self) -> dict:
        return {"summary": self.summary(), "rows": [asdict(r) for r in self.rows]}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return unicodedata.normalize("NFKC", str(value)).strip() if not isinstance(value, str) else value.strip()


def _split(value, keep_empty=False) -> list[str]:
    """The parts of a cell separated by "、". Empty parts keep their place where the parts
    line up with the contacts ("经理、、主任"), and are dropped elsewhere."""
    parts = [p.strip() for p in SPLIT_RE.split(_text(value))] if _text(value) else []
    return parts if keep_empty else [p for p in parts if p]


def _header(value) -> str:
    """Header cells compared loosely: full/half width and spaces do not matter."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", _text(value)))


CANONICAL = {_header(c): c for c in [*COLUMNS, *EXPORT_ONLY_COLUMNS]}
ORG_TYPES = {str(label): code for code, label in OrgType.choices} | {c: c for c in OrgType.values}
ORG_TYPES |= {
    "政府": OrgType.GOVERNMENT,
    "国企": OrgType.STATE_OWNED,
    "民企": OrgType.PRIVATE,
    "私营企业": OrgType.PRIVATE,
}
STAGES = {str(label): code for code, label in Stage.choices} | {c: c for c in Stage.values}
# R41: each stage's names in the branches' spreadsheets (跟踪客户 = 意向客户, 投标客户 = 准客户),
# with or without the trailing 客户.
STAGES |= dict(Stage.ALIASES) | {name.removesuffix("客户"): code for name, code in Stage.ALIASES.items()}


def _grade(value: str) -> str | None:
    v = value.upper().removesuffix("客户").removesuffix("类")
    return v if v in Grade.values else None


def _date(value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    if not m:
        raise ValueError(text)
    return dt.date(int(m[1]), int(m[2]), int(m[3]))


def _amount(text: str) -> Decimal:
    value = Decimal(text.replace(",", "").replace(",", ""))
    if not value.is_finite():
        raise InvalidOperation(text)
    return value


def project_type_for(name: str) -> str:
    """The project type guessed from a project's name (the spreadsheet has no such column)."""
    rules = (
        (("住宅", "小区", "公寓", "安置房", "花园"), ProjectType.RESIDENTIAL),
        (("厂房", "工业", "产业", "仓储", "车间"), ProjectType.INDUSTRIAL),
        (("道路", "桥", "管廊", "轨道", "市政", "隧道", "码头", "水务"), ProjectType.INFRASTRUCTURE),
        (
            ("医院", "学校", "学院", "中学", "小学", "体育", "图书馆", "政务", "档案馆", "宿舍"),
            ProjectType.CIVIL,
        ),
    )
    for words, kind in rules:
        if any(w in name for w in words):
            return kind
    return ProjectType.COMMERCIAL


def read_sheet(source) -> tuple[list[str], list[tuple[int, dict]], list[str]]:
    """(headers, [(row number, {column: value})], unknown headers) of the first sheet.
    The header row is the first of the top five rows that has 客户单位名称 (a title row above
    it, as in the group's own files, is allowed)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same clear answer
        raise ImportFileError(_("无法读取文件,请上传 Excel(.xlsx)格式的客户信息统计表。")) from exc
    try:
        ws = wb.worksheets[0]
        # The read-only reader trusts the sheet's <dimension> and stops at its last row, which
        # other programs write wrong (A1:T3 over five rows): forget it and read what is there,
        # never more than one row past the bound.
        ws.reset_dimensions()
        rows = _bounded(ws.iter_rows(max_row=MAX_SHEET_ROWS + 1, max_col=MAX_COLUMNS + 1, values_only=True))
        header_row, headers = None, []
        buffered = []
        for number, values in enumerate(rows, start=1):
            buffered.append((number, values))
            if any(_header(v) == "客户单位名称" for v in values or ()):
                header_row, headers = number, [_header(v) for v in values]
                break
            if number >= 5:
                break
        if header_row is None:
            raise ImportFileError(_("未找到表头:前5行中没有“客户单位名称”列。请使用导入模板。"))
        unknown = [h for h in headers if h and h not in CANONICAL]
        names = [CANONICAL.get(h, "") for h in headers]
        out = []
        for number, values in enumerate(rows, start=header_row + 1):
            cells = {}
            for col, value in zip(names, values or (), strict=False):
                if col:
                    cells[col] = value
            if not any(_text(v) for v in cells.values()):
                continue
            out.append((number, cells))
            if len(out) > MAX_ROWS:
                raise ImportFileError(_("一次最多导入 %(n)s 行,请拆分文件。") % {"n": MAX_ROWS})
        return [n for n in names if n], out, unknown
    finally:
        wb.close()


def _bounded(rows):
    """The rows of a sheet, refused past ``MAX_SHEET_ROWS`` however many of them are empty, and
    at the first row with a value past ``MAX_COLUMNS``."""
    for number, values in enumerate(rows, start=1):
        if number > MAX_SHEET_ROWS:
            raise ImportFileError(
                _("工作表超过 %(n)s 行(空行也计算在内),请删除多余的空行或拆分文件。") % {"n": MAX_SHEET_ROWS}
            )
        if values and len(values) > MAX_COLUMNS and _text(values[MAX_COLUMNS]):
            raise ImportFileError(
                _("第 %(row)s 行超过 %(n)s 列,请删除多余的列后再导入。") % {"row": number, "n": MAX_COLUMNS}
            )
        yield values[:MAX_COLUMNS] if values else values


class Validator:
    """Validates rows for one importing user; lookups are loaded once, not per row."""

    def __init__(self, user):
        self.user = user
        # The branches this user may enter clients for: their own, or every branch for group
        # marketing (R3); restrict "add" on Branch answers both.
        self.branches = list(Branch.objects.restrict(user, "add").filter(is_active=True))
        self.allowed = {b.pk for b in self.branches}
        self.by_label = {}
        for b in self.branches:
            for label in (b.name, b.short_name, b.code):
                if label:
                    self.by_label[_header(label)] = b
        # Names of branches the user may not import into: told apart from unknown names.
        self.other_labels = set()
        for name, short, code in Branch.objects.exclude(pk__in=self.allowed).values_list(
            "name", "short_name", "code"
        ):
            self.other_labels |= {_header(x) for x in (name, short, code) if x}
        self.default_branch = next((b for b in self.branches if b.pk == user.branch_id), None)
        if self.default_branch is None and len(self.branches) == 1:
            self.default_branch = self.branches[0]
        self.departments = {}
        for d in ProjectDepartment.objects.filter(branch_id__in=self.allowed, is_active=True):
            self.departments[(d.branch_id, _header(d.name))] = d
            self.departments[(d.branch_id, _header(d.code))] = d
        self.people = {}
        for u in User.objects.filter(branch_id__in=self.allowed, is_active=True):
            for label in (u.full_name, u.username):
                if label:
                    self.people.setdefault((u.branch_id, _header(label)), u)
        # R7: group marketing grades everywhere, a branch manager in their own branch.
        self.grades_everywhere = has_global(user, Client, "change")
        self.seen_codes: dict[str, int] = {}
        self.seen_names: dict[str, int] = {}

    def existing(self, codes: list[str], names: list[str]):
        """Clients already in the archive with one of these credit codes or names (R10).
        Duplicate detection has to look at the whole group's archive, whatever the user may
        read, or one branch would re-create another's client; only whether it exists is told,
        and a link only where the user may view it."""
        found = Client.objects.filter(credit_code__in=[c for c in codes if c]) | Client.objects.filter(
            name_normalized__in=[n for n in names if n]
        )
        rows = list(found.values_list("pk", "credit_code", "name_normalized", "name"))
        visible = set(
            Client.objects.restrict(self.user, "view")
            .filter(pk__in=[r[0] for r in rows])
            .values_list("pk", flat=True)
        )
        by_code = {r[1]: r for r in rows if r[1]}
        by_name = {r[2]: r for r in rows}
        return by_code, by_name, visible

    def validate(self, rows: list[tuple[int, dict]], progress=None) -> list[RowReport]:
        codes, names = [], []
        for _number, cells in rows:
            codes.append(normalize_credit_code(_text(cells.get("统一社会信用代码"))))
            names.append(normalize_name(_text(cells.get("客户单位名称"))))
        by_code, by_name, visible = self.existing(codes, names)
        reports = []
        for i, (number, cells) in enumerate(rows):
            reports.append(self.row(number, cells, by_code, by_name, visible))
            if progress and (i + 1) % 50 == 0:
                progress(i + 1, len(rows))
        return reports

    def _duplicate_message(self, row_found, visible) -> str:
        pk, _code, _norm, name = row_found
        if pk in visible:
            return _("与已有客户“%(name)s”(编号 %(pk)s)重复,请勿重复建档") % {"name": name, "pk": pk}
        return _("档案中已有该客户(属其他单位),请勿重复建档;如需查阅请提交查阅申请")

    def row(self, number: int, cells: dict, by_code, by_name, visible) -> RowReport:
        r = RowReport(row=number)
        d = r.data
        name = _text(cells.get("客户单位名称"))
        r.name = name
        if not name:
            r.error("客户单位名称", _("必填"))
        elif len(name) > 200:
            r.error("客户单位名称", _("不能超过200字"))
        norm = normalize_name(name)
        d["name"] = name
        if norm:
            if norm in by_name:
                r.error("客户单位名称", self._duplicate_message(by_name[norm], visible))
            elif norm in self.seen_names:
                r.error("客户单位名称", _("与本表第 %(row)s 行重复") % {"row": self.seen_names[norm]})
            else:
                self.seen_names[norm] = number

        code = normalize_credit_code(_text(cells.get("统一社会信用代码")))
        r.credit_code = code
        d["credit_code"] = code
        if code:
            try:
                validate_credit_code(code)
            except ValidationError as exc:
                r.error("统一社会信用代码", exc.messages[0])
            else:
                if code in by_code:
                    r.error("统一社会信用代码", self._duplicate_message(by_code[code], visible))
                elif code in self.seen_codes:
                    r.error("统一社会信用代码", _("与本表第 %(row)s 行重复") % {"row": self.seen_codes[code]})
                else:
                    self.seen_codes[code] = number

        org_type = _text(cells.get("客户类型"))
        if org_type and org_type not in ORG_TYPES:
            r.error(
                "客户类型",
                _("无法识别“%(v)s”,应为:政府部门、房地产企业、社会团体、国有企业、民营企业、其他")
                % {"v": org_type},
            )
        d["org_type"] = ORG_TYPES.get(org_type, OrgType.OTHER)
        for column, key, limit in (("所属行业", "industry", 50), ("单位地址", "address", 300)):
            value = _text(cells.get(column))
            if len(value) > limit:
                r.error(column, _("不能超过%(n)s字") % {"n": limit})
            d[key] = value
        d["remarks"] = _text(cells.get("备注"))

        stage = _text(cells.get("客户阶段"))
        if stage and stage not in STAGES:
            r.error(
                "客户阶段",
                _(
                    "无法识别“%(v)s”,应为:潜在客户、意向客户(跟踪客户)、准客户(投标客户)、签约客户、已开发客户、"
                    "合作伙伴客户"
                )
                % {"v": stage},
            )
        d["stage"] = STAGES.get(stage, Stage.POTENTIAL)

        # Branch, department and owner.
        branch_text = _text(cells.get("所属分公司"))
        branch = None
        if branch_text:
            branch = self.by_label.get(_header(branch_text))
            if branch is None:
                if _header(branch_text) in self.other_labels:
                    r.error("所属分公司", _("您无权向“%(v)s”导入客户") % {"v": branch_text})
                else:
                    r.error("所属分公司", _("未找到分公司“%(v)s”") % {"v": branch_text})
        else:
            branch = self.default_branch
            if branch is None:
                r.error("所属分公司", _("必填:您可向多个单位录入,请注明所属分公司"))
        d["branch_id"] = branch.pk if branch else None
        r.branch = str(branch) if branch else branch_text
        grade_text = _text(cells.get("客户分级"))
        d["grade"] = ""
        if grade_text:
            grade = _grade(grade_text)
            if grade is None:
                r.error("客户分级", _("应为 A、B 或 C"))
            elif self.grades_everywhere or (
                self.user.role == Role.MANAGER and branch is not None and branch.pk == self.user.branch_id
            ):
                d["grade"] = grade
            else:
                r.warn("客户分级", _("您无定级权限,分级未导入,请由经营部负责人或集团市场营销部定级"))

        dept_text = _text(cells.get("项目经理部"))
        d["department_id"] = None
        if dept_text and branch:
            dept = self.departments.get((branch.pk, _header(dept_text)))
            if dept is None:
                r.error("项目经理部", _("“%(v)s”不是%(b)s的项目经理部") % {"v": dept_text, "b": branch})
            else:
                d["department_id"] = dept.pk
        owner_text = _text(cells.get("填报人"))
        d["owner_id"] = self.user.pk
        if owner_text and branch:
            owner = self.people.get((branch.pk, _header(owner_text)))
            if owner is None:
                r.warn(
                    "填报人", _("“%(v)s”不是%(b)s的用户,客户经理设为导入人") % {"v": owner_text, "b": branch}
                )
            else:
                d["owner_id"] = owner.pk
        reported = cells.get("填报日期")
        d["reported_on"] = None
        if _text(reported):
            try:
                d["reported_on"] = _date(reported).isoformat()
            except (ValueError, TypeError):
                r.error("填报日期", _("日期格式不正确,应如 2026-03-25"))

        # Contacts: names, positions, phones and e-mails side by side.
        contact_names = _split(cells.get("联系人"))
        positions = _split(cells.get("职务"), keep_empty=True)
        phones = _split(cells.get("联系电话"), keep_empty=True)
        emails = _split(cells.get("电子邮箱"), keep_empty=True)
        if not contact_names:  # a single unit phone / e-mail, no alignment to keep
            phones, emails = [p for p in phones if p], [e for e in emails if e]
        d["phone"] = ""
        normalized_phones = []
        for p in filter(None, phones):
            try:
                normalized_phones.append(normalize_phone(p))
            except ValidationError as exc:
                r.error("联系电话", f"{p}:{exc.messages[0]}")
        for e in filter(None, emails):
            try:
                validate_email(e)
            except ValidationError:
                r.error("电子邮箱", _("“%(v)s”不是有效的电子邮箱") % {"v": e})
        for column, values in (("职务", positions), ("联系电话", phones), ("电子邮箱", emails)):
            if contact_names and len(values) > len(contact_names):
                r.error(
                    column,
                    _("多于联系人的数量(%(n)s 个),请用“、”与联系人一一对应") % {"n": len(contact_names)},
                )
        if not contact_names and len(phones) > 1:
            r.error("联系电话", _("没有联系人时只能填一个单位电话"))
        if not contact_names and phones:
            d["phone"] = phones[0]
        d["email"] = emails[0] if not contact_names and emails else ""
        d["contacts"] = [
            {
                "name": n[:50],
                "position": positions[i][:50] if i < len(positions) else "",
                "phone": phones[i] if i < len(phones) and contact_names else "",
                "email": emails[i] if i < len(emails) and contact_names else "",
                "is_primary": i == 0,
            }
            for i, n in enumerate(contact_names)
        ]
        for c in d["contacts"]:
            if len(c["name"]) > 50:
                r.error("联系人", _("姓名不能超过50字"))
        r.contacts = len(contact_names)

        # Projects and their contract values (万元).
        project_names = _split(cells.get("合作项目"))
        amounts_text = _split(cells.get("合同金额(万元)"))
        amounts = []
        for a in amounts_text:
            try:
                value = _amount(a)
            except (InvalidOperation, ValueError):
                r.error("合同金额(万元)", _("“%(v)s”不是数字") % {"v": a})
                continue
            if value < 0:
                r.error("合同金额(万元)", _("金额不能为负数"))
            amounts.append(value)
        if amounts and not project_names:
            r.error("合同金额(万元)", _("填写了合同金额但没有合作项目"))
        elif len(amounts) > 1 and len(amounts) != len(project_names):
            r.error(
                "合同金额(万元)",
                _("金额个数(%(a)s)与项目个数(%(p)s)不一致") % {"a": len(amounts), "p": len(project_names)},
            )
        elif len(amounts) == 1 and len(project_names) > 1:
            r.warn("合同金额(万元)", _("合同金额为合计,已记入第一个项目"))
        d["projects"] = []
        for i, pname in enumerate(project_names):
            if len(pname) > 200:
                r.error("合作项目", _("项目名称不能超过200字"))
            value = amounts[i] if i < len(amounts) else Decimal("0")
            d["projects"].append(
                {
                    "name": pname[:200],
                    "project_type": str(project_type_for(pname).value),
                    "contract_value": str((value * 10000).quantize(Decimal("0.01"))),
                }
            )
        r.projects = len(project_names)
        d["needs"] = _split(cells.get("客户需求"))
        r.needs = len(d["needs"])
        return r


def validate_file(path, *, user, progress=None) -> Report:
    """Read and validate a whole file; nothing is saved."""
    report = Report()
    try:
        headers, rows, unknown = read_sheet(path)
    except ImportFileError as exc:
        report.file_errors.append(str(exc))
        return report
    for h in unknown:
        report.file_errors.append(
            _("未知的列“%(h)s”:客户信息统计表没有此列,请删除或改为模板中的列名(不会被忽略)") % {"h": h}
        )
    duplicates = sorted({h for h in headers if headers.count(h) > 1})
    for h in duplicates:
        report.file_errors.append(_("列“%(h)s”出现了多次") % {"h": h})
    report.missing_columns = [c for c in COLUMNS if c not in headers]
    for c in REQUIRED:
        if c not in headers:
            report.file_errors.append(_("缺少必填列“%(h)s”") % {"h": c})
    if not rows:
        report.file_errors.append(_("文件中没有数据行"))
        return report
    if progress:
        progress(0, len(rows))
    report.rows = Validator(user).validate(rows, progress=progress)
    return report


# ---------------------------------------------------------------------------------------------
# Saving (the service of R36)
# ---------------------------------------------------------------------------------------------


class ImportRefused(Exception):
    def __init__(self, report: Report):
        super().__init__("import refused")
        self.report = report


# Rows saved per round of inserts: one INSERT per table (and one for its history) per batch.
IMPORT_BATCH = 500


@transaction.atomic
def clients_import(*, user, path, progress=None) -> list[int]:
    """Validate ``path`` again against the archive as it is now and create every client with
    its contacts, projects and needs in one transaction, or nothing (R36). History records the
    importing user; the owner is the importer unless 填报人 names a user of the branch.

    The rows go in ``IMPORT_BATCH`` at a time, each table in one INSERT with its history rows
    (10,000 rows: a minute where a save per row took five). What a save per row would do is
    done here for the batch: the derived keys and search text, the field checks, the scope
    check, R7's grade record with the rules' suggestion, R11's deadlines and R13's flag of A
    clients without a visit plan; the field checks that would query (the foreign keys, the
    duplicates) were made by the validation that ran just before, in this transaction."""
    report = validate_file(path, user=user)
    if not report.ok:
        raise ImportRefused(report)
    now = timezone.now()
    total = len(report.rows)
    created, flagged = [], []
    for start in range(0, total, IMPORT_BATCH):
        clients = _import_batch(report.rows[start : start + IMPORT_BATCH], user=user, now=now)
        created += [c.pk for c in clients]
        flagged += [c for c in clients if c.grade == Grade.A]
        if progress:
            progress(start + len(clients), total)
    _flag_a_clients_without_plan(flagged, now=now)
    for model in (Client, Contact, Project, Need, StageChange, GradeChange):
        rows_bulk_written.send(sender=model)
    return created


def _import_batch(rows, *, user, now) -> list[Client]:
    from ..grading import suggest_grade
    from ..models import compose_search_text
    from ..services import may_set_grade, need_due_at  # who grades (R7), deadlines (R11)

    clients, contacts, projects = [], [], []
    for r in rows:
        d = r.data
        client = Client(
            name=d["name"],
            credit_code=d["credit_code"],
            org_type=d["org_type"],
            industry=d["industry"],
            address=d["address"],
            phone=d["phone"],
            email=d["email"],
            branch_id=d["branch_id"],
            department_id=d["department_id"],
            owner_id=d["owner_id"],
            stage=d["stage"],
            remarks=d["remarks"],
            needs_collected_on=d["reported_on"] if d["needs"] else None,
        )
        client.derive_keys()
        people = [Contact(client=client, **c) for c in d["contacts"]]
        for contact in people:
            contact.derive_keys()
            contact._history_user = user
        client.search_text = compose_search_text(
            client.name, client.phone_normalized, [(c.name, c.phone_normalized) for c in people]
        )
        client.full_clean(
            exclude=["branch", "department", "owner"], validate_unique=False, validate_constraints=False
        )
        client._history_user = user
        client._change_reason = IMPORT_REASON
        client.import_row = r
        clients.append(client)
        contacts += people
        projects += [
            Project(
                client=client,
                branch_id=client.branch_id,
                department_id=client.department_id,
                name=p["name"],
                project_type=p["project_type"],
                phase=Phase.CONTRACT,
                contract_value=Decimal(p["contract_value"]),
            )
            for p in d["projects"]
        ]
        if d["grade"]:
            # R7: graded as it goes in, by one who may grade (the validator let a grade through
            # only for them); the record below keeps the rules' suggestion from the imported
            # facts (its projects; a new client has no complaints) beside the sheet's grade.
            client.grade, client.graded_at = d["grade"], now
            client.project_count, client.unreasonable_count = len(d["projects"]), 0
            if client.grade == Grade.A:  # R13: flagged below, and said in its history
                flag = _("A类客户无拜访计划,已提醒客户经理和经营部负责人。")
                client._change_reason = f"{IMPORT_REASON}; {flag}"[:100]
    bulk_create_with_history(clients, Client, default_date=now)
    # The saved rows against the user's scope, inside the write's transaction (style.md 3).
    saved = [c.pk for c in clients]
    if len(Client.objects.restrict(user, "add").filter(pk__in=saved).values_list("pk")) != len(saved):
        raise PermissionError("a client outside the importing user's scope")
    for contact in contacts:
        contact.client_id = contact.client.pk
        contact.full_clean(exclude=["client"], validate_unique=False)
    bulk_create_with_history(contacts, Contact, default_user=user, default_date=now)
    for project in projects:
        project.client_id = project.client.pk
        project.full_clean(exclude=["client", "branch", "department"], validate_unique=False)
    bulk_create_with_history(projects, Project, default_user=user, default_date=now)
    due, provisional = need_due_at(urgency=Need.Urgency.GENERAL, received_at=now)
    changeable = set(  # R7's scope condition for the graded rows, asked once for the batch
        Client.objects.restrict(user, "change")
        .filter(pk__in=[c.pk for c in clients if c.import_row.data["grade"]])
        .values_list("pk", flat=True)
    )
    needs, stages, grades = [], [], []
    for client in clients:
        d = client.import_row.data
        for text in d["needs"]:
            need = Need(
                client=client,
                category=Need.Category.OTHER,
                urgency=Need.Urgency.GENERAL,
                description=text,
                source_channel=IMPORT_REASON,
                owner_id=client.owner_id,
                received_at=now,
                response_due_at=due,
                due_provisional=provisional,
            )
            need.full_clean(exclude=["client", "owner", "project"], validate_unique=False)
            needs.append(need)
        if d["stage"] != Stage.POTENTIAL:
            stages.append(
                StageChange(
                    client=client,
                    from_stage="",
                    to_stage=d["stage"],
                    note=IMPORT_REASON,
                    changed_by=user,
                    changed_at=now,
                )
            )
        if d["grade"]:
            if not may_set_grade(user, client, in_scope=client.pk in changeable):
                raise PermissionError(f"grade set by one who may not grade: row {client.import_row.row}")
            suggested, criteria = suggest_grade(client)
            change = GradeChange(
                client=client,
                from_grade="",
                to_grade=d["grade"],
                suggested_grade=suggested,
                criteria=criteria,
                reason=IMPORT_REASON,
                changed_by=user,
                changed_at=now,
            )
            change.full_clean(exclude=["client", "changed_by"], validate_unique=False)
            grades.append(change)
    for model, objs in ((Need, needs), (StageChange, stages), (GradeChange, grades)):
        bulk_create_with_history(objs, model, default_user=user, default_date=now)
    return clients


def _flag_a_clients_without_plan(clients: list[Client], *, now) -> None:
    """R13 for clients imported as A: none has a visit plan yet, so each is flagged (the
    archive list's 无拜访计划的A类客户) and its owner and branch managers are told, one message
    per person for the whole import rather than one per client, with the count and the list."""
    if not clients:
        return
    by_person: dict[int, list[Client]] = {}
    people = {u.pk: u for u in User.objects.filter(pk__in={c.owner_id for c in clients})}
    managers: dict[int, list] = {}
    for client in clients:
        if client.branch_id not in managers:
            managers[client.branch_id] = list(managers_of(client.branch_id))
            people.update((u.pk, u) for u in managers[client.branch_id])
        for pk in {client.owner_id, *(u.pk for u in managers[client.branch_id])}:
            by_person.setdefault(pk, []).append(client)
    listed = reverse("clients:client-list") + "?grade=A&plan=a_missing"
    for pk, theirs in by_person.items():
        notify(
            recipients=[people[pk]],
            verb="visit_plan_missing",
            title=lambda: _("导入的A类客户无拜访计划:%(n)s 家") % {"n": len(theirs)},  # noqa: B023 (rendered at once, in each language)
            body=lambda: (
                _("以下客户以A类导入,请按其社会价值制定拜访计划(拜访人员层级、频次):%(names)s")
                % {"names": SEPARATOR.join(c.name for c in theirs[:20]) + ("……" if len(theirs) > 20 else "")}  # noqa: B023 (rendered at once, in each language)
            ),
            url=reverse("clients:client-detail", kwargs={"pk": theirs[0].pk}) + "#visits"
            if len(theirs) == 1
            else listed,
            key=f"visit-plan-missing:import:{theirs[0].pk}:{now.isoformat()}",
        )


# ---------------------------------------------------------------------------------------------
# The two jobs (called by the thin tasks in tasks.py)
# ---------------------------------------------------------------------------------------------

# A commit that has not moved for this long has lost its worker: another delivery of the task
# (or the user's retry) may take it over; its transaction was rolled back with the worker.
STALE_AFTER = ImportJob.STALE_AFTER
# What a job stopped by its task's soft time limit tells its user (the job's ``error``).
TOO_LONG_VALIDATE = gettext_lazy("校验用时过长,已被停止。请把文件拆分成几个较小的文件后重新上传。")
TOO_LONG_COMMIT = gettext_lazy("导入用时过长,已被停止。请把文件拆分成几个较小的文件后重新上传。")


@contextmanager
def uploaded_file(job: ImportJob):
    """The job's file, read through the storage it was saved in: the local disk, or an object
    store that every web server and worker share (settings, CRM_S3_BUCKET), so that a worker
    on another machine reads what a web server received. A file that cannot be opened reads as
    an empty one, which the reader refuses as unreadable."""
    try:
        handle = job.file.open("rb")
    except (OSError, ValueError):
        yield io.BytesIO()
        return
    try:
        yield handle
    finally:
        handle.close()


def import_validate(*, job: ImportJob) -> ImportJob:
    """Read and check every row of the job's file; nothing is saved but the job's report.
    Running it twice gives the same report."""
    if job.phase != ImportJob.Phase.VALIDATE or job.state not in ImportJob.RUNNING_STATES:
        return job  # a second delivery after the job moved on
    _move(job, state=ImportJob.State.RUNNING, done=0)

    def progress(done, total):
        _tick(job, done=done, total=total)

    try:
        with uploaded_file(job) as source:
            report = validate_file(source, user=job.created_by, progress=progress)
    except SoftTimeLimitExceeded:
        # The task's soft time limit (settings): the job ends failed, not "running" for ever.
        return _move(
            job, state=ImportJob.State.FAILED, error=str(TOO_LONG_VALIDATE), finished_at=timezone.now()
        )
    summary = report.summary()
    return _move(
        job,
        state=ImportJob.State.VALIDATED,
        done=summary["rows"],
        total=summary["rows"],
        summary=summary,
        report=report.as_json(),
        finished_at=timezone.now(),
    )


def import_confirm(*, job: ImportJob) -> ImportJob:
    """The user confirms a validated job: it is queued for saving. Refused unless every row
    passed (``ImportRefused``-free) and the job is not already on its way."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.state != ImportJob.State.VALIDATED or not job.summary.get("ok"):
            raise ValidationError(_("该文件尚未通过校验,不能导入。请修改后重新上传。"))
        return _move(
            job, state=ImportJob.State.QUEUED, phase=ImportJob.Phase.COMMIT, done=0, finished_at=None
        )


def import_commit(*, job_id) -> ImportJob | None:
    """Save every row of a confirmed job in one transaction, or none (R36).

    At-least-once delivery: the job row is locked to claim the commit, so a second delivery
    finds it imported (or held by a live run) and does nothing; a run whose worker died is taken
    over once it is ``STALE_AFTER`` old. The clients and the job's ``imported`` state are saved
    in the same transaction, which also re-checks the claim."""
    attempt = uuid.uuid4()
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.phase != ImportJob.Phase.COMMIT:
            return job
        held = job.state == ImportJob.State.RUNNING and job.updated_at > timezone.now() - STALE_AFTER
        if job.state not in ImportJob.RUNNING_STATES or held:
            return job
        _move(job, state=ImportJob.State.RUNNING, attempt=attempt, done=0)
    try:
        with transaction.atomic():
            with uploaded_file(job) as source:
                created = clients_import(user=job.created_by, path=source)
            locked = ImportJob.objects.select_for_update().get(pk=job.pk)
            if locked.attempt != attempt or locked.state != ImportJob.State.RUNNING:
                raise _LostClaim
            return _move(
                job,
                state=ImportJob.State.IMPORTED,
                done=len(created),
                total=len(created),
                created=created,
                finished_at=timezone.now(),
            )
    except _LostClaim:
        return ImportJob.objects.get(pk=job.pk)
    except ImportRefused as exc:
        # The archive changed since the preview (a credit code taken meanwhile): back to the
        # preview with the new report; nothing was saved.
        summary = exc.report.summary()
        return _move(
            job,
            state=ImportJob.State.VALIDATED,
            phase=ImportJob.Phase.VALIDATE,
            summary=summary,
            report=exc.report.as_json(),
            done=summary["rows"],
            total=summary["rows"],
            finished_at=timezone.now(),
        )
    except SoftTimeLimitExceeded:
        # The task's soft time limit (settings) interrupted the save: rolled back, nothing kept.
        return _move(
            job, state=ImportJob.State.FAILED, error=str(TOO_LONG_COMMIT), finished_at=timezone.now()
        )
    except Exception as exc:  # noqa: BLE001 - the job must end in a state the page can show
        return _move(job, state=ImportJob.State.FAILED, error=str(exc)[:300], finished_at=timezone.now())


def import_retry(*, job: ImportJob) -> ImportJob:
    """Run a stopped job's step again (its worker died or its message was lost). Only a job
    that has stopped moving; a step that is still running is left alone. Returns the job,
    queued again; the caller enqueues the task of its phase."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if not job.stalled:
            raise ValidationError(_("该导入任务仍在进行或已经结束,无需重新执行。"))
        return _move(job, state=ImportJob.State.QUEUED, attempt=None, done=0)


class _LostClaim(Exception):
    """Another delivery took the commit over: roll this one back."""


def import_uploads_purge(*, now=None) -> int:
    """Delete the uploaded files of jobs older than ``IMPORT_KEEP_DAYS`` (the rows, their
    reports and history stay), and folders under ``imports/`` that no job knows. Idempotent."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.IMPORT_KEEP_DAYS)
    removed = 0
    for job in ImportJob.objects.filter(created_at__lt=cutoff, file_removed_at__isnull=True).exclude(
        state__in=ImportJob.RUNNING_STATES
    ):
        if job.file:
            job.file.delete(save=False)
            folder = Path(settings.MEDIA_ROOT) / "imports" / str(job.pk)
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        _move(job, file="", file_removed_at=now)
        removed += 1
    root = Path(settings.MEDIA_ROOT) / "imports"
    if root.is_dir():
        known = {str(pk) for pk in ImportJob.objects.values_list("pk", flat=True)}
        for folder in root.iterdir():
            if folder.name in known or not folder.is_dir():
                continue
            if dt.datetime.fromtimestamp(folder.stat().st_mtime, dt.UTC) < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
    return removed


# ---------------------------------------------------------------------------------------------
# The template
# ---------------------------------------------------------------------------------------------


def template_workbook() -> bytes:
    """The import template: the 客户信息统计表 columns with an example row, and a sheet that
    explains each column's rules."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "客户信息统计表"
    ws.append(COLUMNS)
    ws.append(EXAMPLE_ROW)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in ws[1]:
        cell.font = bold
        cell.fill = fill
    for i, col in enumerate(COLUMNS, start=1):
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = max(10, len(col) * 2 + 4)
    ws.freeze_panes = "A2"
    notes = wb.create_sheet(_("填写说明"))
    notes.append([_("列名"), _("是否必填"), _("填写规则")])
    for cell in notes[1]:
        cell.font = bold
        cell.fill = fill
    for col in COLUMNS:
        notes.append([col, _("必填") if col in REQUIRED else _("选填"), str(COLUMN_RULES[col])])
    notes.append([])
    notes.append(
        [
            _("说明"),
            "",
            _("多个联系人、项目、需求用“%(sep)s”分隔;请勿增加模板以外的列;一次最多 %(max)s 行。")
            % {"sep": SEPARATOR, "max": MAX_ROWS},
        ]
    )
    notes.append(
        ["", "", _("导入前系统逐行校验并显示预览,确认后一次性全部保存;任何一行有错误则全部不保存。")]
    )
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 90
    for row in notes.iter_rows(min_row=2):
        row[2].alignment = Alignment(wrap_text=True)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
