"""Users never see the specification's rule ids (R7, R33): they belong in code comments, tests
and notes (design.md, "The browser UI").

Two ways of looking. The texts themselves: every string the program gives gettext (Python, read
with ``ast``: gettext calls, and the labels, help texts and messages passed by keyword), every
piece of template text outside comments, and every entry of the English catalogue. And the
pages as they come out: the main pages of each demo role, with the records of the English tests'
worlds behind them, read without their HTML comments."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.template.base import Lexer, TokenType
from django.urls import reverse

from tests.crm.test_english_everywhere import (  # noqa: F401 (fixtures)
    _pages,
    _regrading_pages,
    _reporting_pages,
    _review_pages,
    regrading,
    reporting,
    review,
    world,
)

ROOT = Path(settings.BASE_DIR)

# A rule id as the specification writes it: R7, R12, R33a, alone as a word.
RULE_ID = re.compile(r"(?<![A-Za-z0-9_])R\d+[a-z]?(?![A-Za-z0-9_])")

GETTEXT = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
}
# Keywords whose string reaches a person even when it is not marked for translation.
USER_KEYWORDS = {"verbose_name", "verbose_name_plural", "help_text", "label", "title", "body", "message"}

HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)


def _sources(pattern: str) -> list[Path]:
    files = subprocess.run(
        ["git", "ls-files", pattern], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / f for f in files if not f.startswith(("tests/", "bench/", "scripts/", "docs/"))]


def _user_strings(tree: ast.AST):
    """(line, text) of the strings of a module that a user may read."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        values = list(node.args) if name in GETTEXT else []
        values += [k.value for k in node.keywords if k.arg in USER_KEYWORDS]
        for value in values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                yield value.lineno, value.value


def test_no_rule_id_in_the_programs_texts():
    found = []
    for path in _sources("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, text in _user_strings(tree):
            if RULE_ID.search(text):
                found.append(f"{path.relative_to(ROOT)}:{line}: {text}")
    assert not found, "\n".join(found)


def _template_text(source: str):
    """(line, text) of every token of a template outside {# #} and {% comment %}, HTML
    comments taken out of the text."""
    skipping = False
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.COMMENT:
            continue
        if token.token_type == TokenType.BLOCK:
            word = token.contents.split()[0] if token.contents.split() else ""
            if word == "comment":
                skipping = True
                continue
            if word == "endcomment":
                skipping = False
                continue
        if skipping:
            continue
        text = HTML_COMMENT.sub("", token.contents) if token.token_type == TokenType.TEXT else token.contents
        yield token.lineno, text


def test_no_rule_id_in_the_templates():
    found = []
    for path in _sources("templates/*"):
        if path.suffix not in (".html", ".txt", ".xml"):
            continue
        for line, text in _template_text(path.read_text(encoding="utf-8")):
            if RULE_ID.search(text):
                found.append(f"{path.relative_to(ROOT)}:{line}: {text.strip()[:120]}")
    assert not found, "\n".join(found)


def _catalogue(path: Path) -> list[tuple[str, str]]:
    """(msgid, msgstr) of the live entries of a .po file (obsolete ``#~`` entries left out)."""
    entries, current, key = [], {}, None
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if current:
                entries.append((current.get("msgid", ""), current.get("msgstr", "")))
            current, key = {}, None
        elif line.startswith("#"):
            continue
        elif line.startswith(("msgid ", "msgstr ", "msgid_plural ", "msgstr[", "msgctxt ")):
            key, _, rest = line.partition(" ")
            key = "msgstr" if key.startswith("msgstr") else key
            current[key] = current.get(key, "") + ast.literal_eval(rest)
        elif line.startswith('"') and key:
            current[key] += ast.literal_eval(line)
    return entries


def test_no_rule_id_in_the_english_catalogue():
    path = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
    found = [
        f"{msgid!r} -> {msgstr!r}"
        for msgid, msgstr in _catalogue(path)
        if msgid and (RULE_ID.search(msgid) or RULE_ID.search(msgstr))
    ]
    assert not found, "\n".join(found)


def test_the_pattern_finds_rule_ids_and_nothing_else():
    for text in ("计入半年考核(R32)。", "R7", "(R33a)", "see R12, R13"):
        assert RULE_ID.search(text), text
    for text in ("RMB", "R&D", "CR12", "R12x3", "PR7b2", "2026H1"):
        assert not RULE_ID.search(text), text


# ------------------------------------------------------------------------------ the pages


def _visible(html: str) -> str:
    return HTML_COMMENT.sub("", html)


def _rule_ids_on(web, urls) -> dict:
    problems = {}
    for url in urls:
        page = web.get(url, follow=True)
        assert page.status_code == 200, (url, page.status_code)
        text = _visible(page.content.decode())
        hits = [text[max(0, m.start() - 60) : m.end() + 10] for m in RULE_ID.finditer(text)]
        if hits:
            problems[url] = hits[:5]
    return problems


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["east_staff", "east_manager", "marketing", "leader", "auditor"])
def test_main_pages_show_no_rule_id(org, world, persona):  # noqa: F811 (an imported fixture)
    urls = [reverse(route, kwargs=kwargs) for route, kwargs in _pages(world)[persona]]
    if persona in ("marketing", "leader"):
        urls.append(reverse("assessments:dashboard"))
    problems = _rule_ids_on(org.web(persona), urls)
    assert not problems, problems


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["east_manager", "marketing"])
def test_reporting_pages_show_no_rule_id(org, reporting, persona):  # noqa: F811 (an imported fixture)
    urls = list(_reporting_pages(reporting)[persona])
    # Lists behind figures whose explanations cited rules (the report page shows every figure's).
    report = reporting["east"] if persona == "east_manager" else reporting["south"]
    for key in ("grade_changes", "complaints_overdue"):
        urls.append(reverse("assessments:report-figure", kwargs={"pk": report.pk, "key": key}))
    problems = _rule_ids_on(org.web(persona), urls)
    assert not problems, problems


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["auditor", "east_manager", "south_manager", "marketing"])
def test_review_pages_show_no_rule_id(org, review, persona):  # noqa: F811 (an imported fixture)
    problems = _rule_ids_on(org.web(persona), _review_pages(review)[persona])
    assert not problems, problems


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["marketing", "leader", "east_manager"])
def test_summary_pages_show_no_rule_id(org, regrading, persona):  # noqa: F811 (an imported fixture)
    problems = _rule_ids_on(org.web(persona), _regrading_pages(regrading)[persona])
    assert not problems, problems
