"""Reads of the archive. Every function takes a user (or an already restricted queryset) and
goes through ``restrict``; each returns a queryset or figures at a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.db import connection
from django.db.models import Count, DecimalField, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from crm import navigation

from .models import Client, Contact, Grade, Need, Project, Tracking, VisitPlan

# R12: key (A) clients have their needs collected at least monthly, others quarterly.
NEEDS_COLLECTION_DAYS = {Grade.A: 31, "other": 92}


def _contains(field: str, value: str) -> Q:
    """A substring match the pg_trgm GIN index serves on PostgreSQL (``LIKE '%x%'``; Django's
    icontains becomes ``UPPER(x) LIKE UPPER(..)``, which a plain trigram index does not serve).
    Chinese has no case, so nothing is lost; Latin letters fall back to icontains elsewhere."""
    if connection.vendor == "postgresql" and value == value.upper() == value.lower():
        return Q(**{f"{field}__contains": value})
    return Q(**{f"{field}__icontains": value})


def search_q(query: str) -> Q:
    """R-list search: a Chinese substring of the name, a contact's name, a phone or a credit code.
    Names and phones are read from ``Client.search_text`` (one condition on the client row: a
    trigram index serves 3+ characters, and a branch's rows are few enough for 2)."""
    query = (query or "").strip()
    if not query:
        return Q()
    q = _contains("search_text", query)
    code = query.upper().replace(" ", "")
    if re.fullmatch(r"[0-9A-Z]{6,18}", code):
        q |= Q(credit_code__startswith=code) if len(code) < 18 else Q(credit_code=code)
    digits = re.sub(r"\D", "", query)
    if (
        len(digits) >= 4
        and len(digits) >= len(query.replace("-", "").replace(" ", "")) - 1
        and digits != query
    ):
        q |= Q(search_text__contains=digits)
    return q


def unreasonable_subquery():
    """Unreasonable complaints per client, read through the reverse relation ``complaints``
    (design.md: a lower layer reads a higher one's data that way, never by import), so a
    list's suggested grades cost no query per row. None when complaints are not installed."""
    try:
        related = Client._meta.get_field("complaints").related_model
    except Exception:
        return None
    if not any(f.name == "is_unreasonable" for f in related._meta.get_fields()):
        return None
    sub = (
        related.objects.filter(client=OuterRef("pk"), is_unreasonable=True)
        .order_by()
        .values("client")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(sub, output_field=IntegerField()), Value(0))


def with_grading_facts(qs):
    """Annotate what suggest_grade/quadrant need (project count, unreasonable complaints)."""
    projects = (
        Project.objects.filter(client=OuterRef("pk"))
        .order_by()
        .values("client")
        .annotate(n=Count("pk"))
        .values("n")
    )
    qs = qs.annotate(project_count=Coalesce(Subquery(projects, output_field=IntegerField()), Value(0)))
    unreasonable = unreasonable_subquery()
    if unreasonable is not None:
        qs = qs.annotate(unreasonable_count=unreasonable)
    return qs


def project_totals_annotations() -> dict:
    """The client's projects as grading and the scale-profit class count them (R7, R13): their
    number (``project_count``, which grading reads when present) and the totals of contract
    value and profit, as annotations of a Client queryset (subqueries, no query of their own).
    Every project of the client counts, as ``client.projects`` does for grading."""
    rows = Project.objects.filter(client=OuterRef("pk")).order_by().values("client")

    def total(expr, field):
        return Coalesce(
            Subquery(rows.annotate(v=expr).values("v"), output_field=field), Value(0), output_field=field
        )

    money = DecimalField(max_digits=18, decimal_places=2)
    return {
        "project_count": total(Count("pk"), IntegerField()),
        "project_value": total(Sum("contract_value"), money),
        "project_profit": total(Sum("profit"), money),
    }


def _needs_collection_limits(today: dt.date | None):
    """(A's limit, others' limit, A's since, others' since): a collection before the limit is
    late; a client never asked is overdue once it has been in the archive for a whole period
    (created before the since)."""
    today = today or timezone.localdate()
    a_limit = today - dt.timedelta(days=NEEDS_COLLECTION_DAYS[Grade.A])
    other_limit = today - dt.timedelta(days=NEEDS_COLLECTION_DAYS["other"])
    tz = timezone.get_current_timezone()
    a_since = dt.datetime.combine(a_limit, dt.time.min, tzinfo=tz)
    other_since = dt.datetime.combine(other_limit, dt.time.min, tzinfo=tz)
    return a_limit, other_limit, a_since, other_since


def needs_collection_overdue(client, today: dt.date | None = None, *, limits=None) -> bool:
    """``needs_collection_overdue_q`` for one client in memory (the archive list's rows: no
    query); ``limits`` from ``_needs_collection_limits`` for many clients. The tests of the list
    facts check the two agree."""
    a_limit, other_limit, a_since, other_since = limits or _needs_collection_limits(today)
    if client.tracking == Tracking.GIVEN_UP:
        return False
    limit, since = (a_limit, a_since) if client.grade == Grade.A else (other_limit, other_since)
    if client.needs_collected_on is None:
        return client.created_at < since
    return client.needs_collected_on < limit


def needs_collection_overdue_q(today: dt.date | None = None) -> Q:
    """R12: clients whose needs collection is overdue (A monthly, others quarterly). A client
    given up (R38) is not asked for its needs: it leaves the flag, the filter and the figure."""
    a_limit, other_limit, a_since, other_since = _needs_collection_limits(today)
    never = Q(needs_collected_on__isnull=True)
    overdue = (
        Q(grade=Grade.A) & ((never & Q(created_at__lt=a_since)) | Q(needs_collected_on__lt=a_limit))
    ) | (
        ~Q(grade=Grade.A) & ((never & Q(created_at__lt=other_since)) | Q(needs_collected_on__lt=other_limit))
    )
    return overdue & ~Q(tracking=Tracking.GIVEN_UP)


def visit_overdue_q(today: dt.date | None = None) -> Q:
    """R13: clients whose active visit plan is past its date. A given-up client has no active
    plan (R38: confirming ends it, and no plan is made while given up), so it is never here, nor
    in ``overdue_visit_plans``, the plans' figures or the overdue job, which all read active plans."""
    today = today or timezone.localdate()
    return Q(visit_plan__is_active=True, visit_plan__next_due_on__lt=today)


def a_without_plan_q() -> Q:
    """R13: A clients without an active visit plan (the archive list's 无拜访计划的A类客户)."""
    return Q(grade=Grade.A) & ~Q(visit_plan__is_active=True)


def a_clients_without_plan(user):
    """R13: the A clients without a visit plan that ``user`` answers for: a staff member their
    own clients, a manager (or a group role) every one in their scope. The home panel counts
    exactly this, and links to the archive list filtered the same way (a_without_plan_url)."""
    qs = Client.objects.restrict(user, "view").filter(a_without_plan_q())
    if user.role == "staff":
        qs = qs.filter(owner=user)
    return qs.select_related("branch", "owner").order_by("name", "pk")


def a_without_plan_url(user) -> str:
    from django.urls import reverse

    url = reverse("clients:client-list") + "?plan=a_missing"
    return url + f"&owner={user.pk}" if user.role == "staff" else url


SCALE_PROFIT_CODES = ("large_low", "small_high", "large_high", "small_low")


def scale_profit_q(code: str) -> Q:
    """R13: B clients of one scale-profit class (grading.scale_profit_class, on the annotations
    of with_scale_profit): large scale at or above CRM_SCALE_PROFIT_LARGE_CONTRACT_YUAN of
    contract value, high profit at or above CRM_SCALE_PROFIT_HIGH_MARGIN of it."""
    from .grading import scale_profit_thresholds

    large_value, margin = scale_profit_thresholds()
    large = Q(sp_value__gte=large_value)
    high = Q(sp_value__gt=0, sp_profit__gte=F("sp_value") * margin)
    scale = large if code.startswith("large") else ~large
    profit = high if code.endswith("high") else ~high
    return Q(grade=Grade.B, sp_projects__gt=0) & scale & profit


def with_scale_profit(qs):
    """Annotate the sums of each client's projects (all of them, as the archive page counts)."""
    projects = Project.objects.filter(client=OuterRef("pk")).order_by().values("client")
    zero = Value(Decimal(0), output_field=DecimalField(max_digits=18, decimal_places=2))
    return qs.annotate(
        sp_projects=Coalesce(
            Subquery(projects.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), Value(0)
        ),
        sp_value=Coalesce(
            Subquery(
                projects.annotate(v=Sum("contract_value")).values("v"),
                output_field=DecimalField(max_digits=18, decimal_places=2),
            ),
            zero,
        ),
        sp_profit=Coalesce(
            Subquery(
                projects.annotate(v=Sum("profit")).values("v"),
                output_field=DecimalField(max_digits=18, decimal_places=2),
            ),
            zero,
        ),
    )


def client_list(user):
    """The archive list for ``user``: restricted, with what its rows show beside the client
    (the page's facts are added to the page's rows by ``list_facts``)."""
    return Client.objects.restrict(user, "view").select_related("branch", "owner", "department")


def list_facts(clients, *, today: dt.date | None = None) -> None:
    """The list's per-row facts for one page of ``clients`` (rows already in the reader's
    scope): ``visit_overdue`` (R13), ``has_active_plan`` (R13's flag of A clients) and
    ``contact_count``, in two queries over the page's ids; ``needs_overdue`` (R12) from the
    row itself. Asked per page rather than as
    subqueries of the list's query, which PostgreSQL answers by hashing every visit plan of
    the archive whatever the page's size (1M clients: 170 ms per page instead of 1 ms)."""
    today = today or timezone.localdate()
    limits = _needs_collection_limits(today)
    ids = [c.pk for c in clients]
    active: dict[int, list] = {}
    for client_id, due in VisitPlan.objects.filter(client_id__in=ids, is_active=True).values_list(
        "client_id", "next_due_on"
    ):
        active.setdefault(client_id, []).append(due)
    contacts = dict(
        Contact.objects.filter(client_id__in=ids)
        .order_by()
        .values("client_id")
        .annotate(n=Count("pk"))
        .values_list("client_id", "n")
    )
    for c in clients:
        dues = active.get(c.pk, [])
        c.has_active_plan = bool(dues)
        c.visit_overdue = any(due is not None and due < today for due in dues)
        c.contact_count = contacts.get(c.pk, 0)
        c.needs_overdue = needs_collection_overdue(c, limits=limits)


@navigation.register("overdue_visits")
def may_list_overdue_visits(user) -> bool:
    """R13: overdue visits are listed for the person responsible and their manager: the branch
    roles, and group marketing and administrators who manage plans across branches. Leaders and
    auditors read plans on the client pages but have no overdue list to work through."""
    from crm.access import can

    return can(user, "view", VisitPlan) and (
        user.is_superuser or user.role in ("staff", "manager", "marketing", "admin")
    )


def overdue_visit_plans(user, *, today: dt.date | None = None):
    """R13: overdue visits the user is responsible for, or, for a manager or a group role,
    every overdue visit in their scope."""
    today = today or timezone.localdate()
    qs = (
        VisitPlan.objects.restrict(user, "view")
        .filter(is_active=True, next_due_on__lt=today)
        .select_related("client", "client__branch", "responsible")
        .order_by("next_due_on")
    )
    if user.role in ("staff",):
        qs = qs.filter(Q(responsible=user) | Q(client__owner=user))
    return qs


def needs_due(user, *, within: dt.timedelta = dt.timedelta(days=2)):
    """Open needs (not answered yet) due soon or overdue, in the user's scope."""
    return (
        Need.objects.restrict(user, "view")
        .filter(responded_at__isnull=True, response_due_at__lt=timezone.now() + within)
        .exclude(status__in=Need.CLOSED)
        .select_related("client")
        .order_by("response_due_at")
    )


def need_rates(user, *, since: dt.datetime | None = None, now: dt.datetime | None = None) -> list[dict]:
    """R12 by branch and month (of reception): response timeliness rate (answered by the
    deadline / needs whose deadline has come) and completion rate (done / all)."""
    now = now or timezone.now()
    qs = Need.objects.restrict(user, "view").exclude(status=Need.Status.MERGED)  # R51
    if since:
        qs = qs.filter(received_at__gte=since)
    rows = (
        qs.annotate(month=TruncMonth("received_at"))
        .values("client__branch", "client__branch__name", "month")
        .annotate(
            total=Count("pk"),
            due=Count("pk", filter=Q(response_due_at__lte=now) | Q(responded_at__isnull=False)),
            timely=Count("pk", filter=Q(responded_at__isnull=False, responded_at__lte=F("response_due_at"))),
            done=Count("pk", filter=Q(status=Need.Status.DONE)),
        )
        .order_by("-month", "client__branch__name")
    )
    out = []
    for r in rows:
        out.append(
            {
                "branch_id": r["client__branch"],
                "branch": r["client__branch__name"],
                "month": timezone.localtime(r["month"]).date()
                if timezone.is_aware(r["month"])
                else r["month"],
                "total": r["total"],
                "due": r["due"],
                "timely": r["timely"],
                "done": r["done"],
                "timeliness_rate": (r["timely"] / r["due"]) if r["due"] else None,
                "completion_rate": r["done"] / r["total"] if r["total"] else None,
            }
        )
    return out


def grade_distribution(user) -> dict[str, int]:
    rows = Client.objects.restrict(user, "view").order_by().values("grade").annotate(n=Count("pk"))
    out = {g: 0 for g in Grade.values}
    for r in rows:
        out[r["grade"]] = r["n"]
    return out
