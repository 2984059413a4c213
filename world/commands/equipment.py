"""Wearing things: wear, wield, hold, remove, equipment.

An item's `slot` (content) names a kind of place; `WEAR_PLACES` maps it to the
character's slots (two necks, wrists and fingers). A weapon without a slot is
wielded, a light without one is held as a light. Level and class restrictions
are checked before anything moves; a two-handed weapon needs the off hand free
and keeps it so. Putting something on where something is already worn swaps
them (the old one goes back to the inventory). Worn items' armour and `mods`
count through `rules.modifier` and `rules.armor_class` as soon as they are on;
`max_hp`, `max_mana` and `max_moves` mods change the maximums while worn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from world import rules
from world.commands.registry import Target, command
from world.context import find
from world.entities import WEAR_PLACES, Character, Item, ItemType, Slot
from world.errors import Code, Refused
from world.events import Entering, EquipmentChanged, EquipmentListed, LimitReached
from world.inventory import Budget, is_multi, max_count, select
from world.systems.registry import listens
from world.world import Ctx, World

HOLD_PLACES = (Slot.OFFHAND, Slot.LIGHT)
GAUGES = (("max_hp", "hp"), ("max_mana", "mana"), ("max_moves", "moves"))


def places_for(item: Item) -> tuple[Slot, ...]:
    """The character slots `item` may fill, in order of preference (none: not wearable)."""
    if item.slot:
        return WEAR_PLACES.get(item.slot, ())
    if item.type is ItemType.WEAPON:
        return (Slot.WIELD,)
    if item.type is ItemType.LIGHT:
        return (Slot.LIGHT,)
    return ()


def restriction(ch: Character, item: Item) -> Refused | None:
    """Why `ch` may not use `item` (level, class), or None."""
    if item.level > ch.level:
        return Refused(Code.LEVEL_TOO_LOW,
                       f"You must be level {item.level} to use {item.name}.")
    if item.classes and ch.cls not in item.classes:
        who = " or ".join(item.classes)
        return Refused(Code.WRONG_CLASS, f"Only a {who} can use {item.name}.")
    return None


def hands_blocked(ch: Character, item: Item, place: Slot) -> Refused | None:
    """Why `item` can't go to `place` because of a two-handed weapon, or None."""
    if place is Slot.WIELD and item.two_handed:
        held = ch.equipment.get(Slot.OFFHAND)
        if held is not None:
            return Refused(Code.HANDS_FULL,
                           f"You need both hands for {item.name}: remove {held.name} first.")
    if place is Slot.OFFHAND:
        weapon = ch.equipment.get(Slot.WIELD)
        if weapon is not None and weapon.two_handed:
            return Refused(Code.HANDS_FULL, f"{_cap(weapon.name)} needs both your hands.")
    return None


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _pick_place(ch: Character, places: tuple[Slot, ...]) -> Slot:
    """The first free place, else the first one (whatever is there is swapped out)."""
    return next((p for p in places if p not in ch.equipment), places[0])


def apply_gauges(world: World, ch: Character, item: Item, sign: int) -> None:
    """Add (`sign` 1) or take back (-1) what `item`'s mods give to the maximum hit points,
    mana and moves; a current value never stays above its maximum. The maximums are
    saved with the character, so they are applied once, when the item goes on or off."""
    changed = False
    for cap, current in GAUGES:
        amount = item.mods.get(cap, 0)
        if amount:
            floor = 1 if cap == "max_hp" else 0
            setattr(ch, cap, max(floor, getattr(ch, cap) + sign * amount))
            setattr(ch, current, min(getattr(ch, current), getattr(ch, cap)))
            changed = True
    if changed:
        world.touch(ch)


def _put_on(ctx: Ctx, item: Item, place: Slot) -> None:
    """Move `item` from the inventory to `place`, swapping out what was there."""
    ch = ctx.actor
    old = ch.equipment.pop(place, None)
    ch.inventory.remove(item)
    if old is not None:
        ch.inventory.append(old)
        apply_gauges(ctx.world, ch, old, -1)
        ctx.tell_room(EquipmentChanged(ch.name, old.name, old.keyword, place.value, "removed"),
                      include_actor=True)
    ch.equipment[place] = item
    apply_gauges(ctx.world, ch, item, 1)
    ctx.tell_room(EquipmentChanged(ch.name, item.name, item.keyword, place.value, "worn"),
                  include_actor=True)


def outfit(world: World, ch: Character, item: Item) -> Slot | None:
    """Put `item` (not yet anywhere) on `ch` quietly, by the rules of `wear all`: the first
    free place it fits, if `ch` may use it; else it goes to the inventory. Returns the
    place, or None. For kitting out a new character before it is in a room."""
    places = [p for p in places_for(item) if p not in ch.equipment]
    if places and restriction(ch, item) is None and hands_blocked(ch, item, places[0]) is None:
        ch.equipment[places[0]] = item
        apply_gauges(world, ch, item, 1)
        return places[0]
    ch.inventory.append(item)
    return None


@listens(Entering)
def kit_out(world: World, event: Entering) -> None:
    """A fresh character entering the world gets its class's `kit`: what it can wear or
    wield goes on where it fits (`outfit`), the rest into its inventory."""
    if not event.fresh:
        return
    ch = event.character
    for item_id in world.content.classes[ch.cls].kit:
        if item_id in world.content.items:
            outfit(world, ch, world.make_item(item_id))


