"""Entries of the navigation whose pages have a role check of their own: the app that owns the
page registers the predicate its view checks, so the navigation shows an entry exactly to those
who may use it, and crm imports no app above it (design.md, layout)."""

from collections.abc import Callable

_entries: dict[str, Callable] = {}


def register(name: str) -> Callable:
    def decorate(predicate: Callable) -> Callable:
        _entries[name] = predicate
        return predicate

    return decorate


def predicate(name: str) -> Callable | None:
    return _entries.get(name)
