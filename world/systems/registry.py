"""The registries of systems (run by the tick) and listeners (told of game signals).

A system is `fn(world)` declared with `@system(name, every=N)`: `World.tick()`
runs it on every N-th tick, in `order`. A listener is `fn(world, event)` declared
with `@listens(EventType)`: `World.signal(event)` calls it, so quests can hear of
kills without combat knowing about quests. These hold code, not state, so many
worlds can share them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from world.events import Event
    from world.world import World

SystemFn = Callable[["World"], None]
ListenerFn = Callable[["World", Any], None]


@dataclass(frozen=True, slots=True)
class SystemSpec:
    """One system: its name, cadence (ticks) and order within a tick."""

    name: str
    every: int
    order: int
    fn: SystemFn


SYSTEMS: list[SystemSpec] = []
LISTENERS: dict[type, list[ListenerFn]] = {}


def system(name: str, every: int = 1, order: int = 50) -> Callable[[SystemFn], SystemFn]:
    """Declare a system that the tick runs every `every` ticks (lower `order` first)."""

    def deco(fn: SystemFn) -> SystemFn:
        SYSTEMS.append(SystemSpec(name, max(1, every), order, fn))
        SYSTEMS.sort(key=lambda s: (s.order, s.name))
        return fn

    return deco


def listens(*event_types: type[Event]) -> Callable[[ListenerFn], ListenerFn]:
    """Declare a listener for game signals of these event types."""

    def deco(fn: ListenerFn) -> ListenerFn:
        for et in event_types:
            LISTENERS.setdefault(et, []).append(fn)
        return fn

    return deco
