"""Forms of the need's page (R48-R53): thin, the rules live in clients.needcare.services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.forms import VersionedFormMixin

from ..forms import BootstrapMixin
from ..models import Need
from .services import LINK_DAYS, LINK_DAYS_MAX

TEXT = 2000  # as LimitedTextField


class RatingForm(forms.Form):
    """R48: the client's evaluation of how the need was handled."""

    rating = forms.ChoiceField(
        label=_("处理结果评价"),
        choices=Need.Rating.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={
            "required": _("请选择评价:满意、基本满意或不满意。"),
            "invalid_choice": _("请选择评价:满意、基本满意或不满意。"),
        },
    )
    comment = forms.CharField(
        label=_("评价意见"), required=False, max_length=TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )
    respondent = forms.CharField(label=_("评价人"), required=False, max_length=50)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "rating":
                field.widget.attrs.setdefault("class", "form-control")


class RatingLinkForm(forms.Form):
    days = forms.IntegerField(
        label=_("有效期(天)"),
        min_value=1,
        max_value=LINK_DAYS_MAX,
        initial=LINK_DAYS,
        widget=forms.NumberInput(attrs={"class": "form-control form-control-sm", "style": "width:6rem"}),
    )


class AssessForm(BootstrapMixin, VersionedFormMixin, forms.ModelForm):
    """R50: classification (紧急/重要/一般, 功能性/非功能性) and assessment (可行性, 价值评估) of a
    need, based on the version the page showed (a stale one is refused with what changed)."""

    NATURE = ((True, _("功能性需求")), (False, _("非功能性需求")))

    is_functional = forms.TypedChoiceField(
        label=_("需求性质"),
        choices=NATURE,
        coerce=lambda v: v in (True, "True", "true", "1"),
        widget=forms.RadioSelect,
    )

    class Meta:
        model = Need
        fields = ["urgency", "is_functional", "feasibility", "value_assessment", "assessment_note"]
        widgets = {"assessment_note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("feasibility", "value_assessment"):
            self.fields[name].required = True
            self.fields[name].error_messages["required"] = _("请填写可行性评估和价值评估。")
        self.fields["is_functional"].widget.attrs["class"] = "form-check-input"
        self.fields["assessment_note"].help_text = _(
            "技术、经济、时间可行性,对业务增长、客户满意度、市场竞争力的价值。"
        )
