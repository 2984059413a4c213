"""Zone resets pinned: what a reset tops up, and when the zone's next reset falls.

The rule (world/systems/resets.py): a mob reset tops the living mobs made by that reset
up to its count, wherever they wandered; an item reset tops up the items of its
prototype lying in its room; the next reset is `reset_minutes` later (600 ticks a
minute), one tick at the least. Written to kill the mutants `make mutate` found
surviving in resets.py (docs/testing.md).
"""

from __future__ import annotations

from typing import Any

from npc_content import CLASSES

from world.prototypes import build_content
from world.systems import resets
from world.world import World

ZONE_R: dict[str, Any] = {
    "zone": {"id": "r", "name": "Reset", "reset_minutes": 5},
    "rooms": {
        "den": {"name": "Den", "description": "A den.", "exits": {"east": "shed"}},
        "shed": {"name": "Shed", "description": "A shed.", "exits": {"west": "den"}},
    },
    "items": {"log": {"name": "a log", "keywords": ["log"], "description": "Wood."}},
    "mobs": {"fox": {"name": "a fox", "keywords": ["fox"], "short": "A fox is here.",
                     "description": "A fox.", "level": 1}},
    "resets": [{"mob": "fox", "room": "den", "count": 2},
               {"item": "log", "room": "shed", "count": 3}],
}
ZONE_Q: dict[str, Any] = {
    "zone": {"id": "q", "name": "Quick", "reset_minutes": 0.001},  # 0.6 ticks
    "rooms": {"nook": {"name": "Nook", "description": "A nook."}},
}


def new_world() -> World:
    content = build_content(("world.yaml", {"name": "Resets", "start_room": "r:den"}),
                            ("classes.yaml", CLASSES),
                            [("r.yaml", ZONE_R), ("q.yaml", ZONE_Q)])
    return World(content, seed=1)


def foxes(world: World) -> list[str]:
    return sorted(m.room for m in world.mobs.values())


def logs(world: World) -> int:
    return sum(1 for it in world.rooms["r:shed"].items if it.proto == "r:log")


def test_a_new_world_is_reset_and_its_timers_set() -> None:
    world = new_world()
    assert foxes(world) == ["r:den", "r:den"] and logs(world) == 3
    assert world.next_reset == {"r": 5 * 600, "q": 1}  # never less than a tick


def test_a_reset_tops_up_what_is_missing_and_sets_the_next() -> None:
    world = new_world()
    world.remove_mob(next(iter(world.mobs.values())))
    del world.rooms["r:shed"].items[:2]
    world.time = 500
    assert resets.reset_zone(world, "r") == 3
    assert foxes(world) == ["r:den", "r:den"] and logs(world) == 3
    assert world.next_reset["r"] == 3500
    assert resets.reset_zone(world, "r") == 0  # all there: nothing more


def test_the_mobs_of_a_reset_count_wherever_they_wandered() -> None:
    world = new_world()
    for fox in list(world.mobs.values()):
        world.move(fox, "r:shed")
    assert resets.reset_zone(world, "r") == 0
    assert foxes(world) == ["r:shed", "r:shed"]


def test_a_reset_whose_room_is_gone_is_skipped_and_the_next_one_done() -> None:
    world = new_world()
    for fox in list(world.mobs.values()):
        world.remove_mob(fox)
    del world.rooms["r:den"]  # a builder took the room away
    world.rooms["r:shed"].items.clear()
    assert resets.reset_zone(world, "r") == 3
    assert foxes(world) == [] and logs(world) == 3


def test_a_zone_without_resets_makes_nothing() -> None:
    world = new_world()
    world.time = 77
    assert resets.reset_zone(world, "q") == 0
    assert world.next_reset["q"] == 78
