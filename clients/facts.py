"""Facts about a client that live in apps above clients (R7, R8), read without importing them.

complaints registers ``unreasonable_complaints(client) -> int`` (R17 feeds grade C);
surveys registers ``satisfaction(client) -> dict | None`` with keys ``rate`` (0..1, share of
4-5 answers), ``answers`` (how many) and ``basis`` (a sentence for the archive page, R8).
A fact nobody registered reads as None: "not enough data", never an invented value."""

from collections.abc import Callable

_facts: dict[str, Callable] = {}


def register_fact(name: str, fn: Callable) -> Callable:
    _facts[name] = fn
    return fn


def fact(name: str, client):
    fn = _facts.get(name)
    return None if fn is None else fn(client)
