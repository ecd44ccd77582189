"""Demo complaints (design.md "Demo data"): a believable year of complaints for the clients of
the archive's demo data, in every status, some overdue, with hand-overs and return visits.

Every complaint goes through the real services; the timestamps are then moved back to when
the steps would have happened, so timeliness figures look like a real year. Deterministic and
idempotent: a second run finds the complaints already there and adds nothing."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from clients.models import Client
from crm.calendar import add_working_days, add_working_hours

from . import services
from .models import Complaint, Event, HandOver

CASES = {
    "engineering_quality": [
        ("地下车库顶板渗水", "地下车库B2层顶板多处渗水,雨天尤为明显,物业已多次反映。"),
        ("外墙保温层空鼓脱落", "3号楼东立面外墙保温层局部空鼓,有一处已脱落,存在坠落隐患。"),
        ("卫生间防水不合格", "交付样板房卫生间闭水试验不合格,楼下天花板出现水渍。"),
        ("幕墙玻璃自爆", "裙楼幕墙有两块玻璃出现自爆裂纹,业主要求尽快更换并说明原因。"),
    ],
    "design_quality": [
        ("消防通道宽度不足", "施工图与报批方案不一致,北侧消防通道宽度不满足规范要求。"),
        ("设计变更回复迟缓", "现场提出的三项设计变更两周未获回复,影响主体结构施工进度。"),
        ("结构图纸标注错误", "二层梁配筋图标注与计算书不符,导致现场返工。"),
    ],
    "service_attitude": [
        ("现场人员态度生硬", "业主代表反映现场施工员说话态度生硬,对提出的问题敷衍了事。"),
        ("项目经理联系不上", "业主工程部连续三天联系不上项目经理,电话不接、信息不回。"),
    ],
    "response_timeliness": [
        ("保修报修无人上门", "竣工后保修期内报修空调冷凝水管漏水,三天无人上门处理。"),
        ("整改通知逾期未回复", "监理下发的整改通知单已超过回复期限,业主对此不满。"),
    ],
    "billing": [
        ("进度款结算审核拖延", "进度款结算资料多次被退回,审核周期过长,业主财务部门有意见。"),
        ("变更签证金额有异议", "业主认为第5号变更签证金额与现场实际工程量不符,要求重新核对。"),
    ],
    "other": [
        ("夜间施工噪音扰民", "夜间混凝土浇筑噪音扰民,周边居民投诉至业主及街道。"),
        ("施工车辆带泥上路", "渣土车出场未冲洗带泥上路,业主被城管部门约谈。"),
    ],
}
OUR_FAULT = [
    "已组织返修并经监理验收合格,后续每周回访直至业主确认无问题。",
    "已向业主书面致歉,更换责任人员,并整改完毕。",
    "已调整施工组织,增派人员,整改完成后由项目经理陪同业主复查。",
]
CLIENT_ERROR = [
    "经现场核实系业主自行改动管线所致,已耐心向业主说明原因并提供维修建议。",
    "经核对合同及签证资料,金额计算无误,已向业主财务部门逐项解释。",
    "系业主指定分包单位施工造成,已书面说明并协助协调。",
]
COMPLAINANTS = ["王工", "刘经理", "陈总", "物业李主任", "赵主管", "孙工", "周经理", "业主代表吴先生"]
CONTRACTORS = [
    "中建八局第三建设有限公司",
    "上海建工二建集团有限公司",
    "浙江省建工集团有限责任公司",
    "江苏南通三建集团",
]
VISIT_NOTES = ["业主对处理结果表示满意。", "业主认可整改效果,希望今后加强沟通。", "业主表示理解,无其他意见。"]

# (days ago, target status, severity, with a hand-over, our fault)
PLAN = [
    (330, "closed", "normal", False, True),
    (290, "closed", "high", True, True),
    (250, "closed", "low", False, False),
    (200, "closed", "normal", False, True),
    (160, "closed", "urgent", True, True),
    (120, "closed", "normal", False, False),
    (75, "return_visit", "high", False, True),
    (40, "closed", "normal", True, False),
    (20, "resolved", "normal", False, True),
    (12, "investigating", "high", True, True),  # past its resolution deadline: overdue
    (6, "acknowledged", "low", False, True),
    (3, "received", "normal", False, True),  # not acknowledged in time: overdue
    (0, "received", "normal", False, True),  # just logged
]
ORDER = ["received", "acknowledged", "investigating", "resolved", "return_visit", "closed"]


def _at_office_hours(rng, day: dt.datetime) -> dt.datetime:
    local = timezone.localtime(day)
    return local.replace(
        hour=rng.choice([9, 10, 11, 14, 15, 16]), minute=rng.choice([0, 10, 25, 40]), second=0, microsecond=0
    )


def _steps(rng, complaint, status, *, handover, our_fault, branch_code, org):
    """Take the complaint to ``status`` and return the moment of each step."""
    staff, manager = org.users[f"{branch_code}_staff"], org.users[f"{branch_code}_manager"]
    t0 = complaint.received_at
    stamps = {"received": t0}
    target = ORDER.index(status)
    if handover:
        complaint = services.complaint_hand_over(
            complaint=complaint, by=complaint.owner, to=manager if complaint.owner != manager else staff,
            reason="涉及工程质量与商务协调,移交经营部负责人牵头处理。",
        )  # fmt: skip
        stamps["handed_over"] = t0 + dt.timedelta(minutes=35)
    actor = complaint.owner
    if target >= 1:
        services.complaint_acknowledge(complaint=complaint, by=actor, note="已电话联系投诉人,确认情况。")
        late = rng.random() < 0.15
        stamps["acknowledged"] = (
            add_working_hours(t0, 6).at if late else t0 + dt.timedelta(minutes=rng.choice([5, 20, 45, 90]))
        )
    if target >= 2:
        services.complaint_investigate(complaint=complaint, by=actor, note="组织项目部、技术部现场核查。")
        stamps["investigating"] = stamps["acknowledged"] + dt.timedelta(hours=2)
    if target >= 3:
        category_fault = our_fault
        services.complaint_resolve(
            complaint=complaint,
            by=actor,
            finding="our_fault" if category_fault else "client_error",
            resolution=rng.choice(OUR_FAULT if category_fault else CLIENT_ERROR),
            is_unreasonable=not category_fault and rng.random() < 0.5,
        )
        days = rng.choice([1, 2, 3, 4]) if rng.random() < 0.8 else 12
        stamps["resolved"] = add_working_days(t0, days).at
    Complaint.objects.filter(pk=complaint.pk).update(
        acknowledged_at=stamps.get("acknowledged"),
        investigating_at=stamps.get("investigating"),
        resolved_at=stamps.get("resolved"),
    )
    if target >= 3:
        visits = list(complaint.return_visits.order_by("sequence"))
        visits[0].due_at = stamps["resolved"] + dt.timedelta(hours=24)
        if len(visits) > 1:
            visits[1].due_at = stamps["resolved"] + dt.timedelta(days=60)
        for v in visits:
            v.save(update_fields=["due_at"])
    visit_times = []
    if target >= 4:
        now = timezone.now()
        for v in complaint.return_visits.order_by("sequence"):
            when = v.due_at - dt.timedelta(hours=rng.choice([2, 5, 20]))
            if v.sequence > 1 and (status != "closed" or when > now):
                break
            services.complaint_return_visit(
                complaint=complaint, by=actor, satisfaction=rng.choice(["satisfied", "very_satisfied"]),
                notes=rng.choice(VISIT_NOTES), visited_at=min(when, now), effect_confirmed=v.sequence > 1,
            )  # fmt: skip
            visit_times.append(min(when, now))
        stamps["return_visit"] = visit_times
    if target >= 5:
        complaint.refresh_from_db()
        if not complaint.return_visits.filter(visited_at__isnull=True).exists():
            services.complaint_close(complaint=complaint, by=actor, note="回访满意,同意关闭。")
            stamps["closed"] = visit_times[-1] + dt.timedelta(hours=1)
            Complaint.objects.filter(pk=complaint.pk).update(closed_at=stamps["closed"])
    # Move the timeline back to when each step happened.
    visits_iter = iter(stamps.get("return_visit", []))
    for event in Event.objects.filter(complaint=complaint).order_by("pk"):
        at = next(visits_iter, None) if event.kind == "return_visit" else stamps.get(event.kind)
        if at:
            Event.objects.filter(pk=event.pk).update(at=at)
    if "handed_over" in stamps:
        HandOver.objects.filter(complaint=complaint).update(at=stamps["handed_over"])
    return complaint


def seed(org) -> str:
    from .repairs.seed import seed as seed_repairs

    summary = _seed_complaints(org)
    repairs = seed_repairs(org)
    return summary if repairs is None else f"{summary}; {repairs}"


def _seed_complaints(org) -> str:
    branches = [code for code in org.branches if code != "hq"]
    clients_by_branch = {
        code: list(
            Client.objects.filter(branch=org.branches[code]).prefetch_related("projects").order_by("pk")[:12]
        )
        for code in branches
    }
    if not any(clients_by_branch.values()):
        return "no clients"
    all_clients = [c for cs in clients_by_branch.values() for c in cs]
    if Complaint.objects.filter(client__in=all_clients).exists():
        return f"already there: {Complaint.objects.count()} complaints; {seed_attachments(org)}"
    rng = random.Random(20260505)
    now = timezone.now()
    made = 0
    for code, clients in clients_by_branch.items():
        if not clients:
            continue
        staff, manager = org.users[f"{code}_staff"], org.users[f"{code}_manager"]
        for i, (days_ago, status, severity, handover, our_fault) in enumerate(PLAN):
            client = clients[(i * 5 + len(code)) % len(clients)]
            projects = list(client.projects.all())
            project = projects[i % len(projects)] if projects else None
            category = list(CASES)[(i + len(code)) % len(CASES)]
            title, content = rng.choice(CASES[category])
            indirect = rng.random() < 0.3
            if days_ago == 0:
                received = now - dt.timedelta(minutes=20)
            else:
                received = _at_office_hours(rng, now - dt.timedelta(days=days_ago))
            complaint = services.complaint_receive(
                by=staff if i % 3 else manager,
                client=client,
                project=project,
                kind="indirect" if indirect else "direct",
                contractor=rng.choice(CONTRACTORS) if indirect else "",
                channel=rng.choice(["phone", "onsite", "visit", "letter", "email", "meeting"]),
                category=category,
                severity=severity,
                motive=rng.choice(["economic", "psychological", "unknown"]),
                complainant=rng.choice(COMPLAINANTS),
                complainant_phone=f"139{rng.randint(10000000, 99999999)}",
                title=title,
                content=content,
                received_at=received,
            )
            _steps(rng, complaint, status, handover=handover, our_fault=our_fault, branch_code=code, org=org)
            made += 1
    counts = services.complaints_flag_overdue()
    flagged = counts["acknowledge"] + counts["resolve"]
    return f"{made} complaints, {flagged} overdue flagged; {seed_attachments(org)}"


def seed_attachments(org) -> str:
    """R61-R64 in the demo: the first open complaints of east and south carry a photo of the
    defect and the complainant's letter, uploaded by their owner through the service (each a
    step of the timeline). Idempotent: nothing is added once a complaint has an attachment."""
    from django.core.files.base import ContentFile

    from crm.attachments import samples
    from crm.attachments.services import attachment_add

    from .models import ComplaintAttachment, Status

    if ComplaintAttachment.objects.exists():
        return "attachments already there"
    made = 0
    for code in ("east", "south"):
        branch = org.branches.get(code)
        if branch is None:
            continue
        open_ones = Complaint.objects.filter(client__branch=branch).exclude(status=Status.CLOSED)
        for i, complaint in enumerate(open_ones.select_related("client", "owner").order_by("pk")[:2]):
            if i == 0:
                upload = ContentFile(samples.png_picture(variant=2), name="问题部位照片.png")
                note = "投诉人提供的现场照片"
            else:
                lines = [f"投诉事由:{complaint.title}", "请贵公司尽快核实处理并答复。", complaint.client.name]
                upload = ContentFile(samples.pdf_document("投诉函", lines), name="投诉函.pdf")
                note = "投诉人的书面投诉"
            attachment_add(
                model=ComplaintAttachment, parent=complaint, upload=upload, by=complaint.owner, note=note
            )
            made += 1
    return f"{made} complaint attachments"
