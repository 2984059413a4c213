"""world/inventory.py's small helpers, pinned: money piles, money words, filler words.

Each expected value is written out by hand; these were written to kill the mutants
`make mutate` found surviving in world/inventory.py (docs/testing.md).
"""

from __future__ import annotations

import pytest
from itemworld import new_play

from world.entities import ItemType
from world.inventory import (
    MONEY_WORDS,
    gold_amount,
    make_money,
    money_name,
    names_money,
    strip_word,
)


@pytest.mark.parametrize(("amount", "name", "short"), [
    (1, "a gold coin", "A gold coin lies here."),
    (2, "2 gold coins", "2 gold coins lie here."),
    (25, "25 gold coins", "25 gold coins lie here."),
])
def test_a_pile_of_money(amount: int, name: str, short: str) -> None:
    world = new_play().world
    before = world.new_id()
    pile = make_money(world, amount)
    assert pile.id == before + 1
    assert (pile.proto, pile.name, pile.keywords, pile.description, pile.short) == (
        "", name, MONEY_WORDS, f"A small pile of gold: {name}.", short)
    assert (pile.weight, pile.value, pile.type, pile.gold) == (0, amount, ItemType.MONEY,
                                                               amount)
    assert money_name(amount) == name


@pytest.mark.parametrize(("word", "money"), [
    ("all", True), ("gold", True), ("co", True), ("money", True),
    ("all.gold", True), ("all.coins", True), ("all.mo", True),
    ("all.", False), ("all.sword", False), ("sword", False), ("", False), ("ALL.GOLD", True),
])
def test_names_money(word: str, money: bool) -> None:
    assert names_money(word) is money


@pytest.mark.parametrize(("text", "amount"), [
    ("10 gold", 10), ("1 coin", 1), ("7 coins", 7), ("3 MONEY", 3),
    ("123456789 gold", 123456789),     # nine digits at most
    ("1234567890 gold", None),
    ("１０ gold", None),                 # digits, but not ASCII ones
    ("10", None), ("ten gold", None), ("10 swords", None), ("10 gold now", None),
])
def test_gold_amount(text: str, amount: int | None) -> None:
    assert gold_amount(text) == amount


def test_strip_word_takes_the_longest_filler_first() -> None:
    assert strip_word("out of bag", ("out", "out of")) == "bag"
    assert strip_word("  from   the bag ", ("from",)) == "the bag"
    assert strip_word("From", ("from",)) == ""
    assert strip_word("fromage", ("from",)) == "fromage"
