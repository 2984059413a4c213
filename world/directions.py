"""Compass directions, their aliases and their opposites."""

from __future__ import annotations

from enum import StrEnum


class Direction(StrEnum):
    """A way out of a room. The value is the wire name."""

    NORTH = "north"
    SOUTH = "south"
    EAST = "east"
    WEST = "west"
    NORTHEAST = "northeast"
    NORTHWEST = "northwest"
    SOUTHEAST = "southeast"
    SOUTHWEST = "southwest"
    UP = "up"
    DOWN = "down"

    @property
    def opposite(self) -> Direction:
        """The direction that leads back."""
        return _OPPOSITE[self]

    @property
    def short(self) -> str:
        """The one- or two-letter alias (n, ne, u...)."""
        return _SHORT[self]


_SHORT: dict[Direction, str] = {
    Direction.NORTH: "n",
    Direction.SOUTH: "s",
    Direction.EAST: "e",
    Direction.WEST: "w",
    Direction.NORTHEAST: "ne",
    Direction.NORTHWEST: "nw",
    Direction.SOUTHEAST: "se",
    Direction.SOUTHWEST: "sw",
    Direction.UP: "u",
    Direction.DOWN: "d",
}
_OPPOSITE: dict[Direction, Direction] = {
    Direction.NORTH: Direction.SOUTH,
    Direction.SOUTH: Direction.NORTH,
    Direction.EAST: Direction.WEST,
    Direction.WEST: Direction.EAST,
    Direction.NORTHEAST: Direction.SOUTHWEST,
    Direction.SOUTHWEST: Direction.NORTHEAST,
    Direction.NORTHWEST: Direction.SOUTHEAST,
    Direction.SOUTHEAST: Direction.NORTHWEST,
    Direction.UP: Direction.DOWN,
    Direction.DOWN: Direction.UP,
}
_BY_NAME: dict[str, Direction] = {}
for _d in Direction:
    _BY_NAME[_d.value] = _d
    _BY_NAME[_d.short] = _d
# Prefixes people type: "nor", "ea", "dow"...
for _d in Direction:
    for _i in range(1, len(_d.value)):
        _BY_NAME.setdefault(_d.value[:_i], _d)


def parse_direction(word: str) -> Direction | None:
    """Return the direction named by `word` (full name, alias or prefix), else None."""
    return _BY_NAME.get(word.strip().lower())
