"""Carrying things: get, drop, put, give, inventory, examine; limits, money and corpses.

Every test builds the small `mart` world of tests/itemworld.py (not the starter
content) and asserts on events. `Play.ok` checks after every command that each
item is in exactly one place; `Play.refused` checks that a refusal moved nothing.
"""

from __future__ import annotations

import pytest
from helpers import events, log_of, names
from itemworld import SQUARE, Play, new_play, where_is

from world.commands.registry import Call
from world.entities import Item, ItemType
from world.errors import Code
from world.events import ItemGiven, ItemTaken
from world.inventory import (
    carried_weight,
    gold_amount,
    item_weight,
    max_count,
    max_weight,
    select,
    strip_word,
)
from world.systems.combat import die


@pytest.fixture
def p() -> Play:
    return new_play()


def protos(items: list[Item]) -> list[str]:
    return [it.proto for it in items]


def moved(actor: str, item: str, keyword: str, action: str, container: str | None = None,
          target: str | None = None) -> dict[str, object]:
    return {"actor": actor, "item": item, "keyword": keyword, "action": action,
            "container": container, "target": target}


def corpse_of(p: Play, owner: str | None, *inside: str, gold: int = 0) -> Item:
    """A corpse on the square's floor, as combat leaves one (owner: a player's name)."""
    corpse = Item(id=p.world.new_id(), proto="", name=f"the corpse of {owner or 'a rat'}",
                  keywords=("corpse",), description="Still.", weight=100,
                  type=ItemType.CORPSE, capacity=10_000, owner=owner, gold=gold)
    corpse.contents.extend(p.world.make_item(f"mart:{x}") for x in inside)
    p.world.rooms[SQUARE].items.append(corpse)
    return corpse


# ---- get and drop ----------------------------------------------------------------------


def test_get_and_drop_one_item_tell_the_room(p: Play) -> None:
    p.floor("sword")
    out = p.ok(p.ann, "get sword")
    data = moved("Ann", "a short sword", "sword", "got")
    assert log_of(out) == [("Ann", "item_moved", data), ("Bob", "item_moved", data)]
    assert protos(p.ann.inventory) == ["mart:sword"]
    assert p.world.rooms[SQUARE].items == []
    assert [type(s) for s in p.signals] == [ItemTaken]
    assert isinstance(p.signals[0], ItemTaken) and p.signals[0].taker is p.ann
    out = p.ok(p.ann, "drop sword")
    assert events(out, "item_moved", "Bob") == [moved("Ann", "a short sword", "sword",
                                                      "dropped")]
    assert p.ann.inventory == [] and protos(p.world.rooms[SQUARE].items) == ["mart:sword"]
    assert p.refused(p.ann, "drop sword") == Code.NOT_CARRIED
    assert p.refused(p.ann, "get shield") == Code.NOT_HERE


def test_get_the_second_of_two(p: Play) -> None:
    first, second = p.floor("sword", "greatsword")
    p.ok(p.ann, "get 2.sword")
    assert p.ann.inventory == [second]
    assert p.world.rooms[SQUARE].items == [first]
    assert p.refused(p.ann, "get 2.sword") == Code.NOT_HERE


def test_get_all_and_drop_all(p: Play) -> None:
    p.floor("sword", "bread", "helmet")
    out = p.ok(p.ann, "get all")
    assert [d["item"] for d in events(out, "item_moved", "Ann")] == [
        "a short sword", "a loaf of bread", "an iron helmet"]
    assert p.world.rooms[SQUARE].items == []
    assert p.refused(p.ann, "get all") == Code.NOT_HERE
    out = p.ok(p.ann, "drop all")
    assert names(out, "Ann") == ["item_moved"] * 3
    assert p.ann.inventory == []
    assert p.refused(p.ann, "drop all") == Code.NOT_CARRIED


def test_get_all_dot_keyword_takes_only_those(p: Play) -> None:
    p.floor("sword", "bread", "greatsword", "bread")
    p.ok(p.ann, "get all.bread")
    assert protos(p.ann.inventory) == ["mart:bread", "mart:bread"]
    assert protos(p.world.rooms[SQUARE].items) == ["mart:sword", "mart:greatsword"]
    p.ok(p.ann, "drop all.bread")
    assert p.ann.inventory == []
    assert p.refused(p.ann, "get all.shield") == Code.NOT_HERE


