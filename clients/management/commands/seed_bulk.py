"""``python manage.py seed_bulk --clients 100000 [--branches 50 --users 2000]``: the benchmark's
volume (design.md; the benchmark issue). Branches ``b01``..``bNN`` beside the demo ones (which
are left as they are), branch users with their roles, and per client about 3 contacts, 2
projects, 5 visits and 2 needs over the last year, plus its grade and stage history; and a year
of complaints and satisfaction surveys: about one client in twelve has a complaint with its
timeline, hand-overs and return visits (R14-R18, ``complaints.bulk``), about one in eight (mostly
A and B) an answered survey with its answers and follow-ups, in the last four quarterly
campaigns (R20-R25a, ``surveys.bulk``; the campaigns are made before the chunks, the past ones
closed with their branch reports after them).

Everything goes in through ``bulk_create`` in chunks (one transaction per chunk, so memory stays
flat); simple-history is skipped for these rows, and no notifications are made. Deadlines use
the apps' own rules on a calendar loaded once. Refuses to run into a database that already holds
bulk data unless ``--force`` (which adds another batch of clients).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import random
import time
from collections import defaultdict
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from clients import seed as vocab
from clients.models import (
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
from complaints.bulk import ComplaintBulk
from crm import calendar
from crm.models import Branch, HolidayOverride, ProjectDepartment, Role, User
from crm.services import user_set_role
from crm.validators import credit_code_check_char, normalize_name, normalize_phone
from surveys.bulk import SurveyBulk

# Fifty cities: name, telephone area code, administrative division code of a central district.
BULK_CITIES = (
    ("成都", "028", "510104"), ("重庆", "023", "500103"), ("武汉", "027", "420106"), ("西安", "029", "610113"),
    ("长沙", "0731", "430104"), ("郑州", "0371", "410105"), ("济南", "0531", "370102"), ("青岛", "0532", "370202"),
    ("天津", "022", "120101"), ("北京", "010", "110105"), ("沈阳", "024", "210102"), ("大连", "0411", "210202"),
    ("哈尔滨", "0451", "230102"), ("长春", "0431", "220102"), ("石家庄", "0311", "130102"), ("太原", "0351", "140105"),
    ("呼和浩特", "0471", "150102"), ("南昌", "0791", "360102"), ("福州", "0591", "350102"), ("厦门", "0592", "350203"),
    ("南宁", "0771", "450103"), ("昆明", "0871", "530102"), ("贵阳", "0851", "520102"), ("兰州", "0931", "620102"),
    ("银川", "0951", "640104"), ("西宁", "0971", "630102"), ("乌鲁木齐", "0991", "650102"), ("海口", "0898", "460106"),
    ("拉萨", "0891", "540102"), ("温州", "0577", "330302"), ("绍兴", "0575", "330602"), ("嘉兴", "0573", "330402"),
    ("台州", "0576", "331002"), ("金华", "0579", "330702"), ("徐州", "0516", "320302"), ("扬州", "0514", "321002"),
    ("南通", "0513", "320602"), ("泉州", "0595", "350502"), ("烟台", "0535", "370602"), ("潍坊", "0536", "370702"),
    ("洛阳", "0379", "410302"), ("宜昌", "0717", "420502"), ("襄阳", "0710", "420602"), ("株洲", "0731", "430202"),
    ("芜湖", "0553", "340202"), ("惠州", "0752", "441302"), ("中山", "0760", "442000"), ("江门", "0750", "440703"),
    ("柳州", "0772", "450202"), ("绵阳", "0816", "510703"),
)  # fmt: skip

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
CHUNK = 2000


@contextlib.contextmanager
def preloaded_calendar():
    """Load the holiday overrides once, so that deadlines for hundreds of thousands of needs
    cost no query each (the calendar's own logic is used unchanged)."""
    every = dict(HolidayOverride.objects.values_list("date", "is_workday"))
    original = calendar._overrides
    calendar._overrides = lambda start, end: {d: w for d, w in every.items() if start <= d <= end}
    try:
        yield
    finally:
        calendar._overrides = original


@functools.cache
def need_due(received_at: dt.datetime, urgency: str):
    return vocab.need_due(received_at, urgency)


class Command(BaseCommand):
    help = "Generate the benchmark's volume of archive data through bulk_create (PostgreSQL recommended)."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=100_000)
        parser.add_argument("--branches", type=int, default=50)
        parser.add_argument("--users", type=int, default=2000)
        parser.add_argument("--password", default=os.environ.get("DEMO_PASSWORD", "demo-pass-2026"))
        parser.add_argument("--seed", default="bulk")
        parser.add_argument(
            "--force", action="store_true", help="add another batch into a database that has one"
        )

    def log(self, message):
        if self.verbosity:
            self.stdout.write(message)

    def handle(self, *args, clients, branches, users, password, seed, force, **options):
        self.verbosity = options.get("verbosity", 1)
        if clients < 0 or not 1 <= branches <= 99 or users < branches:
            raise CommandError("需要 --clients >= 0, 1 <= --branches <= 99, --users >= --branches")
        bulk_codes = [f"b{i:02d}" for i in range(1, branches + 1)]
        already = Client.objects.filter(branch__code__in=bulk_codes).count()
        if already and not force:
            raise CommandError(f"this database already holds {already} bulk clients; use --force to add more")
        started = time.perf_counter()
        rng = random.Random(f"{seed}-{already}")
        self.now = timezone.now()

        t = time.perf_counter()
        self.ensure_group_users(password)
        branch_rows = self.ensure_branches(bulk_codes)
        self.log(f"branches: {len(branch_rows)} ({time.perf_counter() - t:.1f} s)")

        t = time.perf_counter()
        made = self.ensure_users(branch_rows, users, password)
        self.log(f"users: {made} new, {users} in bulk branches ({time.perf_counter() - t:.1f} s)")

        t = time.perf_counter()
        totals: dict[str, int] = {}
        taken = set(Client.objects.values_list("name_normalized", flat=True))
        codes = set(Client.objects.exclude(credit_code="").values_list("credit_code", flat=True))
        context = self.branch_context(branch_rows)
        # Complaints and surveys draw from their own streams: the archive rows stay as they were.
        self.complaint_rng = random.Random(f"{seed}-{already}-complaints")
        self.survey_rng = random.Random(f"{seed}-{already}-surveys")
        self.complaints = ComplaintBulk(now=self.now, branch_ids=[b.pk for b, *_rest in branch_rows])
        self.surveys = SurveyBulk(now=self.now)
        archive = (Client, Contact, Project, Need, Visit, VisitPlan, GradeChange, StageChange)
        with (
            preloaded_calendar(),
            vocab.keep_timestamps(*archive, *ComplaintBulk.models, *SurveyBulk.models),
        ):
            index = already
            done = 0
            while done < clients:
                size = min(CHUNK, clients - done)
                with transaction.atomic():
                    rows = self.chunk(rng, size, index, context, taken, codes)
                for key, n in rows.items():
                    totals[key] = totals.get(key, 0) + n
                index += size
                done += size
                if self.verbosity > 1 or (self.verbosity and done % 20_000 == 0):
                    rate = done / (time.perf_counter() - t)
                    self.log(f"  {done}/{clients} clients ({rate:.0f}/s)")
            totals["campaign reports"] = self.surveys.finish()
        seconds = time.perf_counter() - t
        self.log(
            "rows: "
            + ", ".join(f"{n} {k}" for k, n in totals.items())
            + f" ({seconds:.1f} s, {sum(totals.values()) / max(seconds, 0.001):.0f} rows/s)"
        )
        self.log(self.style.SUCCESS(f"seed_bulk done in {time.perf_counter() - started:.1f} s"))

    # -- organisation ----------------------------------------------------------------------

    def ensure_group_users(self, password):
        """The benchmark needs someone who sees everything: the demo organisation's group users
        (created, with the demo branches, only if the database has none)."""
        if not User.objects.filter(role=Role.MARKETING).exists():
            from crm.seed import seed_organisation

            with transaction.atomic():
                seed_organisation(password=password)

    def ensure_branches(self, codes):
        rows = []
        for i, code in enumerate(codes):
            city, area, division = BULK_CITIES[i % len(BULK_CITIES)]
            label = city if i < len(BULK_CITIES) else f"{city}{i // len(BULK_CITIES) + 1}"
            branch, _ = Branch.objects.get_or_create(
                code=code,
                defaults={
                    "name": f"{label}区域分公司",
                    "short_name": f"{label}分公司",
                    "kind": Branch.Kind.REGIONAL,
                    "region": city,
                    "sort_order": 100 + i,
                },
            )
            for dcode, dname, biz in (
                ("biz", "经营部", True),
                ("pd-1", f"{city}第一项目经理部", False),
                ("pd-2", f"{city}第二项目经理部", False),
            ):
                ProjectDepartment.objects.get_or_create(
                    branch=branch, code=dcode, defaults={"name": dname, "is_business_dept": biz}
                )
            rows.append((branch, city, area, division))
        return rows

    def ensure_users(self, branch_rows, total, password) -> int:
        """``total`` users spread over the bulk branches: the first of each branch is its
        manager, the rest staff; roles through ``user_set_role`` (one password hash for all)."""
        hashed = make_password(password)
        existing = set(
            User.objects.filter(username__regex=r"^b\d\d_u\d+$").values_list("username", flat=True)
        )
        made = 0
        per_branch, extra = divmod(total, len(branch_rows))
        name_rng = random.Random("bulk-users")
        with transaction.atomic():
            for i, (branch, _city, _area, _div) in enumerate(branch_rows):
                depts = list(
                    ProjectDepartment.objects.filter(branch=branch).order_by("-is_business_dept", "code")
                )
                for n in range(1, per_branch + (1 if i < extra else 0) + 1):
                    username = f"{branch.code}_u{n:03d}"
                    full_name, _ = vocab.person_name(name_rng)
                    if username in existing:
                        continue
                    user = User(
                        username=username,
                        password=hashed,
                        full_name=full_name,
                        email=f"{username}@example.com",
                    )
                    user.save()
                    role = Role.MANAGER if n == 1 else Role.STAFF
                    dept = depts[0] if n <= 2 else depts[n % len(depts)]
                    user_set_role(user=user, role=role, branch=branch, department=dept)
                    made += 1
        return made

    def branch_context(self, branch_rows):
        ctx = []
        self.depts = {}
        for branch, city, area, division in branch_rows:
            owners = list(
                User.objects.filter(branch=branch, role__in=(Role.STAFF, Role.MANAGER)).order_by("pk")
            )
            depts = list(ProjectDepartment.objects.filter(branch=branch, is_business_dept=False))
            self.depts[branch.pk] = depts or [None]
            ctx.append(
                {
                    "branch": branch,
                    "city": city,
                    "area": area,
                    "division": division,
                    "owners": owners,
                    "depts": depts,
                }
            )
        return ctx

    # -- archive rows ------------------------------------------------------------------------

    def credit_code(self, index: int, division: str, codes: set[str]) -> str:
        """Unique by construction: the organisation code's body is a bijection of ``index``."""
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

    def name(self, rng, city, taken):
        for _ in range(50):
            suffix, org_type, industry = rng.choice(SUFFIXES)
            name = f"{city}{rng.choice(CORES)}{rng.choice(CORES)}{suffix}"
            key = normalize_name(name)
            if key not in taken:
                taken.add(key)
                return name, key, org_type, industry
        raise CommandError("name space exhausted")

    def chunk(self, rng, size, index, context, taken, codes) -> dict[str, int]:
        now = self.now
        today = timezone.localdate(now)
        made_clients = []
        for i in range(size):
            ctx = context[rng.randrange(len(context))]
            name, key, org_type, industry = self.name(rng, ctx["city"], taken)
            grade = rng.choices(("A", "B", "C"), weights=(2, 5, 3))[0]
            stage = rng.choice(vocab.STAGES)
            created = now - dt.timedelta(days=rng.randint(0, 365), minutes=rng.randint(0, 600))
            phone = f"{ctx['area']}-{rng.randrange(2, 9)}{rng.randrange(10**7):07d}"
            owner = rng.choice(ctx["owners"])
            made_clients.append(
                Client(
                    name=name,
                    name_normalized=key,
                    credit_code=self.credit_code(index + i, ctx["division"], codes),
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
        Client.objects.bulk_create(made_clients, batch_size=CHUNK)

        contacts, projects, needs, visits, plans, grades, stages = [], [], [], [], [], [], []
        for client in made_clients:
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
                due, provisional = need_due(received, urgency)
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
            grades.append(
                GradeChange(
                    client=client,
                    from_grade="",
                    to_grade=client.grade,
                    suggested_grade=client.grade,
                    reason="建档定级",
                    changed_by=ctx_owner,
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
            model.objects.bulk_create(objs, batch_size=CHUNK)
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
        for maker, stream in ((self.complaints, self.complaint_rng), (self.surveys, self.survey_rng)):
            for label, model, objs in maker.build(made_clients, stream, by_client):
                model.objects.bulk_create(objs, batch_size=CHUNK)
                rows[label] = len(objs)
        return rows
