"""The filters of the ledger, the checks and their findings (pages and API alike), and the
remark form (R70-R73)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.filters import RowFilter

from ..filters import SmallWidgets, _branches, _owners
from ..models import Need
from .models import NeedCheck, NeedCheckFinding
from .selectors import Clock, in_week_q
from .weeks import Week


class WeekField(forms.CharField):
    """An ISO week, as a browser's week input sends it (``2026-W50``)."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return Week.parse(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None


class WeekFilter(django_filters.CharFilter):
    field_class = WeekField


OVERDUE = (("response", _("响应逾期")), ("handling", _("办理超期")), ("any", _("任一逾期")))


class LedgerFilter(SmallWidgets, django_filters.FilterSet):
    """R70: the ledger's filters: branch, owner, state, overdue (now), week, search."""

    q = django_filters.CharFilter(method="filter_search", label=_("搜索"))
    search = django_filters.CharFilter(method="filter_search", label=_("搜索"))
    client = django_filters.NumberFilter(field_name="client_id")
    branch = RowFilter(field_name="client__branch", queryset=_branches, label=_("所属分公司"))
    owner = RowFilter(field_name="owner", queryset=_owners, label=_("负责人"))
    status = django_filters.ChoiceFilter(choices=Need.Status.choices, label=_("状态"))
    overdue = django_filters.ChoiceFilter(choices=OVERDUE, method="filter_overdue", label=_("逾期"))
    week = WeekFilter(method="filter_week", label=_("周次"))

    class Meta:
        model = Need
        fields = ["client", "branch", "owner", "status"]

    def __init__(self, *args, clock: Clock | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # The moment the rows' states are read against (the API's viewset puts it on the request,
        # since django-filter builds the FilterSet itself).
        self.clock = clock or getattr(self.request, "clock", None) or Clock()

    def filter_search(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(Q(description__icontains=value) | Q(client__name__contains=value))

    def filter_overdue(self, queryset, name, value):
        if value == "response":
            return queryset.filter(self.clock.response_overdue_q())
        if value == "handling":
            return queryset.filter(self.clock.handling_overdue_q())
        if value == "any":
            return queryset.filter(self.clock.response_overdue_q() | self.clock.handling_overdue_q())
        return queryset

    def filter_week(self, queryset, name, value):
        return queryset.filter(in_week_q(value.start, value.end)) if value else queryset


class CheckFilter(SmallWidgets, django_filters.FilterSet):
    """R71: the checks by branch and week."""

    branch = RowFilter(queryset=_branches, label=_("所属分公司"))
    week = WeekFilter(method="filter_week", label=_("周次"))

    class Meta:
        model = NeedCheck
        fields = ["branch"]

    def filter_week(self, queryset, name, value):
        return queryset.filter(week_start=value.monday) if value else queryset


FOUND = (("response", _("响应逾期")), ("handling", _("办理超期")))
REMARKED = (("yes", _("已记录")), ("no", _("未记录")))


class FindingFilter(SmallWidgets, django_filters.FilterSet):
    """R71, R73: a check's findings by owner, reason and whether the 协调解决 is recorded."""

    need_check = django_filters.NumberFilter(field_name="need_check_id")
    branch = django_filters.NumberFilter(field_name="need_check__branch_id")
    owner = django_filters.NumberFilter(field_name="owner_id")
    reason = django_filters.ChoiceFilter(choices=FOUND, method="filter_reason", label=_("问题"))
    remarked = django_filters.ChoiceFilter(choices=REMARKED, method="filter_remarked", label=_("协调解决"))

    class Meta:
        model = NeedCheckFinding
        fields = ["need_check", "branch", "owner"]

    def filter_reason(self, queryset, name, value):
        if value == "response":
            return queryset.filter(response_overdue=True)
        if value == "handling":
            return queryset.filter(open_too_long=True)
        return queryset

    def filter_remarked(self, queryset, name, value):
        if value == "yes":
            return queryset.exclude(remark="")
        if value == "no":
            return queryset.filter(remark="")
        return queryset


class RemarkForm(forms.Form):
    """R73: the 协调解决 of one finding, based on the version the page showed."""

    remark = forms.CharField(
        label=_("协调解决情况"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control form-control-sm"}),
        error_messages={"required": _("请填写协调解决情况。")},
    )
    version = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)
