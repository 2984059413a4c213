"""Eating and drinking: eat, drink, fill.

What a food or drink gives is its content `nourish` (world/prototypes.py `NourishModel`):
hit points, mana and moves back at once (never above the maximum), over `portions` bites
or drinks. Food goes when its last bite is eaten; a vessel (`refill: true`, a waterskin)
stays, empty, and `fill` tops it up again in a room flagged `water` (a fountain, a pump,
a brook), where anyone can also `drink` for free (`WATER`). Nobody eats or drinks in a
fight (that is what potions are for), and nobody eats when it would give them nothing.
"""

from __future__ import annotations

from typing import Annotated

from world.commands.registry import Target, command
from world.entities import Item, ItemType, Position
from world.errors import Code, Refused
from world.events import ItemConsumed, ItemFilled
from world.prototypes import NourishModel
from world.world import Ctx

WATER = "water"  # room flag: water to drink from and to fill vessels at
WATER_DRINK = NourishModel(moves=10)  # a drink from the room's water
WATER_WORDS = ("water", "fountain", "pump", "trough", "well", "brook", "stream", "pool",
               "spring", "river", "basin")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def nourishment(ctx: Ctx, item: Item) -> NourishModel:
    """What eating or drinking `item` gives (nothing at all if its content says nothing)."""
    proto = ctx.world.content.items.get(item.proto)
    if proto is None or proto.nourish is None:
        return NourishModel()
    return proto.nourish


def _not_fighting(ctx: Ctx, verb: str) -> None:
    if ctx.actor.position is Position.FIGHTING:
        raise Refused(Code.POSITION, f"You can't stop to {verb} in the middle of a fight! "
                                     "(A potion is quicker: quaff it.)")


def _carried(ctx: Ctx, word: str, verb: str) -> Item:
    item = ctx.item_carried(word)
    if item is not None:
        return item
    if ctx.item_here(word) is not None:
        raise Refused(Code.NOT_CARRIED, f"Pick it up first (get {word[:40]}), then {verb} it.")
    raise Refused(Code.NOT_CARRIED, f"You carry no '{word[:40]}'.")


def _restore(ctx: Ctx, nourish: NourishModel, full: str) -> tuple[int, int, int]:
    """Give `nourish` to the actor; returns what it got back (refused if nothing)."""
    ch = ctx.actor
    hp = min(nourish.hp, max(0, ch.max_hp - ch.hp))
    mana = min(nourish.mana, max(0, ch.max_mana - ch.mana))
    moves = min(nourish.moves, max(0, ch.max_moves - ch.moves))
    if (nourish.hp or nourish.mana or nourish.moves) and not (hp or mana or moves):
        raise Refused(Code.ALREADY, full)
    ch.hp += hp
    ch.mana += mana
    ch.moves += moves
    ctx.world.touch(ch)
    return hp, mana, moves


def _consume(ctx: Ctx, item: Item, action: str, full: str) -> None:
    nourish = nourishment(ctx, item)
    if item.portions <= 0:
        raise Refused(Code.EMPTY, f"{_cap(item.name)} is empty."
                      + (" Fill it at a fountain or a stream: fill " + item.keyword + "."
                         if nourish.refill else ""))
    hp, mana, moves = _restore(ctx, nourish, full)
    item.portions -= 1
    gone = item.portions <= 0 and not nourish.refill
    if gone:
        ctx.actor.inventory.remove(item)
    ctx.tell_room(ItemConsumed(ctx.actor.name, item.name, item.keyword, action, hp, mana, moves,
                               item.portions, gone), include_actor=True)


@command("eat", category="items", examples=("eat bread", "eat pie"))
def eat(ctx: Ctx, food: Annotated[Target, "the food you carry"]) -> None:
    """Eat some food you carry: it gives back hit points and moves at once.

    Bread, pies and mushrooms are sold in shops and taverns; `examine` one to see what
    it gives. Not in a fight, and not when you are already at full strength.
    """
    _not_fighting(ctx, "eat")
    item = _carried(ctx, food, "eat")
    if item.type is not ItemType.FOOD:
        hint = {ItemType.DRINK: f" Drink it: drink {item.keyword}.",
                ItemType.POTION: f" Quaff it: quaff {item.keyword}."}.get(item.type, "")
        raise Refused(Code.BAD_TARGET, f"You can't eat {item.name}.{hint}")
    _consume(ctx, item, "ate", "You are full: keep it for later.")


def _water_here(ctx: Ctx, word: str) -> bool:
    """Whether `word` (or nothing) names the water of a room flagged `water`."""
    if WATER not in ctx.room.flags:
        return False
    word = word.lower()
    return not word or word in WATER_WORDS or any(
        word in key.split() for key in ctx.room.extras)


@command("drink", category="items", examples=("drink waterskin", "drink ale", "drink"))
def drink_(ctx: Ctx, drink: Annotated[Target | None, "the drink you carry; the water here "
                                                     "(a fountain, a stream) if empty"] = None
           ) -> None:
    """Drink something you carry, or from a fountain or stream here: it gives back moves.

    A waterskin holds several drinks; when it is empty, `fill` it where there is water
    (the fountain in Haven's square, the pump in the stable yard, a brook). Not in a
    fight; to drink a potion, `quaff` it.
    """
    _not_fighting(ctx, "drink")
    word = str(drink or "")
    item = ctx.item_carried(word) if word else None
    if item is None and _water_here(ctx, word):
        hp, mana, moves = _restore(ctx, WATER_DRINK, "You are not thirsty.")
        ctx.tell_room(ItemConsumed(ctx.actor.name, "some fresh water", "", "drank", hp, mana,
                                   moves, 0, True), include_actor=True)
        return
    if item is None and not word:
        item = next((it for it in ctx.actor.inventory
                     if it.type is ItemType.DRINK and it.portions > 0), None)
    if item is None:
        if not word:
            raise Refused(Code.BAD_ARGS, "Drink what? You carry nothing to drink, and there "
                                         "is no water here.")
        item = _carried(ctx, word, "drink")
    if item.type is not ItemType.DRINK:
        hint = {ItemType.FOOD: f" Eat it: eat {item.keyword}.",
                ItemType.POTION: f" Quaff it: quaff {item.keyword}."}.get(item.type, "")
        raise Refused(Code.BAD_TARGET, f"You can't drink {item.name}.{hint}")
    _consume(ctx, item, "drank", "You are not thirsty.")


@command("fill", category="items", examples=("fill waterskin",))
def fill(ctx: Ctx, vessel: Annotated[Target, "the waterskin (or other vessel) to fill"]
         ) -> None:
    """Fill a waterskin at a fountain, a pump or a stream (a room with water)."""
    item = _carried(ctx, vessel, "fill")
    nourish = nourishment(ctx, item)
    if not nourish.refill:
        raise Refused(Code.BAD_TARGET, f"You can't fill {item.name}.")
    if WATER not in ctx.room.flags:
        raise Refused(Code.NOT_HERE, "There is no water here. Try a fountain, a pump or a "
                                     "stream.")
    if item.portions >= nourish.portions:
        raise Refused(Code.ALREADY, f"{_cap(item.name)} is already full.")
    item.portions = nourish.portions
    ctx.tell_room(ItemFilled(ctx.actor.name, item.name, item.keyword, item.portions),
                  include_actor=True)
