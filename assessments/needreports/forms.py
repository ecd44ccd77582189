"""Forms and the list filter of the need analysis report's pages (R65-R69)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.filters import RowFilter
from crm.models import Branch

from .models import PARTS, NeedAnalysisReport

TEXTAREA = {"rows": 5, "class": "form-control form-control-sm", "maxlength": 5000}
DATE = {"type": "date", "class": "form-control form-control-sm"}
SELECT = {"class": "form-select form-select-sm"}
# The meeting form offers this many decision rows (empty ones are ignored); more are added later.
DECISION_ROWS = 3


class PartsForm(forms.Form):
    """R65: the five parts, and the version the text was read at (optimistic locking)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in PARTS:
            self.fields[name] = forms.CharField(
                label=label,
                max_length=5000,
                required=False,
                strip=True,
                widget=forms.Textarea(attrs=TEXTAREA),
            )

    def parts(self) -> dict:
        return {name: self.cleaned_data.get(name, "") for name, _label in PARTS}


def _people_field(people, *, label, required=True):
    return forms.ModelChoiceField(
        label=label,
        queryset=people,
        required=required,
        widget=forms.Select(attrs=SELECT),
        error_messages={"invalid_choice": _("负责人应为本单位的在职人员。")},
    )


class AttendeesField(forms.ModelMultipleChoiceField):
    """The attendees, each shown with the role (a branch's people and the group roles)."""

    def label_from_instance(self, obj):
        return f"{obj.display_name}({obj.get_role_display()})"


class MeetingForm(forms.Form):
    """R68: the meeting's date, place, attendees, discussion and up to three decisions."""

    held_on = forms.DateField(label=_("会议日期"), widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    place = forms.CharField(
        label=_("会议地点"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )
    minutes = forms.CharField(
        label=_("讨论情况"),
        max_length=5000,
        widget=forms.Textarea(attrs={**TEXTAREA, "rows": 3}),
        error_messages={"required": _("请填写会议讨论情况。")},
    )

    def __init__(self, *args, attendees=None, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"] = AttendeesField(
            label=_("参会人员"),
            queryset=attendees,
            widget=forms.CheckboxSelectMultiple,
            error_messages={
                "required": _("请选择参会人员。"),
                "invalid_choice": _("参会人员应为本单位或集团的在职人员。"),
            },
        )
        for i in range(DECISION_ROWS):
            self.fields[f"d{i}_text"] = forms.CharField(
                label=_("决定事项"),
                max_length=2000,
                required=False,
                widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
            )
            self.fields[f"d{i}_owner"] = _people_field(people, label=_("负责人"), required=False)
            self.fields[f"d{i}_due_on"] = forms.DateField(
                label=_("完成期限"), required=False, widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d")
            )

    def decision_rows(self):
        return [(self[f"d{i}_text"], self[f"d{i}_owner"], self[f"d{i}_due_on"]) for i in range(DECISION_ROWS)]

    def decisions(self) -> list[dict]:
        data = self.cleaned_data
        return [
            {
                "text": data.get(f"d{i}_text") or "",
                "owner": data.get(f"d{i}_owner"),
                "due_on": data.get(f"d{i}_due_on"),
            }
            for i in range(DECISION_ROWS)
        ]


class DecisionForm(forms.Form):
    """R68: a further decision of a meeting."""

    text = forms.CharField(
        label=_("决定事项"),
        max_length=2000,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
        error_messages={"required": _("请填写决定事项。")},
    )
    due_on = forms.DateField(label=_("完成期限"), widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))

    def __init__(self, *args, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"] = _people_field(people, label=_("负责人"))


class DoneForm(forms.Form):
    """R68: what was done."""

    note = forms.CharField(
        label=_("完成情况"),
        max_length=2000,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
        error_messages={"required": _("请填写完成情况。")},
    )


class ReviewForm(forms.Form):
    """R67: the meeting that reviewed the report, its conclusion and, for a return, why."""

    OUTCOMES = (("accept", _("审核通过")), ("return", _("退回修改")))

    outcome = forms.ChoiceField(
        label=_("审核结论"),
        choices=OUTCOMES,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择审核结论。")},
    )
    reason = forms.CharField(
        label=_("退回原因"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={**TEXTAREA, "rows": 2}),
    )

    def __init__(self, *args, meetings=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"] = forms.ModelChoiceField(
            label=_("审核会议"),
            queryset=meetings,
            widget=forms.Select(attrs=SELECT),
            error_messages={
                "required": _("请选择作出审核结论的需求分析会议。"),
                "invalid_choice": _("所选会议不是本报告的需求分析会议。"),
            },
        )
        self.order_fields(["meeting", "outcome", "reason"])


def _branches(request):
    if request is None:
        return Branch.objects.none()
    return Branch.objects.restrict(request.user, "view").exclude(kind=Branch.Kind.HQ)


class ReportFilter(django_filters.FilterSet):
    """The reports' filters (pages and API): quarter, branch, state, and words of the text."""

    q = django_filters.CharFilter(method="filter_search", label=_("搜索"))
    quarter = django_filters.CharFilter(method="filter_quarter", label=_("季度"))
    branch = RowFilter(field_name="branch", queryset=_branches, label=_("分子公司"))
    status = django_filters.ChoiceFilter(choices=NeedAnalysisReport.Status.choices, label=_("状态"))

    class Meta:
        model = NeedAnalysisReport
        fields = ["quarter", "branch", "status"]

    def filter_quarter(self, queryset, name, value):
        value = (value or "").strip().upper()
        return queryset.filter(quarter=value) if value else queryset

    def filter_search(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        q = Q(branch__name__contains=value)
        for part, _label in PARTS:
            q |= Q(**{f"{part}__contains": value})
        return queryset.filter(q)
