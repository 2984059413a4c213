"""Shops: list, buy, sell, value, at a mob with the `shopkeeper` behaviour.

The behaviour's config in content (every key optional):

    behaviours:
      - shopkeeper: {sells: [bread, short_sword], buys: [weapon, armor], markup: 1.5,
                     buyback: 0.5}

`sells` are item ids (the shopkeeper's own zone may be left off), in stock
without limit; `buys` are item types it will buy; an item sells for
`value * markup` (rounded up, at least 1) and is bought for `value * buyback`
(rounded down). The config is read and checked when a shop command runs:
a mistake refuses the command with `bad_shop` and says what is wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from world.commands.registry import Target, Text, command
from world.context import find, split_ordinal
from world.entities import Character, Item, ItemType, Position
from world.errors import Code, Refused
from world.events import GoldChanged, ItemBought, ItemSold, ShopListed, Valued
from world.inventory import Budget, max_count
from world.prototypes import ITEM_TYPES, ItemModel, qualify
from world.world import Ctx, World

SHOPKEEPER = "shopkeeper"
SHOP_KEYS = ("sells", "buys", "markup", "buyback")
DEFAULT_MARKUP = 1.5
DEFAULT_BUYBACK = 0.5


class ShopError(ValueError):
    """A shopkeeper's config is wrong: the message names the key and the problem."""


@dataclass(frozen=True, slots=True)
class Shop:
    """A shopkeeper's checked config."""

    keeper: Character
    sells: tuple[str, ...]  # item ids, qualified
    buys: frozenset[str]  # item types
    markup: float
    buyback: float

    def price(self, value: int) -> int:
        """What the shop asks for an item worth `value`."""
        return max(1, math.ceil(round(value * self.markup, 6)))

    def offer(self, value: int) -> int:
        """What the shop pays for an item worth `value`."""
        return max(0, math.floor(round(value * self.buyback, 6)))


def _number(config: dict[str, Any], key: str, default: float) -> float:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ShopError(f"{key}: must be a number, not {value!r}")
    return float(value)


def _id_list(config: dict[str, Any], key: str) -> list[str]:
    value = config.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ShopError(f"{key}: must be a list of names")
    return list(value)


def shop_of(world: World, mob: Character) -> Shop:
    """The checked shop config of `mob`.

    Raises:
        ShopError: a key is unknown, an item or item type does not exist, or the
            prices would let players earn gold by buying and selling back.
    """
    config = mob.behaviours.get(SHOPKEEPER)
    if config is None:
        raise ShopError(f"{mob.name} has no '{SHOPKEEPER}' behaviour")
    unknown = sorted(str(k) for k in config if k not in SHOP_KEYS)
    if unknown:
        raise ShopError(f"unknown key(s) {', '.join(unknown)}; known: {', '.join(SHOP_KEYS)}")
    zone = mob.home or (mob.proto or "").split(":", 1)[0]
    sells: list[str] = []
    for n, ref in enumerate(_id_list(config, "sells")):
        item_id = qualify(ref, zone) if zone else ref
        if item_id not in world.content.items:
            raise ShopError(f"sells[{n}]: unknown item '{item_id}'")
        if world.content.items[item_id].type == ItemType.MONEY.value:
            raise ShopError(f"sells[{n}]: '{item_id}' is money")
        sells.append(item_id)
    buys = _id_list(config, "buys")
    for n, kind in enumerate(buys):
        if kind not in ITEM_TYPES or kind == ItemType.MONEY.value:
            raise ShopError(f"buys[{n}]: unknown item type '{kind}'; one of "
                            + ", ".join(t for t in ITEM_TYPES if t != ItemType.MONEY.value))
    markup = _number(config, "markup", DEFAULT_MARKUP)
    buyback = _number(config, "buyback", DEFAULT_BUYBACK)
    if markup <= 0:
        raise ShopError(f"markup: must be above 0, not {markup:g}")
    if buyback < 0:
        raise ShopError(f"buyback: must be 0 or more, not {buyback:g}")
    if buyback > markup:
        raise ShopError(f"buyback ({buyback:g}) is above markup ({markup:g}): "
                        "players could make gold by buying and selling back")
    return Shop(mob, tuple(sells), frozenset(buys), markup, buyback)


def _shop(ctx: Ctx) -> Shop:
    """The shop in the actor's room, checked and open for business."""
    if ctx.actor.position is Position.FIGHTING:
        raise Refused(Code.POSITION, "Not while you are fighting!")
    keeper = next((ch for ch in ctx.room.characters
                   if ch.is_mob and SHOPKEEPER in ch.behaviours), None)
    if keeper is None:
        raise Refused(Code.NO_SHOP, "There is no shop here.")
    if keeper.position in (Position.FIGHTING, Position.SLEEPING, Position.DEAD):
        raise Refused(Code.POSITION, f"{_cap(keeper.name)} is in no state to trade.")
    try:
        return shop_of(ctx.world, keeper)
    except ShopError as exc:
        raise Refused(Code.BAD_SHOP, f"{_cap(keeper.name)}'s shop is set up wrong "
                                     f"(tell a builder): {exc}") from None


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _find_ware(shop: Shop, models: dict[str, ItemModel], word: str) -> str | None:
    """The id of the n-th item for sale whose keyword starts with `word` (`2.sword`)."""
    nth, word = split_ordinal(word.lower())
    if not word:
        return None
    for item_id in shop.sells:
        if any(k.lower().startswith(word) for k in models[item_id].keywords):
            nth -= 1
            if nth == 0:
                return item_id
    return None


