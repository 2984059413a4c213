"""Events: what happened, as frozen data. Text is rendered from them elsewhere.

Every event has a wire `name` (past tense, snake_case, except the two mandated
ones, `room` and `vitals`) and `to_data()` gives the map sent to structured
clients. An `Audience` says who receives it; the world resolves it to a list of
`Delivery(recipient, event)`. Events marked `internal` are requests to the server
(quit, password change, stats) and never go on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from world.entities import Character


class Audience(StrEnum):
    """Who hears an event."""

    ACTOR = "actor"
    TARGET = "target"
    ROOM = "room"
    ROOM_EXCEPT_ACTOR = "room_except_actor"
    WORLD = "world"


_FIELDS: dict[type, tuple[str, ...]] = {}


@dataclass(frozen=True, slots=True)
class Event:
    """Base of all events: subclasses add fields and set `name`."""

    name: ClassVar[str] = "event"
    internal: ClassVar[bool] = False

    def to_data(self) -> dict[str, Any]:
        """The event's fields as a wire-safe map."""
        cls = type(self)
        names = _FIELDS.get(cls)
        if names is None:
            names = _FIELDS[cls] = tuple(f.name for f in fields(self))
        return {n: getattr(self, n) for n in names}


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one recipient."""

    recipient: Character
    event: Event


# ---- the two mandated events -------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoomShown(Event):
    """The room a character is in: on arrival and on `look`."""

    name: ClassVar[str] = "room"
    id: str
    title: str
    description: str
    zone: str
    exits: dict[str, str]
    doors: dict[str, dict[str, Any]]
    characters: list[dict[str, Any]]
    items: list[dict[str, Any]]
    flags: list[str]

    def to_data(self) -> dict[str, Any]:
        data = Event.to_data(self)
        data["name"] = data.pop("title")
        return data


@dataclass(frozen=True, slots=True)
class Vitals(Event):
    """A character's gauges; sent when one changes, at most once a tick."""

    name: ClassVar[str] = "vitals"
    hp: int
    max_hp: int
    mana: int
    max_mana: int
    moves: int
    max_moves: int
    level: int
    xp: int
    xp_next: int
    position: str
    fighting: str | None


# ---- movement and presence ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Arrived(Event):
    """Someone came into the room (`direction` is where they came from, or null)."""

    name: ClassVar[str] = "arrived"
    actor: str
    kind: str
    direction: str | None


@dataclass(frozen=True, slots=True)
class Departed(Event):
    """Someone left the room (`direction` is where they went, or null)."""

    name: ClassVar[str] = "departed"
    actor: str
    kind: str
    direction: str | None


@dataclass(frozen=True, slots=True)
class Entered(Event):
    """A character entered the game (`reconnected` after a link loss)."""

    name: ClassVar[str] = "entered_game"
    actor: str
    kind: str
    reconnected: bool


@dataclass(frozen=True, slots=True)
class Left(Event):
    """A character left the game (`reason`: quit, linkdead, timeout, kicked, shutdown)."""

    name: ClassVar[str] = "left_game"
    actor: str
    kind: str
    reason: str


@dataclass(frozen=True, slots=True)
class LinkLost(Event):
    """A character's connection dropped; it stays a while, link-dead."""

    name: ClassVar[str] = "link_lost"
    actor: str


@dataclass(frozen=True, slots=True)
class DoorChanged(Event):
    """A door was opened, closed, locked or unlocked (`action`)."""

    name: ClassVar[str] = "door_changed"
    actor: str
    direction: str
    door: str
    action: str


# ---- communication -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Said(Event):
    """`actor` said `text` aloud in the room."""

    name: ClassVar[str] = "said"
    actor: str
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class Told(Event):
    """`actor` told `target` privately."""

    name: ClassVar[str] = "told"
    actor: str
    kind: str
    target: str
    text: str


@dataclass(frozen=True, slots=True)
class Shouted(Event):
    """`actor` shouted to the whole world."""

    name: ClassVar[str] = "shouted"
    actor: str
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class Emoted(Event):
    """`actor` acted out `text` ("Ann waves.")."""

    name: ClassVar[str] = "emoted"
    actor: str
    kind: str
    text: str


# ---- information -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LookedAt(Event):
    """A close look at a character, an item or a feature of the room."""

    name: ClassVar[str] = "looked_at"
    target: str
    target_kind: str  # player | agent | mob | item | feature | door
    description: str
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class WhoListed(Event):
    """Who is online."""

    name: ClassVar[str] = "who_listed"
    characters: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class ScoreShown(Event):
    """A character's sheet."""

    name: ClassVar[str] = "score_shown"
    sheet: dict[str, Any]


@dataclass(frozen=True, slots=True)
class HelpShown(Event):
    """A help page (`topic` empty for the index)."""

    name: ClassVar[str] = "help_shown"
    topic: str
    body: str
    commands: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class InventoryListed(Event):
    """What a character carries."""

    name: ClassVar[str] = "inventory_listed"
    items: list[dict[str, Any]]
    weight: int
    max_weight: int


@dataclass(frozen=True, slots=True)
class ItemMoved(Event):
    """An item changed hands: `action` is got or dropped."""

    name: ClassVar[str] = "item_moved"
    actor: str
    item: str
    keyword: str
    action: str


@dataclass(frozen=True, slots=True)
class PositionChanged(Event):
    """A character sat down, slept, woke or stood."""

    name: ClassVar[str] = "position_changed"
    actor: str
    position: str


@dataclass(frozen=True, slots=True)
class Message(Event):
    """A notice from the game or the server (`level`: info, warning)."""

    name: ClassVar[str] = "message"
    text: str
    level: str = "info"


@dataclass(frozen=True, slots=True)
class StatsShown(Event):
    """Server statistics for admins (tick timing, sessions, traffic)."""

    name: ClassVar[str] = "stats_shown"
    stats: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SettingChanged(Event):
    """One of your settings, shown or changed (`key`: color, prompt, aliases)."""

    name: ClassVar[str] = "setting_changed"
    key: str
    value: Any


# ---- combat ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FightStarted(Event):
    """`actor` attacked `target`."""

    name: ClassVar[str] = "fight_started"
    actor: str
    kind: str
    target: str
    target_kind: str


@dataclass(frozen=True, slots=True)
class HitLanded(Event):
    """One attack in a combat round: `damage` 0 and `weapon` "miss" for a miss."""

    name: ClassVar[str] = "hit_landed"
    actor: str
    target: str
    damage: int
    weapon: str
    critical: bool


@dataclass(frozen=True, slots=True)
class Died(Event):
    """`actor` died (`killer` may be null: poison, a fall...)."""

    name: ClassVar[str] = "died"
    actor: str
    kind: str
    killer: str | None
    room: str


# ---- signals inside the world (never on the wire) --------------------------


@dataclass(frozen=True, slots=True)
class Killed(Event):
    """A character was killed: for listeners (quests, XP), with the objects themselves."""

    name: ClassVar[str] = "killed"
    internal: ClassVar[bool] = True
    victim: Any
    killer: Any
    room: str


# ---- requests to the server (never on the wire) ------------------------------


@dataclass(frozen=True, slots=True)
class ServerRequest(Event):
    """The actor asked for something only the server can do.

    `kind` is one of: quit, password, stats. `args` holds its inputs.
    """

    name: ClassVar[str] = "server_request"
    internal: ClassVar[bool] = True
    kind: str
    args: dict[str, Any]
