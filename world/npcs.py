"""What the world keeps about its mobs for their behaviours: the active sets (`World.npcs`)
and the line a mob shows in a room.

The behaviours themselves, and the code that files mobs into these sets, are in
world/systems/behaviours.py; `World` only makes the empty index and shows the lines.
The lines need no more of the world than its content and rooms (`Places`, which `World`
passes itself as), so this module does not import world/world.py, which imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from world.entities import Character, Room
from world.prototypes import Content

INDOORS = "indoors"  # room flag: under a roof (a wandering mob's `short` fits one or the other)


class Places(Protocol):
    """What `home_room` and `room_line` read of a world (`World` is one): the content,
    for a mob's zone resets, and the live rooms, by id."""

    @property
    def content(self) -> Content: ...

    @property
    def rooms(self) -> Mapping[str, Room]: ...


@dataclass(slots=True)
class Schedule:
    """Mobs to act at a tick: buckets keyed by tick, and each mob's own due tick.

    A mob dropped from the schedule (dead, purged) stays in its bucket until that
    tick comes, and is skipped then because its due tick is gone.
    """

    due: dict[int, int] = field(default_factory=dict)  # mob id -> the tick it acts
    buckets: dict[int, list[Character]] = field(default_factory=dict)
    last: int = 0  # the last tick taken

    def put(self, mob: Character, tick: int) -> None:
        """Have `mob` act at `tick` (replacing any earlier plan)."""
        self.due[mob.id] = tick
        self.buckets.setdefault(tick, []).append(mob)

    def drop(self, mob: Character) -> None:
        """Forget `mob`."""
        self.due.pop(mob.id, None)

    def take(self, now: int) -> list[Character]:
        """The mobs due at `now` (or earlier, if ticks were skipped), out of the schedule."""
        if now == self.last + 1:
            ticks = [now] if now in self.buckets else []
        else:
            ticks = sorted(t for t in self.buckets if t <= now)
        self.last = now
        out: list[Character] = []
        for t in ticks:
            for mob in self.buckets.pop(t):
                if self.due.get(mob.id) == t:
                    del self.due[mob.id]
                    out.append(mob)
        return out

    def __len__(self) -> int:
        return len(self.due)


@dataclass(slots=True)
class NpcIndex:
    """The active sets of mob behaviours in one world (`world.npcs`)."""

    wanderers: Schedule = field(default_factory=Schedule)
    scavengers: Schedule = field(default_factory=Schedule)
    aggressive: dict[int, Character] = field(default_factory=dict)
    assisters: dict[int, Character] = field(default_factory=dict)
    assisted: dict[str, int] = field(default_factory=dict)  # proto -> assisters helping it
    wimpy: dict[int, Character] = field(default_factory=dict)
    healers: dict[int, Character] = field(default_factory=dict)


def home_room(world: Places, mob: Character) -> Room | None:
    """The room `mob`'s zone reset puts it in (None for a mob spawned by hand)."""
    if mob.reset_key is None:
        return None
    zone, n = mob.reset_key
    resets = world.content.resets.get(zone, ())
    return world.rooms.get(resets[n].room) if 0 <= n < len(resets) else None


def room_line(world: Places, ch: Character, room: Room) -> str:
    """The line `ch` shows in `room`'s description: a mob's content `short`, written for
    where it lives ("A grass snake slides through the grass"), only in rooms like its home
    (both `indoors`, or both not); elsewhere "" (the room then reads "<name> is here.")."""
    if not ch.short:
        return ""
    home = home_room(world, ch)
    if home is not None and (INDOORS in home.flags) != (INDOORS in room.flags):
        return ""
    return ch.short
