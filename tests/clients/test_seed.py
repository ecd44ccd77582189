"""The archive's demo data: believable, valid, deterministic and idempotent."""

import datetime as dt

import pytest
from django.db import transaction
from django.db.models import Count

from clients import seed as demo
from clients.models import (
    BEvaluation,
    Client,
    Contact,
    CultivationPlan,
    GiveUp,
    GradeChange,
    Need,
    Project,
    StageChange,
    Visit,
    VisitPlan,
)
from crm import calendar
from crm.validators import normalize_phone, validate_credit_code

pytestmark = pytest.mark.django_db

MODELS = (
    Client,
    Contact,
    Project,
    Need,
    Visit,
    VisitPlan,
    GradeChange,
    StageChange,
    GiveUp,
    CultivationPlan,
    BEvaluation,
)


def counts():
    return {m.__name__: m.objects.count() for m in MODELS} | {"history": Client.history.count()}


@pytest.fixture
def seeded(org):
    demo.seed(org.org)
    return org


def test_seed_is_idempotent(seeded):
    first = counts()
    summary = demo.seed(seeded.org)
    assert counts() == first
    assert summary.startswith("0 clients"), summary
    # One history row per client, and one per step of the demo's give-ups (R40: the proposal,
    # then the confirmation, each on the client too).
    steps = sum(2 if g.decided_at else 1 for g in GiveUp.objects.all())
    # R46: and one per grade change of the demo's half-year evaluation (the promotion).
    steps += BEvaluation.objects.filter(grade_change__isnull=False).count()
    assert first["Client"] >= 100 and first["history"] == first["Client"] + steps


def test_the_demo_cultivates_east_b_clients_by_the_rules(seeded):
    """R42-R46: east B clients with plans proposed by east_staff (measures owned by the branch's
    people), one reviewed and open, one awaiting its first review, and one promoted to A through
    the half-year evaluation: a grade change with its reason, its plan ended as promoted."""
    plans = CultivationPlan.objects.select_related("client").order_by("client__name", "pk")
    assert len(plans) == 3
    assert all(p.client.branch.code == "east" and p.proposed_by == seeded["east_staff"] for p in plans)
    assert all(m.owner.branch_id == p.client.branch_id for p in plans for m in p.measures.all())
    open_plans = [p for p in plans if p.status == "open"]
    assert [p.reviews.count() for p in open_plans] == [1, 0]
    assert all(p.client.grade == "B" for p in open_plans)
    (promoted,) = [p for p in plans if p.status == "promoted"]
    (evaluation,) = BEvaluation.objects.all()
    assert evaluation.outcome == "promote" and evaluation.plan == promoted
    change = evaluation.grade_change
    assert (change.from_grade, change.to_grade, change.changed_by) == ("B", "A", seeded["east_manager"])
    assert change.reason == evaluation.reason != ""
    assert VisitPlan.objects.filter(client=promoted.client, is_active=True).exists()  # R13


def test_the_demo_gives_up_c_clients_by_the_rules(seeded):
    """R37-R40: two east C clients given up for their poor reputation (recorded among the facts,
    no active visit plan, not under observation), one proposal awaiting east_manager."""
    from clients.models import Tracking

    given = GiveUp.objects.filter(status=GiveUp.Status.GIVEN_UP).select_related("client", "decided_by")
    assert len(given) == 2
    for g in given:
        c = g.client
        assert c.branch.code == "east" and c.grade == "C" and c.tracking == Tracking.GIVEN_UP
        assert g.reason == "poor_reputation" and c.poor_reputation and not c.under_observation
        assert g.decided_by == seeded["east_manager"] and g.proposed_by == seeded["east_staff"]
        assert not VisitPlan.objects.filter(client=c, is_active=True).exists()
    (waiting,) = GiveUp.objects.filter(status=GiveUp.Status.PROPOSED)
    assert waiting.client.branch.code == "east" and waiting.client.tracking == Tracking.PROPOSED


def test_every_branch_has_a_year_of_clients(seeded):
    """Every branch gets the clients its plan names, all three grades, a year of visits and
    needs of every urgency: a demo with no empty page, whatever day it is built on."""
    per_branch = dict(Client.objects.values_list("branch__code").annotate(n=Count("id")))
    assert per_branch == demo.BRANCH_CLIENT_COUNTS
    for code in ("east", "south", "design", "install"):
        grades = set(Client.objects.filter(branch__code=code).values_list("grade", flat=True))
        assert grades == {"A", "B", "C"}, (code, grades)
    # Visits spread over the last twelve months, needs of every urgency.
    months = {v.strftime("%Y-%m") for v in Visit.objects.values_list("visited_at", flat=True)}
    assert len(months) >= 11
    assert set(Need.objects.values_list("urgency", flat=True)) == {"urgent", "important", "general"}


