"""The formulas of world/rules.py, pinned to values written out by hand.

Every expected number here was worked out on paper from the rule as documented (the
docstrings of world/rules.py and of world/systems/combat.py), never recomputed with
the function under test, so a changed formula fails here. Where a table would be
long, a property that a wrong formula breaks (bounds, monotonicity) stands beside a
few pinned points. See docs/testing.md, "Pinned values".
"""

from __future__ import annotations

from random import Random

import pytest

from world import rules
from world.entities import Character, Dice, Effect, Item, Kind, Position, Slot

# Total XP to reach each level: int(1000 * (level - 1) ** 1.6), worked out once by hand
# (a calculator, not the code) and written down.
XP_TABLE = {
    1: 0, 2: 1000, 3: 3031, 4: 5799, 5: 9189, 6: 13132, 7: 17580, 8: 22498, 9: 27857,
    10: 33634, 11: 39810, 12: 46369, 13: 53295, 14: 60577, 15: 68203, 16: 76163,
    17: 84448, 18: 93050, 19: 101961, 20: 111174,
}


def ch(level: int = 1, **attributes: int) -> Character:
    """A bare character of `level` with these base attributes (the rest default to 10)."""
    return Character(id=1, name="Ann", kind=Kind.PLAYER, cls="warrior", room="x:y",
                     level=level, attributes=dict(attributes))


def armour(armor: int = 0, **mods: int) -> Item:
    return Item(id=2, proto="", name="a thing", keywords=("thing",), description="",
                armor=armor, mods=dict(mods))


# ---- the level table ---------------------------------------------------------------


def test_the_level_cap_and_the_regeneration_period() -> None:
    assert rules.LEVEL_CAP == 20
    assert rules.REGEN_EVERY == 30


@pytest.mark.parametrize(("level", "xp"), sorted(XP_TABLE.items()))
def test_xp_for_level_is_the_written_table(level: int, xp: int) -> None:
    assert rules.xp_for_level(level) == xp


def test_xp_for_level_below_one_is_zero_and_the_curve_grows_faster_each_level() -> None:
    assert rules.xp_for_level(0) == rules.xp_for_level(-3) == 0
    steps = [XP_TABLE[n + 1] - XP_TABLE[n] for n in range(1, 20)]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)  # strictly steeper


def test_xp_next_is_the_next_levels_total_and_stays_at_the_cap() -> None:
    assert rules.xp_next(ch(1)) == 1000
    assert rules.xp_next(ch(4)) == 9189
    assert rules.xp_next(ch(19)) == 111174
    assert rules.xp_next(ch(20)) == 111174  # at the cap: the cap's own need
    assert rules.xp_next(ch(25)) == 111174


# ---- regeneration ------------------------------------------------------------------


@pytest.mark.parametrize(("maximum", "position", "amount"), [
    (100, Position.STANDING, 5),    # 100 * 1 // 20
    (100, Position.RESTING, 10),    # 100 * 2 // 20
    (100, Position.SLEEPING, 15),   # 100 * 3 // 20
    (100, Position.FIGHTING, 0),
    (100, Position.DEAD, 0),
    (59, Position.STANDING, 2),     # 59 // 20
    (59, Position.RESTING, 5),      # 118 // 20
    (59, Position.SLEEPING, 8),     # 177 // 20
    (10, Position.STANDING, 1),     # 10 // 20 is 0: at least 1
    (1, Position.SLEEPING, 1),
    (0, Position.SLEEPING, 0),      # no gauge, nothing back
    (-5, Position.RESTING, 0),
])
def test_regen_amount(maximum: int, position: Position, amount: int) -> None:
    assert rules.regen_amount(maximum, position) == amount


# ---- carrying ----------------------------------------------------------------------


