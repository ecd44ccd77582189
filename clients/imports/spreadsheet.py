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
# Columns the archive's export adds after the spreadsheet's: the client's 我方对客户的评价, drawn
# from its latest analysis (seed 001, R54), and its 跟踪状态 (R38). The import knows them, so
# that an exported file goes back in, and reads nothing from them.
EXPORT_ONLY_COLUMNS = ["我方对客户的评价", "跟踪状态"]
SEPARATOR = "、"
# Column widths of the exported 客户信息统计表 (characters), in COLUMNS' order, then EXPORT_ONLY_COLUMNS'.
EXPORT_WIDTHS = (6, 36, 22, 12, 14, 36, 18, 18, 24, 24, 10, 6, 36, 12, 36, 16, 20, 10, 12, 30, 40, 14)


def _aligned(values) -> str:
    """One position per contact, blanks kept ("、13812345678": the first has no phone), so
    that the import reads each value back onto its own contact; a column blank for every
    contact stays empty."""
    values = [v or "" for v in values]
    return SEPARATOR.join(values) if any(values) else ""


def export_rows(clients, chunk: int = 5000, *, with_export_columns: bool = False):
    """Rows of the spreadsheet for ``clients`` (a restricted queryset), in its order.

    The whole archive (100k clients with 300k contacts, 200k projects, 200k needs) is read as
    plain values, ``chunk`` clients at a time: the ids in the list's order first, then per chunk
    one query each for the clients, their contacts, projects and open needs. Memory stays that
    of one chunk and no model instance is built (R36, the whole-archive export).
    ``with_export_columns``: each row ends with EXPORT_ONLY_COLUMNS (the evaluation, R54; the
    跟踪状态, R38)."""
    from django.db.models import F

    from clients.models import Client, Contact, Need, Project

    org_types = {k: str(v) for k, v in Client._meta.get_field("org_type").choices}
    stages = {k: str(v) for k, v in Client._meta.get_field("stage").choices}
    trackings = {k: str(v) for k, v in Client._meta.get_field("tracking").choices}
    ids = list(clients.values_list("pk", flat=True))
    n = 0
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        # ``part`` holds ids of the restricted ``clients``: these reads stay in its scope.
        rows = {
            r["pk"]: r
            for r in Client.objects.filter(pk__in=part).values(
                "pk",
                "name",
                "credit_code",
                "org_type",
                "industry",
                "address",
                "phone",
                "email",
                "stage",
                "grade",
                "updated_at",
                "remarks",
                "tracking",
                "our_evaluation",
                branch_name=F("branch__name"),
                department_name=F("department__name"),
                owner_full_name=F("owner__full_name"),
                owner_first_name=F("owner__first_name"),
                owner_last_name=F("owner__last_name"),
                owner_username=F("owner__username"),
            )
        }
        contacts = _grouped(
            Contact.objects.filter(client_id__in=part).order_by("client_id", *Contact._meta.ordering),
            "name",
            "position",
            "phone",
            "email",
        )
        projects = _grouped(
            Project.objects.filter(client_id__in=part).order_by("client_id", *Project._meta.ordering),
            "name",
            "contract_value",
        )
        needs = _grouped(
            Need.objects.filter(client_id__in=part)
            .exclude(status__in=(Need.Status.DONE, Need.Status.REJECTED))
            .order_by("client_id", *Need._meta.ordering),
            "description",
        )
        for pk in part:
            c = rows[pk]
            people = contacts.get(pk, ())
            works = projects.get(pk, ())
            n += 1
            row = [
                n,
                c["name"],
                c["credit_code"],
                org_types.get(c["org_type"], c["org_type"]),
                c["industry"],
                c["address"],
                SEPARATOR.join(x[0] for x in people),
                _aligned(x[1] for x in people),
                _aligned(x[2] for x in people) if people else c["phone"],
                _aligned(x[3] for x in people) if people else c["email"],
                stages.get(c["stage"], c["stage"]),
                c["grade"],
                SEPARATOR.join(x[0] for x in works),
                round(float(sum((x[1] for x in works), 0)) / 10000, 2) if works else "",
                SEPARATOR.join(x[0][:60] for x in needs.get(pk, ())),
                c["branch_name"],
                c["department_name"] or "",
                # User.display_name, from the values of this query
                c["owner_full_name"]
                or f"{c['owner_first_name']} {c['owner_last_name']}".strip()
                or c["owner_username"],
                timezone.localtime(c["updated_at"]).date() if c["updated_at"] else "",
                c["remarks"],
            ]
            if with_export_columns:
                row += [c["our_evaluation"], trackings.get(c["tracking"], c["tracking"])]
            yield row


def _grouped(qs, *fields) -> dict[int, list[tuple]]:
    """``fields`` of the rows of ``qs`` (ordered by client), as lists per client id."""
    grouped: dict[int, list[tuple]] = {}
    for client_id, *values in qs.values_list("client_id", *fields):
        grouped.setdefault(client_id, []).append(values)
    return grouped
