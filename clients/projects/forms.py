"""Forms of design fees and on-site service (R56-R60), and the unsettled list's filter (R59)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.filters import RowFilter
from crm.forms import VersionedFormMixin
from crm.models import Branch

from ..filters import SmallWidgets
from ..forms import DATE, BootstrapMixin, OnceTokenMixin
from ..models import FeeCollection, SiteService

TEXTAREA = {"rows": 3}


class FeeCollectionForm(OnceTokenMixin, BootstrapMixin, forms.ModelForm):
    """R57: a collection of the design fee."""

    class Meta:
        model = FeeCollection
        fields = ["collected_on", "amount", "note"]
        widgets = {"collected_on": DATE, "note": forms.Textarea(attrs={"rows": 2})}


class SettleForm(BootstrapMixin, forms.Form):
    """R58: settling the rest of the design fee by agreement, with what was agreed."""

    note = forms.CharField(
        label=_("结清说明"),
        max_length=2000,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text=_("说明与客户协商的结果(如余款核销、折让),以及如何维护客户关系。"),
        error_messages={"required": _("请说明与客户协商结清的情况。")},
    )


class ReverseForm(BootstrapMixin, forms.Form):
    """R57: the reason of reversing a wrong collection."""

    reason = forms.CharField(
        label=_("冲销理由"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写冲销理由。")},
    )


class SiteServiceForm(OnceTokenMixin, BootstrapMixin, VersionedFormMixin, forms.ModelForm):
    """R60: an on-site service record."""

    class Meta:
        model = SiteService
        fields = ["served_on", "our_people", "problem", "handling", "outcome", "status", "closed_on"]
        widgets = {
            "served_on": DATE,
            "closed_on": DATE,
            "problem": forms.Textarea(attrs=TEXTAREA),
            "handling": forms.Textarea(attrs=TEXTAREA),
            "outcome": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {"closed_on": _("标记为已解决时填写,留空则为今天。")}


def _branches(request):
    if request is None:
        return Branch.objects.none()
    return Branch.objects.restrict(request.user, "view")


class UnsettledFilter(SmallWidgets, django_filters.FilterSet):
    """R59: the unsettled list's filters: a project's or client's name, the branch, the days
    since completion at least, the client."""

    q = django_filters.CharFilter(method="filter_search", label=_("搜索"))
    branch = RowFilter(field_name="branch", queryset=_branches, label=_("承接单位"))
    min_days = django_filters.NumberFilter(method="filter_min_days", label=_("竣工天数不少于"), min_value=0)
    client = django_filters.NumberFilter(field_name="client_id")

    def filter_search(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__contains=value) | Q(client__name__contains=value) | Q(code__contains=value)
        )

    def filter_min_days(self, queryset, name, value):
        import datetime as dt

        from django.utils import timezone

        if value is None:
            return queryset
        if value > 36500:
            value = 36500
        return queryset.filter(completed_on__lte=timezone.localdate() - dt.timedelta(days=int(value)))