@pytest.mark.parametrize(("level", "strength", "weight"), [
    (1, 16, 132),   # 50 + 16 * 5 + 1 * 2
    (1, 10, 102),
    (5, 10, 110),   # the level term: 2 a level
    (11, 10, 122),
    (20, 25, 215),  # 50 + 125 + 40
    (1, 3, 67),
])
def test_max_carry_weight(level: int, strength: int, weight: int) -> None:
    assert rules.max_carry_weight(ch(level), strength) == weight


@pytest.mark.parametrize(("dexterity", "count"), [(3, 11), (10, 15), (12, 16), (13, 16),
                                                  (25, 22)])
def test_max_carry_items(dexterity: int, count: int) -> None:
    assert rules.max_carry_items(ch(), dexterity) == count  # 10 + dex // 2


# ---- dice --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "dice"), [
    ("2d6+1", Dice(2, 6, 1)), ("1d8", Dice(1, 8, 0)), ("3d4-2", Dice(3, 4, -2)),
    (" 1d3 ", Dice(1, 3, 0)), ("10d10+10", Dice(10, 10, 10)),
])
def test_parse_dice(text: str, dice: Dice) -> None:
    assert rules.parse_dice(text) == dice


@pytest.mark.parametrize("text", ["d6", "2d", "2x6", "2d6+", "2d6*2", "", "two d six"])
def test_parse_dice_refuses_what_is_not_dice(text: str) -> None:
    with pytest.raises(ValueError, match="not dice"):
        rules.parse_dice(text)


class Recorded(Random):
    """A `Random` whose randint answers from a script and records what it was asked."""

    def __init__(self, *answers: int) -> None:
        super().__init__(0)
        self.answers = list(answers)
        self.asked: list[tuple[int, int]] = []

    def randint(self, a: int, b: int) -> int:
        self.asked.append((a, b))
        return self.answers.pop(0)


def test_roll_adds_one_die_per_count_and_the_bonus() -> None:
    rng = Recorded(4, 6)
    assert rules.roll(rng, Dice(2, 6, 1)) == 4 + 6 + 1
    assert rng.asked == [(1, 6), (1, 6)]
    rng = Recorded(1, 1, 1)
    assert rules.roll(rng, Dice(3, 4, -2)) == 1
    assert rng.asked == [(1, 4)] * 3
    assert rules.roll(Recorded(), Dice(0, 6, 4)) == 4  # no dice: the bonus alone
    rng = Recorded(1)
    assert rules.roll(rng, Dice(1, 0, 0)) == 1  # a die of no sides counts as one side
    assert rng.asked == [(1, 1)]


def test_roll_spans_exactly_the_dice_range() -> None:
    rng = Random(5)
    seen = {rules.roll(rng, Dice(2, 6, 1)) for _ in range(2000)}
    assert seen == set(range(3, 14))


# ---- attributes, modifiers, armour ---------------------------------------------------


def test_attribute_defaults_to_ten_and_adds_every_modifier() -> None:
    a = ch(dex=14)
    assert rules.attribute(a, "str") == 10
    assert rules.attribute(a, "dex") == 14
    a.mods["str"] = 1
    a.equipment[Slot.FINGER1] = armour(str=2)
    a.effects.append(Effect("giant", mods={"str": 3}))
    assert rules.modifier(a, "str") == 6
    assert rules.modifier(a, "dex") == 0
    assert rules.attribute(a, "str") == 16


@pytest.mark.parametrize(("base", "mod", "value"), [
    (3, 0, 3), (2, 0, 3), (10, -9, 3), (10, -7, 3), (10, -6, 4),
    (25, 0, 25), (26, 0, 25), (24, 3, 25), (22, 2, 24), (18, 0, 18),
])
def test_attribute_is_clamped_to_3_and_25(base: int, mod: int, value: int) -> None:
    a = ch(str=base)
    a.effects.append(Effect("x", mods={"str": mod}))
    assert rules.attribute(a, "str") == value


