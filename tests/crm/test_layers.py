"""design.md: the apps are layers and imports only go down: ``crm`` (imports no app of ours) <-
``clients`` <- ``complaints``, ``surveys`` (neither imports the other) <- ``assessments``.
Every ``import``/``from ... import`` of every module of an app (function-level ones too, relative
ones resolved, and ``import_module("...")`` with a literal name) is checked against the rule.
Finding an app by a computed name, as ``seed_demo`` and ``seed_bulk`` do in crm, is the
sanctioned way down-to-up and is not an import."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# app -> the apps of ours it must not import
FORBIDDEN = {
    "crm": {"clients", "complaints", "surveys", "assessments"},
    "clients": {"complaints", "surveys", "assessments"},
    "complaints": {"surveys", "assessments"},
    "surveys": {"complaints", "assessments"},
}

# Known violations, tolerated until fixed: {(file relative to the project, imported module)}.
# Keep each with a comment saying why; remove the entry with the fix. None today.
ALLOWED: set[tuple[str, str]] = set()


def imported_modules(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """``(line, absolute module name)`` of everything ``source`` (the module ``module``) imports."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            found.append((node.lineno, name))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def violations() -> list[str]:
    out = []
    for app, forbidden in FORBIDDEN.items():
        files = sorted((ROOT / app).rglob("*.py"))
        assert len(files) > 5, f"{app}: found no modules to check"
        for path in files:
            rel = path.relative_to(ROOT)
            is_package = path.name == "__init__.py"
            parts = rel.with_suffix("").parts
            module = ".".join(parts[:-1] if is_package else parts)
            for line, name in imported_modules(path.read_text(encoding="utf-8"), module, is_package):
                if name.split(".")[0] in forbidden and (rel.as_posix(), name) not in ALLOWED:
                    out.append(f"{rel.as_posix()}:{line} imports {name} ({app} may not import it)")
    return out


def test_apps_import_only_downward():
    assert violations() == []


def test_the_allow_list_holds_only_live_violations():
    """An entry left behind after its fix would silently allow the import again."""
    live = set()
    for rel in {rel for rel, _name in ALLOWED}:
        path = ROOT / rel
        if path.exists():
            module = ".".join(Path(rel).with_suffix("").parts)
            live |= {
                (rel, name) for _line, name in imported_modules(path.read_text(encoding="utf-8"), module)
            }
    assert ALLOWED <= live


def test_the_check_sees_every_form_of_import():
    source = """
import complaints
import complaints.models as m
from surveys.models import Survey
from .. import views
from ..bulk import start
import importlib
def later():
    from assessments import services
    importlib.import_module("surveys.bulk")
    importlib.import_module(f"{app}.bulk")
"""
    names = sorted(name for _line, name in imported_modules(source, "clients.imports.tasks"))
    assert names == sorted(
        [
            "complaints",
            "complaints.models",
            "surveys.models",
            "clients",
            "clients.bulk",
            "importlib",
            "assessments",
            "surveys.bulk",
        ]
    )


def test_inside_an_app_the_models_import_no_layer_above_them():
    """Inside an app too imports go down: models <- services, selectors, views, forms, api. A model
    that needs a rule of a service (a need's deadline in words, R11) gets it from a module below
    both (clients/deadlines.py), so the services can import the models without a circle."""
    above = ("services", "selectors", "views", "forms", "api", "grading", "tasks", "figures")
    found = []
    for app in ("crm", "clients", "complaints", "surveys", "assessments"):
        path = ROOT / app / "models.py"
        for line, name in imported_modules(path.read_text(encoding="utf-8"), f"{app}.models"):
            parts = name.split(".")
            if parts[0] == app and len(parts) > 1 and parts[1] in above:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert found == []


def test_monthly_reporting_and_the_review_do_not_import_each_other():
    """assessments: monthly/ and review/ are siblings; what both use (who reports, who is told,
    what a branch owes and its hold) lies below both in assessments/obligations.py."""
    found = []
    for part, other in (("monthly", "review"), ("review", "monthly")):
        for path in sorted((ROOT / "assessments" / part).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            is_package = path.name == "__init__.py"
            if is_package:
                module = module.rpartition(".")[0]
            for line, name in imported_modules(path.read_text(encoding="utf-8"), module, is_package):
                if name.startswith(f"assessments.{other}"):
                    found.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert found == []
    assert (ROOT / "assessments" / "monthly" / "services.py").exists()
    assert not (ROOT / "assessments" / "services.py").exists()
