"""Wearing things: wear, wield, hold, remove, equipment; slots, restrictions, two hands, mods.

Built on the small `mart` world of tests/itemworld.py; asserts on events.
"""

from __future__ import annotations

import copy
import json

import pytest
from helpers import events, log_of, names, new_world
from itemworld import CLASSES, SQUARE, Play, check_places, new_play, zone

from world import rules
from world.entities import ItemType, Slot
from world.errors import Code
from world.inventory import max_count, max_weight
from world.prototypes import build_content
from world.world import World


@pytest.fixture
def p() -> Play:
    return new_play()


def worn(p: Play, who: str = "ann") -> dict[str, str]:
    ch = p.ann if who == "ann" else p.bob
    return {str(slot): it.proto.split(":")[1] for slot, it in ch.equipment.items()}


def changed(item: str, keyword: str, slot: str, action: str, actor: str = "Ann"
            ) -> dict[str, str]:
    return {"actor": actor, "item": item, "keyword": keyword, "slot": slot, "action": action}


def test_wear_puts_an_item_in_its_place_and_tells_the_room(p: Play) -> None:
    p.give(p.ann, "helmet")
    ac = rules.armor_class(p.ann)
    out = p.ok(p.ann, "wear helmet")
    data = changed("an iron helmet", "helmet", "head", "worn")
    assert log_of(out) == [("Ann", "equipment_changed", data), ("Bob", "equipment_changed", data)]
    assert worn(p) == {"head": "helmet"} and p.ann.inventory == []
    assert rules.armor_class(p.ann) == ac + 2
    assert p.refused(p.ann, "wear helmet") == Code.NOT_CARRIED


def test_equipment_lists_every_slot_and_the_armour_class(p: Play) -> None:
    p.give(p.ann, "helmet", "sword")
    p.ok(p.ann, "wear helmet")
    p.ok(p.ann, "wield sword")
    listed = events(p.ok(p.ann, "equipment"), "equipment_listed")[0]
    assert [s["slot"] for s in listed["slots"]] == [s.value for s in Slot]
    assert len(listed["slots"]) == 16
    by_slot = {s["slot"]: (s["item"], s["keyword"]) for s in listed["slots"]}
    assert by_slot["head"] == ("an iron helmet", "helmet")
    assert by_slot["wield"] == ("a short sword", "sword")
    assert by_slot["feet"] == (None, None)
    assert listed["armor_class"] == 3  # the helmet's 2 + (dex 12 - 10) // 2
    assert names(p.ok(p.ann, "eq")) == ["equipment_listed"]


def test_wearing_over_something_swaps_it(p: Play) -> None:
    p.give(p.ann, "cap", "helmet")
    p.ok(p.ann, "wear cap")
    out = p.ok(p.ann, "wear helmet")
    assert events(out, "equipment_changed", "Ann") == [
        changed("a leather cap", "cap", "head", "removed"),
        changed("an iron helmet", "helmet", "head", "worn")]
    assert worn(p) == {"head": "helmet"}
    assert [it.proto for it in p.ann.inventory] == ["mart:cap"]


def test_paired_places_fill_in_turn(p: Play) -> None:
    first, second, third = p.give(p.ann, "ring", "ring", "ring")
    p.ok(p.ann, "wear ring")
    p.ok(p.ann, "wear ring")
    assert p.ann.equipment[Slot.FINGER1] is first and p.ann.equipment[Slot.FINGER2] is second
    p.ok(p.ann, "wear ring")  # both fingers full: the first is swapped
    assert p.ann.equipment[Slot.FINGER1] is third
    assert p.ann.inventory == [first]
    p.give(p.ann, "amulet", "amulet")
    p.ok(p.ann, "wear all.amulet")
    assert {str(s) for s in p.ann.equipment} >= {"neck1", "neck2"}


def test_mods_of_worn_items_apply(p: Play) -> None:
    p.give(p.ann, "ring", "ring")
    strength, carry = rules.attribute(p.ann, "str"), max_weight(p.ann)
    p.ok(p.ann, "wear all")
    assert rules.attribute(p.ann, "str") == strength + 4
    assert max_weight(p.ann) == carry + 20
    p.ok(p.ann, "remove all")
    assert rules.attribute(p.ann, "str") == strength


def test_maximum_gauges_from_worn_items(p: Play) -> None:
    p.give(p.ann, "charm", "charm")
    hp, mana = p.ann.max_hp, p.ann.max_mana  # a warrior: no mana of his own
    out = p.ok(p.ann, "wear all")
    assert (p.ann.max_hp, p.ann.max_mana) == (hp + 20, mana + 10)
    assert p.ann.hp == hp  # the gauge grows; what is in it comes with regeneration
    p.world.tick()
    assert events(p.world.drain(), "vitals", "Ann")[0]["max_hp"] == hp + 20
    assert names(out, "Ann") == ["equipment_changed"] * 2
    p.ann.hp, p.ann.mana = hp + 20, mana + 10
    p.ok(p.ann, "remove charm")
    p.ok(p.ann, "remove charm")
    assert (p.ann.max_hp, p.ann.max_mana, p.ann.hp, p.ann.mana) == (hp, mana, hp, mana)
    p.ok(p.ann, "wear charm")
    p.give(p.ann, "amulet", "amulet")
    p.ok(p.ann, "wear amulet")
    p.ok(p.ann, "wear amulet")  # both necks full: the charm is swapped out
    assert (p.ann.max_hp, p.ann.max_mana) == (hp, mana)


