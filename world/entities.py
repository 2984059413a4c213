"""The things the world is made of, as plain slotted dataclasses.

Rooms hold characters and items; characters hold items. Ids of content are
namespaced `zone:id`. Entities carry data only: the rules live in commands and
systems.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from world.directions import Direction


class Kind(StrEnum):
    """Who drives a character (goes on the wire in `room` events)."""

    PLAYER = "player"
    AGENT = "agent"
    MOB = "mob"


class Role(StrEnum):
    """What a character's account may do; each role includes the ones before it."""

    PLAYER = "player"
    BUILDER = "builder"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """0 for player, 1 for builder, 2 for admin."""
        return _ROLE_RANK[self]


_ROLE_RANK = {Role.PLAYER: 0, Role.BUILDER: 1, Role.ADMIN: 2}


class Position(StrEnum):
    """What a character is doing with its body."""

    STANDING = "standing"
    RESTING = "resting"
    SLEEPING = "sleeping"
    FIGHTING = "fighting"
    DEAD = "dead"


@dataclass(slots=True)
class Door:
    """A door shared by the two sides of a passage."""

    name: str = "door"
    closed: bool = False
    locked: bool = False
    key: str | None = None  # item prototype id that locks and unlocks it


@dataclass(slots=True)
class Exit:
    """A way from one room to another, perhaps through a door."""

    direction: Direction
    to: str  # room id
    door: Door | None = None


@dataclass(slots=True)
class Item:
    """An item in a room or in a character's inventory."""

    id: int
    proto: str
    name: str
    keywords: tuple[str, ...]
    description: str
    short: str = ""  # the line shown in a room ("A brass key lies here.")
    weight: int = 1
    value: int = 0

    @property
    def keyword(self) -> str:
        """The main word that names this item."""
        return self.keywords[0] if self.keywords else self.name.split()[-1].lower()


@dataclass(slots=True)
class Room:
    """A place. Characters and items here are kept in arrival order."""

    id: str
    zone: str
    name: str
    description: str
    exits: dict[Direction, Exit] = field(default_factory=dict)
    flags: frozenset[str] = frozenset()
    extras: dict[str, str] = field(default_factory=dict)
    characters: list[Character] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)


@dataclass(slots=True)
class Character:
    """A player, an agent or a mob."""

    id: int
    name: str
    kind: Kind
    cls: str
    room: str
    description: str = ""
    role: Role = Role.PLAYER
    level: int = 1
    xp: int = 0
    hp: int = 20
    max_hp: int = 20
    mana: int = 0
    max_mana: int = 0
    moves: int = 100
    max_moves: int = 100
    position: Position = Position.STANDING
    fighting: str | None = None
    inventory: list[Item] = field(default_factory=list)
    linkdead: bool = False
    title: str = ""
    settings: dict[str, Any] = field(default_factory=dict)  # color, prompt...
    aliases: dict[str, str] = field(default_factory=dict)
    played_ticks: int = 0  # as of session_start
    session_start: int = 0  # world time when this stay in the world began

    @property
    def keyword(self) -> str:
        """The word others use to target this character."""
        return self.name.lower()
