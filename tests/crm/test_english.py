"""The English catalogue: choosing English in the header turns the UI into English, the default
stays Chinese, and the compiled catalogue (.mo, committed) matches its source (.po)."""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db

# Navigation labels a branch person sees on every page: (Chinese, English).
NAV = [
    ("工作台", "Workbench"),
    ("客户档案", "Client archive"),
    ("客户需求", "Client needs"),
    ("拜访计划", "Visit plan"),
    ("客户投诉", "Client complaints"),
    ("投诉处理台", "Complaint desk"),
    ("满意度调查", "Satisfaction survey"),
    ("退出", "Log out"),
]

# Each page with its own title: (route, Chinese, English).
PAGES = [
    ("home", "工作台", "Workbench"),
    ("clients:client-list", "客户档案", "Client archive"),
    ("complaints:complaint-list", "投诉处理台", "Complaint desk"),
    ("surveys:survey-list", "满意度调查", "Satisfaction survey"),
]

# Column headers and filters of the lists.
LABELS = {
    "clients:client-list": [
        ("分级", "Grade"),
        ("客户经理", "Account manager"),
        ("统一社会信用代码", "Unified social credit code"),
    ],
    "complaints:complaint-list": [("严重程度", "Severity"), ("当前负责人", "Current owner")],
    "surveys:survey-list": [("新建调查", "New survey"), ("满意率", "Satisfaction rate")],
}


def shown(label, html):
    """``label`` is the whole text of an element (a link, a header, a button), not part of a
    longer text such as a survey template's name."""
    return re.search(rf">\s*(<i [^>]*></i>)?\s*{re.escape(label)}\s*<", html) is not None


def english(web):
    response = web.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    return web


@pytest.mark.parametrize("route,zh,en", PAGES)
def test_pages_in_english(org, route, zh, en):
    web = english(org.web("east_staff"))
    page = web.get(reverse(route))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'lang="en"' in text
    assert f"<title>{en}" in text
    for zh_label, en_label in NAV + LABELS.get(route, []):
        assert shown(en_label, text), en_label
        assert not shown(zh_label, text), zh_label


@pytest.mark.parametrize("route,zh,en", PAGES)
def test_pages_in_chinese_by_default(org, route, zh, en):
    page = org.web("east_staff").get(reverse(route))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'lang="zh-hans"' in text
    assert f"<title>{zh}" in text
    for zh_label, en_label in NAV + LABELS.get(route, []):
        assert shown(zh_label, text), zh_label
        assert not shown(en_label, text), en_label


def test_language_choice_is_kept_and_can_be_undone(org):
    web = english(org.web("east_staff"))
    assert "Client archive" in web.get(reverse("clients:client-list")).content.decode()
    web.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    text = web.get(reverse("clients:client-list")).content.decode()
    assert shown("客户档案", text) and not shown("Client archive", text)


def test_choices_and_messages_are_translated():
    with translation.override("en"):
        from clients.models import Client

        assert str(Client._meta.verbose_name_plural) == "Client archive"
        labels = {str(label) for _, label in Client._meta.get_field("grade").choices}
        assert {"Grade A client", "Grade B client", "Grade C client"} <= labels
    with translation.override("zh-hans"):
        assert str(Client._meta.verbose_name_plural) == "客户档案"


def _catalogue(path):
    """The translated singular entries of a .po file as {msgid: msgstr}, or {(msgctxt, msgid):
    msgstr} for an entry with a context (pgettext); fuzzy ones left out."""
    entries, fields, fuzzy = {}, {}, False
    key = None

    def flush():
        if fields.get("msgid") and fields.get("msgstr") and not fuzzy and "msgid_plural" not in fields:
            name = (fields["msgctxt"], fields["msgid"]) if "msgctxt" in fields else fields["msgid"]
            entries[name] = fields["msgstr"]

    for line in Path(path).read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            flush()
            fields, fuzzy, key = {}, False, None
        elif line.startswith("#,"):
            fuzzy = "fuzzy" in line
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            fields[key] += ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            fields[key] = ast.literal_eval(value)
    return entries


def test_compiled_catalogue_matches_its_source():
    po = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
    entries = _catalogue(po)
    assert len(entries) > 500
    with translation.override("en"):
        stale = [
            msgid
            for msgid, msgstr in entries.items()
            if (translation.pgettext(*msgid) if isinstance(msgid, tuple) else translation.gettext(msgid))
            != msgstr
        ]
    assert not stale, f"django.mo is older than django.po; run compilemessages: {stale[:5]}"
    untranslated_chinese = [s for s in entries.values() if re.fullmatch(r"[\u4e00-\u9fff\W]+", s)]
    assert not untranslated_chinese