def test_wield_and_hold(p: Play) -> None:
    p.give(p.ann, "sword", "club", "torch", "orb", "helmet", "bread")
    out = p.ok(p.ann, "wield sword")
    assert events(out, "equipment_changed", "Ann") == [
        changed("a short sword", "sword", "wield", "worn")]
    p.ok(p.ann, "wield club")  # a weapon without a slot is wielded; the sword comes back
    assert worn(p) == {"wield": "club"}
    p.ok(p.ann, "hold torch")
    p.ok(p.ann, "hold orb")
    assert worn(p) == {"wield": "club", "light": "torch", "offhand": "orb"}
    assert p.refused(p.ann, "wield helmet") == Code.CANT_WEAR
    assert p.refused(p.ann, "hold helmet") == Code.CANT_WEAR
    assert p.refused(p.ann, "wear bread") == Code.CANT_WEAR
    assert p.refused(p.ann, "wield axe") == Code.NOT_CARRIED


def test_two_handed_weapons_need_the_off_hand(p: Play) -> None:
    p.ann.level = 5
    p.give(p.ann, "greatsword", "shield", "orb", "sword")
    p.ok(p.ann, "wear shield")
    assert p.refused(p.ann, "wield greatsword") == Code.HANDS_FULL
    p.ok(p.ann, "remove shield")
    p.ok(p.ann, "wield greatsword")
    assert p.refused(p.ann, "wear shield") == Code.HANDS_FULL
    assert p.refused(p.ann, "hold orb") == Code.HANDS_FULL
    p.ok(p.ann, "wield sword")  # a one-handed weapon frees the off hand again
    p.ok(p.ann, "wear shield")
    assert worn(p) == {"wield": "sword", "offhand": "shield"}


def test_level_and_class_restrictions(p: Play) -> None:
    p.give(p.ann, "greatsword", "robe")
    p.give(p.bob, "robe")
    assert p.refused(p.ann, "wield greatsword") == Code.LEVEL_TOO_LOW
    assert p.refused(p.ann, "wear robe") == Code.WRONG_CLASS
    p.ok(p.bob, "wear robe")
    assert worn(p, "bob") == {"body": "robe"}
    p.ann.level = 3
    p.ok(p.ann, "wield greatsword")


def test_wear_all_fills_empty_places_only(p: Play) -> None:
    p.give(p.ann, "helmet", "cap", "sword", "shield", "bread", "robe", "torch")
    out = p.ok(p.ann, "wear all")
    assert worn(p) == {"head": "helmet", "wield": "sword", "offhand": "shield",
                       "light": "torch"}
    assert [it.proto for it in p.ann.inventory] == ["mart:cap", "mart:bread", "mart:robe"]
    assert names(out, "Ann") == ["equipment_changed"] * 4
    assert p.refused(p.ann, "wear all") == Code.WRONG_CLASS  # the robe, the one place free
    p.ann.inventory.pop()
    assert p.refused(p.ann, "wear all") == Code.CANT_WEAR  # the cap has no free place
    p.ann.inventory.clear()
    assert p.refused(p.ann, "wear all") == Code.NOT_CARRIED


def test_remove(p: Play) -> None:
    p.give(p.ann, "helmet", "sword")
    p.ok(p.ann, "wear all")
    out = p.ok(p.ann, "remove helmet")
    assert events(out, "equipment_changed", "Bob") == [
        changed("an iron helmet", "helmet", "head", "removed")]
    assert worn(p) == {"wield": "sword"}
    assert p.refused(p.ann, "remove helmet") == Code.NOT_WORN
    p.ok(p.ann, "rem all")
    assert p.ann.equipment == {}
    assert p.refused(p.ann, "remove all") == Code.NOT_WORN


def test_remove_needs_a_free_hand(p: Play) -> None:
    p.give(p.ann, "helmet", "sword")
    p.ok(p.ann, "wear all")
    p.give(p.ann, *["bread"] * max_count(p.ann))
    assert p.refused(p.ann, "remove helmet") == Code.TOO_MANY
    p.ann.inventory.pop()
    out = p.ok(p.ann, "remove all")
    assert events(out, "limit_reached", "Ann") == [{"limit": "too_many", "left": 1}]
    assert len(p.ann.inventory) == max_count(p.ann)


def test_score_shows_armour_class_and_gold(p: Play) -> None:
    p.give(p.ann, "helmet")
    p.ok(p.ann, "wear helmet")
    p.ann.gold = 17
    sheet = events(p.ok(p.ann, "score"), "score_shown")[0]["sheet"]
    assert (sheet["armor_class"], sheet["gold"]) == (3, 17)  # helmet 2, dex 12: 1


