"""Forms of the archive pages. Choices come from ``restrict`` querysets; the rules live in
services.py (forms only collect and show field errors; nothing typed is lost)."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from crm.access import has_global
from crm.forms import VersionedFormMixin
from crm.models import Branch, ProjectDepartment

from .models import Client, Contact, Grade, Need, Project, Tag, Visit, VisitPlan


class BootstrapMixin:
    """Bootstrap 5 classes on every widget, ``is-invalid`` on fields with errors (added after
    validation: touching ``errors`` in ``__init__`` would validate before choices are scoped)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                w = self.fields[name].widget
                if "is-invalid" not in w.attrs.get("class", ""):
                    w.attrs["class"] = w.attrs.get("class", "") + " is-invalid"


class OnceTokenMixin:
    """A create form carries a one-time token in a hidden field, new on every blank form and
    kept when the form comes back with errors. The view saves a form's token at most once
    (clients.views._save_once), so a submit repeated by a double click, a reload or a slow
    network records one row, not several. An edit form has none: it is guarded by its
    version (crm.forms.VersionedFormMixin), and saving the same edit twice changes nothing."""

    TOKEN_FIELD = "once_token"
    _TOKEN = re.compile(r"[0-9a-f]{32}")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        if instance is not None and instance.pk is not None:
            return
        self.fields[self.TOKEN_FIELD] = forms.CharField(widget=forms.HiddenInput, required=False, label="")
        if not self.is_bound:
            self.initial[self.TOKEN_FIELD] = uuid.uuid4().hex

    def once_token(self) -> str:
        """The submitted token, or "" when there is none (an older page, a hand-made POST: then
        the form saves as forms always did)."""
        if self.TOKEN_FIELD not in self.fields:
            return ""
        token = (self.cleaned_data.get(self.TOKEN_FIELD) or "").strip().lower()
        return token if self._TOKEN.fullmatch(token) else ""


DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def branch_choices(user, action: str = "add"):
    """Branches the user may put a client in: all for group marketing (R3), else their own."""
    branches = Branch.objects.restrict(user, action).filter(is_active=True)
    if has_global(user, Client, action):
        branches = branches.exclude(kind=Branch.Kind.HQ)  # HQ keeps no archive of its own
    return branches


class ClientForm(BootstrapMixin, VersionedFormMixin, forms.ModelForm):
    """The archive form (客户档案表), grouped in sections (see SECTIONS)."""

    confirm_similar = forms.BooleanField(label=_("确认不是重复客户,仍然保存"), required=False)
    # R10: the warning's token (services.similar_token); "save anyway" is bound to that warning.
    similar_token = forms.CharField(widget=forms.HiddenInput, required=False)

    SECTIONS = (
        (
            _("基本信息"),
            ["name", "credit_code", "org_type", "industry", "address", "phone", "email", "parent_company"],
        ),
        (_("归属与阶段"), ["branch", "department", "owner", "stage", "tags"]),
        (
            _("分级依据(系统据此给出建议分级)"),
            [
                "integrity_good",
                "integrity_bad",
                "credit_good",
                "social_value",
                "near_term_need",
                "demanding",
                "low_profit_complex",
                "poor_reputation",
                "company_problems",
                "under_observation",
            ],
        ),
        (
            _("客户价值与评价"),
            [
                "design_value",
                "time_value",
                "service_value",
                "evaluation_of_us",
                "our_evaluation",
                "assessment_result",
                "remarks",
            ],
        ),
    )

    class Meta:
        model = Client
        fields = [
            "name",
            "credit_code",
            "org_type",
            "industry",
            "address",
            "phone",
            "email",
            "parent_company",
            "branch",
            "department",
            "owner",
            "stage",
            "tags",
            "integrity_good",
            "integrity_bad",
            "credit_good",
            "social_value",
            "near_term_need",
            "demanding",
            "low_profit_complex",
            "poor_reputation",
            "company_problems",
            "under_observation",
            "design_value",
            "time_value",
            "service_value",
            "evaluation_of_us",
            "our_evaluation",
            "assessment_result",
            "remarks",
        ]
        widgets = {
            f: forms.Textarea(attrs={"rows": 2})
            for f in (
                "design_value",
                "time_value",
                "service_value",
                "evaluation_of_us",
                "our_evaluation",
                "assessment_result",
                "remarks",
            )
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        action = "change" if self.instance.pk else "add"
        branches = branch_choices(user, action)
        self.fields["branch"].queryset = branches
        self.fields["department"].queryset = ProjectDepartment.objects.filter(
            branch__in=branches, is_active=True
        )
        self.fields["owner"].queryset = (
            get_user_model().objects.filter(branch__in=branches, is_active=True).order_by("username")
        )
        self.fields["owner"].required = False
        self.fields["owner"].help_text = _("留空则为本人")
        self.fields["tags"].queryset = Tag.objects.all()
        self.fields["tags"].required = False
        if not self.instance.pk and user.branch_id and branches.filter(pk=user.branch_id).exists():
            self.fields["branch"].initial = user.branch_id

    def confirmation(self) -> str:
        """The token of the similar-name warning the user confirmed, or "" (R10)."""
        if not self.cleaned_data.get("confirm_similar"):
            return ""
        return self.cleaned_data.get("similar_token") or ""

    def show_similar_warning(self, token: str) -> None:
        """Re-show the form after a similar-name warning: the confirmation now refers to it."""
        data = self.data.copy()
        data[self.add_prefix("similar_token")] = token
        data.pop(self.add_prefix("confirm_similar"), None)
        self.data = data

    def sections(self):
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]

    def model_data(self) -> dict:
        skip = ("tags", "confirm_similar", "similar_token", "version")
        data = {k: v for k, v in self.cleaned_data.items() if k not in skip}
        if not data.get("owner"):
            data["owner"] = self.instance.owner if self.instance.pk else self.user
        return data


