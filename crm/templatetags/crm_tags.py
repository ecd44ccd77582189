"""Template helpers. Permission checks in templates go through one filter (style.md 9):
``{% if request.user|can_change:object %}``."""

import datetime as dt
import functools
from decimal import Decimal

from django import template
from django.utils import dateformat, timezone, translation
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


@functools.cache
def _choice_labels(model, field_name) -> dict:
    return dict(model._meta.get_field(field_name).flatchoices)


@register.filter
def label(obj, field_name):
    """``{{ c|label:"kind" }}``: what ``get_kind_display`` says, from a map of the field's
    choices made once (``get_FOO_display`` builds it again on every call: a 25-row list paid
    1.8 ms for two of them per row, issue 24)."""
    value = getattr(obj, field_name)
    return _choice_labels(type(obj), field_name).get(value, value)


@register.filter
def stamp(value, part=""):
    """An instant as 2026-12-07 09:30 in the local time zone (``|stamp:"day"``: 2026-12-07):
    ``|date:"Y-m-d H:i"`` without the general formatter (38 us a cell; lists show one or three
    per row)."""
    if value in (None, ""):
        return ""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    if part == "day" or not isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d")
    return value.strftime("%Y-%m-%d %H:%M")


@register.filter
def wan(value):
    """Yuan as 万元 with two decimals and thousands separators, as the group's spreadsheets show
    large amounts: 10407708558 -> 1,040,770.86. The unit goes in the column's header (or beside
    the figure); exports keep the exact number."""
    if value in (None, ""):
        return "-"
    return f"{Decimal(str(value)) / Decimal(10000):,.2f}"


# How people write a day in each language: 12月31日 / 31 December, with the year when it is not
# this year's (2027年1月5日 / 5 January 2027). Django's own MONTH_DAY_FORMAT for English is the
# American "December 31".
_DAY_FORMATS = {"zh": ("n月j日", "Y年n月j日"), "en": ("j F", "j F Y")}


def _say_day(day: dt.date) -> str:
    language = (translation.get_language() or "zh").split("-")[0]
    this_year, other_year = _DAY_FORMATS.get(language, _DAY_FORMATS["zh"])
    return dateformat.format(day, this_year if day.year == timezone.localdate().year else other_year)


@register.filter
def day(value):
    """The day of a date or of an instant (in the local time zone), as people say it:
    12月31日 / 31 December."""
    if value in (None, ""):
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return _say_day(value)


@register.filter
def moment(value):
    """An instant as people say it: its day and time, 12月20日 10:00 (a report's window)."""
    if value in (None, ""):
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{_say_day(local.date())} {local:%H:%M}"


@register.filter
def last_day(value):
    """A deadline or the end of a period as people say it. Ends are stored exclusive: a grant
    "until 31 December" or a report due "by 31 December" ends at 1 January 00:00, which reads
    as the last day it covers, 12月31日 / 31 December. An end at another time of day (the
    monthly deadline at 20:00, a suspension of one month from the moment it began) reads as
    its day and time: 12月25日 20:00. A date (already a last day) reads as itself."""
    if value in (None, ""):
        return ""
    if not isinstance(value, dt.datetime):
        return _say_day(value)
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    if local.time() == dt.time.min:
        return _say_day(local.date() - dt.timedelta(days=1))
    return f"{_say_day(local.date())} {local:%H:%M}"


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
