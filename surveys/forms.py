"""Forms of the surveys. Choices come through ``restrict`` (style.md 1); the forms only shape
input, the rules live in services."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import Client, Project
from crm.forms import VersionedFormMixin, limit_projects_to_client
from crm.validators import validate_date_in_range

from .models import Campaign, Dimension, Question, Survey, SurveyTemplate


class SurveyCreateForm(forms.Form):
    client = forms.ModelChoiceField(label=_("客户"), queryset=Client.objects.none())
    project = forms.ModelChoiceField(label=_("项目"), queryset=Project.objects.none(), required=False)
    template = forms.ModelChoiceField(label=_("调查模板"), queryset=SurveyTemplate.objects.none())
    recipient_name = forms.CharField(label=_("受访人"), max_length=50, required=False)
    recipient_email = forms.EmailField(label=_("受访人邮箱"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.restrict(user, "change").order_by("name")
        # With the client known, only its projects are offered and valid; the page narrows the
        # list as the client changes (crm.forms.limit_projects_to_client).
        limit_projects_to_client(self, Project.objects.restrict(user, "view").select_related("client"))
        self.fields["template"].queryset = SurveyTemplate.objects.restrict(user, "view").filter(
            is_active=True
        )

    def clean(self):
        data = super().clean()
        if data.get("project") and data.get("client") and data["project"].client_id != data["client"].pk:
            self.add_error("project", _("项目不属于该客户。"))
        return data


class SendForm(forms.Form):
    email = forms.EmailField(label=_("发送至邮箱(可留空,仅生成链接)"), required=False)
    days = forms.IntegerField(label=_("有效天数"), min_value=1, max_value=90, initial=30)


class AnswerForm(forms.Form):
    """The questions of a template as radio groups (1-5 or 0-10), plus respondent and comment."""

    respondent = forms.CharField(label=_("填写人"), max_length=50, required=False)
    comment = forms.CharField(label=_("意见和建议"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, template: SurveyTemplate, english: bool = False, paper: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(
            Question.objects.filter(dimension__template=template)
            .select_related("dimension")
            .order_by("dimension__order", "order", "pk")
        )
        for q in self.questions:
            label = (q.text_en or q.text) if english else q.text
            self.fields[f"q{q.pk}"] = forms.TypedChoiceField(
                label=label,
                choices=[(i, str(i)) for i in q.choices],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": _("请为此项评分。")},
            )
        if paper:
            self.fields["respondent"].required = True
            self.fields["answered_on"] = forms.DateField(
                label=_("填写日期"),
                initial=timezone.localdate,
                widget=forms.DateInput(attrs={"type": "date"}),
                validators=[validate_date_in_range],
            )

    def scores(self) -> dict[int, int]:
        return {q.pk: self.cleaned_data[f"q{q.pk}"] for q in self.questions}

    def grouped(self):
        """(dimension, [bound fields]) in order, for the template."""
        groups = []
        for q in self.questions:
            if not groups or groups[-1][0].pk != q.dimension_id:
                groups.append((q.dimension, []))
            groups[-1][1].append((q, self[f"q{q.pk}"]))
        return groups


class FollowUpCloseForm(forms.Form):
    note = forms.CharField(label=_("跟进情况"), widget=forms.Textarea(attrs={"rows": 3}))


class TemplateForm(VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = SurveyTemplate
        fields = ["name", "name_en", "intro", "intro_en", "is_active", "is_default"]
        widgets = {"intro": forms.Textarea(attrs={"rows": 2}), "intro_en": forms.Textarea(attrs={"rows": 2})}


DimensionFormSet = forms.inlineformset_factory(
    SurveyTemplate,
    Dimension,
    fields=["code", "name", "name_en", "description", "importance", "is_summary", "order"],
    extra=1,
    can_delete=False,
)


class QuestionForm(forms.ModelForm):
    class Meta:
        model = Question
        fields = ["dimension", "text", "text_en", "scale", "order"]


def question_formset(template, data=None):
    formset_class = forms.modelformset_factory(Question, form=QuestionForm, extra=1, can_delete=True)
    formset = formset_class(
        data,
        queryset=Question.objects.filter(dimension__template=template).select_related("dimension"),
        prefix="q",
    )
    for form in formset.forms:
        form.fields["dimension"].queryset = Dimension.objects.filter(template=template)
    return formset


class TargetForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)


class CampaignForm(forms.ModelForm):
    grades = forms.MultipleChoiceField(
        label=_("客户分级范围"),
        choices=[("A", _("A类客户")), ("B", _("B类客户")), ("C", _("C类客户"))],
        widget=forms.CheckboxSelectMultiple,
        initial=["A", "B"],
    )

    class Meta:
        model = Campaign
        fields = ["name", "template", "grades", "project_within_days", "deadline"]
        widgets = {"deadline": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = SurveyTemplate.objects.restrict(user, "view").filter(
            is_active=True
        )
        self.fields["deadline"].initial = timezone.localdate() + dt.timedelta(days=45)

    def clean_grades(self):
        return "".join(sorted(self.cleaned_data["grades"]))

    def clean_deadline(self):
        deadline = self.cleaned_data["deadline"]
        if deadline < timezone.localdate():
            raise forms.ValidationError(_("截止日期不能早于今天。"))
        return deadline


class SurveyFilterForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False)
    status = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部状态")), *Survey.Status.choices], required=False
    )
    branch = forms.ModelChoiceField(
        label=_("责任单位"), queryset=None, required=False, empty_label=_("全部单位")
    )
    template = forms.ModelChoiceField(
        label=_("模板"), queryset=None, required=False, empty_label=_("全部模板")
    )
    unsatisfied = forms.BooleanField(label=_("有不满意项"), required=False)

    def __init__(self, *args, user, **kwargs):
        from crm.models import Branch

        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = Branch.objects.restrict(user, "view").exclude(kind="hq")
        self.fields["template"].queryset = SurveyTemplate.objects.restrict(user, "view")
        for name in ("status", "branch", "template"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"
