"""A complaint's severity and status badges, written in Python: the queue shows them on every
row, where two template includes per row cost a third of the page's rendering (issue 24)."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from crm.templatetags.crm_tags import label

register = template.Library()

SEVERITY_CLASSES = {"urgent": "text-bg-danger", "high": "text-bg-warning", "low": "text-bg-light border"}
STATUS_CLASSES = {
    "closed": "text-bg-secondary",
    "resolved": "text-bg-success",
    "return_visit": "text-bg-success",
    "received": "text-bg-warning",
}


@register.simple_tag
def severity_badge(complaint):
    return format_html(
        '<span class="badge {}">{}</span>',
        SEVERITY_CLASSES.get(complaint.severity, "text-bg-info"),
        label(complaint, "severity"),
    )


@register.simple_tag
def status_badge(complaint, overdue=None):
    """The status, and 超期 beside it while a deadline has passed (``overdue`` when the caller
    has it already)."""
    html = format_html(
        '<span class="badge {}">{}</span>',
        STATUS_CLASSES.get(complaint.status, "text-bg-primary"),
        label(complaint, "status"),
    )
    if complaint.is_overdue if overdue is None else overdue:
        html += format_html(' <span class="badge text-bg-danger" data-testid="overdue">{}</span>', _("超期"))
    return html
