"""Filters of the complaint queue, shared by the page and the API (django-filter)."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.filters import RowFilter
from crm.models import User
from crm.validators import validate_date_in_range

from .models import OPEN_STATUSES, Category, Complaint, Kind, Severity, Status

SORTS = {
    "received": "received_at",
    "-received": "-received_at",
    "ack_due": "acknowledge_due_at",
    "resolve_due": "resolve_due_at",
    "-resolve_due": "-resolve_due_at",
    "client": "client__name",
    "severity": "severity",
    "status": "status",
}


def owner_choices(request):
    """People who own a complaint the user can see; never users outside their scope."""
    if request is None:
        return User.objects.none()
    visible = Complaint.objects.restrict(request.user, "view").values("owner")
    # The choice shows the name (display_name, str()): only the columns it reads.
    return (
        User.objects.filter(pk__in=visible)
        .only("username", "full_name", "first_name", "last_name")
        .order_by("username")
    )


class ComplaintFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("搜索"))
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, label=_("状态"))
    severity = django_filters.ChoiceFilter(
        choices=Severity.choices, empty_label=_("全部"), label=_("严重程度")
    )
    kind = django_filters.ChoiceFilter(choices=Kind.choices, empty_label=_("全部"), label=_("投诉类型"))
    category = django_filters.ChoiceFilter(
        choices=Category.choices, empty_label=_("全部"), label=_("投诉类别")
    )
    owner = RowFilter(queryset=owner_choices, label=_("负责人"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("超期"))
    open = django_filters.BooleanFilter(method="filter_open", label=_("未办结"))
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("我负责的"))
    received_from = django_filters.DateFilter(
        field_name="received_at__date",
        lookup_expr="gte",
        label=_("受理日期起"),
        validators=[validate_date_in_range],
    )
    received_to = django_filters.DateFilter(
        field_name="received_at__date",
        lookup_expr="lte",
        label=_("受理日期止"),
        validators=[validate_date_in_range],
    )
    client = django_filters.NumberFilter(field_name="client_id", label=_("客户"))
    finding = django_filters.CharFilter(field_name="finding", label=_("调查结论"))
    unreasonable = django_filters.BooleanFilter(field_name="is_unreasonable", label=_("无理投诉"))

    class Meta:
        model = Complaint
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        q = (
            Q(title__icontains=value)
            | Q(content__icontains=value)
            | Q(client__name__icontains=value)
            | Q(complainant__icontains=value)
            | Q(complainant_phone__icontains=value)
            | Q(contractor__icontains=value)
        )
        code = value.upper().removeprefix("TS")
        if code.isdigit():
            q |= Q(pk=int(code))
        return queryset.filter(q)

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        now = timezone.now()
        return queryset.overdue(now) if value else queryset.not_overdue(now)

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.open() if value else queryset.exclude(status__in=OPEN_STATUSES)

    def filter_mine(self, queryset, name, value):
        if not value or self.request is None:
            return queryset
        return queryset.filter(owner=self.request.user)
