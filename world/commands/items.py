"""Carrying things: inventory, get, drop, put, give, examine.

Limits, money and the picking of items by name (`2.sword`, `all`, `all.coin`)
live in `world/inventory.py`. Every command checks everything first and then
moves: a refused command changes nothing, and `get all` takes what fits (a
`limit_reached` event counts what stayed behind).
"""

from __future__ import annotations

from typing import Annotated

from world import building
from world.commands.registry import Target, Text, command, split_words
from world.context import find
from world.entities import Character, Item, ItemType, Role
from world.errors import Code, Refused
from world.events import (
    GoldChanged,
    InventoryListed,
    ItemExamined,
    ItemGiven,
    ItemMoved,
    ItemTaken,
    LimitReached,
)
from world.inventory import (
    MONEY_WORDS,
    Budget,
    can_take,
    carried_count,
    carried_weight,
    contents_weight,
    gold_amount,
    is_money,
    is_multi,
    item_weight,
    make_money,
    max_count,
    max_weight,
    money_name,
    names_money,
    select,
    strip_word,
)
from world.world import Ctx

_LIMIT_CODE = {"too_heavy": Code.TOO_HEAVY, "too_many": Code.TOO_MANY,
               "container_full": Code.CONTAINER_FULL}


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _short(word: str) -> str:
    return word[:40]


def _limit_refusal(why: str, ch: Character, item: Item | None, you: bool = True) -> Refused:
    """The refusal for a broken carrying limit (`you`: the actor's own, else `ch`'s)."""
    what = item.name if item is not None else "that"
    if why == "too_heavy":
        if you:
            return Refused(Code.TOO_HEAVY, f"{_cap(what)} is too heavy for you now.")
        return Refused(Code.TOO_HEAVY, f"{_cap(ch.name)} can't carry {what}: too heavy.")
    if you:
        return Refused(Code.TOO_MANY,
                       f"Your hands are full: you can carry only {max_count(ch)} items.")
    return Refused(Code.TOO_MANY, f"{_cap(ch.name)}'s hands are full.")


def take_into_inventory(ch: Character, item: Item) -> int:
    """Put `item` on `ch`: money becomes gold (returns how much), anything else goes
    into the inventory (returns 0). The caller has taken it from where it was."""
    if is_money(item):
        ch.gold += item.gold
        return item.gold
    ch.inventory.append(item)
    return 0


def _inventory_entry(item: Item) -> dict[str, object]:
    return {"name": item.name, "keyword": item.keyword, "weight": item_weight(item),
            "type": str(item.type)}


@command("inventory", aliases=("i", "inv"), category="items", sleeping_ok=True,
         examples=("inventory",))
def inventory(ctx: Ctx) -> None:
    """List what you are carrying, your gold and how much more you can carry."""
    ch = ctx.actor
    ctx.tell(InventoryListed(
        items=[_inventory_entry(it) for it in ch.inventory],
        weight=carried_weight(ch),
        max_weight=max_weight(ch),
        gold=ch.gold,
        count=carried_count(ch),
        max_count=max_count(ch),
    ))


@command("get", aliases=("take",), category="items",
         examples=("get key", "get 2.key", "get all", "get all.coin", "get sword from bag",
                   "get all from corpse"))
def get(ctx: Ctx,
        item: Annotated[Target, "what to pick up: a keyword, 2.sword, all or all.coin"],
        container: Annotated[Text | None, "a container or corpse to take it out of "
                                          "(the floor if empty)"] = None) -> None:
    """Pick something up from the floor, or take it out of a container.

    Usage: get <item> [from <container>]
    `get sword` takes the first sword here, `get 2.sword` the second one,
    `get all` everything you can carry, `get all.coin` everything called coin.
    `get all from corpse` loots a corpse: anyone may loot a creature's corpse,
    but a player's corpse only by its owner. Coins you pick up join your gold.
    """
    if container is not None and container.strip():
        where = strip_word(container, ("from", "out of", "in", "inside"))
        if not where:
            raise Refused(Code.BAD_ARGS, "Get it from what?")
        _get_from(ctx, item, where)
        return
    _get_floor(ctx, item)