@pytest.mark.parametrize("first, second", [("2026-12-02", "2027-01-25"), ("2026-12-31", "2027-02-06")])
def test_the_same_clients_whatever_the_date(org, first, second):
    """The demo's clients (names, codes, grades, stages, branches) do not depend on the day it is
    built: only their dates follow today. Built at a 25th, 31 December and a Spring Festival
    day."""
    import datetime as dt
    import zoneinfo

    import time_machine

    class Undo(Exception):
        pass

    def build(day):
        at = dt.datetime.fromisoformat(f"{day}T10:00").replace(tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
        try:
            with transaction.atomic(), time_machine.travel(at, tick=False):
                demo.seed(org.org)
                rows = set(
                    Client.objects.values_list("name", "credit_code", "grade", "stage", "branch__code")
                )
                newest = Client.objects.order_by("-created_at").values_list("created_at", flat=True).first()
                raise Undo
        except Undo:
            return rows, newest

    rows_first, newest_first = build(first)
    rows_second, newest_second = build(second)
    assert rows_first == rows_second and len(rows_first) == sum(demo.BRANCH_CLIENT_COUNTS.values())
    assert newest_first < newest_second  # the dates did follow the clock


def test_data_is_valid(seeded):
    for client in Client.objects.all():
        validate_credit_code(client.credit_code)
        normalize_phone(client.phone)
        client.full_clean()
    for contact in Contact.objects.all():
        assert normalize_phone(contact.phone) == contact.phone_normalized != ""
        contact.full_clean()
    for project in Project.objects.select_related("department"):
        project.full_clean()
        assert project.cost + project.profit == project.contract_value
        assert project.contract_value >= 500_000
    assert Contact.objects.filter(is_primary=True).count() == Client.objects.count()


def test_need_deadlines_follow_the_calendar(seeded):
    """R11: urgent 4 hours (clock hours), important 2 and general 5 working days."""
    for need in Need.objects.all()[:60]:
        unit, amount = {"urgent": ("hours", 4), "important": ("days", 2), "general": ("days", 5)}[
            need.urgency
        ]
        expected = (
            calendar.Deadline(need.received_at + dt.timedelta(hours=amount), False)
            if unit == "hours"
            else calendar.add_working_days(need.received_at, amount)
        )
        assert need.response_due_at == expected.at
        if need.responded_at:
            assert need.responded_at > need.received_at


def test_a_clients_have_visit_plans_and_histories(seeded):
    """R13: every A client has a plan; R6/R7: stage and grade changes are recorded."""
    a_clients = Client.objects.filter(grade="A")
    assert a_clients.exists()
    assert not a_clients.filter(visit_plan__isnull=True).exists()
    assert not Client.objects.filter(grade="C", under_observation=False, visit_plan__isnull=False).exists()
    assert not Client.objects.filter(grade_changes__isnull=True).exists()
    regraded = GradeChange.objects.exclude(from_grade="")
    assert regraded.exists() and not regraded.filter(reason="").exists()
    current = dict(Client.objects.values_list("pk", "grade"))
    last_change = dict(GradeChange.objects.order_by("changed_at").values_list("client_id", "to_grade"))
    assert last_change == current  # the last change of each client is its grade now
    assert StageChange.objects.filter(to_stage="partner").exists()


def test_same_plan_for_the_same_seed(org):
    """Deterministic: the same rng gives the same clients (names and credit codes)."""
    import random

    from django.utils import timezone

    def names():
        rng = random.Random("x")
        branch = org.branches["east"]
        owner = org["east_staff"]
        rec = demo._Recorder(rng, [owner], org["marketing"])
        out = []
        for _ in range(5):
            p = demo.plan_client(
                rng,
                branch=branch,
                departments=[],
                owners=[owner],
                city=demo.CITIES["上海"],
                now=timezone.now(),
                taken=set(),
                recorder=rec,
            )
            out.append((p.client.name, p.client.credit_code, len(p.visits)))
        return out

    assert names() == names()


def test_the_demo_cares_for_needs_by_the_rules(seeded):
    """R48, R51-R53: done needs of east and south rated by their clients (one through the link),
    one need recorded twice merged into the first, one repeat left on the list of likely
    duplicates, and two south needs marked as contradicting."""
    from clients.models import NeedConflict
    from clients.needcare import services as care

    rated = Need.objects.exclude(rating="")
    assert rated.count() == 5 and all(n.status == "done" for n in rated)
    assert rated.filter(rating_channel="link", rated_by__isnull=True).count() == 1
    assert set(rated.values_list("client__branch__code", flat=True)) == {"east", "south"}
    (merged,) = Need.objects.filter(status="merged")
    assert merged.merged_into.client_id == merged.client_id and merged.merged_into.status != "merged"
    assert merged.history.filter(history_change_reason__startswith="作为重复需求合并至").exists()
    pairs = care.likely_duplicates(seeded["east_staff"])
    assert any("再次提出" in p["duplicate"]["description"] for p in pairs)
    assert merged.pk not in {p["duplicate"]["pk"] for p in pairs} | {p["keep"]["pk"] for p in pairs}
    (conflict,) = NeedConflict.objects.all()
    assert (
        conflict.first.client_id == conflict.second.client_id and conflict.first.client.branch.code == "south"
    )
