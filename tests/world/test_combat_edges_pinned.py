"""Combat at its edges, pinned: the ways out of a fight, what the fled and the dead see,
where they recall, who is still present, and who a fighter turns on.

The arena of tests/arena.py with a maze of our own: its north is a closed grate, its
east leads to a ruin that a test takes away, its west to a shrine mobs never enter, its
south to the field (which has no way back). Two zones more: `far` (its own recall
room) and `wild` (none). Rolls come from a script (tests/world/test_combat_pinned.py's
`Scripted`). Written to kill the mutants `make mutate` found surviving in combat.py
(docs/testing.md).
"""

from __future__ import annotations

import copy
from typing import Any

import arena
import npc_content
from helpers import events, log_of
from test_combat_pinned import Scripted

from world.entities import Character, Position
from world.prototypes import build_content
from world.systems import combat
from world.world import World

ZONE = copy.deepcopy(arena.ZONE)
ZONE["rooms"].update({
    "maze": {"name": "Maze", "description": "Twisty.",
             "exits": {"north": {"to": "vault", "door": {"name": "grate", "closed": True}},
                       "east": "ruin", "west": "shrine", "south": "field"}},
    "vault": {"name": "Vault", "description": "Shut.",
              "exits": {"south": {"to": "maze", "door": {"name": "grate", "closed": True}}}},
    "ruin": {"name": "Ruin", "description": "Crumbling.", "exits": {"west": "maze"}},
    "shrine": {"name": "Shrine", "description": "Holy.", "flags": ["no_mob"],
               "exits": {"east": "maze"}},
})
FAR: dict[str, Any] = {"zone": {"id": "far", "name": "Far"}, "rooms": {
    "hall": {"name": "Hall", "description": "Far away.", "flags": ["recall"]},
    "road": {"name": "Road", "description": "A road.", "exits": {"north": "hall"}}}}
WILD: dict[str, Any] = {"zone": {"id": "wild", "name": "Wild"}, "rooms": {
    "moor": {"name": "Moor", "description": "Bleak."}}}


def new_world() -> World:
    content = build_content(("world.yaml", arena.WORLD), ("classes.yaml", arena.CLASSES),
                            [("zones/arena.yaml", ZONE), ("far.yaml", FAR),
                             ("wild.yaml", WILD)],
                            spells_doc=("spells.yaml", arena.SPELLS))
    world = World(content, seed=3)
    del world.rooms["arena:ruin"]  # a builder took it away
    return world


def in_the_maze() -> tuple[World, Character, Character, Character]:
    """Ann fighting a rat in the maze; Bob watching in the field."""
    world = new_world()
    ann = arena.player(world, room="arena:maze")
    bob = arena.player(world, "Bob", room="arena:field")
    rat = arena.mob(world, "rat", "arena:maze")
    rat.hp = rat.max_hp = 100
    combat.engage(world, ann, rat)
    world.drain()
    return world, ann, bob, rat


def names_in(view: dict[str, Any]) -> list[str]:
    return [c["name"] for c in view["characters"]]


def test_a_mob_flees_by_the_one_way_open_to_it_into_a_room_with_no_way_back() -> None:
    world, ann, bob, rat = in_the_maze()
    world.rng = rng = Scripted(1)  # the flee roll; one way out: no draw
    assert combat.flee(world, rat)
    assert rng.answers == [] and rat.room == "arena:field"
    out = world.drain()
    assert events(out, "fled", "Ann") == [{"actor": "a rat", "kind": "mob", "direction": "south",
                                           "success": True, "wimpy": False, "xp_lost": 0}]
    assert events(out, "arrived", "Bob") == [
        {"actor": "a rat", "kind": "mob", "direction": None, "level": 1}]


def test_a_player_flees_by_the_way_drawn_of_two_and_sees_the_room_without_herself() -> None:
    world, ann, bob, rat = in_the_maze()
    world.rng = rng = Scripted(1, 1)  # the flee roll, then the second of west and south
    assert combat.flee(world, ann)
    assert rng.asked == [(1, 100), (0, 2)] and ann.room == "arena:field"
    [view] = events(world.drain(), "room", "Ann")
    assert view["id"] == "arena:field" and names_in(view) == ["Bob"]


