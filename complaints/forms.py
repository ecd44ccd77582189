"""Forms of the complaint pages. Every choice list is restricted to the user's scope; the
rules are the services' (forms only collect and show field errors)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import Client, Project
from crm.forms import VersionedFormMixin, limit_projects_to_client
from crm.models import ProjectDepartment
from crm.validators import validate_date_in_range

from .models import Complaint, Finding, ReturnVisit, Satisfaction

FACT_FIELDS = [
    "client",
    "project",
    "department",
    "kind",
    "contractor",
    "channel",
    "category",
    "severity",
    "motive",
    "complainant",
    "complainant_phone",
    "received_at",
    "title",
    "content",
]


class ComplaintForm(VersionedFormMixin, forms.ModelForm):
    """Logging (and correcting) a complaint, R14."""

    received_at = forms.DateTimeField(
        label=_("受理时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        validators=[validate_date_in_range],
    )

    class Meta:
        model = Complaint
        fields = FACT_FIELDS
        widgets = {
            "content": forms.Textarea(attrs={"rows": 5}),
            "kind": forms.RadioSelect,
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["client"].queryset = Client.objects.restrict(user, "view").only("pk", "name")
        # The projects follow the chosen client (the page narrows them as the client changes).
        limit_projects_to_client(self, Project.objects.restrict(user, "view").select_related("client"))
        self.fields["department"].queryset = ProjectDepartment.objects.restrict(user, "view").select_related(
            "branch"
        )
        self.fields["title"].required = False
        self.fields["title"].help_text = _("一句话概括;不填时取投诉内容的第一行。")
        if not self.instance.pk:
            self.initial.setdefault("received_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
        else:
            self.fields["client"].disabled = True
            self.fields["received_at"].disabled = True
        for name, field in self.fields.items():
            if name == "kind":
                continue
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def clean_received_at(self):
        value = self.cleaned_data["received_at"]
        if value and value > timezone.now() + timezone.timedelta(minutes=5):
            raise forms.ValidationError(_("受理时间不能晚于现在。"))
        return value

    def clean(self):
        data = super().clean()
        client, project = data.get("client"), data.get("project")
        if client and project and project.client_id != client.pk:
            self.add_error("project", _("所选项目不属于该客户。"))
        if data.get("kind") == "indirect" and not (data.get("contractor") or "").strip():
            self.add_error("contractor", _("间接投诉须填写转达投诉的施工单位。"))
        return data

    def _post_clean(self):
        # Deadlines and ownership are set by the service, not by the model form.
        pass


def _style(form):
    for field in form.fields.values():
        if isinstance(field.widget, forms.CheckboxInput):
            field.widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(field.widget, forms.Select):
            field.widget.attrs.setdefault("class", "form-select")
        else:
            field.widget.attrs.setdefault("class", "form-control")


class NoteForm(forms.Form):
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        kwargs.pop("complaint", None)
        super().__init__(*args, **kwargs)
        _style(self)


class HandOverForm(forms.Form):
    """R15: to a named person of the branch (or group marketing), with the reason."""

    to = forms.ModelChoiceField(label=_("移交给"), queryset=None)
    reason = forms.CharField(label=_("移交原因"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, complaint, **kwargs):
        from .services import hand_over_candidates

        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = hand_over_candidates(complaint).select_related("branch")
        self.fields["to"].label_from_instance = lambda u: (
            f"{u.display_name}({u.get_role_display()}" + (f" · {u.branch}" if u.branch_id else "") + ")"
        )
        _style(self)


class ResolveForm(forms.Form):
    """R17: the finding and what was done about it."""

    finding = forms.ChoiceField(label=_("调查结论"), choices=Finding.choices, widget=forms.RadioSelect)
    resolution = forms.CharField(
        label=_("纠正措施/解释说明"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("我方责任:写明纠正措施及跟踪安排;客户自身原因:写明向客户所作的解释。"),
    )
    is_unreasonable = forms.BooleanField(label=_("无理投诉(计入客户分级C类依据)"), required=False)

    def __init__(self, *args, **kwargs):
        kwargs.pop("complaint", None)
        super().__init__(*args, **kwargs)
        _style(self)
        self.fields["finding"].widget.attrs["class"] = "form-check-input"


class ReturnVisitForm(forms.Form):
    """R18: the client's satisfaction with the handling."""

    satisfaction = forms.ChoiceField(label=_("客户对处理的满意度"), choices=Satisfaction.choices)
    method = forms.ChoiceField(label=_("回访方式"), choices=ReturnVisit.Method.choices)
    contact_name = forms.CharField(label=_("受访人"), max_length=50, required=False)
    effect_confirmed = forms.BooleanField(label=_("已确认整改效果"), required=False)
    notes = forms.CharField(label=_("回访记录"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        kwargs.pop("complaint", None)
        super().__init__(*args, **kwargs)
        _style(self)


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("重新处理原因"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        kwargs.pop("complaint", None)
        super().__init__(*args, **kwargs)
        _style(self)
