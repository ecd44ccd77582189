"""Forms and list filters of the access pages (R4, R5) and of client transfers.
Choices of related rows come from ``restrict`` querysets, except the targets of an access
request, which come from ``clients.access.request_target_clients`` (name and branch only)."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.filters import RowFilter
from crm.models import Branch
from crm.validators import validate_date_in_range

from ..models import AccessLog, AccessRequest, Client
from .services import request_target_clients


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TargetClientsField(forms.ModelMultipleChoiceField):
    """Client ids chosen by searching names; rendered by the template (checkboxes of the
    search results), so the full list of other branches' clients is never put on the page."""

    widget = forms.MultipleHiddenInput

    def label_from_instance(self, obj):
        return f"{obj.name}({obj.branch})"


class AccessRequestForm(forms.Form):
    clients = TargetClientsField(
        queryset=Client.objects.none(),
        label=_("申请查阅的客户"),
        error_messages={"required": _("请至少选择一个客户。"), "invalid_choice": _("所选客户无效。")},
    )
    reason = forms.CharField(
        label=_("申请理由"),
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
        max_length=2000,
    )
    ends_on = forms.DateField(
        label=_("结束日期"),
        widget=DateInput(attrs={"class": "form-control"}),
        validators=[validate_date_in_range],
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only id, name and branch of other branches' clients (see request_target_clients).
        self.fields["clients"].queryset = (
            request_target_clients(user)
            .select_related("branch")
            .only("id", "name", "branch__name", "branch__short_name")
        )
        self.fields["ends_on"].help_text = _("查阅期限自今天起最长 %(days)s 天。") % {
            "days": AccessRequest.MAX_DAYS
        }
        if not self.is_bound:
            self.initial.setdefault("ends_on", timezone.localdate() + dt.timedelta(days=30))

    def selected(self, prefill=()):
        """The chosen clients (id, name, branch) to show again after an error, or on a new form
        those of ``prefill`` (``?clients=<id>`` from the no-access page): name and branch only,
        of other branches' clients, as the target search shows them (R4)."""
        raw = (
            self.data.getlist("clients") if self.is_bound and hasattr(self.data, "getlist") else list(prefill)
        )
        ids = [int(v) for v in raw if str(v).isdigit()]
        return list(self.fields["clients"].queryset.filter(pk__in=ids)) if ids else []


class StepForm(forms.Form):
    """The note of a forward or approval step (optional)."""

    note = forms.CharField(
        label=_("意见"), required=False, widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"})
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("驳回理由"),
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        max_length=2000,
    )


class TransferForm(forms.Form):
    to_branch = forms.ModelChoiceField(
        queryset=Branch.objects.none(),
        label=_("转入单位"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    owner = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(),
        label=_("新客户经理"),
        required=False,
        help_text=_("不选则保留原客户经理。"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    reason = forms.CharField(
        label=_("转移原因"), widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}), max_length=500
    )

    def __init__(self, *args, user, client, **kwargs):
        super().__init__(*args, **kwargs)
        branches = Branch.objects.restrict(user, "view").filter(is_active=True).exclude(kind=Branch.Kind.HQ)
        self.fields["to_branch"].queryset = branches.exclude(pk=client.branch_id)
        self.fields["owner"].queryset = (
            get_user_model()
            .objects.filter(branch__in=branches, is_active=True, role__in=("staff", "manager"))
            .select_related("branch")
            .order_by("branch__sort_order", "username")
        )
        self.fields["owner"].label_from_instance = lambda u: f"{u.display_name}({u.branch})"


# -- list filters ----------------------------------------------------------------------------


def _branches(request):
    if request is None:
        return Branch.objects.none()
    return Branch.objects.restrict(request.user, "view")


class SmallWidgets:
    @property
    def form(self):
        form = super().form
        for field in form.fields.values():
            css = (
                "form-select form-select-sm"
                if isinstance(field.widget, forms.Select)
                else "form-control form-control-sm"
            )
            field.widget.attrs.setdefault("class", css)
            if getattr(field, "empty_label", None) == "---------":
                field.empty_label = _("全部")
                field.widget.choices = field.choices  # the widget keeps a copy of the choices
        return form


class AccessRequestFilter(SmallWidgets, django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("搜索"))
    status = django_filters.ChoiceFilter(choices=AccessRequest.Status.choices, label=_("状态"))
    branch = RowFilter(queryset=_branches, label=_("申请单位"))
    created_from = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label=_("提交日期从"),
        widget=DateInput(),
        validators=[validate_date_in_range],
    )
    created_to = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__lte",
        label=_("至"),
        widget=DateInput(),
        validators=[validate_date_in_range],
    )

    class Meta:
        model = AccessRequest
        fields = ["status", "branch", "requester"]

    def filter_q(self, queryset, name, value):
        if not value:
            return queryset
        q = (
            Q(reason__icontains=value)
            | Q(requester__full_name__icontains=value)
            | Q(requester__username=value)
        )
        if value.isdigit():
            q |= Q(pk=int(value))
        return queryset.filter(q)


class AccessLogFilter(SmallWidgets, django_filters.FilterSet):
    """Search of the access log (R4): by person, branch, client and date range."""

    user = django_filters.CharFilter(method="filter_user", label=_("查阅人"))
    branch = RowFilter(field_name="user_branch", queryset=_branches, label=_("查阅人单位"))
    client_branch = RowFilter(field_name="client__branch", queryset=_branches, label=_("客户所属分公司"))
    client = django_filters.CharFilter(method="filter_client", label=_("客户"))
    via = django_filters.ChoiceFilter(choices=AccessLog.Via.choices, label=_("方式"))
    date_from = django_filters.DateFilter(
        field_name="at",
        lookup_expr="date__gte",
        label=_("日期从"),
        widget=DateInput(),
        validators=[validate_date_in_range],
    )
    date_to = django_filters.DateFilter(
        field_name="at",
        lookup_expr="date__lte",
        label=_("至"),
        widget=DateInput(),
        validators=[validate_date_in_range],
    )
    grant = django_filters.NumberFilter(field_name="grant", label=_("授权编号"))

    class Meta:
        model = AccessLog
        fields = ["via"]

    def filter_user(self, queryset, name, value):
        """A user id, a username or part of a name."""
        if not value:
            return queryset
        q = Q(user__username=value) | Q(user__full_name__icontains=value)
        if value.isdigit():
            q |= Q(user_id=int(value))
        return queryset.filter(q)

    def filter_client(self, queryset, name, value):
        """A client id or part of its name."""
        if not value:
            return queryset
        q = Q(client__name__icontains=value)
        if value.isdigit():
            q |= Q(client_id=int(value))
        return queryset.filter(q)
