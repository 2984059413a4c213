"""Zone resets: put missing mobs and items back on a timer, never duplicating.

A reset names a mob or an item, a room and a count. A mob reset tops the
living mobs made by that reset up to the count (wherever they wandered); an
item reset tops up items of that prototype lying in the room, so what players
dropped there counts and nothing else of theirs is touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from world.events import ZoneDue
from world.rules import TICKS_PER_MINUTE
from world.systems.registry import listens, system

if TYPE_CHECKING:
    from world.world import World

CHECK_EVERY = 10  # ticks between looks at the zone timers


def reset_zone(world: World, zone: str) -> int:
    """Run every reset of `zone` now; returns how many things appeared."""
    made = 0
    alive: dict[tuple[str, int], int] = {}
    for mob in world.mobs.values():
        if mob.reset_key is not None:
            alive[mob.reset_key] = alive.get(mob.reset_key, 0) + 1
    for n, reset in enumerate(world.content.resets.get(zone, ())):
        if reset.room not in world.rooms:
            continue
        if reset.mob is not None:
            key = (zone, n)
            for _ in range(reset.count - alive.get(key, 0)):
                world.spawn_mob(reset.mob, reset.room, reset_key=key)
                made += 1
        elif reset.item is not None:
            room = world.rooms[reset.room]
            present = sum(1 for it in room.items if it.proto == reset.item)
            for _ in range(reset.count - present):
                room.items.append(world.make_item(reset.item))
                made += 1
    interval = world.content.zones[zone].reset_minutes * TICKS_PER_MINUTE
    world.next_reset[zone] = world.time + max(1, int(interval))
    return made


@listens(ZoneDue)
def _due(world: World, event: ZoneDue) -> None:
    reset_zone(world, event.zone)


@system("zone_resets", every=CHECK_EVERY, order=90)
def reset_due_zones(world: World) -> None:
    """Reset the zones whose timer ran out."""
    for zone, due in list(world.next_reset.items()):
        if world.time >= due:
            reset_zone(world, zone)