def test_get_all_coin_takes_money_and_coins(p: Play) -> None:
    p.floor("purse", "coin", "bread")
    out = p.ok(p.ann, "get all.coin")
    assert p.ann.gold == 25
    assert protos(p.ann.inventory) == ["mart:coin"]  # the pile is gold now, not an item
    assert events(out, "gold_changed", "Ann") == [{"amount": 25, "total": 25, "reason": "got"}]
    assert events(out, "gold_changed", "Bob") == []
    assert protos(p.world.rooms[SQUARE].items) == ["mart:bread"]
    # Picking up gold is not an item taken.
    assert [s.item.proto for s in p.signals if isinstance(s, ItemTaken)] == ["mart:coin"]


def test_things_that_cannot_be_taken(p: Play) -> None:
    p.floor("chest", "bread")
    corpse_of(p, None)
    assert p.refused(p.ann, "get chest") == Code.CANT_TAKE
    assert p.refused(p.ann, "get corpse") == Code.CANT_TAKE
    p.ok(p.ann, "get all")  # takes the bread, leaves the chest and the corpse
    assert protos(p.ann.inventory) == ["mart:bread"]
    assert len(p.world.rooms[SQUARE].items) == 2
    assert p.refused(p.ann, "get all") == Code.CANT_TAKE


def test_get_and_drop_call_same_as_line(p: Play) -> None:
    p.floor("sword")
    by_line = log_of(p.ok(p.ann, "get sword"))
    p.ok(p.ann, "drop sword")
    assert log_of(p.call(p.ann, "get", item="sword")) == by_line
    assert log_of(p.call(p.ann, "drop", item="all")) == [
        (who, "item_moved", moved("Ann", "a short sword", "sword", "dropped"))
        for who in ("Ann", "Bob")]


# ---- limits ----------------------------------------------------------------------------


def test_weight_limit_from_strength(p: Play) -> None:
    assert max_weight(p.ann) > max_weight(p.bob)  # the warrior is stronger
    p.floor("anvil")
    assert item_weight(p.world.rooms[SQUARE].items[0]) > max_weight(p.ann)
    assert p.refused(p.ann, "get anvil") == Code.TOO_HEAVY


def test_get_all_takes_what_fits_and_counts_the_rest(p: Play) -> None:
    p.floor("sword", "anvil", "bread")
    out = p.ok(p.ann, "get all")
    assert protos(p.ann.inventory) == ["mart:sword", "mart:bread"]
    assert events(out, "limit_reached", "Ann") == [{"limit": "too_heavy", "left": 1}]
    assert protos(p.world.rooms[SQUARE].items) == ["mart:anvil"]
    assert p.refused(p.ann, "get all") == Code.TOO_HEAVY


def test_worn_things_and_contents_weigh_too(p: Play) -> None:
    bag, = p.give(p.ann, "bag")
    bag.contents.extend([p.world.make_item("mart:sword"), p.world.make_item("mart:bread")])
    helmet, = p.give(p.ann, "helmet")
    p.ok(p.ann, "wear helmet")
    assert item_weight(bag) == 2 + 6 + 1
    assert carried_weight(p.ann) == 9 + 4
    assert events(p.ok(p.ann, "i"), "inventory_listed")[0]["weight"] == 13


def test_item_count_limit_from_dexterity(p: Play) -> None:
    limit = max_count(p.ann)
    assert limit == 10 + 12 // 2
    p.give(p.ann, *["bread"] * limit)
    p.floor("sword", "purse")
    assert p.refused(p.ann, "get sword") == Code.TOO_MANY
    out = p.ok(p.ann, "get all")  # gold takes no hand
    assert p.ann.gold == 25
    assert events(out, "limit_reached", "Ann") == [{"limit": "too_many", "left": 1}]
    listed = events(p.ok(p.ann, "inventory"), "inventory_listed")[0]
    assert (listed["count"], listed["max_count"], listed["gold"]) == (limit, limit, 25)