def test_a_hit_that_takes_a_player_below_her_wimpy_makes_her_flee() -> None:
    world, ann, bob, rat = in_the_maze()
    ann.hp, ann.wimpy = 51, 51
    # The rat's to-hit roll (6: a hit, not critical), its 1d2 (1), Ann's flee roll, the
    # draw between west and south.
    world.rng = rng = Scripted(6, 1, 1, 0)
    combat.swing(world, rat, ann)
    assert rng.answers == [] and ann.hp == 50 and ann.room == "arena:shrine"
    fled = [data for _, name, data in log_of(world.drain()) if name == "fled"]
    assert fled == [{"actor": "Ann", "kind": "player", "direction": "west", "success": True,
                     "wimpy": True, "xp_lost": 0}]


def test_no_wimpy_flight_for_the_dead() -> None:
    world, ann, bob, rat = in_the_maze()
    ann.hp, ann.wimpy, ann.position = 1, 10, Position.DEAD
    assert combat.wimpy_check(world, ann) is False


def test_the_dead_wake_to_a_room_without_themselves() -> None:
    world, ann, bob, rat = in_the_maze()
    combat.damage(world, rat, ann, 1000, "melee")
    [view] = events(world.drain(), "room", "Ann")
    assert view["id"] == "arena:temple" and "Ann" not in names_in(view)


def test_recall_point_is_the_zones_recall_room_else_the_first_else_the_start() -> None:
    world = new_world()
    ann = arena.player(world, room="far:road")
    assert combat.recall_point(world, ann) == "far:hall"  # its own zone's, not the first
    world.move(ann, "wild:moor")
    assert combat.recall_point(world, ann) == "arena:temple"  # no recall room: the first
    ann.room = "nowhere:at_all"
    assert combat.recall_point(world, ann) == "arena:temple"
    ann.recall = "far:road"
    assert combat.recall_point(world, ann) == "far:road"  # its own point
    plain = npc_content.new_world()  # no recall rooms at all: the start room
    assert combat.recall_point(plain, npc_content.player(plain, room="t:b")) == "t:a"


def test_present_means_here_alive_and_in_the_world() -> None:
    world, ann, bob, rat = in_the_maze()
    assert combat.present(world, ann, rat)
    assert not combat.present(world, ann, bob)  # alive and in the world, elsewhere
    assert not combat.present(world, bob, ann)
    rat.position = Position.DEAD
    assert not combat.present(world, ann, rat)
    rat.position = Position.FIGHTING
    world.remove_mob(rat)
    rat.room = ann.room
    assert not combat.present(world, ann, rat)


def test_a_foe_left_turns_on_another_who_fights_it() -> None:
    world, ann, bob, rat = in_the_maze()
    world.move(bob, "arena:maze")
    combat.engage(world, bob, rat)  # the rat keeps on at Ann
    assert rat.fighting is ann
    combat.stop_fighting(world, ann)
    assert rat.fighting is bob and world.fighters == {rat.id: rat, bob.id: bob}
    combat.stop_fighting(world, bob)
    assert rat.fighting is None and world.fighters == {}


def test_a_fighter_turning_on_a_free_foe_brings_it_into_the_round() -> None:
    world, ann, bob, rat = in_the_maze()
    goblin = arena.mob(world, "goblin", "arena:maze")
    combat.retarget(world, ann, goblin)
    assert ann.fighting is goblin and goblin.fighting is ann
    assert world.fighters == {ann.id: ann, rat.id: rat, goblin.id: goblin}


def test_leaving_without_a_fight_touches_nothing() -> None:
    world = new_world()
    ann = arena.player(world)
    combat.withdraw(world, ann)
    world.tick()
    assert [name for to, name, _ in log_of(world.drain()) if to == "Ann"] == []
