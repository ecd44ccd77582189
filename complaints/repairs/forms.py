"""Forms of the repair pages. Choices are restricted to the user's scope; the rules are the
services' (forms only collect and show field errors)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import Project
from crm.forms import VersionedFormMixin
from crm.validators import validate_date_in_range

from ..forms import NoteForm, ReopenForm, ReturnVisitForm, _style
from ..models import Motive, Satisfaction, Severity
from .models import RepairRequest

RECEIVE_FIELDS = ["project", "reporter", "reporter_phone", "channel", "part", "location", "title", "description",
                  "received_at"]  # fmt: skip


class RepairForm(VersionedFormMixin, forms.ModelForm):
    """The repair form (报修表格, R94, R95): receiving a request, and correcting its facts."""

    received_at = forms.DateTimeField(
        label=_("接报时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        validators=[validate_date_in_range],
        help_text=_("客户来电或来访的时间;登记转单须在接报后10分钟内完成。"),
    )

    class Meta:
        model = RepairRequest
        fields = RECEIVE_FIELDS
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["project"].queryset = (
            Project.objects.restrict(user, "change").select_related("client").order_by("client__name", "name")
        )
        self.fields["project"].label_from_instance = lambda p: f"{p.client.name} · {p.name}"
        self.fields["title"].required = False
        self.fields["title"].help_text = _("一句话概括;不填时取问题描述的第一行。")
        if not self.instance.pk:
            self.initial.setdefault("received_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
        else:
            self.fields["project"].disabled = True
            self.fields["received_at"].disabled = True
            self.initial["received_at"] = timezone.localtime(self.instance.received_at).strftime(
                "%Y-%m-%dT%H:%M"
            )
        _style(self)

    def clean_received_at(self):
        value = self.cleaned_data["received_at"]
        if value and value > timezone.now() + timezone.timedelta(minutes=5):
            raise forms.ValidationError(_("接报时间不能晚于现在。"))
        return value

    def _post_clean(self):
        # The deadline, the warranty and the status are the service's.
        pass


class DispatchForm(forms.Form):
    team = forms.CharField(label=_("维修组"), max_length=100)
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        kwargs.pop("repair", None)
        super().__init__(*args, **kwargs)
        _style(self)


class CompleteForm(forms.Form):
    repair_note = forms.CharField(label=_("维修情况"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        kwargs.pop("repair", None)
        super().__init__(*args, **kwargs)
        _style(self)


class RepairNoteForm(NoteForm):
    def __init__(self, *args, **kwargs):
        kwargs.pop("repair", None)
        super().__init__(*args, **kwargs)


class RepairReopenForm(ReopenForm):
    def __init__(self, *args, **kwargs):
        kwargs.pop("repair", None)
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = _("返修原因")
        self.fields["reason"].help_text = _("同一问题再次出现的情况。")


class RepairVisitForm(ReturnVisitForm):
    """R98: the client's satisfaction with the repair."""

    def __init__(self, *args, **kwargs):
        kwargs.pop("repair", None)
        super().__init__(*args, **kwargs)
        self.fields["satisfaction"].label = _("客户对维修的满意度")
        self.fields["satisfaction"].choices = Satisfaction.choices
        self.fields["effect_confirmed"].label = _("已确认维修效果")


class RepairComplaintForm(forms.Form):
    """R101: what the client complains of; the repair itself stays on the repair."""

    title = forms.CharField(label=_("投诉事由"), max_length=120, required=False)
    content = forms.CharField(label=_("投诉内容"), widget=forms.Textarea(attrs={"rows": 4}))
    severity = forms.ChoiceField(label=_("严重程度"), choices=Severity.choices, initial=Severity.NORMAL)
    motive = forms.ChoiceField(label=_("投诉动机"), choices=Motive.choices, initial=Motive.UNKNOWN)

    def __init__(self, *args, **kwargs):
        kwargs.pop("repair", None)
        super().__init__(*args, **kwargs)
        _style(self)
