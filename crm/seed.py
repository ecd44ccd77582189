"""The demo organisation (design.md, "Demo data and logins")."""

from __future__ import annotations

from dataclasses import dataclass, field

from .models import Branch, ProjectDepartment, Role, User
from .services import roles_sync, user_set_role

BRANCHES = [
    # code, name, short name, kind, region, departments
    ("hq", "集团总部", "集团总部", Branch.Kind.HQ, "上海", [("market", "市场营销部", True)]),
    (
        "east",
        "华东区域分公司",
        "华东分公司",
        Branch.Kind.REGIONAL,
        "上海",
        [
            ("biz", "经营部", True),
            ("pd-hongqiao", "虹桥商务区项目经理部", False),
            ("pd-suzhou", "苏州工业园项目经理部", False),
            ("pd-hangzhou", "杭州未来科技城项目经理部", False),
        ],
    ),
    (
        "south",
        "华南区域分公司",
        "华南分公司",
        Branch.Kind.REGIONAL,
        "深圳",
        [
            ("biz", "经营部", True),
            ("pd-qianhai", "前海自贸区项目经理部", False),
            ("pd-nansha", "广州南沙项目经理部", False),
        ],
    ),
    (
        "design",
        "建筑设计专业分公司",
        "设计分公司",
        Branch.Kind.PROFESSIONAL,
        "上海",
        [("biz", "经营部", True), ("pd-studio1", "第一设计所", False), ("pd-studio2", "第二设计所", False)],
    ),
    (
        "install",
        "机电安装专业分公司",
        "安装分公司",
        Branch.Kind.PROFESSIONAL,
        "南京",
        [
            ("biz", "经营部", True),
            ("pd-jiangbei", "南京江北新区项目经理部", False),
            ("pd-hefei", "合肥高新区项目经理部", False),
        ],
    ),
]

NAMES = {
    "marketing": ("王海燕", "市场营销部经理"),
    "leader": ("陈国栋", "集团副总经理"),
    "auditor": ("刘静", "考核专员"),
    "admin": ("系统管理员", ""),
    "east_manager": ("张伟", "经营部负责人"),
    "east_staff": ("李娜", "经营部业务员"),
    "south_manager": ("黄志强", "经营部负责人"),
    "south_staff": ("林晓敏", "经营部业务员"),
    "design_manager": ("周建华", "经营部负责人"),
    "design_staff": ("吴倩", "经营部业务员"),
    "install_manager": ("孙立军", "经营部负责人"),
    "install_staff": ("郑雪", "项目商务经理"),
}


@dataclass
class Org:
    branches: dict[str, Branch] = field(default_factory=dict)
    departments: dict[tuple[str, str], ProjectDepartment] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)


def _user(username, password, role, branch=None, department=None, superuser=False) -> User:
    full_name, title = NAMES.get(username, (username, ""))
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"full_name": full_name, "title": title, "email": f"{username}@example.com"},
    )
    if created:
        user.set_password(password)
        user.is_superuser = superuser
        user.save()
    return user_set_role(user=user, role=role, branch=branch, department=department)


def seed_organisation(*, password: str) -> Org:
    org = Org()
    for order, (code, name, short, kind, region, depts) in enumerate(BRANCHES):
        branch, _ = Branch.objects.update_or_create(
            code=code,
            defaults={"name": name, "short_name": short, "kind": kind, "region": region, "sort_order": order},
        )
        org.branches[code] = branch
        for dcode, dname, is_biz in depts:
            dept, _ = ProjectDepartment.objects.update_or_create(
                branch=branch, code=dcode, defaults={"name": dname, "is_business_dept": is_biz}
            )
            org.departments[(code, dcode)] = dept
    roles_sync()
    hq = org.branches["hq"]
    org.users["admin"] = _user("admin", password, Role.ADMIN, hq, superuser=True)
    for role in (Role.MARKETING, Role.LEADER, Role.AUDITOR):
        org.users[role] = _user(str(role), password, role, hq, org.departments[("hq", "market")])
    for code in ("east", "south", "design", "install"):
        biz = org.departments[(code, "biz")]
        org.users[f"{code}_manager"] = _user(
            f"{code}_manager", password, Role.MANAGER, org.branches[code], biz
        )
        org.users[f"{code}_staff"] = _user(f"{code}_staff", password, Role.STAFF, org.branches[code], biz)
    return org
