"""Progression pinned: the gains of a level written out by hand, the level span at the
cap, XP lost and gained at their edges, and a kill's worth for a group.

The rules are those of world/systems/progression.py's docstring. A level's hit points
are the class's `hp_per_level` + (constitution - 12) // 2, at least 1; its mana
`mana_per_level` + (the better of intelligence and wisdom - 12) // 2, at least 1 (for
classes with mana); attributes grow by the class `growth`, never past 25. Written to
kill the mutants `make mutate` found surviving in progression.py (docs/testing.md).
"""

from __future__ import annotations

import copy
from typing import Any

import arena
from helpers import events

from world.entities import Character
from world.prototypes import build_content
from world.systems import groups, progression
from world.world import World

CLASSES: dict[str, Any] = {"classes": {
    **arena.CLASSES["classes"],
    # Next to nothing a level, and a growth of just under a point.
    "monk": {"name": "Monk", "description": "Still.", "hp": 10, "mana": 5, "moves": 90,
             "hp_per_level": 1, "mana_per_level": 1, "moves_per_level": 0,
             "attributes": {"str": 10, "dex": 10, "con": 10, "int": 10, "wis": 10},
             "growth": {"dex": 0.9999999}},
}}
ZONE = copy.deepcopy(arena.ZONE)
ZONE["mobs"]["gnat"] = {"name": "a gnat", "keywords": ["gnat"], "short": "A gnat.",
                        "description": "Tiny.", "level": 1, "xp": 10}


def new_world() -> World:
    content = build_content(("world.yaml", arena.WORLD), ("classes.yaml", CLASSES),
                            [("zones/arena.yaml", ZONE)],
                            spells_doc=("spells.yaml", {"spells": {}}))
    return World(content, seed=3)


def gained(world: World, ch: Character, **attributes: int) -> dict[str, Any]:
    """Level `ch` up once from these base attributes (the rest as they are), hurt to 5 hp,
    5 mana and 5 moves; the level_gained event's data with the gauges after it."""
    ch.attributes.update(attributes)
    ch.hp = ch.mana = ch.moves = 5
    world.drain()
    progression.level_up(world, ch)
    [data] = events(world.drain(), "level_gained")
    return {**data, "gauges": (ch.hp, ch.mana, ch.moves)}


def test_a_warriors_level() -> None:
    world = new_world()
    ann = arena.player(world)  # growth: str 0.5, con 1.0; 10 hp and 5 moves a level
    got = gained(world, ann, str=17, con=15)
    # Level 2: str 0.5 * 2 = 1 whole point, con 1; con 16 gives (16 - 12) // 2 = 2.
    assert got == {"level": 2, "hp": 12, "mana": 0, "moves": 5,
                   "attributes": {"str": 1, "con": 1}, "learned": [], "gauges": (17, 5, 10)}
    assert (ann.attributes["str"], ann.attributes["con"]) == (18, 16)


def test_growth_stops_at_25_and_starts_from_10_when_unset() -> None:
    world = new_world()
    ann = arena.player(world)
    got = gained(world, ann, str=25, con=25)
    assert got["attributes"] == {} and got["hp"] == 10 + 6
    assert (ann.attributes["str"], ann.attributes["con"]) == (25, 25)
    bob = arena.player(world, "Bob")
    del bob.attributes["con"]
    got = gained(world, bob, str=17)
    assert got["attributes"] == {"str": 1, "con": 1}
    assert bob.attributes["con"] == 11 and got["hp"] == 10 - 1  # (11 - 12) // 2


def test_a_mages_mana_counts_the_better_of_intelligence_and_wisdom() -> None:
    world = new_world()
    mia = arena.player(world, "Mia", "mage")  # 5 hp, 10 mana, 4 moves a level; int 0.5
    got = gained(world, mia, int=12, wis=22, con=10)
    # int 13 after growth; wis 22: 10 + (22 - 12) // 2 = 15 mana; 5 + (10 - 12) // 2 = 4 hp
    assert got == {"level": 2, "hp": 4, "mana": 15, "moves": 4, "attributes": {"int": 1},
                   "learned": [], "gauges": (9, 20, 9)}


def test_a_level_gives_at_least_1_hp_and_1_mana() -> None:
    world = new_world()
    mo = arena.player(world, "Mo", "monk")
    got = gained(world, mo, con=3, int=3, wis=3, dex=10)
    # 1 + (3 - 12) // 2 = -4: 1 each. Growth 0.9999999 a level is a point (within a
    # millionth), so each level grows dexterity by one.
    assert got == {"level": 2, "hp": 1, "mana": 1, "moves": 0, "attributes": {"dex": 1},
                   "learned": [], "gauges": (6, 6, 5)}


def test_the_level_span_stays_the_last_one_at_and_past_the_cap() -> None:
    assert progression.level_span(1) == progression.level_span(0) == 1000
    assert progression.level_span(18) == 101961 - 93050
    assert progression.level_span(19) == 111174 - 101961
    assert progression.level_span(20) == progression.level_span(25) == 111174 - 101961


def test_xp_lost_at_its_edges() -> None:
    world = new_world()
    ann = arena.player(world, level=3)
    ann.xp += 10
    world.drain()
    assert progression.lose_xp(world, ann, 0, "flee") == 0
    assert progression.lose_xp(world, ann, 1, "flee") == 1
    assert events(world.drain(), "xp_lost") == [
        {"amount": 1, "reason": "flee", "xp": 3031 + 9, "xp_next": 5799}]
    assert progression.lose_xp(world, ann, 50, "death") == 9  # down to the level's start
    assert progression.lose_xp(world, ann, 50, "death") == 0 and ann.xp == 3031
    rat = arena.mob(world, "rat")
    rat.xp = 5000
    assert progression.lose_xp(world, rat, 10, "death") == 0 and rat.xp == 5000


def test_a_reason_splits_into_a_source_only_when_none_is_given() -> None:
    world = new_world()
    ann = arena.player(world)
    progression.gain_xp(world, ann, 10, "quest:arena:rats")
    progression.gain_xp(world, ann, 10, "bonus:x", "a gift")
    assert [(e["reason"], e["source"]) for e in events(world.drain(), "xp_gained")] == [
        ("quest", "arena:rats"), ("bonus:x", "a gift")]


def test_what_a_kill_would_give_counts_the_group_here() -> None:
    world = new_world()
    ann = arena.player(world)
    bob = arena.player(world, "Bob")
    dummy = arena.mob(world, "dummy")  # level 1, content xp 77
    assert progression.consider_xp(world, ann, dummy) == 77
    groups.follow(world, bob, ann)
    groups.add_member(world, ann, bob)
    # 77 * 110 % for two, half each by level: 42.35.
    assert progression.consider_xp(world, ann, dummy) == 42
    assert progression.consider_xp(world, ann, bob) == 0  # not a mob: worth nothing


def test_a_trivial_kill_is_still_worth_1_xp() -> None:
    world = new_world()
    ann = arena.player(world, level=20)
    rat = arena.mob(world, "rat")  # level 1: 40 + 25 = 65 XP, at 5 % for a level 20: 3.25
    assert progression.consider_xp(world, ann, rat) == 3
    gnat = arena.mob(world, "gnat")  # content xp 10, at 5 %: 0.5
    assert progression.consider_xp(world, ann, gnat) == 1
