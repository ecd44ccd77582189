"""Reads of complaints. Everything starts from ``Complaint.objects.restrict(user, "view")``."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from .models import OPEN_STATUSES, Complaint, Event, Finding, HandOver, ReturnVisit, Status


def complaint_queue(user):
    """The queue: the user's scope, with what a row of the table shows, in one query."""
    return Complaint.objects.restrict(user, "view").select_related(
        "client", "client__branch", "project", "owner", "received_by"
    )


def complaint_detail_qs(user):
    return (
        Complaint.objects.restrict(user, "view")
        .select_related("client", "client__branch", "project", "department", "owner", "received_by", "repair")
        .prefetch_related(
            Prefetch("events", queryset=Event.objects.select_related("by")),
            Prefetch("handovers", queryset=HandOver.objects.select_related("from_user", "to_user", "by")),
            Prefetch("return_visits", queryset=ReturnVisit.objects.select_related("visited_by")),
        )
    )


def owner_chain(complaint: Complaint) -> list[dict]:
    """R15: the first receiver, then everyone it was handed to, in order."""
    chain = [{"user": complaint.received_by, "since": complaint.received_at, "reason": "", "by": None}]
    for h in complaint.handovers.all():
        chain.append({"user": h.to_user, "since": h.at, "reason": h.reason, "by": h.by})
    return chain


def client_complaints(user, client):
    """R19: a client's complaints as the archive tab shows them, with their timelines."""
    return (
        Complaint.objects.restrict(user, "view")
        .filter(client=client)
        .select_related("owner", "project")
        .prefetch_related(Prefetch("events", queryset=Event.objects.select_related("by")))
        .order_by("-received_at")
    )


def unreasonable_count(client) -> int:
    """R17 -> R7: unreasonable complaints of a client, a fact of its grading."""
    return client.complaints.filter(is_unreasonable=True).count()


def unreasonable_count_annotation():
    """``unreasonable_count`` as an annotation of a Client queryset (the client page reads it
    with the client): the same count as ``unreasonable_count``."""
    rows = (
        Complaint.objects.filter(client=OuterRef("pk"), is_unreasonable=True)
        .order_by()
        .values("client")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def due_return_visits(user, *, within: dt.timedelta = dt.timedelta(days=3)):
    """R18: return visits not yet made that are due soon or overdue, in the user's scope."""
    return (
        ReturnVisit.objects.restrict(user, "view")
        .filter(
            visited_at__isnull=True,
            complaint__status__in=(Status.RESOLVED, Status.RETURN_VISIT),
            due_at__lte=timezone.now() + within,
        )
        .select_related("complaint", "complaint__client", "complaint__owner")
        .order_by("due_at")
    )


def complaint_figures(user, *, start: dt.date | None = None, end: dt.date | None = None, branch=None):
    """Figures by branch and month (R35; used by dashboards and monthly reports): volume,
    acknowledgement and resolution timeliness, outcomes. One query; each row is a dict with
    ``branch_id``, ``branch`` (name), ``month`` (date of the 1st) and the counts, plus the rates
    ``ack_rate`` and ``resolve_rate`` (on time / those that had the step, None when none)."""
    qs = Complaint.objects.restrict(user, "view")
    if start:
        qs = qs.filter(received_at__date__gte=start)
    if end:
        qs = qs.filter(received_at__date__lte=end)
    if branch is not None:
        qs = qs.filter(client__branch=branch)
    tz = timezone.get_current_timezone()
    rows = (
        qs.annotate(month=TruncMonth("received_at", tzinfo=tz))
        .values("client__branch", "client__branch__name", "month")
        .annotate(
            volume=Count("pk"),
            acknowledged=Count("pk", filter=Q(acknowledged_at__isnull=False)),
            acknowledged_on_time=Count("pk", filter=Q(acknowledged_at__lte=F("acknowledge_due_at"))),
            resolved=Count("pk", filter=Q(resolved_at__isnull=False)),
            resolved_on_time=Count("pk", filter=Q(resolved_at__lte=F("resolve_due_at"))),
            open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
            closed=Count("pk", filter=Q(status=Status.CLOSED)),
            our_fault=Count("pk", filter=Q(finding=Finding.OUR_FAULT)),
            client_error=Count("pk", filter=Q(finding=Finding.CLIENT_ERROR)),
            unreasonable=Count("pk", filter=Q(is_unreasonable=True)),
            breached=Count(
                "pk", filter=Q(acknowledge_breached_at__isnull=False) | Q(resolve_breached_at__isnull=False)
            ),
        )
        .order_by("client__branch__name", "month")
    )
    out = []
    for row in rows:
        month = row["month"]
        out.append(
            {
                "branch_id": row["client__branch"],
                "branch": row["client__branch__name"],
                "month": month.date() if isinstance(month, dt.datetime) else month,
                **{
                    k: row[k]
                    for k in (
                        "volume",
                        "acknowledged",
                        "acknowledged_on_time",
                        "resolved",
                        "resolved_on_time",
                        "open",
                        "closed",
                        "our_fault",
                        "client_error",
                        "unreasonable",
                        "breached",
                    )
                },
                "ack_rate": row["acknowledged_on_time"] / row["acknowledged"]
                if row["acknowledged"]
                else None,
                "resolve_rate": row["resolved_on_time"] / row["resolved"] if row["resolved"] else None,
            }
        )
    return out
