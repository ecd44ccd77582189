"""Panels of the home page. Apps register a panel function ``fn(user) -> dict | None``
(title, items or figures, link); each must read through ``restrict``. ``roles``: the roles whose
work the panel lists (a leader's home shows no staff to-do list that is always empty for them);
administrators see every panel."""

from collections.abc import Callable

_panels: list[tuple[int, Callable]] = []


def register(order: int = 100, roles: tuple[str, ...] | None = None):
    def deco(fn):
        if roles is not None:
            inner = fn

            def fn(user, _inner=inner):
                if not (user.is_superuser or getattr(user, "role", None) in roles):
                    return None
                return _inner(user)

            fn.__name__ = inner.__name__
            fn.__wrapped__ = inner
        _panels.append((order, fn))
        _panels.sort(key=lambda p: p[0])
        return getattr(fn, "__wrapped__", fn)

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