def test_contents_of_containers_do_not_count_as_items(p: Play) -> None:
    limit = max_count(p.ann)
    p.give(p.ann, "bag", *["bread"] * (limit - 1))
    p.ok(p.ann, "put all.bread in bag")
    assert len(p.ann.inventory) == 1
    p.floor("sword")
    p.ok(p.ann, "get sword")


# ---- containers ------------------------------------------------------------------------


def test_put_in_and_get_from_a_carried_container(p: Play) -> None:
    bag, = p.give(p.ann, "bag")
    p.give(p.ann, "bread", "sword")
    out = p.ok(p.ann, "put bread in bag")
    assert events(out, "item_moved", "Bob") == [
        moved("Ann", "a loaf of bread", "bread", "put", container="a canvas bag")]
    assert protos(bag.contents) == ["mart:bread"]
    assert protos(p.ann.inventory) == ["mart:bag", "mart:sword"]
    out = p.ok(p.ann, "get bread from bag")
    assert events(out, "item_moved", "Ann") == [
        moved("Ann", "a loaf of bread", "bread", "taken_from", container="a canvas bag")]
    assert bag.contents == []
    assert p.signals == []  # out of one's own bag is not a find
    assert p.refused(p.ann, "get bread from bag") == Code.NOT_HERE
    assert p.refused(p.ann, "get all from bag") == Code.NOT_HERE
    assert p.refused(p.ann, "put bag in bag") == Code.BAD_TARGET
    assert p.refused(p.ann, "put bread in sword") == Code.NOT_CONTAINER
    assert p.refused(p.ann, "get bread from sword") == Code.NOT_CONTAINER
    assert p.refused(p.ann, "put bread in box") == Code.NOT_HERE
    assert p.refused(p.ann, "put shield in bag") == Code.NOT_CARRIED
    assert p.refused(p.ann, "put bread in") == Code.BAD_ARGS
    assert p.refused(p.ann, "get bread from") == Code.BAD_ARGS


def test_containers_on_the_floor(p: Play) -> None:
    chest, = p.floor("chest")
    p.give(p.ann, "sword", "bread")
    p.ok(p.ann, "put all in chest")
    assert protos(chest.contents) == ["mart:sword", "mart:bread"]
    assert p.ann.inventory == []
    out = p.ok(p.bob, "get all from chest")
    assert [d["item"] for d in events(out, "item_moved", "Ann")] == [
        "a short sword", "a loaf of bread"]
    assert protos(p.bob.inventory) == ["mart:sword", "mart:bread"]
    assert [(s.taker.name, s.item.proto) for s in p.signals if isinstance(s, ItemTaken)] == [
        ("Bob", "mart:sword"), ("Bob", "mart:bread")]


def test_container_capacity(p: Play) -> None:
    bag, = p.give(p.ann, "bag")  # capacity 20
    p.give(p.ann, "greatsword", "sword", "bread")  # 15, 6, 1
    p.ok(p.ann, "put greatsword in bag")
    assert p.refused(p.ann, "put sword in bag") == Code.CONTAINER_FULL
    out = p.ok(p.ann, "put all in bag")  # the bread fits, the sword does not
    assert protos(bag.contents) == ["mart:greatsword", "mart:bread"]
    assert events(out, "limit_reached", "Ann") == [{"limit": "container_full", "left": 1}]
    bag.contents.append(p.world.make_item("mart:helmet"))  # 15 + 1 + 4 = 20
    assert p.refused(p.ann, "put all in bag") == Code.CONTAINER_FULL


def test_a_corpse_is_not_a_container_to_fill(p: Play) -> None:
    corpse_of(p, None)
    p.give(p.ann, "bread")
    assert p.refused(p.ann, "put bread in corpse") == Code.NOT_CONTAINER


def test_put_and_get_calls(p: Play) -> None:
    bag, = p.give(p.ann, "bag")
    p.give(p.ann, "bread")
    p.call(p.ann, "put", item="bread", container="bag")
    assert protos(bag.contents) == ["mart:bread"]
    p.call(p.ann, "get", item="bread", container="bag")
    assert bag.contents == []
    assert p.world.perform(p.ann, Call("put", {"item": "bread"})) is not None


