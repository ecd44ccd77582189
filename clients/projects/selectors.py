"""Reads of design fees and on-site service (R56, R59): the collected and outstanding amounts as
annotations (one query for a list), and the unsettled projects."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from ..models import FeeCollection, Project

MONEY_FIELD = DecimalField(max_digits=16, decimal_places=2)


def fee_annotations() -> dict:
    """``fee_collected`` (the sum of the collections, R56) and ``fee_outstanding`` (the fee less
    it) for a project queryset, as correlated subqueries (no GROUP BY of the project rows)."""
    total = (
        FeeCollection.objects.filter(project=OuterRef("pk"))
        .order_by()
        .values("project")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    collected = Coalesce(
        Subquery(total, output_field=MONEY_FIELD), Value(Decimal("0.00")), output_field=MONEY_FIELD
    )
    return {
        "fee_collected": collected,
        "fee_outstanding": ExpressionWrapper(F("design_fee") - collected, output_field=MONEY_FIELD),
    }


def collected_by(on: dt.date):
    """R56: what a project had collected by the end of ``on`` (an expression)."""
    total = (
        FeeCollection.objects.filter(project=OuterRef("pk"), collected_on__lte=on)
        .order_by()
        .values("project")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    return Coalesce(
        Subquery(total, output_field=MONEY_FIELD), Value(Decimal("0.00")), output_field=MONEY_FIELD
    )


def unsettled_q(on: dt.date | None = None) -> Q:
    """R59: a completed project with a design fee, not settled (on ``on``: completed by then and
    not settled by then; None: now)."""
    q = Q(completed_on__isnull=False, design_fee__gt=0)
    if on is None:
        return q & Q(fee_settled_on__isnull=True)
    return q & Q(completed_on__lte=on) & (Q(fee_settled_on__isnull=True) | Q(fee_settled_on__gt=on))


def unsettled(user):
    """R59: the user's unsettled completed projects (through restrict), with their amounts."""
    return (
        Project.objects.restrict(user, "view")
        .filter(unsettled_q())
        .annotate(**fee_annotations())
        .select_related("client", "branch", "department")
    )
