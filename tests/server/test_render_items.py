"""Golden text for the item, equipment and shop events: what each viewer reads."""

from __future__ import annotations

import pytest

from server.gateway import render
from world import events as ev
from world.entities import Slot


def plain(event: ev.Event, viewer: str) -> str:
    return render.plain(render.render(event, viewer))


GIVEN = ev.ItemMoved("Ann", "a loaf of bread", "bread", "given", target="Bob")
WORN = ev.EquipmentChanged("Ann", "an iron helmet", "helmet", "head", "worn")


@pytest.mark.parametrize(("event", "viewer", "text"), [
    (ev.ItemMoved("Ann", "a loaf", "loaf", "put", container="a bag"), "Ann",
     "You put a loaf in a bag."),
    (ev.ItemMoved("Ann", "a loaf", "loaf", "put", container="a bag"), "Bob",
     "Ann puts a loaf in a bag."),
    (ev.ItemMoved("Ann", "a gem", "gem", "taken_from", container="the corpse of a rat"),
     "Ann", "You get a gem from the corpse of a rat."),
    (ev.ItemMoved("Ann", "7 gold coins", "gold", "taken_from", container="a chest"), "Bob",
     "Ann gets 7 gold coins from a chest."),
    (GIVEN, "Ann", "You give a loaf of bread to Bob."),
    (GIVEN, "Bob", "Ann gives you a loaf of bread."),
    (GIVEN, "Cara", "Ann gives a loaf of bread to Bob."),
    (ev.ItemMoved("a goblin", "a rusty key", "key", "given", target="Ann"), "Ann",
     "A goblin gives you a rusty key."),
    (ev.GoldChanged(-10, 5, "dropped"), "Ann", "You now have 5 gold."),
    (ev.LimitReached("too_heavy", 2), "Ann",
     "2 items stay behind: it would be too heavy for you."),
    (ev.LimitReached("too_many", 1), "Ann", "1 item stays behind: your hands are full."),
    (WORN, "Ann", "You wear an iron helmet on your head."),
    (WORN, "Bob", "Ann wears an iron helmet."),
    (ev.EquipmentChanged("Ann", "a short sword", "sword", "wield", "worn"), "Ann",
     "You wield a short sword."),
    (ev.EquipmentChanged("Ann", "a torch", "torch", "light", "worn"), "Bob",
     "Ann holds a torch."),
    (ev.EquipmentChanged("Ann", "a ring", "ring", "finger2", "removed"), "Ann",
     "You stop using a ring."),
    (ev.ItemBought("Ann", "Olga", "a short sword", "sword", 60), "Ann",
     "You buy a short sword from Olga for 60 gold."),
    (ev.ItemBought("Ann", "Olga", "a short sword", "sword", 60), "Bob",
     "Ann buys a short sword from Olga."),
    (ev.ItemSold("Ann", "Olga", "a red gem", "gem", 50), "Ann",
     "You sell a red gem to Olga for 50 gold."),
    (ev.ItemSold("Ann", "Olga", "a red gem", "gem", 50), "Bob", "Ann sells a red gem to Olga."),
    (ev.Valued("olga", "a red gem", "gem", 50), "Ann",
     "Olga would give you 50 gold for a red gem."),
    (ev.InventoryListed([{"name": "a map", "keyword": "map", "weight": 1}], 1, 100, 12, 1, 16),
     "Ann", "You are carrying:\n  a map\nWeight 1/100  Items 1/16\nGold: 12"),
    (ev.InventoryListed([], 0, 100, 3, 0, 16), "Ann", "You are carrying nothing.\nGold: 3"),
])
def test_golden_lines(event: ev.Event, viewer: str, text: str) -> None:
    assert plain(event, viewer) == text


def test_equipment_list() -> None:
    slots = [{"slot": s.value, "item": "an iron helmet" if s is Slot.HEAD else None,
              "keyword": "helmet" if s is Slot.HEAD else None} for s in Slot]
    text = plain(ev.EquipmentListed(slots, 4), "Ann")
    lines = text.split("\n")
    assert lines[0] == "You are using:"
    assert lines[2] == "  <head>     an iron helmet"
    assert lines[3] == "  <neck1>    (nothing)"
    assert lines[-1] == "Armour class 4"
    assert len(lines) == 18


def test_shop_list() -> None:
    wares = [{"name": "a loaf of bread", "price": 6, "level": 0},
             {"name": "a greatsword", "price": 150, "level": 3}]
    assert plain(ev.ShopListed("Olga", wares, ["weapon"]), "Ann") == (
        "Olga sells:\n       6 gold  a loaf of bread\n     150 gold  a greatsword (level 3)\n"
        "Olga buys: weapon.")
    assert plain(ev.ShopListed("Olga", [], []), "Ann") == "Olga has nothing for sale."


def test_examined() -> None:
    text = plain(ev.ItemExamined("a canvas bag", "bag", "A bag.",
                                 {"type": "container", "weight": 3, "capacity": 20,
                                  "holding": 1},
                                 [{"name": "a loaf", "keyword": "loaf"}], 2), "Ann")
    assert text == ("A canvas bag\nA bag.\ncontainer, weight 3; holds 1/20\nInside:\n"
                    "  a loaf\n  2 gold")
    sword = plain(ev.ItemExamined("a greatsword", "greatsword", "Big.",
                                  {"type": "weapon", "weight": 15, "slot": "wield",
                                   "damage": "2d6", "two_handed": True, "level": 3,
                                   "classes": ["warrior"]}, [], 0), "Ann")
    assert sword.endswith("weapon, weight 15; worn: wield; damage 2d6, two-handed; level 3; "
                          "for warrior")
    empty = plain(ev.ItemExamined("a bag", "bag", "A bag.",
                                  {"type": "container", "weight": 2, "capacity": 20,
                                   "holding": 0}, [], 0), "Ann")
    assert empty.endswith("It is empty.")


def test_personal_item_events() -> None:
    for event in (GIVEN, WORN, ev.ItemBought("Ann", "Olga", "x", "x", 1),
                  ev.ItemSold("Ann", "Olga", "x", "x", 1)):
        assert render.is_personal(event)
