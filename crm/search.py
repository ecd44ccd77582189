"""The header's global search: every app registers a provider; each provider must go through
``restrict(user, "view")``, so a search never shows what the user may not open."""

from collections.abc import Callable

_providers: list[tuple[int, str, Callable]] = []


def register(label: str, order: int = 100):
    """Register ``fn(user, query, limit) -> list[dict(title, subtitle, url)]`` under a label."""

    def deco(fn):
        _providers.append((order, label, fn))
        _providers.sort(key=lambda p: p[0])
        return fn

    return deco


def search(user, query: str, limit: int = 10):
    query = (query or "").strip()
    if not query:
        return []
    results = []
    for _order, label, fn in _providers:
        hits = fn(user, query, limit)
        if hits:
            results.append((label, hits))
    return results