# ---- give ------------------------------------------------------------------------------


def test_give_an_item_to_a_player(p: Play) -> None:
    bread, = p.give(p.ann, "bread")
    out = p.ok(p.ann, "give bread to bob")
    data = moved("Ann", "a loaf of bread", "bread", "given", target="Bob")
    assert log_of(out) == [("Ann", "item_moved", data), ("Bob", "item_moved", data)]
    assert p.bob.inventory == [bread] and p.ann.inventory == []
    assert p.refused(p.ann, "give bread to bob") == Code.NOT_CARRIED
    p.ok(p.bob, "give bread ann")  # `to` may be left out
    assert p.ann.inventory == [bread]
    assert p.refused(p.ann, "give bread to cara") == Code.NOT_HERE
    assert p.refused(p.ann, "give bread to me") == Code.BAD_TARGET
    assert p.refused(p.ann, "give bread") == Code.BAD_ARGS
    assert p.refused(p.ann, "give bread to") == Code.BAD_ARGS


def test_give_to_a_mob_signals_the_delivery(p: Play) -> None:
    rat = p.world.spawn_mob("mart:rat", SQUARE)
    p.world.drain()
    bread, = p.give(p.ann, "bread")
    p.ok(p.ann, "give bread to rat")
    assert rat.inventory == [bread]
    given = [s for s in p.signals if isinstance(s, ItemGiven)]
    assert len(given) == 1
    assert (given[0].giver, given[0].receiver, given[0].item) == (p.ann, rat, bread)


def test_give_respects_the_receivers_limits(p: Play) -> None:
    p.give(p.bob, *["bread"] * max_count(p.bob))
    p.give(p.ann, "sword", "anvil")
    assert p.refused(p.ann, "give sword to bob") == Code.TOO_MANY
    p.bob.inventory.clear()
    assert p.refused(p.ann, "give anvil to bob") == Code.TOO_HEAVY
    out = p.ok(p.ann, "give all to bob")
    assert protos(p.bob.inventory) == ["mart:sword"]
    assert events(out, "limit_reached", "Ann") == [{"limit": "too_heavy", "left": 1}]


def test_give_gold(p: Play) -> None:
    p.ann.gold = 80
    out = p.ok(p.ann, "give 50 gold to bob")
    assert (p.ann.gold, p.bob.gold) == (30, 50)
    assert events(out, "gold_changed", "Ann") == [{"amount": -50, "total": 30,
                                                   "reason": "given"}]
    assert events(out, "gold_changed", "Bob") == [{"amount": 50, "total": 50,
                                                   "reason": "received"}]
    assert events(out, "item_moved", "Bob") == [
        moved("Ann", "50 gold coins", "gold", "given", target="Bob")]
    assert p.refused(p.ann, "give 31 gold to bob") == Code.TOO_POOR
    assert p.refused(p.ann, "give 0 coins to bob") == Code.BAD_ARGS
    p.call(p.ann, "give", item="30 coins", to="Bob")
    assert (p.ann.gold, p.bob.gold) == (0, 80)
    rat = p.world.spawn_mob("mart:rat", SQUARE)
    p.world.drain()
    out = p.ok(p.bob, "give 1 coin to rat")
    assert rat.gold == 1
    assert names(out, "Bob") == ["item_moved", "gold_changed"]


# ---- money -----------------------------------------------------------------------------


def test_drop_gold_makes_a_pile(p: Play) -> None:
    p.ann.gold = 12
    out = p.ok(p.ann, "drop 10 gold")
    assert p.ann.gold == 2
    pile, = p.world.rooms[SQUARE].items
    assert (pile.type, pile.gold, pile.name) == (ItemType.MONEY, 10, "10 gold coins")
    assert events(out, "gold_changed", "Ann") == [{"amount": -10, "total": 2,
                                                   "reason": "dropped"}]
    assert events(out, "item_moved", "Bob") == [
        moved("Ann", "10 gold coins", "gold", "dropped")]
    assert p.refused(p.ann, "drop 3 gold") == Code.TOO_POOR
    assert p.refused(p.ann, "drop 0 gold") == Code.BAD_ARGS
    p.ok(p.bob, "get gold")
    assert p.bob.gold == 10 and p.world.rooms[SQUARE].items == []
    p.ok(p.ann, "drop gold")  # all of it
    assert p.ann.gold == 0
    assert p.world.rooms[SQUARE].items[0].gold == 2
    assert p.refused(p.ann, "drop gold") == Code.TOO_POOR