def _get_floor(ctx: Ctx, word: str) -> None:
    actor, room = ctx.actor, ctx.room
    multi = is_multi(word)
    chosen = select(word, room.items)
    if not chosen:
        raise Refused(Code.NOT_HERE, "There is nothing here." if multi
                      else f"You see no '{_short(word)}' here.")
    budget = Budget(actor)
    plan: list[Item] = []
    left, limit = 0, ""
    for it in chosen:
        if not can_take(it):
            if not multi:
                raise Refused(Code.CANT_TAKE, f"You can't take {it.name}.")
            continue
        why = budget.why_not(it)
        if why is not None:
            if not multi:
                raise _limit_refusal(why, actor, it)
            left, limit = left + 1, limit or why
            continue
        budget.take(it)
        plan.append(it)
    if not plan:
        if limit:
            raise _limit_refusal(limit, actor, None)
        raise Refused(Code.CANT_TAKE, "There is nothing here you can take.")
    for it in plan:
        room.items.remove(it)
        gold = take_into_inventory(actor, it)
        ctx.tell_room(ItemMoved(actor.name, it.name, it.keyword, "got"), include_actor=True)
        if gold:
            ctx.tell(GoldChanged(gold, actor.gold, "got"))
        else:
            ctx.world.signal(ItemTaken(actor, it))
    if left:
        ctx.tell(LimitReached(limit, left))


def _container(ctx: Ctx, word: str) -> Item:
    bag = find(word, ctx.actor.inventory) or find(word, ctx.room.items)
    if bag is None:
        raise Refused(Code.NOT_HERE, f"You see no '{_short(word)}' here.")
    return bag


def _get_from(ctx: Ctx, word: str, where: str) -> None:
    actor = ctx.actor
    bag = _container(ctx, where)
    if bag.type not in (ItemType.CONTAINER, ItemType.CORPSE):
        raise Refused(Code.NOT_CONTAINER, f"{_cap(bag.name)} is not a container.")
    if bag.owner is not None and bag.owner.lower() != actor.name.lower():
        raise Refused(Code.NOT_YOURS,
                      f"That is {bag.owner}'s corpse: only {bag.owner} may loot it.")
    carried = bag in actor.inventory
    multi = is_multi(word)
    chosen = select(word, bag.contents)
    gold = bag.gold if names_money(word) else 0
    if not chosen and not gold:
        raise Refused(Code.NOT_HERE, f"{_cap(bag.name)} is empty." if multi
                      else f"There is no '{_short(word)}' in {bag.name}.")
    budget = Budget(actor)
    plan: list[Item] = []
    left, limit = 0, ""
    for it in chosen:
        if not can_take(it):
            if not multi:
                raise Refused(Code.CANT_TAKE, f"You can't take {it.name}.")
            continue
        why = budget.why_not(it, counts_weight=not carried)
        if why is not None:
            if not multi and not gold:
                raise _limit_refusal(why, actor, it)
            left, limit = left + 1, limit or why
            continue
        budget.take(it, counts_weight=not carried)
        plan.append(it)
    if not plan and not gold:
        if limit:
            raise _limit_refusal(limit, actor, None)
        raise Refused(Code.CANT_TAKE, f"There is nothing in {bag.name} you can take.")
    for it in plan:
        bag.contents.remove(it)
        got = take_into_inventory(actor, it)
        ctx.tell_room(ItemMoved(actor.name, it.name, it.keyword, "taken_from",
                                container=bag.name), include_actor=True)
        if got:
            ctx.tell(GoldChanged(got, actor.gold, "got"))
        elif not carried:  # out of one's own bag is not a new find
            ctx.world.signal(ItemTaken(actor, it))
    if gold:
        bag.gold = 0
        actor.gold += gold
        ctx.tell_room(ItemMoved(actor.name, money_name(gold), "gold", "taken_from",
                                container=bag.name), include_actor=True)
        ctx.tell(GoldChanged(gold, actor.gold, "got"))
    if left:
        ctx.tell(LimitReached(limit, left))


@command("drop", category="items",
         examples=("drop key", "drop all", "drop all.bread", "drop 10 gold"))
