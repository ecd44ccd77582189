"""The archive for ``seed_bulk`` (the benchmark's volume, crm's ``seed_bulk`` command, which
holds the contract every app's ``bulk`` module follows): per client about 3 contacts, 2
projects, 5 visits and 2 needs over the last year, plus its grade and stage history, in the bulk
branches the command has made. ``start(run)`` prepares once (the branches' people, the names
and credit codes already taken); ``create(chunk)`` makes the chunk's clients and their rows
through ``bulk_create`` and leaves them, with their projects, on the chunk for the apps above.

Client names and credit codes are unique across runs; the search text is derived as
``Client.save()`` would; need deadlines follow the archive's own rule (``need_due``, cached per
moment and urgency). The vocabulary (people, phones, notes) is the demo seed's
(``clients.seed``)."""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.management.base import CommandError
from django.utils import timezone

from crm.models import ProjectDepartment, Role, User
from crm.validators import credit_code_check_char, normalize_name, normalize_phone

from . import seed as vocab
from .models import (
    Client,
    Contact,
    Grade,
    GradeChange,
    Need,
    OrgType,
    Phase,
    Project,
    ProjectType,
    SocialValue,
    Stage,
    StageChange,
    Visit,
    VisitPlan,
    compose_search_text,
    store_search_texts,
)

if TYPE_CHECKING:
    from crm.management.commands.seed_bulk import BulkRun, Chunk

CORES = (
    "恒嘉", "鼎泰", "铭远", "宏景", "嘉和", "御景", "海悦", "锦程", "华鼎", "金桥", "瑞丰", "盛世", "润达", "天安",
    "泰和", "滨湖", "云栖", "众合", "天宇", "博瑞", "科鸿", "昊天", "新拓", "华芯", "瀚海", "启明", "睿达", "凯越",
    "中恒", "思源", "远航", "联创", "德润", "金石", "卓信", "明德", "弘业", "汇通", "信达", "星河", "东方", "长城",
    "安泰", "永盛", "国润", "华信", "万通", "新元", "宏达", "正泰", "丰源", "世纪", "创新", "光明", "和谐", "兴业",
    "腾飞", "祥和", "龙腾", "蓝海",
)  # fmt: skip
SUFFIXES = (
    ("置业有限公司", OrgType.REAL_ESTATE, "房地产开发"),
    ("房地产开发有限公司", OrgType.REAL_ESTATE, "房地产开发"),
    ("城市建设投资有限公司", OrgType.STATE_OWNED, "城市基础设施投资"),
    ("建设发展集团有限公司", OrgType.STATE_OWNED, "城市基础设施投资"),
    ("智能科技股份有限公司", OrgType.PRIVATE, "信息技术"),
    ("精密制造有限公司", OrgType.PRIVATE, "先进制造"),
    ("生物医药有限公司", OrgType.PRIVATE, "生物医药"),
    ("新能源科技有限公司", OrgType.PRIVATE, "新能源"),
    ("物流园区开发有限公司", OrgType.STATE_OWNED, "现代物流"),
    ("文化旅游发展有限公司", OrgType.STATE_OWNED, "文化旅游"),
    ("实业集团有限公司", OrgType.PRIVATE, "综合"),
    ("商业管理有限公司", OrgType.PRIVATE, "商业服务"),
    ("医院管理有限公司", OrgType.OTHER, "医疗卫生"),
    ("教育发展有限公司", OrgType.OTHER, "教育"),
    ("产业园运营有限公司", OrgType.STATE_OWNED, "商务服务"),
)
PROJECT_PLACES = (
    "一期",
    "二期",
    "A地块",
    "B地块",
    "综合楼",
    "研发中心",
    "商业综合体",
    "人才公寓",
    "厂房",
    "地下车库",
)
PROJECT_WORKS = ("施工总承包工程", "EPC工程总承包项目", "机电安装工程", "装饰装修工程", "建筑设计项目")
# The facts behind a bulk client's grade (R7), as the generator sets them.
GRADE_FACTS = ("integrity_good", "credit_good", "near_term_need", "social_value")
ARCHIVE = (Client, Contact, Project, Need, Visit, VisitPlan, GradeChange, StageChange)


def start(run: BulkRun) -> ClientBulk:
    """``seed_bulk``'s entry point for the archive (the contract is the command's)."""
    return ClientBulk(run)


def credit_code(index: int, division: str, codes: set[str]) -> str:
    """Unique by construction: the organisation code's body is a bijection of ``index``; a code
    already in ``codes`` is skipped, and the one returned is added to it."""
    k = 0
    while True:
        body = f"{(index * 7_368_787 + 1_234_567 + k * 10_000_019) % 10**8:08d}"
        weights = (3, 7, 9, 10, 5, 8, 4, 2)
        check = 11 - sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11
        first17 = "91" + division + body + ("X" if check == 10 else "0" if check == 11 else str(check))
        code = first17 + credit_code_check_char(first17)
        if code not in codes:
            codes.add(code)
            return code
        k += 1