class ContactForm(OnceTokenMixin, BootstrapMixin, VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "position", "phone", "email", "social_relations", "is_primary", "notes"]
        widgets = {
            "social_relations": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }


class ProjectForm(OnceTokenMixin, BootstrapMixin, VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = Project
        fields = [
            "name",
            "code",
            "project_type",
            "phase",
            "branch",
            "department",
            "manager_name",
            "contract_value",
            "cost",
            "profit",
            "design_fee",
            "signed_on",
            "started_on",
            "completed_on",
            "warranty_ends_on",
            "is_key",
        ]
        widgets = {"signed_on": DATE, "started_on": DATE, "completed_on": DATE, "warranty_ends_on": DATE}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        branches = branch_choices(user, "change" if self.instance.pk else "add")
        self.fields["branch"].queryset = branches
        self.fields["department"].queryset = ProjectDepartment.objects.filter(
            branch__in=branches, is_active=True
        )
        self.fields["profit"].required = False
        self.fields["profit"].help_text = _("留空则按合同金额减成本计算")
        # R56: a project without a design fee (yet) has none to collect; blank is 0.
        self.fields["design_fee"].required = False

    def clean_profit(self):
        return self.cleaned_data.get("profit") or 0

    def clean_design_fee(self):
        return self.cleaned_data.get("design_fee") or Decimal("0")


class NeedForm(OnceTokenMixin, BootstrapMixin, VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = Need
        fields = [
            "description",
            "category",
            "origin",
            "urgency",
            "is_functional",
            "source_channel",
            "feasibility",
            "value_assessment",
            "project",
            "received_at",
            "status",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 2}), "received_at": DATETIME}

    def __init__(self, *args, client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = Project.objects.filter(client=client)
        self.fields["received_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        if not self.instance.pk:
            del self.fields["status"]


class NeedRespondForm(BootstrapMixin, forms.Form):
    ACTIONS = (
        ("respond", _("已响应(评估中)")),
        ("progress", _("处理中")),
        ("done", _("已完成")),
        ("reject", _("不予采纳")),
    )
    action = forms.ChoiceField(label=_("处理"), choices=ACTIONS)
    note = forms.CharField(label=_("处理意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class VisitForm(OnceTokenMixin, BootstrapMixin, VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = Visit
        fields = [
            "visited_at",
            "channel",
            "our_people",
            "our_level",
            "client_people",
            "notes",
            "outcome",
            "next_step",
        ]
        widgets = {
            "visited_at": DATETIME,
            "notes": forms.Textarea(attrs={"rows": 2}),
            "outcome": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visited_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class VisitPlanForm(BootstrapMixin, VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = VisitPlan
        fields = [
            "frequency",
            "interval_days",
            "visitor_level",
            "responsible",
            "next_due_on",
            "is_active",
            "extra_effort",
            "notes",
        ]
        widgets = {"next_due_on": DATE}

    def __init__(self, *args, client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible"].queryset = (
            get_user_model().objects.filter(branch=client.branch_id, is_active=True).order_by("username")
        )
        self.fields["responsible"].required = False
        self.fields["visitor_level"].required = False
        self.fields["next_due_on"].required = False
        self.fields["next_due_on"].help_text = _("留空则自上次拜访起按频次推算")


class GradeForm(BootstrapMixin, forms.Form):
    grade = forms.ChoiceField(label=_("客户分级"), choices=Grade.choices)
    reason = forms.CharField(
        label=_("理由"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("与系统建议不一致时必填"),
    )
