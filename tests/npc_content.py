"""A small world of our own for the mob-behaviour, quest and trainer tests.

Built with `build_content` from dicts, so those tests do not depend on the real
content/ (which changes as the world grows). Map of zone `t` (and one room of `u`):

    u:x
     |
     a (up: sanctum, safe) -- b -- d (no_mob)
     |  (a closed door)
     c
"""

from __future__ import annotations

from typing import Any

from world.entities import Character
from world.prototypes import Content, build_content
from world.world import World

CLASSES: dict[str, Any] = {"classes": {
    "warrior": {"name": "Warrior", "description": "Hits things.", "hp": 30, "mana": 0,
                "moves": 100, "hp_per_level": 10, "mana_per_level": 0,
                "attributes": {"str": 16, "dex": 12, "con": 15, "int": 8, "wis": 9}},
    "mage": {"name": "Mage", "description": "Casts spells.", "hp": 20, "mana": 40,
             "moves": 100, "hp_per_level": 5, "mana_per_level": 10,
             "attributes": {"str": 8, "dex": 12, "con": 10, "int": 17, "wis": 13}},
}}

SPELLS: dict[str, Any] = {"spells": {
    "bash": {"name": "bash", "description": "Slam into a foe.", "skill": True, "kind": "bash",
             "dice": "1d4", "classes": {"warrior": 1}},
    "kick": {"name": "kick", "description": "A kick.", "skill": True, "kind": "kick",
             "dice": "1d6", "classes": {"warrior": 3}},
    "magic_missile": {"name": "magic missile", "description": "A bolt of force.",
                      "kind": "damage", "mana": 5, "dice": "1d6", "classes": {"mage": 1}},
}}


def _room(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "description": f"The {name.lower()}, plain and quiet.", **extra}


def _mob(name: str, level: int = 1, **extra: Any) -> dict[str, Any]:
    word = name.split()[-1]
    return {"name": name, "keywords": [word], "short": f"{name.capitalize()} is here.",
            "description": f"Just {name}.", "level": level, **extra}


def _item(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "keywords": [name.split()[-1]], "description": f"Just {name}.",
            **extra}


ZONE_T: dict[str, Any] = {
    "zone": {"id": "t", "name": "Test"},
    "rooms": {
        "a": _room("Hall", exits={"east": "b", "north": "u:x", "up": "sanctum",
                                  "south": {"to": "c", "door": {"name": "door", "closed": True}}}),
        "b": _room("Yard", exits={"west": "a", "east": "d"}),
        "c": _room("Cellar", exits={"north": {"to": "a",
                                              "door": {"name": "door", "closed": True}}}),
        "d": _room("Shrine", exits={"west": "b"}, flags=["no_mob"]),
        "sanctum": _room("Sanctum", exits={"down": "a"}, flags=["safe"]),
    },
    "items": {
        "coin": _item("a gold coin", type="treasure", value=10),
        "gem": _item("a red gem", type="treasure", value=50),
        "pelt": _item("a rat pelt", value=1),
        "parcel": _item("a sealed parcel"),
        "ring": _item("a copper ring", slot="finger", value=5),
    },
    "mobs": {
        "rat": _mob("a rat", behaviours=[{"wander": {"every": 1, "chance": 100}}]),
        "guard": _mob("a guard", 5, behaviours=["sentinel", {"wander": {"every": 1}}]),
        "statue": _mob("a statue"),
        "orc": _mob("an orc", 3, behaviours=["aggressive"]),
        "goblin": _mob("a goblin", 2, behaviours=[{"aggressive": {"max_level": 3}}]),
        "wolf": _mob("a wolf", 2, behaviours=["assist"]),
        "alpha": _mob("an alpha wolf", 4, behaviours=[{"assist": {"kinds": ["wolf"]}}]),
        "coward": _mob("a coward", 2, hp=40, behaviours=[{"wimpy": {"percent": 50}}]),
        "magpie": _mob("a magpie", behaviours=[{"scavenger": {"every": 1, "chance": 100}}]),
        "looter": _mob("a looter", loot=[{"item": "coin", "chance": 100},
                                         {"item": "gem", "chance": 1}]),
        "elder": _mob("the elder", 10, behaviours=["quest_giver", "sentinel"]),
        "smith": _mob("the smith", 10, behaviours=["sentinel"]),
        "master": _mob("the master", 20, behaviours=["trainer"]),
        "priest": _mob("the priest", 20, behaviours=["sentinel", {"healer": {"amount": 7}}]),
        "tutor": _mob("the tutor", 20, behaviours=[
            {"trainer": {"teaches": ["bash"], "price": 5, "max": 20}}]),
    },
    "quests": {
        "rats": {"name": "Rat Catcher", "description": "Kill two rats.", "giver": "elder",
                 "kind": "kill", "target": "rat", "count": 2,
                 "reward": {"xp": 100, "gold": 50, "items": ["ring"]}},
        "pelts": {"name": "Pelts for the Elder", "description": "Bring two pelts.",
                  "giver": "elder", "kind": "collect", "target": "pelt", "count": 2,
                  "reward": {"gold": 20}},
        "parcel": {"name": "A Parcel", "description": "Take this to the smith.",
                   "giver": "elder", "kind": "deliver", "target": "parcel", "to": "smith",
                   "reward": {"xp": 50, "gold": 5}},
        "orcs": {"name": "Orc Slayer", "description": "Kill an orc.", "giver": "elder",
                 "kind": "kill", "target": "orc", "level": 5},
    },
}

ZONE_U: dict[str, Any] = {
    "zone": {"id": "u", "name": "Elsewhere"},
    "rooms": {"x": _room("Outside", exits={"south": "t:a"})},
}


def content() -> Content:
    """The test content: zones t and u, two classes, three spells."""
    return build_content(
        ("world.yaml", {"name": "Testland", "start_room": "t:a"}),
        ("classes.yaml", CLASSES),
        [("t.yaml", ZONE_T), ("u.yaml", ZONE_U)],
        spells_doc=("spells.yaml", SPELLS),
    )


def new_world(seed: int = 3) -> World:
    """A fresh world of the test content (no mobs until a test spawns them)."""
    return World(content(), seed=seed)


def ticks(world: World, n: int) -> None:
    """Run `n` ticks."""
    for _ in range(n):
        world.tick()


def player(world: World, name: str = "Ann", cls: str = "warrior", room: str = "t:a",
           level: int = 1) -> Character:
    """A character entered into the world, moved to `room`; drains."""
    ch = world.enter(name, cls)
    ch.level = level
    if room != ch.room:
        world.move(ch, room)
    world.drain()
    return ch