def test_drop_coin_drops_a_coin_item_not_gold(p: Play) -> None:
    p.ann.gold = 5
    p.give(p.ann, "coin")
    p.ok(p.ann, "drop coin")
    assert p.ann.gold == 5
    assert protos(p.world.rooms[SQUARE].items) == ["mart:coin"]


def test_gold_amount_and_filler_words() -> None:
    assert gold_amount("10 gold") == 10
    assert gold_amount("3 Coins") == 3
    assert gold_amount("gold") is None
    assert gold_amount("10 swords") is None
    assert gold_amount("1" * 40 + " gold") is None
    assert strip_word("from the bag", ("from",)) == "the bag"
    assert strip_word("out of bag", ("out of", "in")) == "bag"
    assert strip_word("in", ("in",)) == ""
    assert strip_word("inside", ("in",)) == "inside"


def test_select_forms(p: Play) -> None:
    items = p.floor("sword", "bread", "greatsword")
    assert select("all", items) == items
    assert select("all.sword", items) == [items[0], items[2]]
    assert select("2.sword", items) == [items[2]]
    assert select("3.sword", items) == []
    assert select("all.", items) == []
    assert select("bre", items) == [items[1]]


# ---- corpses ---------------------------------------------------------------------------


def test_anyone_may_loot_a_mobs_corpse(p: Play) -> None:
    rat = p.world.spawn_mob("mart:rat", SQUARE)
    rat.inventory.append(p.world.make_item("mart:gem"))
    rat.gold = 7
    die(p.world, rat, p.ann)
    p.world.drain()
    corpse = next(it for it in p.world.rooms[SQUARE].items if it.type is ItemType.CORPSE)
    assert corpse.owner is None
    out = p.ok(p.bob, "get all from corpse")
    assert protos(p.bob.inventory) == ["mart:gem"]
    assert p.bob.gold == 7 and corpse.gold == 0 and corpse.contents == []
    assert [d["item"] for d in events(out, "item_moved", "Ann")] == ["a red gem", "7 gold coins"]
    assert events(out, "gold_changed", "Bob") == [{"amount": 7, "total": 7, "reason": "got"}]
    assert p.refused(p.bob, "get all from corpse") == Code.NOT_HERE


def test_only_the_owner_loots_a_players_corpse(p: Play) -> None:
    corpse = corpse_of(p, "Ann", "sword", "bread", gold=40)
    assert p.refused(p.bob, "get all from corpse") == Code.NOT_YOURS
    assert p.refused(p.bob, "get sword from corpse") == Code.NOT_YOURS
    p.ok(p.ann, "get sword from corpse")
    p.ok(p.ann, "get gold from corpse")
    assert p.ann.gold == 40 and protos(corpse.contents) == ["mart:bread"]
    p.ok(p.ann, "get all from corpse")
    assert protos(p.ann.inventory) == ["mart:sword", "mart:bread"]


def test_gold_in_a_corpse_comes_even_when_hands_are_full(p: Play) -> None:
    corpse_of(p, None, "gem", gold=9)
    p.give(p.ann, *["bread"] * max_count(p.ann))
    out = p.ok(p.ann, "get all from corpse")
    assert p.ann.gold == 9
    assert events(out, "limit_reached", "Ann") == [{"limit": "too_many", "left": 1}]
    assert p.refused(p.ann, "get gem from corpse") == Code.TOO_MANY


