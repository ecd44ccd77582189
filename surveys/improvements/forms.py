"""Forms and the list filter of the improvement plans (R102-R108)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.filters import RowFilter
from crm.models import Branch

from ..models import Dimension
from .models import ClientGroup, ImprovementPlan

TEXTAREA = {"rows": 3, "class": "form-control"}
DATE = {"type": "date", "class": "form-control"}
TEXT = {"class": "form-control"}
SELECT = {"class": "form-select"}
# The plan's page offers this many measure rows (empty ones are ignored); more are added later.
MEASURE_ROWS = 3
# Seed 002's departments (部门), offered as suggestions; any other may be typed.
DEPARTMENTS = ["经营部", "项目经理部", "工程部", "设计部", "客服部", "销售部", "物业部", "市场营销部"]


def _people_field(people, required=True):
    return forms.ModelChoiceField(
        label=_("负责人"),
        queryset=people,
        required=required,
        widget=forms.Select(attrs=SELECT),
        error_messages={"invalid_choice": _("负责人应为本单位的在职人员。")},
    )


def _measure_fields(people, required=True) -> dict:
    return {
        "description": forms.CharField(
            label=_("措施"),
            max_length=2000,
            required=required,
            widget=forms.TextInput(attrs=TEXT),
            error_messages={"required": _("请填写改进措施。")},
        ),
        "client_group": forms.ChoiceField(
            label=_("客户类型"),
            choices=ClientGroup.choices,
            required=False,
            initial=ClientGroup.ALL,
            widget=forms.Select(attrs=SELECT),
        ),
        "due_on": forms.DateField(label=_("时间点"), required=required, widget=forms.DateInput(attrs=DATE)),
        "department": forms.CharField(
            label=_("部门"),
            max_length=50,
            required=required,
            widget=forms.TextInput(attrs={**TEXT, "list": "improvement-departments"}),
            error_messages={"required": _("请填写责任部门。")},
        ),
        "owner": _people_field(people, required=required),
    }


MEASURE_KEYS = ("description", "client_group", "due_on", "department", "owner")


class PlanForm(forms.Form):
    """R102, R103: the dimension (from the matrix's improvement quadrants), a note and up to
    three measures."""

    dimension = forms.ModelChoiceField(
        label=_("维度"),
        queryset=Dimension.objects.none(),
        widget=forms.Select(attrs=SELECT),
        error_messages={
            "required": _("请选择要改进的维度。"),
            "invalid_choice": _("只能为行动重点矩阵中“优先改进区”或“次要改进区”的维度制定改进计划。"),
        },
    )
    goal = forms.CharField(
        label=_("改进说明"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text=_("例如:针对维修及时性差、一次修复率低,建立维修卡片管理和前台监督制度。"),
    )

    def __init__(self, *args, dimensions=None, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        if dimensions is not None:
            self.fields["dimension"].queryset = dimensions
        for i in range(MEASURE_ROWS):
            for key, field in _measure_fields(people, required=False).items():
                self.fields[f"m{i}_{key}"] = field

    def measure_rows(self):
        return [[self[f"m{i}_{key}"] for key in MEASURE_KEYS] for i in range(MEASURE_ROWS)]

    def measures(self) -> list[dict]:
        data = self.cleaned_data
        return [{key: data.get(f"m{i}_{key}") for key in MEASURE_KEYS} for i in range(MEASURE_ROWS)]


class MeasureForm(forms.Form):
    """R103: a further measure."""

    def __init__(self, *args, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(_measure_fields(people))


class CompleteForm(forms.Form):
    """R104: a measure done, with its evidence."""

    evidence = forms.CharField(
        label=_("完成情况"),
        max_length=2000,
        widget=forms.Textarea(attrs={**TEXTAREA, "rows": 2}),
        help_text=_("写明做了什么、结果如何,作为完成的依据。"),
        error_messages={"required": _("请填写完成情况。")},
    )

    def __init__(self, *args, measures=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["measure"] = forms.ModelChoiceField(
            label=_("措施"),
            queryset=measures,
            widget=forms.Select(attrs=SELECT),
            error_messages={
                "required": _("请选择措施。"),
                "invalid_choice": _("所选措施不属于该改进计划或已完成。"),
            },
        )
        self.order_fields(["measure", "evidence"])


class CloseForm(forms.Form):
    """R107: the plan closes with the next campaign's result and a note."""

    note = forms.CharField(
        label=_("关闭说明"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={**TEXTAREA, "rows": 2}),
    )


def _branches(request):
    if request is None:
        return Branch.objects.none()
    return Branch.objects.restrict(request.user, "view")


class PlanFilter(django_filters.FilterSet):
    """The plans' filters (pages and API): search, state, branch, dimension, overdue."""

    q = django_filters.CharFilter(method="filter_search", label=_("搜索"))
    status = django_filters.ChoiceFilter(choices=ImprovementPlan.Status.choices, label=_("状态"))
    branch = RowFilter(field_name="branch", queryset=_branches, label=_("责任单位"))
    group = django_filters.BooleanFilter(field_name="branch", lookup_expr="isnull", label=_("集团的改进计划"))
    dimension = django_filters.CharFilter(field_name="dimension__code", label=_("维度"))
    template = django_filters.NumberFilter(field_name="template_id")
    year = django_filters.NumberFilter(field_name="year", label=_("年度"))
    # A checkbox: ``overdue=1`` (the home panel's link) and ``overdue=true`` both mean yes.
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label=_("有逾期措施"), widget=forms.CheckboxInput
    )

    class Meta:
        model = ImprovementPlan
        fields = ["status", "branch", "dimension", "year"]

    def filter_search(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(dimension__name__contains=value)
            | Q(goal__contains=value)
            | Q(measures__description__contains=value)
            | Q(measures__department__contains=value)
        ).distinct()

    def filter_overdue(self, queryset, name, value):
        from django.utils import timezone

        if not value:
            return queryset
        overdue = Q(
            measures__done_at__isnull=True,
            measures__due_on__lt=timezone.localdate(),
            status=ImprovementPlan.Status.OPEN,
        )
        return queryset.filter(pk__in=queryset.filter(overdue).values("pk"))
