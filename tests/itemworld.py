"""A small world of its own for the item, equipment and shop tests.

Built with `build_content` from dicts, so the tests do not depend on the
content in content/ (which other people change). Two rooms, `mart:square` and
`mart:store`; a shopkeeper, a rat; a few items of each type. `Play` wraps a
world with Ann (a warrior) and Bob (a mage) in the square.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from world.commands.registry import Call
from world.entities import Character, Item
from world.events import Delivery, Event
from world.prototypes import Content, build_content
from world.world import World

SQUARE = "mart:square"
STORE = "mart:store"

CLASSES: dict[str, Any] = {"classes": {
    "warrior": {"name": "Warrior", "description": "Fights.", "hp": 30, "mana": 0, "moves": 100,
                "hp_per_level": 10, "mana_per_level": 0,
                "attributes": {"str": 16, "dex": 12, "con": 15, "int": 9, "wis": 10}},
    "mage": {"name": "Mage", "description": "Casts.", "hp": 15, "mana": 30, "moves": 80,
             "hp_per_level": 5, "mana_per_level": 10,
             "attributes": {"str": 8, "dex": 14, "con": 10, "int": 18, "wis": 14}},
}}

SHOPKEEPER_CONFIG: dict[str, Any] = {
    "sells": ["bread", "sword", "greatsword", "mart:bag"],
    "buys": ["weapon", "armor", "treasure", "container"],
    "markup": 1.5,
    "buyback": 0.5,
}


def _item(name: str, keywords: list[str], **more: Any) -> dict[str, Any]:
    return {"name": name, "keywords": keywords, "description": f"This is {name}.",
            "short": f"{name[:1].upper()}{name[1:]} is here.", **more}


ITEMS: dict[str, Any] = {
    "bread": _item("a loaf of bread", ["bread", "loaf"], type="food", value=4),
    "sword": _item("a short sword", ["sword", "short"], type="weapon", slot="wield",
                   damage="1d8", weight=6, value=40),
    "greatsword": _item("a greatsword", ["greatsword", "sword"], type="weapon", slot="wield",
                        damage="2d6", two_handed=True, weight=15, value=100, level=3),
    "club": _item("a wooden club", ["club"], type="weapon", damage="1d6", weight=4, value=3),
    "shield": _item("a round shield", ["shield", "round"], type="armor", slot="shield",
                    armor=3, weight=8, value=30),
    "helmet": _item("an iron helmet", ["helmet", "iron"], type="armor", slot="head", armor=2,
                    weight=4, value=20),
    "cap": _item("a leather cap", ["cap", "leather"], type="armor", slot="head", armor=1,
                 weight=1, value=6),
    "ring": _item("a silver ring", ["ring", "silver"], type="armor", slot="finger",
                  mods={"str": 2}, value=50),
    "amulet": _item("a bone amulet", ["amulet", "bone"], type="armor", slot="neck", value=10),
    "charm": _item("a jade charm", ["charm", "jade"], type="armor", slot="neck",
                   mods={"max_hp": 10, "max_mana": 5}, value=60),
    "robe": _item("a star robe", ["robe", "star"], type="armor", slot="body", armor=1,
                  classes=["mage"], weight=2, value=30),
    "torch": _item("a torch", ["torch"], type="light", weight=1, value=1),
    "orb": _item("a glass orb", ["orb", "glass"], slot="hold", value=12),
    "bag": _item("a canvas bag", ["bag", "canvas"], type="container", capacity=20, weight=2,
                 value=8),
    "chest": _item("an oak chest", ["chest", "oak"], type="container", capacity=200,
                   weight=60, flags=["no_take"]),
    "anvil": _item("an anvil", ["anvil"], weight=400),
    "purse": _item("a pile of gold", ["gold", "coins", "pile"], type="money", gold=25,
                   weight=0),
    "coin": _item("a copper coin", ["coin", "copper"], weight=0, value=2),
    "gem": _item("a red gem", ["gem", "red"], type="treasure", value=100),
    "pebble": _item("a pebble", ["pebble"], type="treasure", value=0),
}

MOBS: dict[str, Any] = {
    "merchant": {"name": "Olga the merchant", "keywords": ["olga", "merchant"],
                 "short": "Olga the merchant stands behind her counter.",
                 "description": "A stout woman with a ledger.", "level": 10,
                 "behaviours": [{"shopkeeper": SHOPKEEPER_CONFIG}, "sentinel"]},
    "rat": {"name": "a rat", "keywords": ["rat"], "short": "A rat sniffs about.",
            "description": "A grey rat.", "level": 1},
}


def zone(mobs: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `mart` zone document (`mobs` replaces the mob prototypes)."""
    return {
        "zone": {"id": "mart", "name": "Mart"},
        "rooms": {
            "square": {"name": "Square", "description": "A square.", "exits": {"east": "store"}},
            "store": {"name": "Store", "description": "A store.", "exits": {"west": "square"}},
        },
        "items": copy.deepcopy(ITEMS),
        "mobs": copy.deepcopy(MOBS if mobs is None else mobs),
    }


