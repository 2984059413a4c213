"""Food and drink: eat, drink, fill, on the real starter content (what its shops sell).

Ann, a warrior, stands in the town square (a room flagged `water`: the fountain); the
tavern west of it has no water. Her gauges are lowered by hand where a test needs room
to give back.
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers import events, names, new_world, starter_content

from world.commands.equipment import places_for
from world.commands.food import WATER
from world.entities import Character, Item, ItemType, Position
from world.errors import Code
from world.events import Delivery
from world.prototypes import ContentError, build_content
from world.systems.combat import engage
from world.world import World

SQUARE = "haven:square"
TAVERN = "haven:tavern"


class Table:
    """Ann in the square, and shorthands to act and to read what happened."""

    def __init__(self) -> None:
        self.world: World = new_world(5)
        self.ann: Character = self.world.enter("Ann", "warrior")
        self.ann.inventory.clear()
        self.world.drain()

    def give(self, proto: str) -> Item:
        item = self.world.make_item(proto)
        self.ann.inventory.append(item)
        return item

    def ok(self, line: str) -> list[Delivery]:
        refusal = self.world.perform_line(self.ann, line)
        assert refusal is None, (line, refusal.code, refusal.message)
        return self.world.drain()

    def refused(self, line: str) -> str:
        before = (self.ann.hp, self.ann.moves, self.ann.mana,
                  [(it.proto, it.portions) for it in self.ann.inventory])
        refusal = self.world.perform_line(self.ann, line)
        assert refusal is not None, f"{line!r} was not refused"
        assert refusal.message
        assert self.world.drain() == []
        assert (self.ann.hp, self.ann.moves, self.ann.mana,
                [(it.proto, it.portions) for it in self.ann.inventory]) == before
        return refusal.code


@pytest.fixture
def t() -> Table:
    return Table()


def consumed(out: list[Delivery]) -> dict[str, Any]:
    found = events(out, "item_consumed", "Ann")
    assert len(found) == 1
    one: dict[str, Any] = found[0]
    return one


def test_eating_bread_gives_back_hp_and_moves_and_the_loaf_is_gone(t: Table) -> None:
    bob = t.world.enter("Bob", "mage")
    t.world.drain()
    t.give("haven:bread_loaf")
    t.ann.hp, t.ann.moves = t.ann.max_hp - 10, t.ann.max_moves - 5
    hp = t.ann.hp
    out = t.ok("eat bread")
    assert consumed(out) == {"actor": "Ann", "item": "a loaf of bread", "keyword": "bread",
                             "action": "ate", "hp": 6, "mana": 0, "moves": 5, "left": 0,
                             "gone": True}
    assert events(out, "item_consumed", bob.name) == [consumed(out)]  # the room sees it
    assert t.ann.hp == hp + 6 and t.ann.moves == t.ann.max_moves  # never above the maximum
    assert t.ann.inventory == []
    t.world.tick()
    assert "vitals" in names(t.world.drain(), "Ann")


def test_eating_is_refused_with_a_reason_and_changes_nothing(t: Table) -> None:
    t.ann.hp = 5
    assert t.refused("eat bread") == Code.NOT_CARRIED
    t.world.rooms[SQUARE].items.append(t.world.make_item("haven:bread_loaf"))
    assert t.refused("eat bread") == Code.NOT_CARRIED  # on the floor: pick it up first
    t.give("haven:waterskin")
    assert t.refused("eat waterskin") == Code.BAD_TARGET  # drink it
    t.give("haven:meat_pie")
    t.ann.hp = t.ann.max_hp
    t.ann.moves = t.ann.max_moves
    assert t.refused("eat pie") == Code.ALREADY  # full: keep it for later
    t.ann.hp = 5
    rat = t.world.spawn_mob("haven:cellar_rat", SQUARE)
    t.world.drain()
    engage(t.world, t.ann, rat)
    t.world.drain()
    assert t.refused("eat pie") == Code.POSITION  # not in a fight: potions are for that
    t.world.remove_mob(rat)
    t.ann.fighting = None
    t.ann.position = Position.SLEEPING
    t.world.drain()
    assert t.refused("eat pie") == Code.POSITION


def test_a_waterskin_holds_five_drinks_and_is_filled_at_the_fountain(t: Table) -> None:
    skin = t.give("haven:waterskin")
    t.world.move(t.ann, TAVERN)
    t.world.drain()
    t.ann.moves = 1
    for left in (4, 3, 2, 1, 0):
        got = consumed(t.ok("drink waterskin"))
        assert (got["action"], got["moves"], got["left"], got["gone"]) == ("drank", 15, left,
                                                                          False)
    assert skin in t.ann.inventory and skin.portions == 0  # a vessel stays, empty
    assert t.refused("drink waterskin") == Code.EMPTY
    assert t.refused("fill waterskin") == Code.NOT_HERE  # no water in the tavern
    t.world.move(t.ann, SQUARE)
    t.world.drain()
    out = t.ok("fill skin")
    assert events(out, "item_filled", "Ann") == [{"actor": "Ann", "item": "a waterskin",
                                                  "keyword": "waterskin", "portions": 5}]
    assert skin.portions == 5
    assert t.refused("fill skin") == Code.ALREADY
    t.give("haven:bread_loaf")
    assert t.refused("fill bread") == Code.BAD_TARGET


def test_drinking_from_the_fountain_and_from_nothing(t: Table) -> None:
    assert WATER in t.world.rooms[SQUARE].flags
    assert t.refused("drink") == Code.ALREADY  # not thirsty
    t.ann.moves = 20
    got = consumed(t.ok("drink fountain"))
    assert (got["item"], got["keyword"], got["moves"]) == ("some fresh water", "", 10)
    assert consumed(t.ok("drink"))["moves"] == 10
    t.world.move(t.ann, TAVERN)
    t.world.drain()
    assert t.refused("drink") == Code.BAD_ARGS  # nothing carried, no water here
    assert t.refused("drink fountain") == Code.NOT_CARRIED
    t.give("haven:healing_potion")
    assert t.refused("drink potion") == Code.BAD_TARGET  # quaff it


def test_ale_gives_a_mage_mana_and_the_mug_is_drained(t: Table) -> None:
    bob = t.world.enter("Bob", "mage")
    t.world.drain()
    mug = t.world.make_item("haven:mug_of_ale")
    bob.inventory.append(mug)
    bob.mana, bob.moves = 0, 0
    assert t.world.perform_line(bob, "drink ale") is None
    got = events(t.world.drain(), "item_consumed", "Bob")[0]
    assert (got["mana"], got["moves"], got["gone"]) == (5, 15, True)
    assert (bob.mana, bob.moves) == (5, 15) and mug not in bob.inventory


def test_a_half_empty_waterskin_stays_half_empty_after_a_save(t: Table) -> None:
    skin = t.give("haven:waterskin")
    skin.portions = 2
    data = t.world.snapshot(t.ann)
    assert data["inventory"] == [{"proto": "haven:waterskin", "portions": 2}]
    restored = new_world(6).restore_item(data["inventory"][0])
    assert restored is not None and restored.portions == 2
    full = new_world(6).restore_item({"proto": "haven:waterskin"})
    assert full is not None and full.portions == 5
    bogus = new_world(6).restore_item({"proto": "haven:waterskin", "portions": 99})
    assert bogus is not None and bogus.portions == 5


def test_examine_and_look_in_tell_what_a_drink_gives_and_holds(t: Table) -> None:
    skin = t.give("haven:waterskin")
    skin.portions = 3
    details = events(t.ok("examine waterskin"), "item_examined")[0]["details"]
    assert details["nourish"] == {"moves": 15}
    assert (details["portions"], details["max_portions"], details["refill"]) == (3, 5, True)
    assert events(t.ok("look in waterskin"), "item_examined")[0]["details"] == details
    t.give("haven:meat_pie")
    pie = events(t.ok("examine pie"), "item_examined")[0]["details"]
    assert pie["nourish"] == {"hp": 15, "moves": 30} and pie["max_portions"] == 1


def _wares_and_rewards() -> dict[str, str]:
    """Every item a shop sells, a quest gives or a class starts with: id -> where from."""
    content = starter_content()
    out: dict[str, str] = {}
    for mid, mob in content.mobs.items():
        shop = mob.behaviour_map().get("shopkeeper")
        for ref in (shop or {}).get("sells", []):
            out.setdefault(ref if ":" in ref else f"{mid.split(':')[0]}:{ref}", f"sold by {mid}")
    for qid, quest in content.quests.items():
        for ref in quest.reward.items:
            out.setdefault(ref, f"reward of {qid}")
    for cid, cls in content.classes.items():
        for ref in cls.kit:
            out.setdefault(ref, f"kit of {cid}")
    return out


TRADE_WORDS = ("sell", "trade", "worth", "valuable", "fetch a price")


@pytest.mark.parametrize("item_id", sorted(_wares_and_rewards()))
def test_every_ware_and_reward_is_usable_or_a_trade_good(item_id: str) -> None:
    """What the game sells or gives has a use (worn, wielded, held, eaten, drunk, quaffed,
    read, carried things in) or says in its description that it is for trade."""
    world = new_world(1)
    item = world.make_item(item_id)
    model = world.content.items[item_id]
    if item.type in (ItemType.FOOD, ItemType.DRINK):
        nourish = model.nourish
        assert nourish is not None and nourish.hp + nourish.mana + nourish.moves > 0, item_id
    elif item.type in (ItemType.POTION, ItemType.SCROLL):
        assert item.effects and all(s in world.content.spells for s in item.effects), item_id
    elif item.type is ItemType.CONTAINER:
        assert item.capacity > 0, item_id
    elif item.type in (ItemType.WEAPON, ItemType.ARMOR, ItemType.LIGHT):
        assert places_for(item), item_id
    elif item.type is not ItemType.KEY:
        assert any(w in item.description.lower() for w in TRADE_WORDS), (
            item_id, _wares_and_rewards()[item_id], "neither usable nor said to be for trade")


def test_every_food_and_drink_of_the_content_gives_something() -> None:
    for item_id, model in starter_content().items.items():
        if model.type in ("food", "drink"):
            assert model.nourish is not None, item_id
            assert model.nourish.hp + model.nourish.mana + model.nourish.moves > 0, item_id


def _zone(item: dict[str, Any]) -> list[tuple[str, Any]]:
    return [("z.yaml", {"zone": {"id": "z", "name": "Z"},
                        "rooms": {"r": {"name": "R", "description": "A room."}},
                        "items": {"thing": {"name": "a thing", "keywords": ["thing"],
                                            "description": "A thing.", **item},
                                  "mug": {"extends": "thing", "name": "a mug",
                                          "keywords": ["mug"], "description": "A mug.",
                                          "type": "drink", "nourish": {"moves": 3}}}})]


def _build(item: dict[str, Any]) -> None:
    build_content(("w.yaml", {"name": "W", "start_room": "z:r"}),
                  ("c.yaml", {"classes": {"x": {"name": "X", "description": "X.", "hp": 1,
                                                "mana": 0, "moves": 1, "hp_per_level": 1,
                                                "mana_per_level": 0, "attributes": {}}}}),
                  _zone(item))


def test_nourish_is_checked_in_the_content() -> None:
    _build({"type": "food", "nourish": {"hp": 2, "portions": 3}})  # fine; and `mug` extends
    with pytest.raises(ContentError, match=r"items\.thing.*only food and drink"):
        _build({"type": "weapon", "nourish": {"hp": 2}})
    with pytest.raises(ContentError, match=r"items\.thing.*only a drink can be refilled"):
        _build({"type": "food", "nourish": {"hp": 2, "refill": True}})
    with pytest.raises(ContentError, match=r"items\.thing\.nourish\.portions"):
        _build({"type": "drink", "nourish": {"moves": 2, "portions": 0}})
