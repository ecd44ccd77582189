"""Tabs of the client page (the one-page archive, 档案). The page renders its header, the
overview and the tabs' counts; each other tab is loaded when it is opened (htmx), from its
own URL (``clients:client-tab``), which is also an ordinary page without JavaScript. The
print view (``?print=1``) renders every tab.

The archive's own tabs are registered in ``clients.tabs``; apps above clients (complaints,
surveys) register theirs in their ``AppConfig.ready()``, so clients imports none of them:

    from clients.panels import register_tab
    register_tab("complaints", _("投诉"), "complaints/_client_tab.html", context_fn, order=50,
                 count=count_fn)

``context_fn(request, client) -> dict`` must read through ``restrict(request.user, "view")``;
the template sees the dict as ``ctx`` (and, for the archive's own tabs, ``flat``, as names of
its own). ``count_fn(user) -> QuerySet`` (optional) returns the rows of the tab's model the
user may view (``restrict(user, "view")``), with a ``client`` foreign key: the page counts
every tab's rows of the client in the one query that reads the client, for the badges."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    template: str
    context: Callable
    order: int = 100
    count: Callable | None = None
    flat: bool = False  # the context's names are the template's own (the archive's tabs)


_tabs: dict[str, Tab] = {}

# The first tab: the overview, rendered with the page (its address is the page's own).
OVERVIEW = "overview"


def register_tab(key, label, template, context, order=100, count=None, flat=False):
    _tabs[key] = Tab(key, label, template, context, order, count, flat)


def tabs():
    return sorted(_tabs.values(), key=lambda t: t.order)


def tab(key) -> Tab | None:
    return _tabs.get(key)


def count_annotations(user) -> dict:
    """``{"tab_count_<key>": expression}`` for every tab with a count: one correlated
    subquery per tab, to annotate the client's own query with (no query of its own)."""
    out = {}
    for t in tabs():
        if t.count is None:
            continue
        rows = (
            t.count(user)
            .filter(client=OuterRef("pk"))
            .order_by()
            .values("client")
            .annotate(n=Count("pk"))
            .values("n")
        )
        out[f"tab_count_{t.key}"] = Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))
    return out
