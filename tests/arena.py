"""A small world of our own for the combat and progression tests (not the real content/).

Zone `arena`:

    temple (safe, recall)          cell (no exits)
       |
     yard ---- pit (pvp)
       |
     field

Mobs: a rat (level 1), a goblin (level 3, carries a sword, 2..2 gold), an ogre
(level 10, hits hard), a merchant (shopkeeper), a dummy (level 1, huge hp, harmless).
Classes: warrior (grows str 0.5 and con 1 a level), mage, cleric, rogue.
Spells: magic missile (mage 1), armor (mage 3, cleric 1), kick (warrior 1, a skill),
second wind (warrior 2, a skill), fireball (mage 12).
"""

from __future__ import annotations

from typing import Any

from helpers import Log, log_of

from world.entities import Character
from world.prototypes import Content, build_content
from world.world import World

WORLD = {"name": "Arena", "start_room": "arena:yard"}

CLASSES: dict[str, Any] = {"classes": {
    "warrior": {"name": "Warrior", "description": "Steel.", "hp": 24, "mana": 0, "moves": 100,
                "hp_per_level": 10, "mana_per_level": 0, "moves_per_level": 5,
                "attributes": {"str": 17, "dex": 12, "con": 16, "int": 9, "wis": 10},
                "growth": {"str": 0.5, "con": 1.0}, "hit": 2},
    "mage": {"name": "Mage", "description": "Words.", "hp": 14, "mana": 30, "moves": 80,
             "hp_per_level": 5, "mana_per_level": 10, "moves_per_level": 4,
             "attributes": {"str": 8, "dex": 12, "con": 10, "int": 18, "wis": 14},
             "growth": {"int": 0.5}},
    "cleric": {"name": "Cleric", "description": "Faith.", "hp": 19, "mana": 20, "moves": 90,
               "hp_per_level": 7, "mana_per_level": 7, "moves_per_level": 5,
               "attributes": {"str": 13, "dex": 10, "con": 13, "int": 11, "wis": 17}},
    "rogue": {"name": "Rogue", "description": "Quick.", "hp": 18, "mana": 5, "moves": 120,
              "hp_per_level": 7, "mana_per_level": 2, "moves_per_level": 8,
              "attributes": {"str": 11, "dex": 18, "con": 12, "int": 13, "wis": 10}},
}}

SPELLS: dict[str, Any] = {"spells": {
    "magic_missile": {"name": "magic missile", "description": "Darts of force.",
                      "kind": "damage", "mana": 5, "dice": "1d4+1", "classes": {"mage": 1}},
    "armor": {"name": "armor", "description": "A shimmering ward.", "kind": "buff",
              "target": "ally", "mana": 5, "classes": {"mage": 3, "cleric": 1},
              "effect": {"name": "armor", "duration": 600, "mods": {"armor": 2}}},
    "kick": {"name": "kick", "description": "A swift kick.", "skill": True, "kind": "kick",
             "classes": {"warrior": 1}},
    "second_wind": {"name": "second wind", "description": "Breathe.", "skill": True,
                    "kind": "heal", "target": "self", "classes": {"warrior": 2}},
    "fireball": {"name": "fireball", "description": "Boom.", "kind": "area",
                 "target": "room_enemies", "mana": 20, "dice": "4d6", "classes": {"mage": 12}},
}}


def _mob(name: str, keywords: list[str], level: int, **more: Any) -> dict[str, Any]:
    return {"name": name, "keywords": keywords, "short": f"{name.capitalize()} is here.",
            "description": f"It is {name}.", "level": level, **more}


ZONE: dict[str, Any] = {
    "zone": {"id": "arena", "name": "The Arena", "levels": [1, 20]},
    "rooms": {
        "temple": {"name": "Temple", "description": "Quiet.", "flags": ["safe", "recall"],
                   "exits": {"south": "yard"}},
        "yard": {"name": "Yard", "description": "Dusty.",
                 "exits": {"north": "temple", "east": "pit", "south": "field"}},
        "pit": {"name": "Pit", "description": "Bloody sand.", "flags": ["pvp"],
                "exits": {"west": "yard"}},
        "field": {"name": "Field", "description": "Grass.", "exits": {"north": "yard"}},
        "cell": {"name": "Cell", "description": "No way out."},
    },
    "items": {
        "sword": {"name": "a short sword", "keywords": ["sword"], "description": "Sharp.",
                  "type": "weapon", "slot": "wield", "damage": "2d4", "weight": 4},
        "bread": {"name": "a loaf of bread", "keywords": ["bread"], "description": "Crusty.",
                  "type": "food"},
    },
    "mobs": {
        "rat": _mob("a rat", ["rat"], 1, hp=10, damage="1d2"),
        "goblin": _mob("a goblin", ["goblin"], 3, gold=[2, 2], inventory=["bread"],
                       equipment=["sword"]),
        "ogre": _mob("an ogre", ["ogre"], 10, damage="3d8+4", hit=10),
        "merchant": _mob("a merchant", ["merchant"], 5, behaviours=["shopkeeper", "sentinel"]),
        "dummy": _mob("a training dummy", ["dummy"], 1, hp=100_000, damage="1d1", hit=-20,
                      xp=77),
    },
}


def content() -> Content:
    """The arena content, built from the dicts above."""
    return build_content(("world.yaml", WORLD), ("classes.yaml", CLASSES),
                         [("zones/arena.yaml", ZONE)], spells_doc=("spells.yaml", SPELLS))


_CONTENT = content()


def new_world(seed: int = 3) -> World:
    """A fresh arena world (nothing spawned: tests put their mobs where they want them)."""
    return World(_CONTENT, seed=seed)


def player(world: World, name: str = "Ann", cls: str = "warrior", room: str = "arena:yard",
           level: int = 1) -> Character:
    """Bring a player in, standing in `room`, at `level` (with that level's XP); drains."""
    ch = world.enter(name, cls)
    world.move(ch, room)
    if level > 1:
        from world import rules

        ch.level = level
        ch.xp = rules.xp_for_level(level)
    world.drain()
    return ch


def mob(world: World, proto: str, room: str = "arena:yard") -> Character:
    """Spawn `arena:<proto>` in `room`; drains."""
    m = world.spawn_mob(f"arena:{proto}", room)
    world.drain()
    return m


def ticks(world: World, n: int) -> Log:
    """Run `n` ticks; what they caused, as plain data."""
    out: Log = []
    for _ in range(n):
        world.tick()
        out += log_of(world.drain())
    return out


def rounds(world: World, n: int = 1) -> Log:
    """Run `n` full combat rounds: `ROUND_TICKS` ticks each, in which every fighter has its
    (staggered) turn once."""
    from world.systems.combat import ROUND_TICKS

    return ticks(world, n * ROUND_TICKS)
