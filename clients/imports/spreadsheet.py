"""The group's spreadsheet, 客户信息统计表 (domain.md, "Conventions of the data"): the default
layout of the archive's import and export (R36). A cell may hold several contacts or projects
separated by "、"."""

from __future__ import annotations

from django.utils import timezone

COLUMNS = [
    "序号",
    "客户单位名称",
    "统一社会信用代码",
    "客户类型",
    "所属行业",
    "单位地址",
    "联系人",
    "职务",
    "联系电话",
    "电子邮箱",
    "客户阶段",
    "客户分级",
    "合作项目",
    "合同金额(万元)",
    "客户需求",
    "所属分公司",
    "项目经理部",
    "填报人",
    "填报日期",
    "备注",
]
SEPARATOR = "、"


def _aligned(values) -> str:
    """One position per contact, blanks kept ("、13812345678": the first has no phone), so
    that the import reads each value back onto its own contact; a column blank for every
    contact stays empty."""
    values = [v or "" for v in values]
    return SEPARATOR.join(values) if any(values) else ""


def export_rows(clients):
    """Rows of the spreadsheet for ``clients`` (a restricted queryset). Prefetch contacts,
    projects and needs on the queryset to keep this at a fixed number of queries:
    ``.select_related("branch", "department", "owner").prefetch_related("contacts", "projects", "needs")``."""
    for n, c in enumerate(clients, start=1):
        contacts = list(c.contacts.all())
        projects = list(c.projects.all())
        needs = [x for x in c.needs.all() if x.status not in ("done", "rejected")]
        total = sum((p.contract_value for p in projects), 0)
        yield [
            n,
            c.name,
            c.credit_code,
            c.get_org_type_display(),
            c.industry,
            c.address,
            SEPARATOR.join(x.name for x in contacts),
            _aligned(x.position for x in contacts),
            _aligned(x.phone for x in contacts) if contacts else c.phone,
            _aligned(x.email for x in contacts) if contacts else c.email,
            c.get_stage_display(),
            c.grade,
            SEPARATOR.join(p.name for p in projects),
            round(float(total) / 10000, 2) if projects else "",
            SEPARATOR.join(x.description[:60] for x in needs),
            c.branch.name,
            c.department.name if c.department_id else "",
            c.owner.display_name,
            timezone.localtime(c.updated_at).date() if c.updated_at else "",
            c.remarks,
        ]
