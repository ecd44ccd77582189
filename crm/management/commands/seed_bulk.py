"""``python manage.py seed_bulk --clients 100000 [--branches 50 --users 2000]``: the benchmark's
volume (design.md; the benchmark issue). Branches ``b01``..``bNN`` beside the demo ones (which
are left as they are) and branch users with their roles are made here; the rows of each app
come from that app, in layer order, as ``seed_demo`` takes each app's demo data:

- ``clients.bulk``: per client about 3 contacts, 2 projects, 5 visits and 2 needs over the last
  year, plus its grade and stage history;
- ``complaints.bulk``: about one client in twelve has a complaint with its timeline, hand-overs
  and return visits (R14-R18);
- ``surveys.bulk``: about one in eight (mostly A and B) an answered survey with its answers and
  follow-ups, in the last four quarterly campaigns (R20-R25a; the campaigns are made before the
  chunks, the past ones closed with their branch reports after them);
- ``assessments.bulk`` when it exists (an app without a ``bulk`` module is skipped).

The contract, the same for every app: ``<app>.bulk.start(run)`` is called once, in layer order,
with a ``BulkRun`` (the moment, the batch's random seed, the bulk branches) and returns the
app's contribution; the clients are then made in chunks of ``CHUNK``, each chunk in one
transaction (memory stays flat), in which ``contribution.create(chunk)`` of every app, in
layer order, bulk-creates its rows and returns ``{label: rows made}``: ``clients.bulk`` fills
``chunk.clients`` and ``chunk.projects``, which the apps above read. After the last chunk
``contribution.finish()`` returns ``{label: rows made}`` too. Each app draws from its own
random stream(s) derived from ``run.seed``, so one app's rows do not shift another's.

Everything goes in through ``bulk_create``; simple-history is skipped for these rows, and no
notifications are made. Deadlines use the apps' own rules on a calendar loaded once. Refuses
to run into a database that already holds bulk data unless ``--force`` (which adds another
batch of clients). This module imports no app above crm (the apps are found by name).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import os
import random
import time
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from crm import calendar
from crm.models import Branch, HolidayOverride, ProjectDepartment, Role, User
from crm.services import user_set_role

APPS_WITH_BULK = ("clients", "complaints", "surveys", "assessments")
CHUNK = 2000

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

# The branch users' names (crm has no name vocabulary of its own and imports no app above it;
# these are the archive's demo surnames and given names, drawn in the same way).
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾沈蒋钱陆"
GIVEN = (
    "建国", "海涛", "晓东", "文静", "志刚", "丽华", "明", "强", "敏", "磊", "静", "军", "洋", "勇", "艳",
    "杰", "娟", "涛", "超", "秀英", "建华", "国平", "春燕", "宏伟", "立新", "雪梅", "振华", "子豪", "雨婷",
    "浩然", "一鸣", "嘉怡",
)  # fmt: skip


@dataclass(frozen=True)
class BulkBranch:
    """A bulk branch and the city it stands for (its telephone area code and the division code
    of a central district, for the archive's phones and credit codes)."""

    branch: Branch
    city: str
    area_code: str
    division: str


@dataclass(frozen=True)
class BulkRun:
    """What each app's ``bulk.start(run)`` is given: the run's moment (every row is in the year
    before it), this batch's random seed, the first client's index in the whole bulk archive
    (bulk clients already there), the number of clients to make and the bulk branches."""

    now: dt.datetime
    seed: str
    offset: int
    clients: int
    branches: list[BulkBranch]
    batch_size: int = CHUNK


@dataclass
class Chunk:
    """One transaction's worth of clients: ``index`` is the first one's index in the whole bulk
    archive, ``size`` how many; ``clients.bulk`` fills ``clients`` (saved, with pks) and
    ``projects`` (``{client pk: [Project, ...]}``) for the apps above it."""

    index: int
    size: int
    clients: list = field(default_factory=list)
    projects: dict = field(default_factory=dict)


def contributions(run: BulkRun) -> list[tuple[str, object]]:
    """``(app, contribution)`` of every app with a ``bulk`` module, in layer order."""
    found = []
    for app in APPS_WITH_BULK:
        try:
            module = importlib.import_module(f"{app}.bulk")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.bulk":
                raise
            continue
        found.append((app, module.start(run)))
    return found


@contextlib.contextmanager
def preloaded_calendar():
    """Load the holiday overrides once, so that deadlines for hundreds of thousands of needs
    and complaints cost no query each (the calendar's own logic is used unchanged)."""
    every = dict(HolidayOverride.objects.values_list("date", "is_workday"))
    original = calendar._overrides
    calendar._overrides = lambda start, end: {d: w for d, w in every.items() if start <= d <= end}
    try:
        yield
    finally:
        calendar._overrides = original


def _add(totals: dict[str, int], made: dict[str, int]) -> None:
    for label, n in made.items():
        totals[label] = totals.get(label, 0) + n


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
        # The archive's clients, read through the branches' reverse relation (no import of clients).
        already = Branch.objects.filter(code__in=bulk_codes).aggregate(n=Count("clients"))["n"]
        if already and not force:
            raise CommandError(f"this database already holds {already} bulk clients; use --force to add more")
        started = time.perf_counter()

        t = time.perf_counter()
        self.ensure_group_users(password)
        branch_rows = self.ensure_branches(bulk_codes)
        self.log(f"branches: {len(branch_rows)} ({time.perf_counter() - t:.1f} s)")

        t = time.perf_counter()
        made = self.ensure_users([b.branch for b in branch_rows], users, password)
        self.log(f"users: {made} new, {users} in bulk branches ({time.perf_counter() - t:.1f} s)")

        t = time.perf_counter()
        run = BulkRun(
            now=timezone.now(),
            seed=f"{seed}-{already}",
            offset=already,
            clients=clients,
            branches=branch_rows,
        )
        with preloaded_calendar():
            apps = contributions(run)
            totals: dict[str, dict[str, int]] = {app: {} for app, _ in apps}
            done = 0
            while done < clients:
                chunk = Chunk(index=already + done, size=min(CHUNK, clients - done))
                with transaction.atomic():
                    for app, contribution in apps:
                        _add(totals[app], contribution.create(chunk))
                done += chunk.size
                if self.verbosity > 1 or (self.verbosity and done % 20_000 == 0):
                    rate = done / (time.perf_counter() - t)
                    self.log(f"  {done}/{clients} clients ({rate:.0f}/s)")
            for app, contribution in apps:
                _add(totals[app], contribution.finish())
        seconds = time.perf_counter() - t
        for app, made_rows in totals.items():
            self.log(f"{app}: " + ", ".join(f"{n} {label}" for label, n in made_rows.items()))
        rows = sum(n for made_rows in totals.values() for n in made_rows.values())
        self.log(f"rows: {rows} ({seconds:.1f} s, {rows / max(seconds, 0.001):.0f} rows/s)")
        self.log(self.style.SUCCESS(f"seed_bulk done in {time.perf_counter() - started:.1f} s"))

    # -- organisation ----------------------------------------------------------------------

    def ensure_group_users(self, password):
        """The benchmark needs someone who sees everything: the demo organisation's group users
        (created, with the demo branches, only if the database has none)."""
        if not User.objects.filter(role=Role.MARKETING).exists():
            from crm.seed import seed_organisation

            with transaction.atomic():
                seed_organisation(password=password)

    def ensure_branches(self, codes) -> list[BulkBranch]:
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
            rows.append(BulkBranch(branch, city, area, division))
        return rows

    def ensure_users(self, branches, total, password) -> int:
        """``total`` users spread over the bulk branches: the first of each branch is its
        manager, the rest staff; roles through ``user_set_role`` (one password hash for all)."""
        hashed = make_password(password)
        existing = set(
            User.objects.filter(username__regex=r"^b\d\d_u\d+$").values_list("username", flat=True)
        )
        made = 0
        per_branch, extra = divmod(total, len(branches))
        name_rng = random.Random("bulk-users")
        with transaction.atomic():
            for i, branch in enumerate(branches):
                depts = list(
                    ProjectDepartment.objects.filter(branch=branch).order_by("-is_business_dept", "code")
                )
                for n in range(1, per_branch + (1 if i < extra else 0) + 1):
                    username = f"{branch.code}_u{n:03d}"
                    full_name = name_rng.choice(SURNAMES) + name_rng.choice(GIVEN)
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
