"""crm.widgets.FastSelect writes the HTML the project's widget templates write (a select and its
options, 请选择 for an empty label), option by option; the archive list's filter bar renders
through it."""

import pytest
from django import forms
from django.forms.renderers import get_default_renderer
from django.utils.safestring import mark_safe

from crm.widgets import FastSelect, fast_selects


def _both(widget, name, value, attrs=None):
    renderer = get_default_renderer()
    slow = forms.Select.render(widget, name, value, attrs=attrs, renderer=renderer)
    fast = FastSelect.render(widget, name, value, attrs=attrs, renderer=renderer)
    return str(slow), str(fast)


@pytest.mark.parametrize(
    "choices, value",
    [
        ([("", "---------"), ("A", "A类"), ("B", "B类")], "A"),
        ([("", "全部"), (1, "东部分公司"), (2, "南部分公司")], 2),
        ([("x", "a<b>&\"c'"), ("y", mark_safe("<i>安全</i>"))], None),
        ([("华东", [("1", "上海"), ("2", "杭州")]), ("3", "其他")], "2"),
        ([], None),
    ],
)
def test_fast_select_writes_the_templates_html(choices, value):
    widget = forms.Select(choices=choices, attrs={"class": "form-select form-select-sm", "required": True})
    slow, fast = _both(widget, "grade", value, attrs={"id": "id_grade", "disabled": False})
    assert fast == slow
    assert "<option" in fast or not choices


@pytest.mark.django_db
def test_the_archive_filter_bar_renders_as_before(rf, org):
    """Every select of the archive list's filter bar (branch, grade, stage, owner, tags, ...)
    for a branch user: the same HTML as the templates write, 请选择/全部 included."""
    from clients.filters import ClientFilter
    from clients.selectors import client_list

    user = org["east_staff"]
    request = rf.get("/clients/", {"grade": "A", "overdue": "any"})
    request.user = user
    form = ClientFilter(request.GET, queryset=client_list(user), request=request).form
    fast_selects(form)
    selects = [bf for bf in form if isinstance(bf.field.widget, forms.Select)]
    assert len(selects) >= 10
    for bound in selects:
        assert type(bound.field.widget) is FastSelect
        fast = str(bound)
        bound.field.widget.__class__ = forms.Select
        assert str(bound) == fast, bound.name
    assert 'value="A" selected' in str(form["grade"])
