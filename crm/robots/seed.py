"""Demo robots (issue 28): one group chat robot per branch, one for a project department and one for
the group, on the three
platforms, all pointing at the local receiver (``manage.py robot_receiver --port 8765``), so that
"send a test message" and the demo's notices show up in that terminal. Idempotent: a robot of
the same name is left alone. The secrets are made up on the spot (the receiver reads them from
the database)."""

from __future__ import annotations

import secrets

from crm.models import Branch

from .models import ChatRobot
from .services import robot_save

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
# branch code -> platform; other branches get WeCom, the most used in the group.
PLATFORM = {"east": "wecom", "south": "dingtalk", "design": "feishu", "install": "wecom"}
BRANCH_KINDS = ["reminders", "overdue", "report_status"]
GROUP_KINDS = ["report_status", "ratings", "circulars"]


def _url(kind: str, key: str) -> str:
    if kind == "wecom":
        return f"{BASE}/cgi-bin/webhook/send?key={key}"
    if kind == "dingtalk":
        return f"{BASE}/robot/send?access_token={key}"
    return f"{BASE}/open-apis/bot/v2/hook/{key}"


def _robot(org, *, name, kind, unit, branch=None, department=None, notice_kinds) -> bool:
    if ChatRobot.objects.filter(name=name).exists():
        return False
    robot = ChatRobot(
        name=name,
        kind=kind,
        unit=unit,
        branch=branch,
        department=department,
        webhook_url=_url(kind, f"demo-{secrets.token_hex(8)}"),
        notice_kinds=notice_kinds,
        is_active=True,
    )
    secret = f"SEC{secrets.token_hex(24)}" if kind != "wecom" else None
    robot_save(robot=robot, by=org.users["admin"], secret=secret)
    return True


def seed(org) -> str:
    made = 0
    kinds = dict(ChatRobot.Kind.choices)
    for branch in Branch.objects.exclude(kind=Branch.Kind.HQ).order_by("sort_order", "code"):
        kind = PLATFORM.get(branch.code, "wecom")
        made += _robot(
            org,
            name=f"{branch}{kinds[kind]}",
            kind=kind,
            unit=ChatRobot.Unit.BRANCH,
            branch=branch,
            notice_kinds=BRANCH_KINDS,
        )
    hongqiao = org.departments.get(("east", "pd-hongqiao"))
    if hongqiao is not None:
        made += _robot(
            org,
            name=f"{hongqiao.name}企业微信群",
            kind="wecom",
            unit=ChatRobot.Unit.DEPARTMENT,
            department=hongqiao,
            branch=hongqiao.branch,
            notice_kinds=["overdue"],
        )
    made += _robot(
        org, name="集团经营管理群", kind="wecom", unit=ChatRobot.Unit.GROUP, notice_kinds=GROUP_KINDS
    )
    return f"{made} chat robots (pointing at the local receiver on port {PORT})"
