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
    """The fact ``name`` of ``client``. A page that reads a fact in several places (the client
    page: the quadrant and the surveys tab) opts in to reading it once by giving the instance a
    ``fact_memo`` dict (``remember_facts``)."""
    fn = _facts.get(name)
    if fn is None:
        return None
    memo = getattr(client, "fact_memo", None)
    if memo is None:
        return fn(client)
    if name not in memo:
        memo[name] = fn(client)
    return memo[name]


def remember_facts(client):
    """Read each fact of this client instance at most once from now on (one request's view)."""
    client.fact_memo = {}
    return client


# Facts a page can read in the query that loads the client (an annotation on Client) instead
# of a query of their own: name -> a callable returning the expression. The attribute of that
# name on the client is what the fact's readers (grading) take when it is there.
_annotations: dict[str, Callable] = {}


def register_fact_annotation(name: str, fn: Callable) -> Callable:
    _annotations[name] = fn
    return fn


def fact_annotations() -> dict:
    """``{name: expression}`` of every registered fact annotation, for ``Client`` querysets."""
    return {name: fn() for name, fn in _annotations.items()}
