"""The registries of systems (run by the tick) and listeners (told of game signals).

A system is `fn(world)` declared with `@system(name, every=N)`: `World.tick()`
runs it on every N-th tick, in `order`. A listener is `fn(world, event)` declared
with `@listens(EventType)`: `World.signal(event)` calls it, so quests can hear of
kills without combat knowing about quests. These hold code, not state, so many
worlds can share them.

The registries never name `World` (world/world.py imports them, so that would be a
cycle): they are generic in the world their functions take (`W`). A decorator hands
back the function it was given, typed as it was; the global lists hold functions of
a world they don't know (`Any`), and `World` takes them as functions of itself
(`Sequence[SystemSpec[World]]`), so a list built by hand is checked against `World`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

if TYPE_CHECKING:
    from world.events import Event

W = TypeVar("W")  # the world a system or listener is given: world/world.py's `World`
SystemFn: TypeAlias = Callable[[W], None]
ListenerFn: TypeAlias = Callable[[W, Any], None]


@dataclass(frozen=True, slots=True)
class SystemSpec(Generic[W]):
    """One system: its name, cadence (ticks) and order within a tick."""

    name: str
    every: int
    order: int
    fn: SystemFn[W]


SYSTEMS: list[SystemSpec[Any]] = []
LISTENERS: dict[type, list[ListenerFn[Any]]] = {}


def system(name: str, every: int = 1, order: int = 50) -> Callable[[SystemFn[W]], SystemFn[W]]:
    """Declare a system that the tick runs every `every` ticks (lower `order` first)."""

    def deco(fn: SystemFn[W]) -> SystemFn[W]:
        SYSTEMS.append(SystemSpec(name, max(1, every), order, fn))
        SYSTEMS.sort(key=lambda s: (s.order, s.name))
        return fn

    return deco


def listens(*event_types: type[Event]) -> Callable[[ListenerFn[W]], ListenerFn[W]]:
    """Declare a listener for game signals of these event types."""

    def deco(fn: ListenerFn[W]) -> ListenerFn[W]:
        for et in event_types:
            LISTENERS.setdefault(et, []).append(fn)
        return fn

    return deco
