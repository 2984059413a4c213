"""Formulas of the game: the level table, regeneration, carrying capacity."""

from __future__ import annotations

from world.entities import Character, Position

LEVEL_CAP = 20
REGEN_EVERY = 30  # ticks between regeneration steps (3 s at 10 Hz)

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