def test_has_flag_looks_at_every_active_effect() -> None:
    a = ch()
    assert not rules.has_flag(a, "stunned")
    a.effects.append(Effect("haste", flags=frozenset({"hasted"})))
    a.effects.append(Effect("daze", flags=frozenset({"stunned", "slow"})))
    assert rules.has_flag(a, "stunned") and rules.has_flag(a, "hasted")
    assert not rules.has_flag(a, "blind")


@pytest.mark.parametrize(("dex", "worn", "armor_mod", "ac"), [
    (10, (), 0, 0),
    (16, (), 0, 3),          # (16 - 10) // 2
    (17, (), 0, 3),
    (11, (), 0, 0),
    (9, (), 0, -1),          # (9 - 10) // 2 rounds down
    (7, (), 0, -2),
    (3, (), 0, -4),
    (12, (3, 2), 0, 6),      # worn 3 + 2, dex 1
    (12, (3, 2), 4, 10),     # ... and an armour effect of 4
    (25, (1,), -2, 6),       # 1 - 2 + (25 - 10) // 2
])
def test_armor_class(dex: int, worn: tuple[int, ...], armor_mod: int, ac: int) -> None:
    a = ch(dex=dex)
    for slot, armor in zip((Slot.BODY, Slot.HEAD, Slot.OFFHAND), worn, strict=False):
        a.equipment[slot] = armour(armor)
    if armor_mod:
        a.effects.append(Effect("ward", mods={"armor": armor_mod}))
    assert rules.armor_class(a) == ac


@pytest.mark.parametrize(("skill", "dex", "chance"), [
    (0, 25, 0),       # no skill, no dodge
    (-5, 25, 0),
    (50, 10, 10),     # 50 // 5 + 0
    (54, 10, 10),
    (50, 18, 18),     # 10 + 8
    (75, 12, 17),     # 15 + 2
    (100, 25, 35),    # 20 + 15: the cap exactly
    (150, 25, 35),    # 30 + 15 = 45: capped
    (150, 20, 35),    # 30 + 10 = 40: capped
    (100, 24, 34),
    (5, 3, 0),        # 1 - 7: never below 0
    (1, 20, 10),      # any skill at all: 0 + 10
    (20, 7, 1),       # 4 - 3
])
def test_dodge_chance(skill: int, dex: int, chance: int) -> None:
    a = ch(dex=dex)
    if skill:
        a.skills["dodge"] = skill
    assert rules.dodge_chance(a) == chance


def test_dodge_chance_uses_dexterity_with_its_modifiers() -> None:
    a = ch(dex=10)
    a.skills["dodge"] = 50
    a.equipment[Slot.FEET] = armour(dex=4)
    assert rules.dodge_chance(a) == 14


# ---- mob defaults ------------------------------------------------------------------


@pytest.mark.parametrize(("level", "hp", "dice", "xp"), [
    (1, 18, Dice(1, 5, 0), 65),       # 8 + 10; 1d(4 + 1) + 1 // 3; 40 + 1 * 25
    (2, 28, Dice(1, 6, 0), 140),
    (3, 38, Dice(1, 7, 1), 265),
    (5, 58, Dice(1, 9, 1), 665),
    (6, 68, Dice(1, 10, 2), 940),
    (10, 108, Dice(1, 14, 3), 2540),
])
def test_mob_defaults(level: int, hp: int, dice: Dice, xp: int) -> None:
    assert rules.mob_hp(level) == hp
    assert rules.mob_damage(level) == dice
    assert rules.mob_xp(level) == xp


@pytest.mark.parametrize(("hp", "max_hp", "words"), [
    (40, 40, "excellent"), (50, 40, "excellent"), (1, 1, "excellent"),
    (30, 40, "a few scratches"), (20, 40, "wounded"), (10, 40, "badly wounded"),
    (9, 40, "awful"), (0, 40, "dead"), (-3, 40, "dead"),
    (5, 0, "awful"),  # no maximum to measure against
])
def test_condition(hp: int, max_hp: int, words: str) -> None:
    assert rules.condition(hp, max_hp) == words
