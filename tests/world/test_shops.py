"""Shops: list, buy, sell, value at a `shopkeeper` mob, and the checks of its config.

Built on the small `mart` world of tests/itemworld.py: Olga sells bread (4),
a short sword (40), a greatsword (100) and a canvas bag (8) at markup 1.5 and
buys weapons, armour, treasure and containers at half their value.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from helpers import events, log_of, new_world
from itemworld import MOBS, SQUARE, STORE, Play, new_play

from world.commands.shops import Shop, ShopError, shop_of
from world.entities import Position
from world.errors import Code
from world.inventory import max_count
from world.systems.combat import engage


def shop_play(config: dict[str, Any] | None = None) -> Play:
    """Ann and Bob in the store with Olga (with another shop config if given)."""
    mobs = None
    if config is not None:
        mobs = copy.deepcopy(MOBS)
        mobs["merchant"]["behaviours"] = [{"shopkeeper": config}]
    p = new_play(mobs=mobs)
    for who in (p.ann, p.bob):
        p.world.move(who, STORE)
    p.world.spawn_mob("mart:merchant", STORE)
    p.world.drain()
    return p


@pytest.fixture
def p() -> Play:
    return shop_play()


def test_list_shows_wares_with_prices(p: Play) -> None:
    listed = events(p.ok(p.ann, "list"), "shop_listed")
    assert len(listed) == 1
    shop = listed[0]
    assert shop["shopkeeper"] == "Olga the merchant"
    assert [(w["id"], w["price"]) for w in shop["items"]] == [
        ("mart:bread", 6), ("mart:sword", 60), ("mart:greatsword", 150), ("mart:bag", 12)]
    assert shop["items"][2] == {"name": "a greatsword", "keyword": "greatsword",
                                "id": "mart:greatsword", "price": 150, "type": "weapon",
                                "slot": "wield", "level": 3, "weight": 15}
    assert shop["buys"] == ["armor", "container", "treasure", "weapon"]


def test_buy(p: Play) -> None:
    p.ann.gold = 70
    out = p.ok(p.ann, "buy sword")
    bought = {"actor": "Ann", "shopkeeper": "Olga the merchant", "item": "a short sword",
              "keyword": "sword", "price": 60}
    assert log_of(out) == [
        ("Ann", "item_bought", bought), ("Bob", "item_bought", bought),
        ("Ann", "gold_changed", {"amount": -60, "total": 10, "reason": "bought"})]
    assert [it.proto for it in p.ann.inventory] == ["mart:sword"]
    assert p.refused(p.ann, "buy sword") == Code.TOO_POOR
    p.ok(p.ann, "buy bread")
    assert p.ann.gold == 4
    assert p.refused(p.ann, "buy unicorn") == Code.NOT_SOLD
    assert p.refused(p.ann, "buy") == Code.BAD_ARGS


def test_buy_the_second_of_a_keyword(p: Play) -> None:
    p.ann.gold = 500
    p.ok(p.ann, "buy 2.sword")
    assert [it.proto for it in p.ann.inventory] == ["mart:greatsword"]
    p.call(p.ann, "buy", item="sword")
    assert [it.proto for it in p.ann.inventory] == ["mart:greatsword", "mart:sword"]
    assert p.ann.gold == 500 - 150 - 60


def test_buy_checks_what_you_can_carry(p: Play) -> None:
    p.bob.gold = 1000
    p.give(p.bob, *["bread"] * max_count(p.bob))
    assert p.refused(p.bob, "buy bag") == Code.TOO_MANY
    p.bob.inventory.clear()
    p.give(p.bob, "anvil")  # 400: Bob (str 8) is already over his limit
    assert p.refused(p.bob, "buy greatsword") == Code.TOO_HEAVY


def test_sell_and_value(p: Play) -> None:
    p.give(p.ann, "gem", "helmet", "bread")
    out = p.ok(p.ann, "value gem")
    assert log_of(out) == [("Ann", "valued", {"shopkeeper": "Olga the merchant",
                                               "item": "a red gem", "keyword": "gem",
                                               "price": 50})]
    assert p.ann.gold == 0 and len(p.ann.inventory) == 3
    out = p.ok(p.ann, "sell gem")
    sold = {"actor": "Ann", "shopkeeper": "Olga the merchant", "item": "a red gem",
            "keyword": "gem", "price": 50}
    assert log_of(out) == [
        ("Ann", "item_sold", sold), ("Bob", "item_sold", sold),
        ("Ann", "gold_changed", {"amount": 50, "total": 50, "reason": "sold"})]
    assert [it.proto for it in p.ann.inventory] == ["mart:helmet", "mart:bread"]
    p.ok(p.ann, "sell helmet")
    assert p.ann.gold == 60
    assert p.refused(p.ann, "sell bread") == Code.WONT_BUY  # food: not a type she buys
    assert p.refused(p.ann, "value bread") == Code.WONT_BUY
    assert p.refused(p.ann, "sell gem") == Code.NOT_CARRIED


def test_worthless_things_and_full_containers_are_not_bought(p: Play) -> None:
    pebble, bag = p.give(p.ann, "pebble", "bag")
    assert p.refused(p.ann, "sell pebble") == Code.WONT_BUY
    bag.contents.append(p.world.make_item("mart:bread"))
    assert p.refused(p.ann, "sell bag") == Code.WONT_BUY
    bag.contents.clear()
    p.ok(p.ann, "sell bag")
    assert p.ann.gold == 4


def test_worn_things_must_be_removed_to_sell(p: Play) -> None:
    p.give(p.ann, "helmet")
    p.ok(p.ann, "wear helmet")
    assert p.refused(p.ann, "sell helmet") == Code.NOT_CARRIED


def test_no_shop_without_a_shopkeeper(p: Play) -> None:
    p.world.move(p.ann, SQUARE)
    p.world.spawn_mob("mart:rat", SQUARE)
    p.world.drain()
    for line in ("list", "buy bread", "sell gem", "value gem"):
        assert p.refused(p.ann, line) == Code.NO_SHOP


def test_no_trade_while_fighting(p: Play) -> None:
    rat = p.world.spawn_mob("mart:rat", STORE)
    engage(p.world, p.ann, rat)
    p.world.drain()
    assert p.refused(p.ann, "list") == Code.POSITION
    assert p.ann.position is Position.FIGHTING
    olga = next(m for m in p.world.mobs.values() if m.proto == "mart:merchant")
    olga.position = Position.SLEEPING
    assert p.refused(p.bob, "list") == Code.POSITION


def test_shop_ids_may_name_other_zones() -> None:
    p = shop_play({"sells": ["far:apple", "bread"], "buys": ["food"], "markup": 2,
                   "buyback": 0.25})
    listed = events(p.ok(p.ann, "list"), "shop_listed")[0]
    assert [(w["id"], w["price"]) for w in listed["items"]] == [
        ("far:apple", 6), ("mart:bread", 8)]
    p.give(p.ann, "bread")
    assert events(p.ok(p.ann, "value bread"), "valued")[0]["price"] == 1


def test_defaults_and_an_empty_shop() -> None:
    p = shop_play({})
    listed = events(p.ok(p.ann, "list"), "shop_listed")[0]
    assert (listed["items"], listed["buys"]) == ([], [])
    p.give(p.ann, "gem")
    assert p.refused(p.ann, "sell gem") == Code.WONT_BUY
    olga = next(m for m in p.world.mobs.values() if m.proto == "mart:merchant")
    shop = shop_of(p.world, olga)
    assert (shop.markup, shop.buyback) == (1.5, 0.5)


def test_prices_round_in_the_shops_favour(p: Play) -> None:
    olga = next(m for m in p.world.mobs.values() if m.proto == "mart:merchant")
    shop = shop_of(p.world, olga)
    assert [shop.price(v) for v in (0, 1, 3, 10)] == [1, 2, 5, 15]
    assert [shop.offer(v) for v in (0, 1, 3, 10)] == [0, 0, 1, 5]
    tenth = Shop(olga, (), frozenset(), 1.1, 1.1)
    assert tenth.price(10) == 11 and tenth.offer(10) == 11  # no float dust


@pytest.mark.parametrize(("config", "problem"), [
    ({"sell": ["bread"]}, "unknown key(s) sell"),
    ({"sells": ["breed"]}, "sells[0]: unknown item 'mart:breed'"),
    ({"sells": "bread"}, "sells: must be a list"),
    ({"sells": ["purse"]}, "sells[0]: 'mart:purse' is money"),
    ({"buys": ["weapons"]}, "buys[0]: unknown item type 'weapons'"),
    ({"buys": ["money"]}, "buys[0]: unknown item type 'money'"),
    ({"markup": "lots"}, "markup: must be a number"),
    ({"markup": True}, "markup: must be a number"),
    ({"markup": 0}, "markup: must be above 0"),
    ({"buyback": -1}, "buyback: must be 0 or more"),
    ({"markup": 1.0, "buyback": 1.2}, "buyback (1.2) is above markup (1)"),
])
def test_a_bad_config_is_refused_with_what_is_wrong(config: dict[str, Any], problem: str
                                                    ) -> None:
    p = shop_play(config)
    refusal = p.world.perform_line(p.ann, "list")
    assert refusal is not None and refusal.code == Code.BAD_SHOP
    assert problem in refusal.message
    assert p.world.drain() == []
    olga = next(m for m in p.world.mobs.values() if m.proto == "mart:merchant")
    with pytest.raises(ShopError, match=re.escape(problem)):
        shop_of(p.world, olga)


def test_shop_of_a_mob_without_the_behaviour(p: Play) -> None:
    rat = p.world.spawn_mob("mart:rat", STORE)
    with pytest.raises(ShopError, match="no 'shopkeeper' behaviour"):
        shop_of(p.world, rat)


def test_every_shopkeeper_in_the_starter_content_is_set_up_right() -> None:
    """Content check: each `shopkeeper` config in content/ passes `shop_of`."""
    world = new_world(1)
    keepers = [pid for pid, m in world.content.mobs.items()
               if "shopkeeper" in m.behaviour_map()]
    for proto_id in keepers:
        mob = world.spawn_mob(proto_id, world.content.start_room)
        shop = shop_of(world, mob)  # raises ShopError naming the key
        assert all(item_id in world.content.items for item_id in shop.sells)
