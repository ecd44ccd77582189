"""Template helpers of the reporting pages."""

from html import escape

from django import template
from django.urls import reverse
from django.utils.formats import localize
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def get_item(mapping, key):
    """``mapping[key]`` in a template (a dict of figures by key)."""
    if mapping is None:
        return None
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def figure_value(value, is_rate=False):
    """A count as it is, a rate as a percentage with one decimal ("—" when nothing was due)."""
    if is_rate:
        return "—" if value is None else f"{value * 100:.1f}%"
    return 0 if value is None else value


@register.filter
def signed(value):
    if value is None:
        return ""
    return f"+{value}" if value > 0 else str(value)


@register.simple_tag
def rollup_cells(row, columns):
    """One branch's figure cells of the roll-up (R27), each opening the list behind it. Built
    here, not by a template loop: fifty branches by thirty-odd figures made that loop (a URL
    reversed per cell) most of the page's time. Every part is escaped (``html.escape``, which
    is what ``format_html`` costs most of the time to reach)."""
    report = row["report"]
    values = row["values"] or {}
    code = escape(row["branch"].code)
    base = reverse("assessments:report-figure", args=[report.pk, "key"]) if report else ""
    cells = []
    for c in columns:
        key = escape(c["key"])
        text = escape(str(localize(figure_value(values.get(c["key"]), bool(c["numerator"])))))
        if report:
            url = escape(base.replace("/figures/key/", f"/figures/{c['list']}/"))
            cells.append(
                f'<td class="text-end" data-value="{key}"><a href="{url}" data-figure="{code}-{key}">{text}</a></td>'
            )
        else:
            cells.append(f'<td class="text-end" data-value="{key}">{text}</td>')
    return mark_safe("".join(cells))  # noqa: S308 - every part is escaped above
