"""Formulas of the game: the level table, regeneration, carrying capacity."""

from __future__ import annotations

import re
from random import Random

from world.entities import Character, Dice, Position

LEVEL_CAP = 20
REGEN_EVERY = 30  # ticks between regeneration steps (3 s at 10 Hz)
TICKS_PER_MINUTE = 600  # at 10 Hz: a zone's `reset_minutes` in ticks

_REGEN_FACTOR = {
    Position.STANDING: 1,
    Position.RESTING: 2,
    Position.SLEEPING: 3,
    Position.FIGHTING: 0,
    Position.DEAD: 0,
}


def xp_for_level(level: int) -> int:
    """Total XP needed to reach `level` (level 1 needs 0)."""
    if level <= 1:
        return 0
    return int(1000 * (level - 1) ** 1.6)


def xp_next(ch: Character) -> int:
    """Total XP at which `ch` gains the next level (its current need at the cap)."""
    return xp_for_level(min(ch.level + 1, LEVEL_CAP))


def regen_amount(maximum: int, position: Position) -> int:
    """How much of a gauge with `maximum` comes back in one regeneration step."""
    factor = _REGEN_FACTOR[position]
    if factor == 0 or maximum <= 0:
        return 0
    return max(1, maximum * factor // 20)


def max_carry_weight(ch: Character, strength: int) -> int:
    """How much weight `ch` can carry."""
    return 50 + strength * 5 + ch.level * 2


def max_carry_items(ch: Character, dexterity: int) -> int:
    """How many items `ch` can carry in its hands and pack (worn ones and what is
    inside containers do not count)."""
    return 10 + dexterity // 2


_DICE = re.compile(r"^(\d+)d(\d+)([+-]\d+)?$")


def parse_dice(text: str) -> Dice:
    """`2d6+1` as a `Dice` (content checks the pattern; this raises ValueError otherwise)."""
    m = _DICE.match(text.strip())
    if m is None:
        raise ValueError(f"not dice: {text!r}")
    return Dice(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))


def roll(rng: Random, dice: Dice) -> int:
    """Roll `dice` with the world's RNG."""
    return sum(rng.randint(1, max(1, dice.sides)) for _ in range(dice.count)) + dice.bonus


def attribute(ch: Character, name: str) -> int:
    """An attribute with equipment and effects applied (3..25)."""
    value = ch.attributes.get(name, 10) + modifier(ch, name)
    return max(3, min(25, value))


def modifier(ch: Character, key: str) -> int:
    """The sum of `key` over worn items, active effects and (for mobs) content mods."""
    total = ch.mods.get(key, 0)
    for item in ch.equipment.values():
        total += item.mods.get(key, 0)
    for effect in ch.effects:
        total += effect.mods.get(key, 0)
    return total


def armor_class(ch: Character) -> int:
    """Armour: worn armour, dexterity and effects (higher is better)."""
    worn = sum(item.armor for item in ch.equipment.values())
    return worn + modifier(ch, "armor") + (attribute(ch, "dex") - 10) // 2


def has_flag(ch: Character, flag: str) -> bool:
    """Whether one of `ch`'s active effects carries `flag` (`stunned`, `hasted`...)."""
    return any(flag in effect.flags for effect in ch.effects)


CONDITIONS = ("excellent", "a few scratches", "wounded", "badly wounded", "awful", "dead")
"""How hurt a character is, in words, from unhurt to dead (`condition`)."""


def condition(hp: int, max_hp: int) -> str:
    """How hurt someone with `hp` of `max_hp` hit points looks: one of `CONDITIONS`
    (what `look` tells and what each hit reports of its target)."""
    if hp <= 0:
        return "dead"
    ratio = hp / max_hp if max_hp > 0 else 0
    if ratio >= 1:
        return "excellent"
    if ratio >= 0.75:
        return "a few scratches"
    if ratio >= 0.5:
        return "wounded"
    if ratio >= 0.25:
        return "badly wounded"
    return "awful"


def dodge_chance(ch: Character) -> int:
    """Percent chance that `ch` (with the passive `dodge` skill) avoids a melee hit."""
    skill = ch.skills.get("dodge", 0)
    if skill <= 0:
        return 0
    return max(0, min(35, skill // 5 + (attribute(ch, "dex") - 10)))


def mob_hp(level: int) -> int:
    """Default hit points of a mob of `level`."""
    return 8 + level * 10


def mob_damage(level: int) -> Dice:
    """Default bare-hand damage of a mob of `level`."""
    return Dice(1, 4 + level, level // 3)


def mob_xp(level: int) -> int:
    """Default XP a mob of `level` is worth before the level-difference scaling."""
    return 40 + level * level * 25
