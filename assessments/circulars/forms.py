"""Forms of the half-year review meeting, its circular and the reports to the leaders (R87-R92).
The meeting's and its decisions' forms are the need analysis meeting's (assessments.needreports:
the same date, place, attendees, minutes and decision rows), with this meeting's choices."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ..needreports.forms import DATE, TEXTAREA, DecisionForm, DoneForm, MeetingForm  # noqa: F401


class ReviewMeetingForm(MeetingForm):
    """R87: the meeting's date, place, attendees (group and branches), minutes and decisions."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["minutes"].label = _("会议纪要")
        self.fields["minutes"].error_messages["required"] = _("请填写会议纪要。")
        self.fields["attendees"].error_messages["invalid_choice"] = _(
            "参会人员应为集团或分子公司的在职人员。"
        )
        for name, field in self.fields.items():
            if name.endswith("_owner"):
                field.error_messages["invalid_choice"] = _("负责人应为集团市场营销部或分子公司的在职人员。")


class ReviewDecisionForm(DecisionForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].error_messages["invalid_choice"] = _(
            "负责人应为集团市场营销部或分子公司的在职人员。"
        )


class TextForm(forms.Form):
    """R88, R92: the title and text of a circular or a report to the leaders, with the version
    they were read at (optimistic locking)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    title = forms.CharField(
        label=_("标题"),
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )
    text = forms.CharField(
        label=_("正文"), max_length=20000, widget=forms.Textarea(attrs={**TEXTAREA, "rows": 16})
    )


class RemarkForm(forms.Form):
    """R92: group marketing's remark when it forwards a work summary to the leaders."""

    remark = forms.CharField(
        label=_("转报意见"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={**TEXTAREA, "rows": 3}),
    )
