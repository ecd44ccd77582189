"""The channel registry (R111). A channel is a name, a ``targets`` function and a ``send``
function; see the contract in ``crm.outbox``'s docstring. E-mail registers itself here; other
channels (the group chat robots) register from their own app's ``ready()``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Channel:
    name: str
    targets: Callable  # (notice, recipients) -> list[str | tuple[str, User | None]]
    send: Callable  # (delivery) -> None, or raises crm.outbox.DeliveryFailed
    label: str = ""


_channels: dict[str, Channel] = {}


def register(name: str, *, targets: Callable, send: Callable, label: str = "") -> Channel:
    """Register (or replace, on a second call with the same name) a channel."""
    channel = Channel(name=name, targets=targets, send=send, label=label or name)
    _channels[name] = channel
    return channel


def unregister(name: str) -> None:
    _channels.pop(name, None)


def get(name: str) -> Channel | None:
    return _channels.get(name)


def all_channels() -> list[Channel]:
    return list(_channels.values())


def choices() -> list[tuple[str, str]]:
    return [(c.name, str(c.label)) for c in _channels.values()]
