"""Carrying limits at their edges, with the numbers written out by hand.

The rules (world/rules.py, world/inventory.py): a character carries up to
50 + 5 * strength + 2 * level in weight, counting everything on it; and up to
10 + dexterity // 2 items in hand and pack. Ann of tests/itemworld.py is a warrior
of strength 16 and dexterity 12: 50 + 80 + 2 = 132 at level 1, and 16 items.

The edges: an item that fits exactly is taken; one point more is refused; `get all`
counts the weight it has taken so far; the level raises the limit.
"""

from __future__ import annotations

import pytest
from helpers import events
from itemworld import SQUARE, Play, new_play

from world.errors import Code
from world.inventory import carried_count, carried_weight, max_count, max_weight


@pytest.fixture
def p() -> Play:
    return new_play()


def weights(p: Play, *ws: int) -> None:
    """Lay anvils of these weights on the square's floor, in order."""
    for w, anvil in zip(ws, p.floor(*["anvil"] * len(ws)), strict=True):
        anvil.weight = w


def test_anns_limits_are_the_written_numbers(p: Play) -> None:
    assert (max_weight(p.ann), max_count(p.ann)) == (132, 16)
    assert (carried_weight(p.ann), carried_count(p.ann)) == (0, 0)
    assert max_weight(p.bob) == 50 + 8 * 5 + 2  # the mage: strength 8


def test_an_item_that_fits_exactly_is_taken(p: Play) -> None:
    weights(p, 132)
    p.ok(p.ann, "get anvil")
    assert carried_weight(p.ann) == 132


def test_one_point_over_is_refused(p: Play) -> None:
    weights(p, 133)
    assert p.refused(p.ann, "get anvil") == Code.TOO_HEAVY


def test_what_is_carried_already_counts(p: Play) -> None:
    p.give(p.ann, "sword", "helmet")  # 6 + 4
    weights(p, 123)
    assert p.refused(p.ann, "get anvil") == Code.TOO_HEAVY
    p.world.rooms[SQUARE].items[0].weight = 122  # 10 + 122: exactly the limit
    p.ok(p.ann, "get anvil")


def test_get_all_counts_the_weight_taken_so_far(p: Play) -> None:
    weights(p, 50, 50, 50, 32)
    out = p.ok(p.ann, "get all")
    # 50 + 50 fit; the third 50 would make 150; 32 makes exactly 132.
    assert sorted(it.weight for it in p.ann.inventory) == [32, 50, 50]
    assert [it.weight for it in p.world.rooms[SQUARE].items] == [50]
    assert events(out, "limit_reached", "Ann") == [{"limit": "too_heavy", "left": 1}]
    assert carried_weight(p.ann) == 132


def test_get_all_of_two_halves_takes_both(p: Play) -> None:
    weights(p, 66, 66, 1)
    out = p.ok(p.ann, "get all")
    assert carried_weight(p.ann) == 132 and len(p.world.rooms[SQUARE].items) == 1
    assert events(out, "limit_reached", "Ann") == [{"limit": "too_heavy", "left": 1}]


def test_the_level_raises_the_limit_by_two_a_level(p: Play) -> None:
    weights(p, 140)
    assert p.refused(p.ann, "get anvil") == Code.TOO_HEAVY
    p.ann.level = 4
    assert max_weight(p.ann) == 138
    assert p.refused(p.ann, "get anvil") == Code.TOO_HEAVY
    p.ann.level = 5  # 50 + 80 + 10
    assert max_weight(p.ann) == 140
    p.ok(p.ann, "get anvil")


def test_the_count_limit_at_its_edge(p: Play) -> None:
    p.give(p.ann, *["bread"] * 15)
    p.floor("pebble", "pebble")
    p.ok(p.ann, "get pebble")  # the 16th item: exactly the limit
    assert carried_count(p.ann) == 16
    assert p.refused(p.ann, "get pebble") == Code.TOO_MANY


def test_get_all_counts_the_items_taken_so_far(p: Play) -> None:
    p.give(p.ann, *["bread"] * 13)
    p.floor("pebble", "pebble", "pebble", "pebble")
    out = p.ok(p.ann, "get all")
    assert carried_count(p.ann) == 16 and len(p.world.rooms[SQUARE].items) == 1
    assert events(out, "limit_reached", "Ann") == [{"limit": "too_many", "left": 1}]


def test_a_container_takes_exactly_its_capacity(p: Play) -> None:
    bag, = p.give(p.ann, "bag")  # capacity 20
    sword, bread = p.give(p.ann, "sword", "bread")
    sword.weight, bread.weight = 19, 2
    p.ok(p.ann, "put sword in bag")
    assert p.refused(p.ann, "put bread in bag") == Code.CONTAINER_FULL  # 19 + 2 > 20
    bread.weight = 1
    p.ok(p.ann, "put bread in bag")
    assert [it.weight for it in bag.contents] == [19, 1]


def test_giving_checks_the_receivers_limits_exactly(p: Play) -> None:
    anvil, = p.give(p.ann, "anvil")
    anvil.weight = 93  # Bob, a mage of strength 8: 50 + 40 + 2 = 92
    assert p.refused(p.ann, "give anvil to bob") == Code.TOO_HEAVY
    anvil.weight = 92
    p.ok(p.ann, "give anvil to bob")
    assert carried_weight(p.bob) == 92


def test_what_is_worn_weighs_too(p: Play) -> None:
    p.give(p.ann, "helmet")  # 4
    p.ok(p.ann, "wear helmet")
    weights(p, 129)
    assert p.refused(p.ann, "get anvil") == Code.TOO_HEAVY
    p.world.rooms[SQUARE].items[0].weight = 128
    p.ok(p.ann, "get anvil")
    assert carried_weight(p.ann) == 132
