"""Template helpers of the reporting pages."""

from django import template

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
