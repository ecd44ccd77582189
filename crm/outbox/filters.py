"""The deliveries' filters, shared by the page and the API (R114)."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from crm.filters import RowFilter
from crm.models import Delivery

from . import channels


def _people(request):
    from crm.models import User

    return User.objects.filter(deliveries__isnull=False).distinct().order_by("username")


class DeliveryFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(label=_("状态"), choices=Delivery.State.choices)
    channel = django_filters.ChoiceFilter(label=_("渠道"), choices=[])
    recipient = RowFilter(label=_("接收人"), queryset=_people)
    date_from = django_filters.DateFilter(label=_("日期从"), field_name="created_at", lookup_expr="date__gte")
    date_to = django_filters.DateFilter(label=_("至"), field_name="created_at", lookup_expr="date__lte")
    search = django_filters.CharFilter(label=_("搜索"), method="filter_search")

    class Meta:
        model = Delivery
        fields = ["state", "channel", "recipient", "date_from", "date_to", "search"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The channels registered now (the robots register theirs after this module is read);
        # a field built before (the schema's) is dropped so that it is built with them.
        channel = self.filters["channel"]
        channel.extra["choices"] = channels.choices()
        channel.__dict__.pop("_field", None)

    def filter_search(self, queryset, name, value):
        from django.db.models import Q

        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(target__icontains=value) | Q(notice__title__icontains=value) | Q(last_error__icontains=value)
        )
