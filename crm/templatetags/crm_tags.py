"""Template helpers. Permission checks in templates go through one filter (style.md 9):
``{% if request.user|can_change:object %}``."""

from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext

from crm.access import can, in_scope

register = template.Library()


@register.filter
def can_change(user, obj):
    return in_scope(user, "change", obj)


@register.filter
def can_delete(user, obj):
    return in_scope(user, "delete", obj)


@register.filter
def can_add(user, model_label):
    from django.apps import apps

    return can(user, "add", apps.get_model(model_label))


@register.filter
def may_use(user, entry):
    """Whether the user may use a page that has its own role check (the nav shows it only then):
    the same predicate the view checks."""
    from crm.navigation import predicate  # registered by the module that owns the page

    check = predicate(entry)
    if check is None:
        raise template.TemplateSyntaxError(f"may_use: unknown entry {entry!r}")
    return check(user)


@register.filter
def can_view(user, model_label):
    from django.apps import apps

    return can(user, "view", apps.get_model(model_label))


@register.filter
def wan(value):
    """Yuan as 万元 with two decimals, as the group's spreadsheets show large amounts."""
    if value in (None, ""):
        return "-"
    return f"{Decimal(value) / Decimal(10000):,.2f}"


@register.filter
def grade_badge(grade):
    colors = {"A": "success", "B": "primary", "C": "secondary"}
    if not grade:
        return format_html('<span class="badge text-bg-light border">{}</span>', gettext("未定级"))
    return format_html(
        '<span class="badge text-bg-{} grade-badge">{}</span>',
        colors.get(grade, "light"),
        gettext("%(grade)s类") % {"grade": grade},
    )


@register.simple_tag(takes_context=True)
def query_replace(context, **kwargs):
    """The current query string with some parameters replaced (pagination, sort links)."""
    query = context["request"].GET.copy()
    for key, value in kwargs.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()
