"""For recovery tests: `world_state(world)`, what two worlds must share to be the same
world, as plain data (pickling the same world twice need not give the same bytes), and
`live_step`, an input journaled and applied as the server does."""

from __future__ import annotations

import copy
from typing import Any

from server.bus.messages import Command, Enter, Input, Leave, Tick
from server.host.recorder import WorldRecorder
from world.entities import Character
from world.world import World


def world_state(world: World) -> dict[str, Any]:
    """The time, the dice, every character, every mob and what lies in every room."""
    return copy.deepcopy({
        "time": world.time,
        "rng": world.rng.getstate(),
        "characters": {n: world.snapshot(c) for n, c in world.characters.items()},
        "mobs": {m.id: (m.proto, m.room, m.hp, m.level, m.gold) for m in world.mobs.values()},
        "rooms": {r: ([c.id for c in room.characters], [(i.id, i.proto) for i in room.items])
                  for r, room in world.rooms.items()},
    })


def live_step(rec: WorldRecorder, world: World, entry: Input) -> None:
    """As the server does: journal `entry`, then apply it (a tick, an entry, a leave or
    a command; other inputs are only journaled)."""
    rec.record(entry)
    if isinstance(entry, Tick):
        world.tick()
    elif isinstance(entry, Enter):
        world.enter(entry.name, entry.cls, state=entry.state)
    elif isinstance(entry, Leave):
        world.leave(_played(world, entry.character), entry.reason)
    elif isinstance(entry, Command):
        world.perform_line(_played(world, entry.character), entry.line)
    world.drain()


def _played(world: World, character: int) -> Character:
    return next(c for c in world.characters.values() if c.id == character)
