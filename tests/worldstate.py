"""`world_state(world)`: what two worlds must share to be the same world, as plain data
(pickling the same world twice need not give the same bytes), for recovery tests."""

from __future__ import annotations

import copy
from typing import Any

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
