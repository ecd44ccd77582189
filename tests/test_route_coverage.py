"""The meta-test of style.md 10: every named route is covered by a permission matrix."""

import importlib
import pkgutil

from django.urls import URLPattern, URLResolver, get_resolver

import tests
from tests.permissions import ObjectMatrix

# Routes with no archive data behind them, and why.
EXEMPT = {
    "login": "public by nature",
    "logout": "ends the session only",
    "set_language": "Django's language switch",
    "api-schema": "the OpenAPI document, no data",
    "api-docs": "Swagger UI, no data",
    "api-token": "authentication itself",
    "api-root": "the DRF router index, no data",
}
EXEMPT_PREFIXES = ("admin:",)


def _names(resolver, prefix=""):
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
            yield from _names(p, ns)
        elif isinstance(p, URLPattern) and p.name:
            yield prefix + p.name


def _covered():
    covered = set()
    for mod in pkgutil.walk_packages(tests.__path__, "tests."):
        if ".e2e" in mod.name or ".integration" in mod.name:
            continue
        module = importlib.import_module(mod.name)
        covered |= set(getattr(module, "ROUTES_COVERED", ()))
    for cls in _subclasses(ObjectMatrix):
        covered |= set(cls.covers)
    return covered


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_route_has_permission_tests():
    names = set(_names(get_resolver()))
    names = {n for n in names if n not in EXEMPT and not n.startswith(EXEMPT_PREFIXES)}
    # DRF's format-suffix variants share their base route's tests.
    missing = sorted(n for n in names - _covered())
    assert not missing, f"routes without permission tests: {missing}"
