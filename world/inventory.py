"""Carrying things: weights and limits, picking items by name, money piles.

Invariant: an item is in exactly one place at a time: on a room's floor, in a
character's inventory, worn in one of its equipment slots, or among the
contents of one container. Commands move items between these places only after
every check has passed, so a refused command changes nothing.

Limits: the weight a character carries counts everything on it (inventory,
what is worn, and what is inside containers) against `rules.max_carry_weight`
of its strength; the number of items counts only the inventory's top level
(worn things and container contents are free) against `rules.max_carry_items`
of its dexterity. Money never sits in an inventory: a `money` item turns into
`Character.gold` when picked up, and `drop 10 gold` makes a fresh pile.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from world import rules
from world.context import find
from world.entities import Character, Item, ItemType

if TYPE_CHECKING:
    from world.world import World

MONEY_WORDS = ("gold", "coins", "coin", "money")
ALL = "all"


def item_weight(item: Item) -> int:
    """The weight of `item` with everything inside it."""
    return item.weight + sum(item_weight(inner) for inner in item.contents)


def contents_weight(container: Item) -> int:
    """The weight of what is inside `container` (measured against its capacity)."""
    return sum(item_weight(inner) for inner in container.contents)


def carried_weight(ch: Character) -> int:
    """Everything `ch` carries and wears, containers with their contents."""
    return (sum(item_weight(it) for it in ch.inventory)
            + sum(item_weight(it) for it in ch.equipment.values()))


def carried_count(ch: Character) -> int:
    """The items in `ch`'s hands and pack (worn ones and container contents are free)."""
    return len(ch.inventory)


def max_weight(ch: Character) -> int:
    """The most weight `ch` can carry, from its strength (with equipment and effects)."""
    return rules.max_carry_weight(ch, rules.attribute(ch, "str"))


def max_count(ch: Character) -> int:
    """The most items `ch` can hold, from its dexterity (with equipment and effects)."""
    return rules.max_carry_items(ch, rules.attribute(ch, "dex"))


def is_money(item: Item) -> bool:
    """Whether picking `item` up turns it into gold."""
    return item.type is ItemType.MONEY


def can_take(item: Item) -> bool:
    """Whether `item` may be picked up at all (not corpses, not items flagged `no_take`)."""
    return item.type is not ItemType.CORPSE and "no_take" not in item.flags


def money_name(amount: int) -> str:
    """How a pile of `amount` gold reads in a sentence."""
    return "a gold coin" if amount == 1 else f"{amount} gold coins"


def make_money(world: World, amount: int) -> Item:
    """A fresh pile of `amount` gold coins (not from content: it has no prototype)."""
    name = money_name(amount)
    return Item(
        id=world.new_id(), proto="", name=name, keywords=MONEY_WORDS,
        description=f"A small pile of gold: {name}.",
        short=f"{name[:1].upper()}{name[1:]} lie here." if amount > 1
        else "A gold coin lies here.",
        weight=0, value=amount, type=ItemType.MONEY, gold=amount,
    )


def is_multi(word: str) -> bool:
    """Whether `word` names many items: `all` or `all.sword`."""
    word = word.lower()
    return word == ALL or word.startswith(ALL + ".")


def select(word: str, candidates: Iterable[Item]) -> list[Item]:
    """The items `word` names among `candidates`, in order.

    `all` is every one, `all.coin` every one called coin, `2.sword` the second
    sword, `sword` the first. Empty if none.
    """
    word = word.lower().strip()
    items = list(candidates)
    if word == ALL:
        return items
    if word.startswith(ALL + "."):
        name = word[len(ALL) + 1:]
        if not name:
            return []
        return [it for it in items if any(k.startswith(name) for k in it.keywords)]
    found = find(word, items)
    return [] if found is None else [found]


def names_money(word: str) -> bool:
    """Whether `word` (`gold`, `all.coins`, `all`) asks for gold too."""
    word = word.lower()
    if word == ALL:
        return True
    if word.startswith(ALL + "."):
        word = word[len(ALL) + 1:]
    return bool(word) and any(m.startswith(word) for m in MONEY_WORDS)


def gold_amount(text: str) -> int | None:
    """`10 gold`, `10 coins` or `10 coin` as 10; anything else None."""
    parts = text.lower().split()
    if len(parts) == 2 and parts[0].isascii() and parts[0].isdigit() and len(parts[0]) <= 9 \
            and parts[1] in MONEY_WORDS:
        return int(parts[0])
    return None


def strip_word(text: str, fillers: tuple[str, ...]) -> str:
    """`text` without one leading filler word (`from bag` -> `bag`, `out of bag` -> `bag`)."""
    text = text.strip()
    low = text.lower()
    for filler in sorted(fillers, key=len, reverse=True):
        if low == filler:
            return ""
        if low.startswith(filler + " "):
            return text[len(filler):].strip()
    return text


class Budget:
    """What a character can still take on, for a check before anything moves.

    Items out of the character's own containers add no weight: pass
    `counts_weight=False` for them.
    """

    __slots__ = ("count_left", "weight_left")

    def __init__(self, ch: Character) -> None:
        self.weight_left = max_weight(ch) - carried_weight(ch)
        self.count_left = max_count(ch) - carried_count(ch)

    def why_not(self, item: Item, counts_weight: bool = True) -> str | None:
        """The limit `item` would break (too_heavy, too_many), or None if it fits."""
        if is_money(item):
            return None
        if counts_weight and item_weight(item) > self.weight_left:
            return "too_heavy"
        if self.count_left < 1:
            return "too_many"
        return None

    def take(self, item: Item, counts_weight: bool = True) -> None:
        """Count `item` as taken."""
        if is_money(item):
            return
        if counts_weight:
            self.weight_left -= item_weight(item)
        self.count_left -= 1
