"""Carrying things: inventory, get, drop."""

from __future__ import annotations

from typing import Annotated

from world.commands.registry import Target, command
from world.context import Ctx
from world.errors import Code, Refused
from world.events import InventoryListed, ItemMoved
from world.rules import max_carry_weight


def carried_weight(ctx: Ctx) -> int:
    """Total weight of the actor's inventory."""
    return sum(it.weight for it in ctx.actor.inventory)


def _max_weight(ctx: Ctx) -> int:
    strength = ctx.world.content.classes[ctx.actor.cls].attributes.get("str", 10)
    return max_carry_weight(ctx.actor, strength)


@command("inventory", aliases=("i", "inv"), category="items", sleeping_ok=True,
         examples=("inventory",))
def inventory(ctx: Ctx) -> None:
    """List what you are carrying."""
    ctx.tell(InventoryListed(
        items=[{"name": it.name, "keyword": it.keyword, "weight": it.weight}
               for it in ctx.actor.inventory],
        weight=carried_weight(ctx),
        max_weight=_max_weight(ctx),
    ))


@command("get", aliases=("take",), category="items", examples=("get key", "get 2.key"))
def get(ctx: Ctx, item: Annotated[Target, "what to pick up"]) -> None:
    """Pick something up from the floor."""
    found = ctx.item_here(item)
    if found is None:
        raise Refused(Code.NOT_HERE, f"You see no '{item[:40]}' here.")
    if carried_weight(ctx) + found.weight > _max_weight(ctx):
        raise Refused(Code.TOO_HEAVY, f"{found.name.capitalize()} is too heavy for you now.")
    ctx.room.items.remove(found)
    ctx.actor.inventory.append(found)
    ctx.tell_room(ItemMoved(ctx.actor.name, found.name, found.keyword, "got"),
                  include_actor=True)


@command("drop", category="items", examples=("drop key",))
def drop(ctx: Ctx, item: Annotated[Target, "what to drop"]) -> None:
    """Drop something you carry onto the floor."""
    found = ctx.item_carried(item)
    if found is None:
        raise Refused(Code.NOT_CARRIED, f"You carry no '{item[:40]}'.")
    ctx.actor.inventory.remove(found)
    ctx.room.items.append(found)
    ctx.tell_room(ItemMoved(ctx.actor.name, found.name, found.keyword, "dropped"),
                  include_actor=True)
