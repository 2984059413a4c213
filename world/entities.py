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


class Slot(StrEnum):
    """Where a worn item goes. Items name a kind of place (`neck`); characters have
    two of some (`neck1`, `neck2`)."""

    LIGHT = "light"
    HEAD = "head"
    NECK1 = "neck1"
    NECK2 = "neck2"
    BODY = "body"
    ARMS = "arms"
    HANDS = "hands"
    WRIST1 = "wrist1"
    WRIST2 = "wrist2"
    WAIST = "waist"
    LEGS = "legs"
    FEET = "feet"
    WIELD = "wield"
    OFFHAND = "offhand"
    FINGER1 = "finger1"
    FINGER2 = "finger2"


# An item's `slot` (as written in content) -> the character slots it may fill.
WEAR_PLACES: dict[str, tuple[Slot, ...]] = {
    "light": (Slot.LIGHT,),
    "head": (Slot.HEAD,),
    "neck": (Slot.NECK1, Slot.NECK2),
    "body": (Slot.BODY,),
    "arms": (Slot.ARMS,),
    "hands": (Slot.HANDS,),
    "wrist": (Slot.WRIST1, Slot.WRIST2),
    "waist": (Slot.WAIST,),
    "legs": (Slot.LEGS,),
    "feet": (Slot.FEET,),
    "wield": (Slot.WIELD,),
    "offhand": (Slot.OFFHAND,),
    "shield": (Slot.OFFHAND,),
    "hold": (Slot.OFFHAND,),
    "finger": (Slot.FINGER1, Slot.FINGER2),
}


class ItemType(StrEnum):
    """What an item is for."""

    MISC = "misc"
    WEAPON = "weapon"
    ARMOR = "armor"
    CONTAINER = "container"
    FOOD = "food"
    DRINK = "drink"
    POTION = "potion"
    SCROLL = "scroll"
    KEY = "key"
    LIGHT = "light"
    TREASURE = "treasure"
    MONEY = "money"
    CORPSE = "corpse"


@dataclass(frozen=True, slots=True)
class Dice:
    """`NdS+B`: roll N dice of S sides and add B."""

    count: int = 1
    sides: int = 4
    bonus: int = 0

    def __str__(self) -> str:
        b = f"+{self.bonus}" if self.bonus > 0 else (str(self.bonus) if self.bonus else "")
        return f"{self.count}d{self.sides}{b}"

    @property
    def average(self) -> float:
        """The mean roll."""
        return self.count * (self.sides + 1) / 2 + self.bonus


@dataclass(slots=True)
class Effect:
    """A spell, skill or item effect on a character, for a while.

    `mods` add to attributes and gauges (`str`, `dex`, `hit`, `damage`, `armor`,
    `max_hp`...). `dot` is damage each `period` ticks (poison). `flags` hold
    states such as `stunned`. An effect with `until` None lasts until removed.
    """

    name: str
    source: str = ""
    until: int | None = None
    mods: dict[str, int] = field(default_factory=dict)
    dot: int = 0
    period: int = 10
    flags: frozenset[str] = frozenset()
    caster: str = ""


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


@dataclass(slots=True, eq=False)
class Item:
    """An item in a room or in a character's inventory. Equal only to itself (ids are
    unique, and `item in room.items` must not compare every field of every item)."""

    id: int
    proto: str
    name: str
    keywords: tuple[str, ...]
    description: str
    short: str = ""  # the line shown in a room ("A brass key lies here.")
    weight: int = 1
    value: int = 0
    type: ItemType = ItemType.MISC
    slot: str | None = None  # where it is worn: a key of WEAR_PLACES
    damage: Dice | None = None  # weapons
    two_handed: bool = False
    armor: int = 0
    mods: dict[str, int] = field(default_factory=dict)
    level: int = 0  # the least level to use it
    classes: tuple[str, ...] = ()  # the classes that may use it; empty: all
    capacity: int = 0  # containers: the weight they hold
    contents: list[Item] = field(default_factory=list)
    gold: int = 0  # money piles and corpses
    decay_at: int | None = None  # world tick at which it crumbles
    owner: str | None = None  # corpses: whose
    flags: frozenset[str] = frozenset()
    effects: tuple[str, ...] = ()  # potions and scrolls: spell ids
    portions: int = 0  # food and drink: bites or drinks left (a vessel at 0 is empty)

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


@dataclass(slots=True, eq=False)
class Character:
    """A player, an agent or a mob. Equal only to itself (as `Item`)."""

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
    fighting: Character | None = None
    inventory: list[Item] = field(default_factory=list)
    equipment: dict[Slot, Item] = field(default_factory=dict)
    attributes: dict[str, int] = field(default_factory=dict)  # base str, dex, con, int, wis
    gold: int = 0
    effects: list[Effect] = field(default_factory=list)
    skills: dict[str, int] = field(default_factory=dict)  # skill or spell id -> proficiency %
    cooldowns: dict[str, int] = field(default_factory=dict)  # id -> tick when ready again
    wimpy: int = 0  # flee below this many hp
    recall: str = ""  # room id of the recall point ("" = the world's)
    following: Character | None = None
    followers: list[Character] = field(default_factory=list)  # who follows this one
    grouped: bool = False  # in its leader's group (a leader with members is grouped too)
    quests: dict[str, dict[str, Any]] = field(default_factory=dict)  # quest id -> progress
    proto: str | None = None  # mobs: the prototype id
    behaviours: dict[str, dict[str, Any]] = field(default_factory=dict)  # mobs: name -> config
    home: str = ""  # mobs: the zone they belong to
    short: str = ""  # mobs: the line shown in a room
    keywords: tuple[str, ...] = ()  # mobs: words that target them (players: their name)
    reset_key: tuple[str, int] | None = None  # mobs: the zone reset that made them
    mods: dict[str, int] = field(default_factory=dict)  # mobs: hit, damage, armor from content
    damage_dice: Dice | None = None  # mobs: bare-hand damage
    linkdead: bool = False
    muted: bool = False  # set by the server (admin `mute`): no say, tell, shout, emote, gtell
    title: str = ""
    settings: dict[str, Any] = field(default_factory=dict)  # color, prompt...
    aliases: dict[str, str] = field(default_factory=dict)
    played_ticks: int = 0  # as of session_start
    session_start: int = 0  # world time when this stay in the world began

    @property
    def keyword(self) -> str:
        """The word others use to target this character."""
        return self.keywords[0] if self.keywords else self.name.lower()

    @property
    def is_mob(self) -> bool:
        """Whether the game drives this character."""
        return self.kind is Kind.MOB