def other_zone() -> dict[str, Any]:
    """A second zone with one item, to sell across zones."""
    return {"zone": {"id": "far", "name": "Far"},
            "rooms": {"hut": {"name": "Hut", "description": "A hut."}},
            "items": {"apple": _item("an apple", ["apple"], type="food", value=3)}}


def build(mobs: dict[str, Any] | None = None) -> Content:
    """The test content (with other mob prototypes if given)."""
    return build_content(
        ("world.yaml", {"name": "Mart", "start_room": SQUARE}),
        ("classes.yaml", CLASSES),
        [("mart.yaml", zone(mobs)), ("far.yaml", other_zone())],
    )


@dataclass
class Play:
    """A world with Ann (warrior) and Bob (mage) in the square, and shorthands."""

    world: World
    ann: Character
    bob: Character
    signals: list[Event] = field(default_factory=list)

    def ok(self, who: Character, line: str) -> list[Delivery]:
        """Run a line that must succeed; check the containment invariant; return events."""
        refusal = self.world.perform_line(who, line)
        assert refusal is None, (line, refusal.code, refusal.message)
        check_places(self.world)
        return self.world.drain()

    def call(self, who: Character, tool: str, **args: Any) -> list[Delivery]:
        """Run a structured call that must succeed; return events."""
        refusal = self.world.perform(who, Call(tool, args))
        assert refusal is None, (tool, args, refusal.code, refusal.message)
        check_places(self.world)
        return self.world.drain()

    def refused(self, who: Character, line: str) -> str:
        """Run a line that must be refused, with no event and nothing moved; return the code."""
        before = where_is(self.world), who.gold, {k: v.gold for k, v in self.world.mobs.items()}
        refusal = self.world.perform_line(who, line)
        assert refusal is not None, f"{line!r} was not refused"
        assert refusal.message
        assert self.world.drain() == []
        assert (where_is(self.world), who.gold,
                {k: v.gold for k, v in self.world.mobs.items()}) == before
        return refusal.code

    def give(self, who: Character, *protos: str) -> list[Item]:
        """Put fresh items of these prototypes into `who`'s inventory."""
        made = [self.world.make_item(p if ":" in p else f"mart:{p}") for p in protos]
        who.inventory.extend(made)
        return made

    def floor(self, *protos: str, room: str = SQUARE) -> list[Item]:
        """Put fresh items of these prototypes on a room's floor."""
        made = [self.world.make_item(p if ":" in p else f"mart:{p}") for p in protos]
        self.world.rooms[room].items.extend(made)
        return made


def new_play(seed: int = 3, mobs: dict[str, Any] | None = None) -> Play:
    """A fresh `Play`; signals (item_given, item_taken...) are recorded in `signals`."""
    world = World(build(mobs), seed=seed)
    ann = world.enter("Ann", "warrior")
    bob = world.enter("Bob", "mage")
    world.drain()
    play = Play(world, ann, bob)
    real_signal = world.signal

    def record(event: Event) -> None:
        play.signals.append(event)
        real_signal(event)

    world.signal = record  # type: ignore[method-assign]
    return play


def _walk(item: Item, place: str, out: list[tuple[int, str]]) -> None:
    out.append((item.id, place))
    for inner in item.contents:
        _walk(inner, f"in:{item.id}", out)


def where_is(world: World) -> dict[int, str]:
    """Every item's id and the one place it is (fails if an item is in two places)."""
    out: list[tuple[int, str]] = []
    for rid, room in world.rooms.items():
        for it in room.items:
            _walk(it, f"room:{rid}", out)
    people = [*world.characters.values(), *world.mobs.values()]
    for ch in people:
        for it in ch.inventory:
            _walk(it, f"inv:{ch.name}", out)
        for slot, it in ch.equipment.items():
            _walk(it, f"eq:{ch.name}:{slot}", out)
    counts = Counter(item_id for item_id, _ in out)
    twice = [item_id for item_id, n in counts.items() if n > 1]
    assert not twice, f"items in more than one place: {twice}"
    return dict(out)


def check_places(world: World) -> None:
    """The containment invariant: every item is in exactly one place."""
    where_is(world)
