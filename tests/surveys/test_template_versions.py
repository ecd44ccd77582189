"""The survey template's edit page carries the version it opened, like every edit page of a
versioned row: a save based on an older version is refused with what changed, nothing of the
template, its dimensions or questions is half-saved, and submitting again saves."""

from __future__ import annotations

from django.urls import reverse

from surveys.models import SurveyTemplate


def _as_posted(context) -> dict:
    data = {}
    for f in (context["form"], context["dims"], context["questions"]):
        if hasattr(f, "management_form"):
            for name in f.management_form.fields:
                data[f.management_form.add_prefix(name)] = f.management_form[name].value()
            forms = f.forms
        else:
            forms = [f]
        for sub in forms:
            for name in sub.fields:
                value = sub[name].value()
                if value is None or value is False:
                    continue
                data[sub.add_prefix(name)] = value
    return data


def test_a_stale_template_save_is_refused_and_nothing_is_half_saved(org, standard):
    web = org.web("marketing")
    url = reverse("surveys:template-edit", kwargs={"pk": standard.pk})
    page = web.get(url)
    opened = page.context["form"]["version"].value()
    html = page.content.decode()
    assert f'type="hidden" name="t-version" value="{opened}"' in html
    assert ">Version" not in html
    data = _as_posted(page.context)

    other = SurveyTemplate.objects.get(pk=standard.pk)
    other.intro = "他人改写的说明"
    other.save()

    eq = standard.dimensions.get(code="engineering_quality")
    before = eq.importance
    idx = [d.instance.pk for d in page.context["dims"].forms].index(eq.pk)
    mine = {**data, "t-intro": "我改写的说明", f"d-{idx}-importance": "0.45"}
    r = web.post(url, mine)
    assert r.status_code == 200
    errors = " ".join(r.context["form"].non_field_errors())
    assert "已被他人修改" in errors and "他人改写的说明" in errors
    standard.refresh_from_db()
    eq.refresh_from_db()
    assert standard.intro == "他人改写的说明" and eq.importance == before  # nothing half-saved

    again = {**mine, "t-version": r.context["form"]["version"].value()}
    assert web.post(url, again).status_code == 302
    standard.refresh_from_db()
    eq.refresh_from_db()
    assert standard.intro == "我改写的说明" and float(eq.importance) == 0.45
    assert standard.version == opened + 2
