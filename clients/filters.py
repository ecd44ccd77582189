"""List filters of the archive pages and API (django-filter). Choices of related rows come
from ``restrict`` querysets, so a filter never lists a branch or person the user may not see."""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.access import has_global
from crm.filters import RowFilter
from crm.models import Branch
from crm.widgets import fast_selects

from .models import Client, Contact, Grade, Need, OrgType, Project, Stage, Tag, Tracking, Visit, VisitPlan
from .selectors import (
    SCALE_PROFIT_CODES,
    a_without_plan_q,
    needs_collection_overdue_q,
    scale_profit_q,
    search_q,
    visit_overdue_q,
    with_scale_profit,
)


def _branches(request):
    """The branches to filter by: every one the user may see, the group HQ included (it owns
    clients, and the dashboards link to its column)."""
    if request is None:
        return Branch.objects.none()
    return Branch.objects.restrict(request.user, "view")


def _owners(request):
    """Account owners to filter by: the people of the branches the user may see. For those who
    see every branch the list would run to thousands, so it follows the chosen branch."""
    User = get_user_model()
    if request is None:
        return User.objects.none()
    branches = Branch.objects.restrict(request.user, "view")
    if has_global(request.user, Client, "view"):
        chosen = request.GET.get("branch", "")
        if not chosen.isdigit():
            return User.objects.filter(pk=request.user.pk)
        branches = branches.filter(pk=int(chosen))
    # The choice shows the name (str()): only the columns it reads.
    return (
        User.objects.filter(branch__in=branches, is_active=True)
        .only("username", "full_name")
        .order_by("username")
    )


class SmallWidgets:
    """Compact Bootstrap widgets for the filter bar of a list page; its selects write their
    options in Python (crm.widgets.FastSelect: the same HTML, no template per option)."""

    @property
    def form(self):
        form = super().form
        for field in form.fields.values():
            field.widget.attrs.setdefault("class", "form-select form-select-sm")
            if getattr(field, "empty_label", None) == "---------":
                field.empty_label = _("全部")
                field.widget.choices = field.choices  # the widget keeps a copy of the choices
        fast_selects(form)
        return form


class ClientFilter(SmallWidgets, django_filters.FilterSet):
    OVERDUE = (("needs", _("需求收集逾期")), ("visit", _("拜访逾期")), ("any", _("任一逾期")))

    search = django_filters.CharFilter(method="filter_search", label=_("搜索"))
    q = django_filters.CharFilter(method="filter_search", label=_("搜索"))
    branch = RowFilter(queryset=_branches, label=_("所属分公司"))
    grade = django_filters.ChoiceFilter(choices=Grade.choices, label=_("客户分级"))
    stage = django_filters.ChoiceFilter(choices=Stage.choices, label=_("客户阶段"))
    org_type = django_filters.ChoiceFilter(choices=OrgType.choices, label=_("客户类型"))
    owner = RowFilter(queryset=_owners, label=_("客户经理"))
    tag = RowFilter(field_name="tags", queryset=Tag.objects.all(), label=_("标签"))
    overdue = django_filters.ChoiceFilter(choices=OVERDUE, method="filter_overdue", label=_("逾期"))
    # R38: given-up clients stay in the archive and its search; this finds (or leaves out) them.
    tracking = django_filters.ChoiceFilter(choices=Tracking.choices, label=_("跟踪状态"))
    # R5: the clients the user sees only through an active access grant.
    granted = django_filters.ChoiceFilter(
        choices=(("only", _("仅授权查阅的客户")),), method="filter_granted", label=_("授权查阅")
    )
    # R13: A clients without a visit plan (the home panel links here with the same count).
    PLAN = (("a_missing", _("无拜访计划的A类客户")),)
    plan = django_filters.ChoiceFilter(choices=PLAN, method="filter_plan", label=_("拜访计划"))
    # R13: scale-profit class of B clients (thresholds: CRM_SCALE_PROFIT_* settings).
    SCALE_PROFIT = (
        ("large_low", _("规模大利润低")),
        ("small_high", _("规模小利润高")),
        ("large_high", _("规模大利润高")),
        ("small_low", _("规模小利润低")),
    )
    scale_profit = django_filters.ChoiceFilter(
        choices=SCALE_PROFIT, method="filter_scale_profit", label=_("规模利润类别")
    )

    class Meta:
        model = Client
        fields = ["branch", "grade", "stage", "org_type", "owner", "tag", "tracking"]

    def filter_plan(self, queryset, name, value):
        return queryset.filter(a_without_plan_q()) if value == "a_missing" else queryset

    def filter_scale_profit(self, queryset, name, value):
        if value not in SCALE_PROFIT_CODES:
            return queryset
        return with_scale_profit(queryset).filter(scale_profit_q(value))

    def filter_search(self, queryset, name, value):
        return queryset.filter(search_q(value)) if value else queryset

    def filter_granted(self, queryset, name, value):
        if value != "only" or self.request is None:
            return queryset
        from .access.selectors import granted_only

        return queryset.filter(pk__in=list(granted_only(self.request.user)))

    def filter_overdue(self, queryset, name, value):
        if value == "needs":
            return queryset.filter(needs_collection_overdue_q())
        if value == "visit":
            return queryset.filter(visit_overdue_q())
        if value == "any":
            return queryset.filter(needs_collection_overdue_q() | visit_overdue_q())
        return queryset