def drop(ctx: Ctx, item: Annotated[Text, "what to drop: a keyword, 2.sword, all, "
                                         "all.bread, or an amount of gold (10 gold)"]) -> None:
    """Drop something you carry onto the floor.

    Usage: drop <item>
    `drop all` drops everything you carry (not what you wear, not your gold);
    `drop 10 gold` leaves a pile of ten coins, `drop gold` all of it.
    """
    actor, room = ctx.actor, ctx.room
    text = item.strip()
    amount = gold_amount(text)
    word, _ = split_words(text)
    if amount is None and word.lower() in MONEY_WORDS and not select(word, actor.inventory):
        if actor.gold < 1:
            raise Refused(Code.TOO_POOR, "You have no gold.")
        amount = actor.gold
    if amount is not None:
        if amount < 1:
            raise Refused(Code.BAD_ARGS, "Drop how much gold?")
        if amount > actor.gold:
            raise Refused(Code.TOO_POOR, f"You have only {actor.gold} gold.")
        actor.gold -= amount
        pile = make_money(ctx.world, amount)
        room.items.append(pile)
        ctx.tell_room(ItemMoved(actor.name, pile.name, pile.keyword, "dropped"),
                      include_actor=True)
        ctx.tell(GoldChanged(-amount, actor.gold, "dropped"))
        return
    chosen = select(word, actor.inventory)
    if not chosen:
        raise Refused(Code.NOT_CARRIED, "You carry nothing." if is_multi(word)
                      else f"You carry no '{_short(word)}'.")
    for it in chosen:
        actor.inventory.remove(it)
        room.items.append(it)
        ctx.tell_room(ItemMoved(actor.name, it.name, it.keyword, "dropped"), include_actor=True)


@command("put", category="items", examples=("put bread in bag", "put all.bread in bag"))
def put(ctx: Ctx,
        item: Annotated[Target, "what to put away: a keyword, 2.sword, all or all.bread"],
        container: Annotated[Text, "the container to put it in"]) -> None:
    """Put something you carry into a container (carried or on the floor).

    Usage: put <item> in <container>
    A container holds up to its capacity in weight; what is inside a container
    you carry still weighs on you, but does not take up a hand.
    """
    actor = ctx.actor
    where = strip_word(container, ("in", "into", "inside", "on"))
    if not where:
        raise Refused(Code.BAD_ARGS, "Put it in what?")
    bag = _container(ctx, where)
    if bag.type is not ItemType.CONTAINER:
        raise Refused(Code.NOT_CONTAINER, f"You can't put things in {bag.name}.")
    multi = is_multi(item)
    named = select(item, actor.inventory)
    chosen = [it for it in named if it is not bag]
    if not chosen:
        if named:
            raise Refused(Code.BAD_TARGET, f"You can't put {bag.name} inside itself.")
        raise Refused(Code.NOT_CARRIED, "You carry nothing to put away." if multi
                      else f"You carry no '{_short(item)}'.")
    room_left = bag.capacity - contents_weight(bag)
    plan: list[Item] = []
    left = 0
    for it in chosen:
        weight = item_weight(it)
        if weight > room_left:
            if not multi:
                raise Refused(Code.CONTAINER_FULL, f"{_cap(bag.name)} can't hold {it.name}.")
            left += 1
            continue
        room_left -= weight
        plan.append(it)
    if not plan:
        raise Refused(Code.CONTAINER_FULL, f"{_cap(bag.name)} is full.")
    for it in plan:
        actor.inventory.remove(it)
        bag.contents.append(it)
        ctx.tell_room(ItemMoved(actor.name, it.name, it.keyword, "put", container=bag.name),
                      include_actor=True)
    if left:
        ctx.tell(LimitReached("container_full", left))


@command("give", category="items",
         examples=("give bread to Ann", "give 50 gold to Ann", "give all.bread to Ann"))