@command("list", category="shops", examples=("list",))
def list_(ctx: Ctx) -> None:
    """List what the shopkeeper here sells, with prices, and what it buys."""
    shop = _shop(ctx)
    models = ctx.world.content.items
    wares = []
    for item_id in shop.sells:
        m = models[item_id]
        wares.append({"name": m.name, "keyword": m.keywords[0].lower(), "id": item_id,
                      "price": shop.price(m.value), "type": m.type, "slot": m.slot,
                      "level": m.level, "weight": m.weight})
    ctx.tell(ShopListed(shop.keeper.name, wares, sorted(shop.buys)))


MAX_BUY = 10  # the most of one thing bought with one command (`buy 10 bread`)


def _count(text: str) -> tuple[int, str]:
    """`2 bread` and `bread 2` are (2, "bread"); `2.sword` (the second sword) is
    (1, "2.sword")."""
    words = text.split()
    if len(words) >= 2 and words[0].isascii() and words[0].isdigit():
        return int(words[0][:4]), " ".join(words[1:])
    if len(words) >= 2 and words[-1].isascii() and words[-1].isdigit():
        return int(words[-1][:4]), " ".join(words[:-1])
    return 1, text.strip()


@command("buy", category="shops", examples=("buy bread", "buy 2 bread", "buy 2.sword"))
def buy(ctx: Ctx, item: Annotated[Text, "what to buy, as named in the shop's list; a number "
                                        "first buys several (`2 bread`)"]) -> None:
    """Buy something the shopkeeper here sells (see `list`).

    `buy bread` buys one loaf, `buy 3 bread` (or `buy bread 3`) three of them, at most
    10 at a time; `buy 2.sword` buys the second sword of the list. You need the gold,
    and to be able to carry it all.
    """
    actor = ctx.actor
    shop = _shop(ctx)
    count, word = _count(item)
    if not 1 <= count <= MAX_BUY:
        raise Refused(Code.BAD_ARGS, f"You can buy from 1 to {MAX_BUY} at a time.")
    models = ctx.world.content.items
    item_id = _find_ware(shop, models, word)
    if item_id is None:
        raise Refused(Code.NOT_SOLD, f"{_cap(shop.keeper.name)} sells no '{word[:40]}'. "
                                     "Type 'list'.")
    model = models[item_id]
    price = shop.price(model.value)
    what = _cap(model.name) + (f" (x{count})" if count > 1 else "")
    if price * count > actor.gold:
        cost = f"{price} gold" if count == 1 else f"{price * count} gold ({price} each)"
        raise Refused(Code.TOO_POOR, f"{what} costs {cost}; you have {actor.gold}.")
    budget = Budget(actor)
    if model.weight * count > budget.weight_left:
        raise Refused(Code.TOO_HEAVY, f"{what} is too heavy for you now.")
    if budget.count_left < count:
        raise Refused(Code.TOO_MANY, f"Your hands are full: you can carry only "
                                     f"{max_count(actor)} items.")
    for _ in range(count):
        bought = ctx.world.make_item(item_id)
        actor.gold -= price
        actor.inventory.append(bought)
        ctx.tell_room(ItemBought(actor.name, shop.keeper.name, bought.name, bought.keyword,
                                 price), include_actor=True)
    ctx.tell(GoldChanged(-price * count, actor.gold, "bought"))


def _appraise(ctx: Ctx, word: str) -> tuple[Shop, Item, int]:
    """The shop, the carried item named by `word` and what the shop pays for it."""
    shop = _shop(ctx)
    it = find(word, ctx.actor.inventory)
    if it is None:
        raise Refused(Code.NOT_CARRIED, f"You carry no '{word[:40]}'.")
    keeper = _cap(shop.keeper.name)
    if str(it.type) not in shop.buys:
        raise Refused(Code.WONT_BUY, f"{keeper} doesn't buy things like {it.name}.")
    if it.contents:
        raise Refused(Code.WONT_BUY, f"{keeper} won't buy {it.name} with things in it: "
                                     "empty it first.")
    price = shop.offer(it.value)
    if price < 1:
        raise Refused(Code.WONT_BUY, f"{keeper} says {it.name} is worthless.")
    return shop, it, price


@command("sell", category="shops", examples=("sell sword",))
def sell(ctx: Ctx, item: Annotated[Target, "what to sell (carried, not worn)"]) -> None:
    """Sell something you carry to the shopkeeper here (only the kinds it buys).

    Use `value` first to hear the offer. What you sell is gone for good.
    """
    shop, it, price = _appraise(ctx, item)
    actor = ctx.actor
    actor.inventory.remove(it)
    actor.gold += price
    ctx.tell_room(ItemSold(actor.name, shop.keeper.name, it.name, it.keyword, price),
                  include_actor=True)
    ctx.tell(GoldChanged(price, actor.gold, "sold"))


@command("value", category="shops", examples=("value sword",))
def value(ctx: Ctx, item: Annotated[Target, "the carried item to have valued"]) -> None:
    """Ask the shopkeeper here what it would pay for something you carry."""
    shop, it, price = _appraise(ctx, item)
    ctx.tell(Valued(shop.keeper.name, it.name, it.keyword, price))
