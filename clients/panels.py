"""Tabs of the client page (the one-page archive, 档案). Apps above clients (complaints,
surveys) register a tab in their ``AppConfig.ready()``, so clients imports none of them:

    from clients.panels import register_tab
    register_tab("complaints", _("投诉"), "complaints/_client_tab.html", context_fn, order=50)

``context_fn(request, client) -> dict`` must read through ``restrict(request.user, "view")``;
the dict may carry ``count`` (shown as a badge on the tab)."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    template: str
    context: Callable
    order: int = 100


_tabs: dict[str, Tab] = {}


def register_tab(key, label, template, context, order=100):
    _tabs[key] = Tab(key, label, template, context, order)


def tabs():
    return sorted(_tabs.values(), key=lambda t: t.order)