def test_money_items_and_fixtures_inside_containers(p: Play) -> None:
    corpse_of(p, None, "purse", "chest")
    assert p.refused(p.ann, "get chest from corpse") == Code.CANT_TAKE
    out = p.ok(p.ann, "get all from corpse")
    assert p.ann.gold == 25 and p.ann.inventory == []
    assert events(out, "gold_changed", "Ann") == [{"amount": 25, "total": 25, "reason": "got"}]
    assert p.refused(p.ann, "get all from corpse") == Code.CANT_TAKE
    corpse_of(p, None, "gem")
    p.give(p.ann, *["bread"] * max_count(p.ann))
    assert p.refused(p.ann, "get all from 2.corpse") == Code.TOO_MANY


# ---- inventory and examine -------------------------------------------------------------


def test_inventory_lists_items_gold_and_limits(p: Play) -> None:
    p.give(p.ann, "bag", "sword")
    p.ann.inventory[0].contents.append(p.world.make_item("mart:bread"))
    p.ann.gold = 3
    listed = events(p.ok(p.ann, "inventory"), "inventory_listed")[0]
    assert listed == {
        "items": [{"name": "a canvas bag", "keyword": "bag", "weight": 3, "type": "container"},
                  {"name": "a short sword", "keyword": "sword", "weight": 6, "type": "weapon"}],
        "weight": 9, "max_weight": max_weight(p.ann), "gold": 3, "count": 2,
        "max_count": max_count(p.ann)}


def test_examine_shows_what_an_item_is_and_holds(p: Play) -> None:
    p.give(p.ann, "bag")
    p.floor("greatsword")
    corpse_of(p, "Bob", "gem", gold=4)
    p.ann.inventory[0].contents.append(p.world.make_item("mart:bread"))
    bag = events(p.ok(p.ann, "examine bag"), "item_examined")[0]
    assert bag["details"] == {"type": "container", "weight": 3, "capacity": 20, "holding": 1}
    assert bag["contents"] == [{"name": "a loaf of bread", "keyword": "bread"}]
    sword = events(p.ok(p.ann, "exa greatsword"), "item_examined")[0]
    assert sword["details"] == {"type": "weapon", "weight": 15, "slot": "wield",
                                "damage": "2d6", "two_handed": True, "level": 3}
    corpse = events(p.ok(p.ann, "examine corpse"), "item_examined")[0]
    assert (corpse["gold"], corpse["details"]["owner"]) == (4, "Bob")
    assert p.refused(p.ann, "examine unicorn") == Code.NOT_HERE


# ---- the invariant over a long random script -------------------------------------------


def _things(p: Play) -> tuple[set[int], int]:
    """The ids of every item that is not money, and all the gold in the world."""
    where = where_is(p.world)  # fails if an item is in two places
    piles = [it for room in p.world.rooms.values() for it in room.items
             if it.type is ItemType.MONEY]
    gold = p.ann.gold + p.bob.gold + sum(it.gold for it in piles)
    return set(where) - {it.id for it in piles}, gold


def test_items_stay_in_exactly_one_place_whatever_happens(p: Play) -> None:
    p.floor("sword", "bread", "bag", "chest", "purse", "gem", "helmet", "ring", "shield",
            "greatsword", "torch", "orb", "bread", "coin")
    lines = ["get all", "put all in bag", "get all from bag", "put bread in chest",
             "give sword to bob", "give 5 gold to bob", "give 3 gold to ann", "drop all",
             "get all.bread", "get bread from chest", "wear all", "remove all", "drop 3 gold",
             "get all", "put gem in chest", "get all from chest", "wield sword",
             "give all to bob", "give all to ann", "hold torch", "hold orb", "wear shield",
             "wield greatsword", "remove shield", "put bag in chest", "get bag from chest",
             "get all.coin", "drop all.bread", "wear 2.ring", "get 2.bread", "eq", "i"]
    items, gold = _things(p)
    assert gold == 25  # the pile on the floor
    rng = p.world.rng
    refused = 0
    for _ in range(400):
        who = rng.choice([p.ann, p.bob])
        refused += p.world.perform_line(who, rng.choice(lines)) is not None
        p.world.drain()
        assert _things(p) == (items, gold)  # nothing made or lost, gold kept
    assert 0 < refused < 400