def test_equipment_survives_a_restart(p: Play) -> None:
    base_hp = p.ann.max_hp
    p.give(p.ann, "helmet", "sword", "charm", "bag")
    p.ann.inventory[-1].contents.append(p.world.make_item("mart:bread"))
    p.ok(p.ann, "wear helmet")
    p.ok(p.ann, "wield sword")
    p.ok(p.ann, "wear charm")
    p.ann.gold = 33
    snap = json.loads(json.dumps(p.world.leave(p.ann, "quit")))
    back = p.world.enter("Ann", "warrior", state=snap)
    assert {str(s): it.proto for s, it in back.equipment.items()} == {
        "head": "mart:helmet", "wield": "mart:sword", "neck1": "mart:charm"}
    assert back.max_hp == base_hp + 10  # the charm's bonus, counted once
    p.world.drain()
    assert p.world.perform_line(back, "remove charm") is None
    assert back.max_hp == base_hp
    assert [it.proto for it in back.inventory] == ["mart:bag", "mart:charm"]
    assert [it.proto for it in back.inventory[0].contents] == ["mart:bread"]
    assert back.gold == 33


# ---- the starting kit ----------------------------------------------------------------------


def kit_world(warrior: list[str], mage: list[str] | None = None) -> World:
    classes = copy.deepcopy(CLASSES)
    classes["classes"]["warrior"]["kit"] = warrior
    classes["classes"]["mage"]["kit"] = mage or []
    mart = zone()
    mart["items"]["staff"] = {"name": "a staff", "keywords": ["staff"], "description": "Ash.",
                              "type": "weapon", "damage": "1d7", "two_handed": True}
    content = build_content(("world.yaml", {"name": "Mart", "start_room": SQUARE}),
                            ("classes.yaml", classes), [("mart.yaml", mart)])
    return World(content, seed=3)


def test_a_new_character_wears_its_kit_and_carries_the_rest() -> None:
    world = kit_world(["mart:greatsword", "mart:sword", "mart:shield", "mart:cap",
                       "mart:helmet", "mart:charm", "mart:robe", "mart:bread"])
    ann = world.enter("Ann", "warrior")
    assert {str(s): it.proto for s, it in ann.equipment.items()} == {
        "wield": "mart:sword", "offhand": "mart:shield", "head": "mart:cap",
        "neck1": "mart:charm"}
    # too high a level, a place taken, the wrong class; bread is not worn
    assert [it.proto for it in ann.inventory] == ["mart:greatsword", "mart:helmet",
                                                  "mart:robe", "mart:bread"]
    assert ann.max_hp == 30 + 10 and ann.hp == ann.max_hp  # the charm's max_hp, and full
    assert ann.mana == ann.max_mana == 5
    check_places(world)
    # the room sees no one dress: the kit is on before Ann comes in
    assert "equipment_changed" not in [d.event.name for d in world.drain()]


def test_a_two_handed_kit_weapon_leaves_the_shield_in_the_pack() -> None:
    bob = kit_world([], mage=["mart:staff", "mart:shield"]).enter("Bob", "mage")
    assert [(str(s), it.proto) for s, it in bob.equipment.items()] == [("wield", "mart:staff")]
    assert [it.proto for it in bob.inventory] == ["mart:shield"]
    cara = kit_world([], mage=["mart:shield", "mart:staff"]).enter("Cara", "mage")
    assert [(str(s), it.proto) for s, it in cara.equipment.items()] == [
        ("offhand", "mart:shield")]
    assert [it.proto for it in cara.inventory] == ["mart:staff"]


def test_the_kit_comes_once_not_again_with_saved_state() -> None:
    world = kit_world(["mart:sword", "mart:bread"])
    ann = world.enter("Ann", "warrior", state={"cls": "warrior"})  # as at registration
    assert [it.proto for it in ann.inventory] == ["mart:bread"]
    ann.inventory.clear()
    snap = json.loads(json.dumps(world.leave(ann, "quit")))
    again = world.enter("Ann", "warrior", state=snap)
    assert [it.proto for it in again.inventory] == []
    assert [it.proto for it in again.equipment.values()] == ["mart:sword"]


@pytest.mark.parametrize("cls", ["warrior", "mage", "cleric", "rogue"])
def test_every_class_of_the_starter_world_starts_armed(cls: str) -> None:
    world = new_world()
    ch = world.enter("Ann", cls)
    weapon = ch.equipment.get(Slot.WIELD)
    assert weapon is not None and weapon.damage is not None
    assert any(it.armor > 0 for it in ch.equipment.values())
    assert any(it.type is ItemType.POTION for it in ch.inventory)
    before = rules.armor_class(ch)
    assert world.perform_line(ch, "remove all") is None
    assert rules.armor_class(ch) < before
    assert world.perform_line(ch, "wear all") is None  # the rules of `wear` agree
    assert rules.armor_class(ch) == before
