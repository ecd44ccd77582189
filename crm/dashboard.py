"""Panels of the home page. Apps register a panel function ``fn(user) -> dict | None``
(title, items or figures, link); each must read through ``restrict``."""

from collections.abc import Callable

_panels: list[tuple[int, Callable]] = []


def register(order: int = 100):
    def deco(fn):
        _panels.append((order, fn))
        _panels.sort(key=lambda p: p[0])
        return fn

    return deco


def panels(user):
    out = []
    for _order, fn in _panels:
        panel = fn(user)
        if panel:
            # Both keys always present: in a template ``panel.items`` would otherwise resolve
            # to dict.items() and render empty rows.
            panel.setdefault("items", [])
            panel.setdefault("figures", [])
            out.append(panel)
    return out
