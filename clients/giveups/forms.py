"""Forms and the list filter of the give-up pages (R37-R40)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.filters import RowFilter
from crm.models import Branch

from ..filters import SmallWidgets
from ..models import GiveUp

TEXTAREA = {"rows": 3, "class": "form-control"}


class ProposeForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("放弃原因"),
        choices=GiveUp.Reason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择放弃跟踪的原因。")},
    )
    note = forms.CharField(
        label=_("情况说明"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text=_("说明客户的信誉、经营状况等依据;原因为“其他”时必填。"),
    )


class ConfirmForm(forms.Form):
    note = forms.CharField(
        label=_("确认意见"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={**TEXTAREA, "rows": 2}),
    )


class ReasonForm(forms.Form):
    """The reason of a rejection or of resuming tracking (required)."""

    reason = forms.CharField(
        label=_("理由"),
        max_length=2000,
        widget=forms.Textarea(attrs={**TEXTAREA, "rows": 2}),
        error_messages={"required": _("请填写理由。")},
    )


def _branches(request):
    if request is None:
        return Branch.objects.none()
    return Branch.objects.restrict(request.user, "view")


class GiveUpFilter(SmallWidgets, django_filters.FilterSet):
    """The give-up list's filters (pages and API): state, branch, reason, a client's name."""

    q = django_filters.CharFilter(method="filter_search", label=_("搜索"))
    status = django_filters.ChoiceFilter(choices=GiveUp.Status.choices, label=_("状态"))
    branch = RowFilter(field_name="client__branch", queryset=_branches, label=_("所属分公司"))
    reason = django_filters.ChoiceFilter(choices=GiveUp.Reason.choices, label=_("放弃原因"))
    client = django_filters.NumberFilter(field_name="client_id")

    class Meta:
        model = GiveUp
        fields = ["status", "branch", "reason", "client"]

    def filter_search(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(Q(client__name__contains=value) | Q(note__contains=value))