def client_name(rng: random.Random, city: str, taken: set[str]):
    """(name, normalized name, org type, industry) of a client not in ``taken`` (then added)."""
    for _ in range(50):
        suffix, org_type, industry = rng.choice(SUFFIXES)
        name = f"{city}{rng.choice(CORES)}{rng.choice(CORES)}{suffix}"
        key = normalize_name(name)
        if key not in taken:
            taken.add(key)
            return name, key, org_type, industry
    raise CommandError("name space exhausted")


class ClientBulk:
    """Prepared once per ``seed_bulk`` run: the bulk branches with their people and project
    departments, the names and credit codes already in the archive, and the random stream
    (``run.seed`` itself: the archive is the first to draw)."""

    models = ARCHIVE

    def __init__(self, run: BulkRun):
        self.now = run.now
        self.batch_size = run.batch_size
        self.rng = random.Random(run.seed)
        self.taken = set(Client.objects.values_list("name_normalized", flat=True))
        self.codes = set(Client.objects.exclude(credit_code="").values_list("credit_code", flat=True))
        self.context = []
        self.depts = {}
        marketing = User.objects.filter(role=Role.MARKETING, is_active=True).order_by("pk").first()
        for place in run.branches:
            branch = place.branch
            owners = list(
                User.objects.filter(branch=branch, role__in=(Role.STAFF, Role.MANAGER)).order_by("pk")
            )
            # R7: the branch manager grades the branch's clients (group marketing without one).
            grader = next((u for u in owners if u.role == Role.MANAGER), None) or marketing
            depts = list(ProjectDepartment.objects.filter(branch=branch, is_business_dept=False))
            self.depts[branch.pk] = depts or [None]
            self.context.append(
                {
                    "branch": branch,
                    "city": place.city,
                    "area": place.area_code,
                    "division": place.division,
                    "owners": owners,
                    "grader": grader,
                }
            )
        self.need_due = functools.cache(vocab.need_due)

    def finish(self) -> dict[str, int]:
        return {}

    def create(self, chunk: Chunk) -> dict[str, int]:
        """The chunk's clients and their rows, bulk-created; ``chunk.clients`` and
        ``chunk.projects`` are set for the apps above."""
        with vocab.keep_timestamps(*self.models):
            return self._create(chunk)

    def _create(self, chunk: Chunk) -> dict[str, int]:
        rng, now = self.rng, self.now
        today = timezone.localdate(now)
        made_clients, graders = [], []
        for i in range(chunk.size):
            ctx = self.context[rng.randrange(len(self.context))]
            graders.append(ctx["grader"])
            name, key, org_type, industry = client_name(rng, ctx["city"], self.taken)
            grade = rng.choices(("A", "B", "C"), weights=(2, 5, 3))[0]
            stage = rng.choice(vocab.STAGES)
            created = now - dt.timedelta(days=rng.randint(0, 365), minutes=rng.randint(0, 600))
            phone = f"{ctx['area']}-{rng.randrange(2, 9)}{rng.randrange(10**7):07d}"
            owner = rng.choice(ctx["owners"])
            made_clients.append(
                Client(
                    name=name,
                    name_normalized=key,
                    credit_code=credit_code(chunk.index + i, ctx["division"], self.codes),
                    org_type=org_type,
                    industry=industry,
                    address=f"{ctx['city']}市{rng.choice(('人民路', '建设大道', '解放路', '中山路', '新华路'))}{rng.randint(1, 999)}号",
                    phone=phone,
                    phone_normalized=normalize_phone(phone),
                    branch=ctx["branch"],
                    department=None,
                    owner=owner,
                    stage=stage,
                    grade=grade,
                    graded_at=created,
                    integrity_good=grade == "A",
                    credit_good=grade != "C",
                    near_term_need=grade == "A",
                    social_value=SocialValue.HIGH if grade == "A" else SocialValue.MEDIUM,
                    created_at=created,
                    updated_at=created,
                )
            )
        Client.objects.bulk_create(made_clients, batch_size=self.batch_size)

        contacts, projects, needs, visits, plans, grades, stages = [], [], [], [], [], [], []
        for client, grader in zip(made_clients, graders, strict=True):
            ctx_owner = client.owner
            created = client.created_at
            span = max((now - created).days, 1)
            for j in range(rng.choice((2, 3, 3, 4))):
                cname, py = vocab.person_name(rng)
                phone = vocab.mobile(rng)
                contacts.append(
                    Contact(
                        client=client,
                        name=cname,
                        position=rng.choice(("总经理", "工程部经理", "基建处处长", "采购部主管", "项目总监")),
                        phone=phone,
                        phone_normalized=phone,
                        email=f"{py}{client.pk}@example.com" if rng.random() < 0.5 else "",
                        is_primary=j == 0,
                        created_at=created,
                        updated_at=created,
                    )
                )
            projects_before = len(projects)
            for _ in range(rng.choice((1, 2, 2, 3))):
                value = Decimal(rng.randrange(500_000_00, 300_000_000_00)) / 100
                cost = (value * Decimal(rng.uniform(0.82, 0.97))).quantize(Decimal("0.01"))
                signed = today - dt.timedelta(days=rng.randint(0, 900))
                done_ = rng.random() < 0.3
                projects.append(
                    Project(
                        client=client,
                        branch_id=client.branch_id,
                        department=rng.choice(self.depts[client.branch_id]),
                        name=f"{client.name[:6]}{rng.choice(PROJECT_PLACES)}{rng.choice(PROJECT_WORKS)}",
                        project_type=rng.choice([t.value for t in ProjectType]),
                        phase=Phase.COMPLETED
                        if done_
                        else rng.choice((Phase.CONTRACT, Phase.DESIGN, Phase.CONSTRUCTION)),
                        contract_value=value,
                        cost=cost,
                        profit=value - cost,
                        signed_on=signed,
                        started_on=signed + dt.timedelta(days=20),
                        completed_on=signed + dt.timedelta(days=400) if done_ else None,
                        created_at=created,
                        updated_at=created,
                    )
                )
            last_visit = created
            for _ in range(rng.choice((3, 4, 5, 6, 7))):
                at = vocab.office_moment(rng, today - dt.timedelta(days=rng.randrange(span)))
                last_visit = max(last_visit, at)
                visits.append(
                    Visit(
                        client=client,
                        visited_at=at,
                        channel=rng.choice([c.value for c in Visit.Channel]),
                        our_people=ctx_owner.full_name,
                        notes=rng.choice(vocab.VISIT_NOTES),
                        outcome=rng.choice(vocab.VISIT_OUTCOMES),
                        next_step=rng.choice(vocab.NEXT_STEPS),
                        recorded_by=ctx_owner,
                        created_at=at,
                        updated_at=at,
                    )
                )
            for _ in range(rng.choice((1, 2, 2, 3))):
                category = rng.choice(list(vocab.NEED_TEXTS))
                urgency = rng.choice(("urgent", "important", "general", "general"))
                days_ago = rng.randrange(span)
                received = vocab.office_moment(rng, today - dt.timedelta(days=days_ago))
                due, provisional = self.need_due(received, urgency)
                answered = days_ago > 10
                needs.append(
                    Need(
                        client=client,
                        category=category,
                        urgency=urgency,
                        description=rng.choice(vocab.NEED_TEXTS[category]),
                        owner=ctx_owner,
                        status=Need.Status.DONE if answered else Need.Status.RECEIVED,
                        received_at=received,
                        response_due_at=due,
                        due_provisional=provisional,
                        responded_at=due - (due - received) / 2 if answered else None,
                        closed_at=due if answered else None,
                        created_at=received,
                        updated_at=received,
                    )
                )
            if client.grade == Grade.A:
                plans.append(
                    VisitPlan(
                        client=client,
                        frequency=VisitPlan.Frequency.MONTHLY,
                        visitor_level=VisitPlan.VisitorLevel.BRANCH_LEADER,
                        responsible=ctx_owner,
                        next_due_on=timezone.localdate(last_visit) + dt.timedelta(days=30),
                        created_at=created,
                        updated_at=created,
                    )
                )
            # R7: graded by who may grade (never staff), with the rules' suggestion, its
            # criteria and a reason; without anyone who may grade, no invented record.
            if grader is not None:
                suggested, criteria = vocab.grading_suggestion(
                    {f: getattr(client, f) for f in GRADE_FACTS}, len(projects) - projects_before
                )
                grades.append(
                    GradeChange(
                        client=client,
                        from_grade="",
                        to_grade=client.grade,
                        suggested_grade=suggested,
                        criteria=criteria,
                        reason=vocab.grading_reason(client.grade, suggested),
                        changed_by=grader,
                        changed_at=created,
                        created_at=created,
                        updated_at=created,
                    )
                )
            if client.stage != Stage.POTENTIAL:
                stages.append(
                    StageChange(
                        client=client,
                        from_stage=Stage.POTENTIAL,
                        to_stage=client.stage,
                        note=vocab.STAGE_NOTES.get(client.stage, ""),
                        changed_by=ctx_owner,
                        changed_at=created + dt.timedelta(days=1),
                        created_at=created,
                        updated_at=created,
                    )
                )
        rows = {"clients": len(made_clients)}
        for label, model, objs in (
            ("contacts", Contact, contacts),
            ("projects", Project, projects),
            ("visits", Visit, visits),
            ("needs", Need, needs),
            ("visit plans", VisitPlan, plans),
            ("grade changes", GradeChange, grades),
            ("stage changes", StageChange, stages),
        ):
            model.objects.bulk_create(objs, batch_size=self.batch_size)
            rows[label] = len(objs)
        # bulk_create skips Client.save(), which derives the search text from name and contacts.
        contacts_of = defaultdict(list)
        for contact in contacts:
            contacts_of[contact.client_id].append((contact.name, contact.phone_normalized))
        store_search_texts(
            {c.pk: compose_search_text(c.name, c.phone_normalized, contacts_of[c.pk]) for c in made_clients}
        )
        by_client = defaultdict(list)
        for project in projects:
            by_client[project.client_id].append(project)
        chunk.clients = made_clients
        chunk.projects = by_client
        return rows
