"""Filters of the repair queue, shared by the page and the API (django-filter)."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.validators import validate_date_in_range

from .models import OPEN_REPAIR_STATUSES, BuildingPart, RepairRequest, RepairStatus

SORTS = {
    "received": "received_at",
    "-received": "-received_at",
    "client": "project__client__name",
    "status": "status",
    "part": "part",
}


class RepairFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("搜索"))
    status = django_filters.ChoiceFilter(choices=RepairStatus.choices, empty_label=_("全部"), label=_("状态"))
    part = django_filters.ChoiceFilter(
        choices=BuildingPart.choices, empty_label=_("全部"), label=_("报修部位")
    )
    open = django_filters.BooleanFilter(method="filter_open", label=_("未关闭"))
    paid = django_filters.BooleanFilter(field_name="is_paid", label=_("有偿维修"))
    reopened = django_filters.BooleanFilter(method="filter_reopened", label=_("返修过"))
    project = django_filters.NumberFilter(field_name="project_id", label=_("工程项目"))
    client = django_filters.NumberFilter(field_name="project__client_id", label=_("客户"))
    received_from = django_filters.DateFilter(
        field_name="received_at__date",
        lookup_expr="gte",
        label=_("接报日期起"),
        validators=[validate_date_in_range],
    )
    received_to = django_filters.DateFilter(
        field_name="received_at__date",
        lookup_expr="lte",
        label=_("接报日期止"),
        validators=[validate_date_in_range],
    )

    class Meta:
        model = RepairRequest
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        q = (
            Q(title__icontains=value)
            | Q(description__icontains=value)
            | Q(location__icontains=value)
            | Q(reporter__icontains=value)
            | Q(reporter_phone__icontains=value)
            | Q(team__icontains=value)
            | Q(project__name__icontains=value)
            | Q(project__client__name__icontains=value)
        )
        code = value.upper().removeprefix("BX")
        if code.isdigit():
            q |= Q(pk=int(code))
        return queryset.filter(q)

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return (
            queryset.filter(status__in=OPEN_REPAIR_STATUSES)
            if value
            else queryset.exclude(status__in=OPEN_REPAIR_STATUSES)
        )

    def filter_reopened(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(reopen_count__gt=0) if value else queryset.filter(reopen_count=0)