class _ClientChildFilter(django_filters.FilterSet):
    client = django_filters.NumberFilter(field_name="client_id")
    branch = django_filters.NumberFilter(field_name="client__branch_id")


class ContactFilter(_ClientChildFilter):
    search = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = Contact
        fields = ["client", "branch"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__contains=value) | Q(phone_normalized__contains=value))


class ProjectFilter(django_filters.FilterSet):
    client = django_filters.NumberFilter(field_name="client_id")
    branch = django_filters.NumberFilter(field_name="branch_id")
    search = django_filters.CharFilter(field_name="name", lookup_expr="contains")
    # R59: ``unsettled=true``: completed projects with a design fee that is not settled.
    unsettled = django_filters.BooleanFilter(method="filter_unsettled")

    class Meta:
        model = Project
        fields = ["client", "branch", "phase", "project_type"]

    def filter_unsettled(self, queryset, name, value):
        from .projects.selectors import unsettled_q

        if value is None:
            return queryset
        return queryset.filter(unsettled_q()) if value else queryset.exclude(unsettled_q())


NATURE = (("true", _("功能性需求")), ("false", _("非功能性需求")))


class NeedFilter(SmallWidgets, django_filters.FilterSet):
    OVERDUE = (("1", _("是")),)

    q = django_filters.CharFilter(method="filter_search", label=_("搜索"))
    search = django_filters.CharFilter(method="filter_search", label=_("搜索"))
    client = django_filters.NumberFilter(field_name="client_id")
    branch = RowFilter(field_name="client__branch", queryset=_branches, label=_("所属分公司"))
    status = django_filters.ChoiceFilter(choices=Need.Status.choices, label=_("状态"))
    urgency = django_filters.ChoiceFilter(choices=Need.Urgency.choices, label=_("紧急程度"))
    category = django_filters.ChoiceFilter(choices=Need.Category.choices, label=_("需求类别"))
    overdue = django_filters.ChoiceFilter(choices=OVERDUE, method="filter_overdue", label=_("响应逾期"))
    # R50: the classification and assessment; R48: the client's rating of the handling.
    is_functional = django_filters.TypedChoiceFilter(
        choices=NATURE, coerce=lambda v: v == "true", label=_("需求性质")
    )
    feasibility = django_filters.ChoiceFilter(choices=Need.Level.choices, label=_("可行性"))
    value_assessment = django_filters.ChoiceFilter(choices=Need.Level.choices, label=_("价值评估"))
    rating = django_filters.ChoiceFilter(choices=Need.Rating.choices, label=_("处理结果评价"))

    class Meta:
        model = Need
        fields = [
            "client",
            "branch",
            "status",
            "urgency",
            "category",
            "is_functional",
            "feasibility",
            "value_assessment",
            "rating",
        ]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(description__icontains=value) | Q(client__name__contains=value))

    def filter_overdue(self, queryset, name, value):
        from django.utils import timezone

        if value == "1":
            return queryset.filter(responded_at__isnull=True, response_due_at__lt=timezone.now()).exclude(
                status__in=Need.CLOSED
            )
        return queryset


class VisitFilter(django_filters.FilterSet):
    client = django_filters.NumberFilter(field_name="client_id")
    branch = django_filters.NumberFilter(field_name="client__branch_id")

    class Meta:
        model = Visit
        fields = ["client", "branch", "channel"]


class VisitPlanFilter(django_filters.FilterSet):
    client = django_filters.NumberFilter(field_name="client_id")
    branch = django_filters.NumberFilter(field_name="client__branch_id")
    overdue = django_filters.BooleanFilter(method="filter_overdue")

    class Meta:
        model = VisitPlan
        fields = ["client", "branch", "frequency", "responsible"]

    def filter_overdue(self, queryset, name, value):
        from django.utils import timezone

        if value:
            return queryset.filter(is_active=True, next_due_on__lt=timezone.localdate())
        return queryset
