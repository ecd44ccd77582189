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
            SEPARATOR.join(x.position for x in contacts if x.position),
            SEPARATOR.join(x.phone for x in contacts if x.phone) or c.phone,
            SEPARATOR.join(x.email for x in contacts if x.email) or c.email,
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