def give(ctx: Ctx,
         item: Annotated[Target, "what to give: a keyword, 2.sword, all.bread, "
                                 "or an amount of gold (50 gold)"],
         to: Annotated[Text, "who to give it to"]) -> None:
    """Hand something you carry, or some gold, to someone in the room.

    Usage: give <item> to <who>     (also: give 50 gold to <who>)
    They must be able to carry it. Quest givers take deliveries this way.
    """
    actor = ctx.actor
    amount = gold_amount(item)
    rest = str(to)
    if amount is None and item.isascii() and item.isdigit() and len(item) <= 9:
        unit, after = split_words(rest)
        if unit.lower() in MONEY_WORDS:
            amount, rest = int(item), after
    who = strip_word(rest, ("to",))
    if not who:
        raise Refused(Code.BAD_ARGS, "Give it to whom?")
    target = ctx.character_here(who.split()[0])
    if target is None:
        raise Refused(Code.NOT_HERE, f"No one called '{_short(who)}' is here.")
    if target is actor:
        raise Refused(Code.BAD_TARGET, "You already have it.")
    if amount is not None:
        _give_gold(ctx, target, amount)
        return
    multi = is_multi(item)
    chosen = select(item, actor.inventory)
    if not chosen:
        raise Refused(Code.NOT_CARRIED, "You carry nothing to give." if multi
                      else f"You carry no '{_short(item)}'.")
    budget = Budget(target)
    plan: list[Item] = []
    left, limit = 0, ""
    for it in chosen:
        why = budget.why_not(it)
        if why is not None:
            if not multi:
                raise _limit_refusal(why, target, it, you=False)
            left, limit = left + 1, limit or why
            continue
        budget.take(it)
        plan.append(it)
    if not plan:
        raise _limit_refusal(limit, target, None, you=False)
    for it in plan:
        actor.inventory.remove(it)
        target.inventory.append(it)
        ctx.tell_room(ItemMoved(actor.name, it.name, it.keyword, "given", target=target.name),
                      include_actor=True)
        ctx.world.signal(ItemGiven(actor, target, it))
    if left:
        ctx.tell(LimitReached(limit, left))


def _give_gold(ctx: Ctx, target: Character, amount: int) -> None:
    actor = ctx.actor
    if amount < 1:
        raise Refused(Code.BAD_ARGS, "Give how much gold?")
    if amount > actor.gold:
        raise Refused(Code.TOO_POOR, f"You have only {actor.gold} gold.")
    actor.gold -= amount
    target.gold += amount
    ctx.tell_room(ItemMoved(actor.name, money_name(amount), "gold", "given",
                            target=target.name), include_actor=True)
    ctx.tell(GoldChanged(-amount, actor.gold, "given"))
    ctx.world.emit_to(target, GoldChanged(amount, target.gold, "received"))


@command("examine", aliases=("exa",), category="items",
         examples=("examine sword", "examine corpse"))
def examine(ctx: Ctx, item: Annotated[Target, "the item to examine (carried, worn or here); "
                                           "builders: anything (here, zone, an id, a "
                                           "character)"]
            ) -> None:
    """Look closely at an item: what it is, where it is worn, what it holds.

    Containers and corpses show what is inside them. Builders examine anything
    (`here`, `zone`, a room or prototype id, a character, an item) and see every
    field of it (an `examined` event).
    """
    actor = ctx.actor
    if actor.role.rank >= Role.BUILDER.rank:
        building.examine_anything(ctx.world, actor, item)
        return
    found = (find(item, actor.inventory) or find(item, actor.equipment.values())
             or find(item, ctx.room.items))
    if found is None:
        raise Refused(Code.NOT_HERE, f"You see no '{_short(item)}' here.")
    examine_item(ctx, found)


def examine_item(ctx: Ctx, found: Item) -> None:
    """Tell the actor what `found` is, what it is for and what it holds (`item_examined`):
    `examine`, and `look in` a container."""
    details: dict[str, object] = {"type": str(found.type), "weight": item_weight(found)}
    if found.slot:
        details["slot"] = found.slot
    if found.damage is not None:
        details["damage"] = str(found.damage)
    if found.two_handed:
        details["two_handed"] = True
    if found.armor:
        details["armor"] = found.armor
    if found.level:
        details["level"] = found.level
    if found.classes:
        details["classes"] = list(found.classes)
    if found.type is ItemType.CONTAINER:
        details["capacity"] = found.capacity
        details["holding"] = contents_weight(found)
    if found.owner is not None:
        details["owner"] = found.owner
    nourish = ctx.world.content.items[found.proto].nourish \
        if found.proto in ctx.world.content.items else None
    if nourish is not None:
        details["nourish"] = {k: v for k, v in (("hp", nourish.hp), ("mana", nourish.mana),
                                                ("moves", nourish.moves)) if v}
        details["portions"] = found.portions
        details["max_portions"] = nourish.portions
        details["refill"] = nourish.refill
    ctx.tell(ItemExamined(
        item=found.name,
        keyword=found.keyword,
        description=found.description,
        details=details,
        contents=[{"name": it.name, "keyword": it.keyword} for it in found.contents],
        gold=found.gold,
    ))
