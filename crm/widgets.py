"""A select that renders its options in Python.

The project renders widgets through its templates (settings.FORM_RENDERER), so a select with a
hundred options renders two hundred small templates (the option and its attributes): on the
archive list's filter bar (eleven selects, the branch's account managers and the tags among
them) that was a fifth of the page's time. ``FastSelect`` writes the same HTML as
``django/forms/widgets/select.html`` with the project's ``select_option.html`` (请选择 for an
empty label ``---------``); tests/crm/test_widgets.py compares the two, so a change to either
template shows there."""

from __future__ import annotations

from django import forms
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe
from django.utils.translation import gettext

EMPTY_LABEL = "---------"


def _value(value) -> str:
    """``{{ value|stringformat:'s' }}``: the value as text, escaped unless it is already safe."""
    text = str(value)
    return text if isinstance(value, SafeData) else conditional_escape(text)


def _attrs(attrs: dict) -> str:
    """``django/forms/widgets/attrs.html``."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {conditional_escape(name)}")
        if value is not True:
            out.append(f'="{_value(value)}"')
    return "".join(out)


class FastSelect(forms.Select):
    """A ``forms.Select`` whose HTML is written in Python (the module's docstring)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        empty = gettext("请选择")
        parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            for option in group_choices:
                label = option["label"]
                text = empty if label == EMPTY_LABEL else conditional_escape(label)
                parts.append(
                    f'\n  <option value="{_value(option["value"])}"{_attrs(option["attrs"])}>{text}</option>\n'
                )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))


def fast_selects(form) -> None:
    """Render the form's plain selects with ``FastSelect`` (same HTML, no template per option)."""
    for field in form.fields.values():
        if type(field.widget) is forms.Select:
            field.widget.__class__ = FastSelect