def _equip(ctx: Ctx, word: str, places_of: Callable[[Item], tuple[Slot, ...]], verb: str
           ) -> None:
    """Wear, wield or hold one carried item named by `word`."""
    ch = ctx.actor
    item = find(word, ch.inventory)
    if item is None:
        raise Refused(Code.NOT_CARRIED, f"You carry no '{word[:40]}'.")
    places = places_of(item)
    if not places:
        raise Refused(Code.CANT_WEAR, f"You can't {verb} {item.name}.")
    refusal = restriction(ch, item)
    if refusal is not None:
        raise refusal
    place = _pick_place(ch, places)
    refusal = hands_blocked(ch, item, place)
    if refusal is not None:
        raise refusal
    _put_on(ctx, item, place)


def _wield_places(item: Item) -> tuple[Slot, ...]:
    return (Slot.WIELD,) if Slot.WIELD in places_for(item) else ()


def _hold_places(item: Item) -> tuple[Slot, ...]:
    return tuple(p for p in places_for(item) if p in HOLD_PLACES)


@command("wear", category="equipment",
         examples=("wear helmet", "wear all", "wear 2.ring"))
def wear(ctx: Ctx, item: Annotated[Target, "what to put on: a keyword, 2.ring or all"]) -> None:
    """Put on something you carry: armour, jewellery, a shield, a weapon, a light.

    Usage: wear <item>     (or `wear all`)
    Something already worn in that place goes back to your inventory (two
    rings, two bracelets and two necklaces fit before that). `wear all` only
    fills empty places. Some items need a level or a class.
    """
    if not is_multi(item):
        _equip(ctx, item, places_for, "wear")
        return
    ch = ctx.actor
    chosen = select(item, ch.inventory)
    if not chosen:
        raise Refused(Code.NOT_CARRIED, "You carry nothing.")
    first: Refused | None = None
    worn = 0
    for it in chosen:
        places = [p for p in places_for(it) if p not in ch.equipment]
        refusal = restriction(ch, it) if places else None
        if refusal is None and places:
            refusal = hands_blocked(ch, it, places[0])
        if not places or refusal is not None:
            first = first or refusal
            continue
        _put_on(ctx, it, places[0])
        worn += 1
    if not worn:
        raise first or Refused(Code.CANT_WEAR, "You have nothing more you could wear.")


@command("wield", category="equipment", examples=("wield sword",))
def wield(ctx: Ctx, item: Annotated[Target, "the weapon to wield"]) -> None:
    """Take a weapon you carry in hand (the one you wielded goes back to your pack).

    A two-handed weapon needs your off hand free (no shield, nothing held).
    """
    _equip(ctx, item, _wield_places, "wield")


@command("hold", category="equipment", examples=("hold torch", "hold orb"))
def hold(ctx: Ctx, item: Annotated[Target, "what to hold: a light or an off-hand item"]
         ) -> None:
    """Hold a light, or an item made for the off hand."""
    _equip(ctx, item, _hold_places, "hold")


@command("remove", aliases=("rem",), category="equipment",
         examples=("remove helmet", "remove all"))
def remove(ctx: Ctx, item: Annotated[Target, "what to take off: a keyword or all"]) -> None:
    """Take off something you wear and put it in your inventory.

    Usage: remove <item>     (or `remove all`)
    You need a free hand for it: your inventory has a limit on items.
    """
    ch = ctx.actor
    multi = is_multi(item)
    worn = list(ch.equipment.items())
    chosen = select(item, [it for _, it in worn])
    if not chosen:
        raise Refused(Code.NOT_WORN, "You wear nothing." if multi
                      else f"You are not using any '{item[:40]}'.")
    budget = Budget(ch)
    plan: list[Item] = []
    for it in chosen:
        if budget.why_not(it, counts_weight=False) is not None:
            if not plan:
                raise Refused(Code.TOO_MANY, f"Your hands are full: you can carry only "
                                             f"{max_count(ch)} items.")
            break
        budget.take(it, counts_weight=False)
        plan.append(it)
    for it in plan:
        place = next(slot for slot, worn_item in worn if worn_item is it)
        del ch.equipment[place]
        ch.inventory.append(it)
        apply_gauges(ctx.world, ch, it, -1)
        ctx.tell_room(EquipmentChanged(ch.name, it.name, it.keyword, place.value, "removed"),
                      include_actor=True)
    if len(plan) < len(chosen):
        ctx.tell(LimitReached("too_many", len(chosen) - len(plan)))


@command("equipment", aliases=("eq",), category="equipment", sleeping_ok=True,
         examples=("equipment",))
def equipment(ctx: Ctx) -> None:
    """List what you wear, place by place, and your armour class."""
    ch = ctx.actor
    slots: list[dict[str, object]] = []
    for slot in Slot:
        it = ch.equipment.get(slot)
        slots.append({"slot": slot.value, "item": it.name if it else None,
                      "keyword": it.keyword if it else None})
    ctx.tell(EquipmentListed(slots=slots, armor_class=rules.armor_class(ch)))
