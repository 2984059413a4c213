"""Shared test helpers: the real starter content (loaded once) and worlds built from it."""

from __future__ import annotations

from functools import cache
from typing import Any

from server.config import default_content_dir
from server.host import content as content_loader
from world.events import Delivery
from world.prototypes import Content
from world.world import World

Log = list[tuple[str, str, dict[str, Any]]]


@cache
def starter_content() -> Content:
    """The repository's content/, validated once per test process (it is immutable)."""
    return content_loader.load(default_content_dir())


def new_world(seed: int = 1) -> World:
    """A fresh world of the starter content."""
    return World(starter_content(), seed=seed)


def log_of(deliveries: list[Delivery]) -> Log:
    """Deliveries as plain data: (recipient, event name, event data)."""
    return [(d.recipient.name, d.event.name, d.event.to_data()) for d in deliveries]


def names(deliveries: list[Delivery], recipient: str | None = None) -> list[str]:
    """The event names, for everyone or for one recipient."""
    return [d.event.name for d in deliveries
            if recipient is None or d.recipient.name == recipient]


def events(deliveries: list[Delivery], name: str, recipient: str | None = None
           ) -> list[dict[str, Any]]:
    """The data of every event called `name` (for one recipient, if given)."""
    return [d.event.to_data() for d in deliveries
            if d.event.name == name and (recipient is None or d.recipient.name == recipient)]
