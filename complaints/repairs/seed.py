"""Demo warranty repairs (design.md "Demo data"; R94-R101): a year of repairs for each branch's
completed projects, through the real services with each step at the moment it happened (the
services take ``at``): about nine in ten registered within 10 minutes, about one in nine
reopened (a first-time fix rate near 88%), return visits mostly within 24 hours and mostly
satisfied, a few repairs still open, some outside the warranty (paid service), one unsatisfied
visit turned into a complaint. Deterministic (a fixed seed, times relative to now) and
idempotent (a second run finds the repairs and adds nothing)."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from clients.models import Project

from . import services
from .models import BuildingPart, RepairRequest

CASES = {
    BuildingPart.WALLS_BEAMS: [("客厅墙面开裂", "客厅东侧墙面出现斜向裂缝,长约1米。"),
                               ("阳台梁底渗水", "阳台梁底有渗水痕迹,雨后明显。")],
    BuildingPart.DOORS_WINDOWS: [("铝合金窗关闭不严", "主卧铝合金推拉窗关闭不严,刮风时漏风漏雨。"),
                                 ("塑钢门五金损坏", "厨房塑钢门合页松动,门扇下垂。")],
    BuildingPart.FLOORS_ROOFS: [("屋面渗漏", "顶层卧室顶棚雨后渗水,墙角发霉。"),
                                ("楼地面空鼓", "客厅地砖多块空鼓,踩踏有响声。")],
    BuildingPart.WATERPROOFING: [("卫生间渗水至楼下", "卫生间地面渗水,楼下住户天花板出现水渍。")],
    BuildingPart.INSTALLATIONS: [("给水管接头漏水", "厨房给水管接头滴漏,柜体受潮。"),
                                 ("配电箱跳闸", "户内配电箱频繁跳闸,空调回路无法使用。")],
    BuildingPart.FINISHES: [("墙面涂料起皮", "次卧墙面涂料大面积起皮脱落。")],
    BuildingPart.OUTDOOR: [("小区道路井盖下沉", "3号楼前道路井盖下沉,车辆通过有异响。")],
}  # fmt: skip
TEAMS = {
    BuildingPart.WALLS_BEAMS: "土建维修组",
    BuildingPart.DOORS_WINDOWS: "门窗维修组",
    BuildingPart.FLOORS_ROOFS: "防水维修组",
    BuildingPart.WATERPROOFING: "防水维修组",
    BuildingPart.INSTALLATIONS: "水电维修组",
    BuildingPart.FINISHES: "土建维修组",
    BuildingPart.OUTDOOR: "土建维修组",
}
REPORTERS = ["业主张先生", "业主李女士", "物业王主任", "业主陈先生", "业主刘女士", "物业客服赵工"]
REPAIR_NOTES = ["已重新封堵并做闭水试验,无渗漏。", "已更换配件并调试正常。", "已凿除空鼓部位重新铺贴。",
                "已修补裂缝并重新粉刷。"]  # fmt: skip
VISIT_NOTES = ["业主对维修结果满意。", "业主认可维修人员的态度和效率。", "业主表示问题已解决。"]
PER_BRANCH = 42  # about 3.5 a month over a year


def _office_time(rng, moment: dt.datetime) -> dt.datetime:
    local = timezone.localtime(moment)
    return local.replace(hour=rng.choice([8, 9, 10, 11, 14, 15, 16, 17]), minute=rng.choice([5, 20, 35, 50]),
                         second=0, microsecond=0)  # fmt: skip


def _walk(rng, org, code: str, project: Project, received: dt.datetime, now: dt.datetime) -> RepairRequest:
    """Take one repair as far as the clock allows: each step a realistic while after the last."""
    desk, manager = org.users[f"{code}_staff"], org.users[f"{code}_manager"]
    part = rng.choice(list(CASES))
    title, description = rng.choice(CASES[part])
    repair = services.repair_receive(
        by=desk, project=project, reporter=rng.choice(REPORTERS), reporter_phone=f"138{rng.randint(10000000, 99999999)}",
        part=part, location=f"{rng.randint(1, 12)}号楼{rng.randint(1, 3)}单元{rng.randint(2, 28)}{rng.randint(1, 4):02d}",
        title=title, description=description, received_at=received,
    )  # fmt: skip

    def step(moment):
        return moment if moment <= now else None

    at = step(
        received
        + dt.timedelta(
            minutes=rng.choice([3, 5, 6, 8, 9]) if rng.random() < 0.88 else rng.choice([15, 25, 40])
        )
    )
    if at is None:
        return repair
    repair = services.repair_register(repair=repair, by=desk, at=at)
    at = step(at + dt.timedelta(minutes=rng.choice([1, 2, 5])))
    if at is None:
        return repair
    repair = services.repair_dispatch(repair=repair, by=desk, team=TEAMS[part], at=at)
    reopens = 1 if rng.random() < 0.11 else 0
    while True:
        at = step(at + dt.timedelta(hours=rng.choice([4, 20, 26, 48, 72])))
        if at is None:
            return repair
        repair = services.repair_complete(
            repair=repair, by=manager, repair_note=rng.choice(REPAIR_NOTES), at=at
        )
        if reopens:
            reopens -= 1
            at = step(at + dt.timedelta(days=rng.randint(3, 20)))
            if at is None:
                return repair
            repair = services.repair_reopen(
                repair=repair, by=desk, reason="同一部位问题再次出现,业主再次报修。", at=at
            )
            continue
        break
    at = step(at + dt.timedelta(hours=rng.choice([2, 4, 24])))
    if at is None:
        return repair
    repair = services.repair_close(repair=repair, by=manager, note="业主验收,同意关闭。", at=at)
    for visit in list(repair.visits.order_by("sequence")):
        if visit.sequence == 1:
            late = rng.random() < 0.08
            when = (
                visit.due_at + dt.timedelta(hours=rng.choice([3, 20]))
                if late
                else at + dt.timedelta(hours=rng.choice([2, 16, 20]))
            )
        else:
            when = visit.due_at - dt.timedelta(days=rng.randint(1, 10))
        if when > now:
            break
        roll = rng.random()
        satisfaction = (
            "very_satisfied"
            if roll < 0.45
            else "satisfied"
            if roll < 0.9
            else "neutral"
            if roll < 0.95
            else "unsatisfied"
        )
        services.repair_return_visit(
            repair=repair, by=desk, satisfaction=satisfaction, notes=rng.choice(VISIT_NOTES), visited_at=when,
            contact_name=repair.reporter, effect_confirmed=visit.sequence > 1,
        )  # fmt: skip
    return repair


def seed(org) -> str | None:
    """None when there is nothing to repair (no projects in the demo's branches)."""
    codes = [code for code in org.branches if code != "hq"]
    if RepairRequest.objects.filter(project__branch__code__in=codes).exists():
        return f"already there: {RepairRequest.objects.count()} repairs"
    rng = random.Random(20270127)
    now = timezone.now()
    made = 0
    for code in codes:
        branch = org.branches[code]
        projects = list(
            Project.objects.filter(branch=branch, completed_on__isnull=False)
            .select_related("client")
            .order_by("pk")[:10]
        ) or list(Project.objects.filter(branch=branch).select_related("client").order_by("pk")[:5])
        if not projects:
            continue
        for i in range(PER_BRANCH):
            days_ago = 365 - i * 365 // PER_BRANCH - rng.randint(0, 5)
            received = min(
                _office_time(rng, now - dt.timedelta(days=max(days_ago, 0))), now - dt.timedelta(minutes=30)
            )
            project = projects[(i * 7 + len(code)) % len(projects)]
            _walk(rng, org, code, project, received, now)
            made += 1
        # The front desk's latest call, not yet registered (the 10 minutes are running).
        services.repair_receive(
            by=org.users[f"{code}_staff"], project=projects[0], reporter="业主周先生", part=BuildingPart.DOORS_WINDOWS,
            location="2号楼1单元1202", title="入户门锁芯损坏", description="入户门锁芯损坏,钥匙无法转动。",
            received_at=now - dt.timedelta(minutes=4),
        )  # fmt: skip
        made += 1
    offered = 0
    for repair in RepairRequest.objects.filter(
        project__branch__code__in=codes, complaint__isnull=True
    ).order_by("pk"):
        if services.offers_complaint(repair) and any(v.is_unsatisfied for v in repair.visits.all()):
            services.repair_open_complaint(
                repair=repair, by=org.users[f"{repair.project.branch.code}_manager"],
                content="维修后问题仍未彻底解决,业主对维修质量不满意,要求公司给予重视。", severity="high",
                motive="psychological",
            )  # fmt: skip
            offered += 1
            break
    if not made:
        return None
    return f"{made} repairs, {offered} turned into a complaint"
