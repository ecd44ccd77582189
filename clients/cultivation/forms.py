"""Forms and the list filters of the cultivation pages (R42-R47)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.filters import RowFilter
from crm.models import Branch

from ..filters import SmallWidgets
from .models import BEvaluation, CultivationPlan

TEXTAREA = {"rows": 3, "class": "form-control"}
DATE = {"type": "date", "class": "form-control"}
# The proposal page offers this many measure rows (empty ones are ignored); more are added later.
MEASURE_ROWS = 3


def _people_field(people, required=True):
    return forms.ModelChoiceField(
        label=_("负责人"),
        queryset=people,
        required=required,
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"invalid_choice": _("负责人应为客户所属分公司的在职人员。")},
    )


class ProposeForm(forms.Form):
    """R42, R43: the goal, the first review date and up to three measures."""

    goal = forms.CharField(
        label=_("培养目标"),
        max_length=2000,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text=_("例如:年内签订新的设计合同,达到A类客户条件。"),
        error_messages={"required": _("请填写培养目标。")},
    )
    next_review_on = forms.DateField(
        label=_("下次评审日期"), required=False, widget=forms.DateInput(attrs=DATE)
    )

    def __init__(self, *args, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(MEASURE_ROWS):
            self.fields[f"m{i}_description"] = forms.CharField(
                label=_("措施"),
                max_length=2000,
                required=False,
                widget=forms.TextInput(attrs={"class": "form-control"}),
            )
            self.fields[f"m{i}_due_on"] = forms.DateField(
                label=_("完成期限"), required=False, widget=forms.DateInput(attrs=DATE)
            )
            self.fields[f"m{i}_owner"] = _people_field(people, required=False)

    def measure_rows(self):
        return [
            (self[f"m{i}_description"], self[f"m{i}_due_on"], self[f"m{i}_owner"])
            for i in range(MEASURE_ROWS)
        ]

    def measures(self) -> list[dict]:
        data = self.cleaned_data
        return [
            {
                "description": data.get(f"m{i}_description") or "",
                "due_on": data.get(f"m{i}_due_on"),
                "owner": data.get(f"m{i}_owner"),
            }
            for i in range(MEASURE_ROWS)
        ]


class MeasureForm(forms.Form):
    """R43: a further measure."""

    description = forms.CharField(
        label=_("措施"), max_length=2000, widget=forms.TextInput(attrs={"class": "form-control"}),
        error_messages={"required": _("请填写培养措施。")},
    )  # fmt: skip
    due_on = forms.DateField(label=_("完成期限"), widget=forms.DateInput(attrs=DATE))

    def __init__(self, *args, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"] = _people_field(people)


class ReviewForm(forms.Form):
    """R44: the review's date, progress, the measures found done and the next date."""

    reviewed_on = forms.DateField(label=_("评审日期"), widget=forms.DateInput(attrs=DATE))
    note = forms.CharField(
        label=_("进展情况"), max_length=2000, widget=forms.Textarea(attrs=TEXTAREA),
        error_messages={"required": _("请填写进展情况。")},
    )  # fmt: skip
    next_review_on = forms.DateField(
        label=_("下次评审日期"), required=False, widget=forms.DateInput(attrs=DATE)
    )

    def __init__(self, *args, measures=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["done"] = forms.ModelMultipleChoiceField(
            label=_("本次完成的措施"),
            queryset=measures,
            required=False,
            widget=forms.CheckboxSelectMultiple,
            error_messages={"invalid_choice": _("所选措施不属于该培养计划或已完成。")},
        )


class EditForm(forms.Form):
    """R44: the goal and the next review date (optimistic locking: the version it was read at)."""

    goal = forms.CharField(label=_("培养目标"), max_length=2000, widget=forms.Textarea(attrs=TEXTAREA))
    next_review_on = forms.DateField(
        label=_("下次评审日期"), required=False, widget=forms.DateInput(attrs=DATE)
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class CloseForm(forms.Form):
    reason = forms.CharField(
        label=_("终止理由"), max_length=2000, widget=forms.Textarea(attrs={**TEXTAREA, "rows": 2}),
        error_messages={"required": _("请填写终止培养计划的理由。")},
    )  # fmt: skip


class EvaluationForm(forms.Form):
    """R46: the outcome and its reason."""

    outcome = forms.ChoiceField(
        label=_("评价结果"),
        choices=BEvaluation.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择评价结果。")},
    )
    reason = forms.CharField(
        label=_("理由"), max_length=2000, widget=forms.Textarea(attrs=TEXTAREA),
        error_messages={"required": _("请填写评价理由。")},
    )  # fmt: skip


def _branches(request):
    if request is None:
        return Branch.objects.none()
    return Branch.objects.restrict(request.user, "view")


class PlanFilter(SmallWidgets, django_filters.FilterSet):
    """The plans' filters (pages and API): state, branch, a client, a name."""

    q = django_filters.CharFilter(method="filter_search", label=_("搜索"))
    status = django_filters.ChoiceFilter(choices=CultivationPlan.Status.choices, label=_("状态"))
    branch = RowFilter(field_name="client__branch", queryset=_branches, label=_("所属分公司"))
    client = django_filters.NumberFilter(field_name="client_id")

    class Meta:
        model = CultivationPlan
        fields = ["status", "branch", "client"]

    def filter_search(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(Q(client__name__contains=value) | Q(goal__contains=value))


class EvaluationFilter(SmallWidgets, django_filters.FilterSet):
    """The evaluations' filters (pages and API)."""

    q = django_filters.CharFilter(field_name="client__name", lookup_expr="contains", label=_("搜索"))
    half_year = django_filters.CharFilter(label=_("半年度"))
    outcome = django_filters.ChoiceFilter(choices=BEvaluation.Outcome.choices, label=_("评价结果"))
    branch = RowFilter(field_name="client__branch", queryset=_branches, label=_("所属分公司"))
    client = django_filters.NumberFilter(field_name="client_id")

    class Meta:
        model = BEvaluation
        fields = ["half_year", "outcome", "branch", "client"]
