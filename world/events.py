"""Events: what happened, as frozen data. Text is rendered from them elsewhere.

Every event has a wire `name` (past tense, snake_case, except the two mandated
ones, `room` and `vitals`) and `to_data()` gives the map sent to structured
clients; `from_data(name, data)` rebuilds the event from it (a gateway renders what a
world host sent over the bus). An `Audience` says who receives it; the world queues
each event once with its recipients (`Fanout`), or one `Delivery(recipient, event)`
each. Events marked `internal` are requests to the server (quit, password change,
stats) and never go on the wire.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

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
_TUPLES: dict[type, tuple[str, ...]] = {}  # fields that JSON and msgpack turn into lists
_BY_NAME: dict[str, type[Event]] = {}


@dataclass(frozen=True, slots=True)
class Event:
    """Base of all events: subclasses add fields and set `name`."""

    name: ClassVar[str] = "event"
    internal: ClassVar[bool] = False
    renamed: ClassVar[Mapping[str, str]] = {}  # key in to_data() -> field, where they differ

    def to_data(self) -> dict[str, Any]:
        """The event's fields as a wire-safe map."""
        cls = type(self)
        names = _FIELDS.get(cls)
        if names is None:
            names = _FIELDS[cls] = tuple(f.name for f in fields(self))
        return {n: getattr(self, n) for n in names}

    @classmethod
    def from_data(cls: type[E], data: Mapping[str, Any]) -> E:
        """The event whose `to_data()` was `data`, also after a trip through JSON or
        msgpack (a tuple comes back a list): what a gateway renders from a world host's
        `Delivery` (server/bus/messages.py).

        Raises:
            ValueError: a field missing, or one the event does not have.
        """
        names = _FIELDS.get(cls)
        if names is None:
            names = _FIELDS[cls] = tuple(f.name for f in fields(cls))
        extra = {cls.renamed.get(k, k) for k in data} - set(names)
        if extra:
            raise ValueError(f"event {cls.name!r} has no field {sorted(extra)[0]!r}")
        tuples = _TUPLES.get(cls)
        if tuples is None:
            tuples = _TUPLES[cls] = tuple(f.name for f in fields(cls)
                                          if str(f.type).startswith("tuple"))
        values = dict(data)
        for key, field_name in cls.renamed.items():
            if key in values:
                values[field_name] = values.pop(key)
        for n in tuples:
            if n in values:
                values[n] = tuple(values[n])
        try:
            return cls(**values)
        except TypeError as exc:  # a required field is missing
            raise ValueError(f"event {cls.name!r}: {exc}") from None


E = TypeVar("E", bound=Event)


def event_class(name: str) -> type[Event]:
    """The event class whose wire `name` is `name`, wherever in world/ it is defined.

    Raises:
        ValueError: no event is called that.
    """
    cls = _BY_NAME.get(name)
    if cls is None:
        _BY_NAME.update(_event_classes())
        cls = _BY_NAME.get(name)
        if cls is None:
            raise ValueError(f"no event is called {name!r}")
    return cls


def from_data(name: str, data: Mapping[str, Any]) -> Event:
    """The event called `name` whose `to_data()` was `data` (see `Event.from_data`).

    Raises:
        ValueError: no such event, or `data` does not fit it.
    """
    return event_class(name).from_data(data)


def _event_classes() -> dict[str, type[Event]]:
    """Every event class defined so far, by wire name. A `slots=True` dataclass is a new
    class made from the one written; only that one (with its own `__slots__`) counts."""
    found: dict[str, type[Event]] = {}
    stack: list[type[Event]] = [Event]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if "__slots__" in sub.__dict__:
                found[sub.name] = sub
    return found


@dataclass(slots=True, eq=False)
class Delivery:
    """One event for one recipient. Not frozen: one is made per recipient of every
    event, and a frozen dataclass's `__init__` costs three times as much; nobody
    changes one after `World.drain` hands it out."""

    recipient: Character
    event: Event


@dataclass(slots=True)
class Fanout:
    """One event with all its recipients, in the order they hear it: what the world
    queues (`World.drain_fanouts`), one per event rather than one per recipient, so a
    `say` in a crowd of 150 is one entry, and a host sends it on as one message with
    its recipients (server/bus/messages.py's `Delivery`). Not frozen, for the same
    reason as `Delivery`."""

    event: Event
    recipients: list[Character]


# ---- the two mandated events -------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoomShown(Event):
    """The room a character is in: on arrival and on `look`."""

    name: ClassVar[str] = "room"
    renamed: ClassVar[Mapping[str, str]] = {"name": "title"}
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
    """Someone came into the room (`direction` is where they came from, or null) at
    `level`."""

    name: ClassVar[str] = "arrived"
    actor: str
    kind: str
    direction: str | None
    level: int | None = None


@dataclass(frozen=True, slots=True)
class Departed(Event):
    """Someone left the room (`direction` is where they went, or null)."""

    name: ClassVar[str] = "departed"
    actor: str
    kind: str
    direction: str | None


@dataclass(frozen=True, slots=True)
class Entered(Event):
    """A character (at `level`) entered the game (`reconnected` after a link loss)."""

    name: ClassVar[str] = "entered_game"
    actor: str
    kind: str
    reconnected: bool
    level: int | None = None


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
    """A help page (`topic` empty for the index). `format`: "markdown" for the pages of
    content/help (people read them made plain), "text" for the rest."""

    name: ClassVar[str] = "help_shown"
    topic: str
    body: str
    commands: list[dict[str, Any]]
    format: str = "text"


@dataclass(frozen=True, slots=True)
class InventoryListed(Event):
    """What a character carries: `weight` counts worn things and what is inside
    containers; `count` counts only the items in hand and pack."""

    name: ClassVar[str] = "inventory_listed"
    items: list[dict[str, Any]]
    weight: int
    max_weight: int
    gold: int = 0
    count: int = 0
    max_count: int = 0


@dataclass(frozen=True, slots=True)
class ItemMoved(Event):
    """An item changed hands. `action`: got (from the floor), dropped, put (into
    `container`), taken_from (out of `container`), given (to `target`)."""

    name: ClassVar[str] = "item_moved"
    actor: str
    item: str
    keyword: str
    action: str
    container: str | None = None
    target: str | None = None


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


# ---- administration (made by the server, for admins and whom they act on) -----


@dataclass(frozen=True, slots=True)
class Moderated(Event):
    """An admin's action was carried out (kick, ban, mute, promote, force...).

    `action` names it, `target` is whom or what it was about, `detail` holds the
    rest (reason, until, role...). Sent to the admin who acted.
    """

    name: ClassVar[str] = "moderated"
    action: str
    target: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RoleChanged(Event):
    """Your role changed (a `tools` message with what you may now use follows)."""

    name: ClassVar[str] = "role_changed"
    role: str
    previous: str
    by: str


@dataclass(frozen=True, slots=True)
class AuditListed(Event):
    """Audit log entries for `audit`, newest first, with the filters used."""

    name: ClassVar[str] = "audit_listed"
    rows: list[dict[str, Any]]
    filters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Snooped(Event):
    """A copy of what `target`'s connection received (or typed: `input`), for a snooping
    admin, as plain text."""

    name: ClassVar[str] = "snooped"
    target: str
    text: str
    input: bool = False


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
    """One attack in a combat round: `damage` 0 and `weapon` "miss" for a miss;
    `condition` is how hurt `target` is after it (`rules.CONDITIONS`)."""

    name: ClassVar[str] = "hit_landed"
    actor: str
    target: str
    damage: int
    weapon: str
    critical: bool
    condition: str | None = None


@dataclass(frozen=True, slots=True)
class Died(Event):
    """`actor` died (`killer` may be null: poison, a fall...), leaving `corpse` (its
    name, as the room's items list it) on the floor."""

    name: ClassVar[str] = "died"
    actor: str
    kind: str
    killer: str | None
    room: str
    corpse: str | None = None


@dataclass(frozen=True, slots=True)
class Decayed(Event):
    """`item` (a corpse) lying in the room crumbled away, with what was left in it."""

    name: ClassVar[str] = "decayed"
    item: str
    keyword: str


# ---- magic: spells, skills and effects ---------------------------------------


@dataclass(frozen=True, slots=True)
class SpellCast(Event):
    """`actor` cast a spell (`spell` is its id) at `target` (or no one: area spells,
    recall). Skills tell their outcome with `skill_used` or `rescued` instead."""

    name: ClassVar[str] = "spell_cast"
    actor: str
    kind: str
    spell: str
    target: str | None


@dataclass(frozen=True, slots=True)
class SpellFailed(Event):
    """A spell came to nothing: `reason` is concentration (the roll failed, half the mana
    is spent) or no_effect (the target already has it and it does not stack)."""

    name: ClassVar[str] = "spell_failed"
    actor: str
    spell: str
    reason: str


@dataclass(frozen=True, slots=True)
class SpellHit(Event):
    """A damage spell struck `target` for `damage` hit points, leaving it in
    `condition` (`rules.CONDITIONS`)."""

    name: ClassVar[str] = "spell_hit"
    actor: str
    spell: str
    target: str
    damage: int
    condition: str | None = None


@dataclass(frozen=True, slots=True)
class Healed(Event):
    """`target` got `amount` hit points back from `actor`'s `spell`."""

    name: ClassVar[str] = "healed"
    actor: str
    target: str
    amount: int
    spell: str


@dataclass(frozen=True, slots=True)
class EffectStarted(Event):
    """An effect took hold of `target` for `duration` ticks (0: until removed);
    `refreshed` when it renewed one already there."""

    name: ClassVar[str] = "effect_started"
    target: str
    effect: str
    duration: int
    mods: dict[str, int]
    flags: list[str]
    refreshed: bool


@dataclass(frozen=True, slots=True)
class EffectEnded(Event):
    """An effect on `target` wore off (or was removed)."""

    name: ClassVar[str] = "effect_ended"
    target: str
    effect: str


@dataclass(frozen=True, slots=True)
class EffectTicked(Event):
    """A damage-over-time effect (poison) hurt `target` for `damage`."""

    name: ClassVar[str] = "effect_ticked"
    target: str
    effect: str
    damage: int


@dataclass(frozen=True, slots=True)
class SkillUsed(Event):
    """`actor` used a combat skill (bash, kick, backstab) on `target`: `success` and
    the `damage` done (0 on a miss); `condition` is how hurt `target` is after it."""

    name: ClassVar[str] = "skill_used"
    actor: str
    skill: str
    target: str
    success: bool
    damage: int
    condition: str | None = None


@dataclass(frozen=True, slots=True)
class Rescued(Event):
    """`actor` stepped in front of `target` and took over the fight with `foe`."""

    name: ClassVar[str] = "rescued"
    actor: str
    target: str
    foe: str


@dataclass(frozen=True, slots=True)
class Dodged(Event):
    """`actor` dodged a melee attack by `attacker` (the passive dodge skill)."""

    name: ClassVar[str] = "dodged"
    actor: str
    attacker: str


@dataclass(frozen=True, slots=True)
class SpellsListed(Event):
    """Your spells (`skills` false) or skills (`skills` true), learned or to come.

    Each entry: id, name, kind, target, level, mana, cooldown, learned,
    proficiency, ready_in (ticks until usable again).
    """

    name: ClassVar[str] = "spells_listed"
    skills: bool
    spells: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class ItemIdentified(Event):
    """The full stats of an item (the identify spell or a scroll of it)."""

    name: ClassVar[str] = "item_identified"
    item: str
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ItemUsed(Event):
    """`actor` used up `item`: `action` is quaffed (a potion) or recited (a scroll)."""

    name: ClassVar[str] = "item_used"
    actor: str
    item: str
    action: str


@dataclass(frozen=True, slots=True)
class ItemConsumed(Event):
    """`actor` ate or drank (`action`: ate, drank) from `item` (a carried food or drink, or
    "water" from the room's fountain, well or stream: `keyword` is then ""), and got back
    `hp`, `mana` and `moves`. `left`: bites or drinks still in it; `gone`: it is used up
    and out of the inventory (a vessel stays, empty, with `left` 0)."""

    name: ClassVar[str] = "item_consumed"
    actor: str
    item: str
    keyword: str
    action: str
    hp: int
    mana: int
    moves: int
    left: int
    gone: bool


@dataclass(frozen=True, slots=True)
class ItemFilled(Event):
    """`actor` filled `item` (a vessel) at the room's water: it holds `portions` drinks."""

    name: ClassVar[str] = "item_filled"
    actor: str
    item: str
    keyword: str
    portions: int


# ---- items, equipment and shops ----------------------------------------------


@dataclass(frozen=True, slots=True)
class GoldChanged(Event):
    """Your gold went up or down by `amount` to `total`. `reason`: got, dropped,
    given, received, bought, sold (other systems add their own: reward...)."""

    name: ClassVar[str] = "gold_changed"
    amount: int
    total: int
    reason: str


@dataclass(frozen=True, slots=True)
class LimitReached(Event):
    """`get all`, `give all`, `put all`, `wear all`: `left` items stayed where they
    were because of `limit` (too_heavy, too_many, container_full)."""

    name: ClassVar[str] = "limit_reached"
    limit: str
    left: int


@dataclass(frozen=True, slots=True)
class ItemExamined(Event):
    """A close look at an item: what it is, what it is for, what it holds."""

    name: ClassVar[str] = "item_examined"
    item: str
    keyword: str
    description: str
    details: dict[str, Any]
    contents: list[dict[str, Any]]
    gold: int


@dataclass(frozen=True, slots=True)
class EquipmentChanged(Event):
    """`actor` put on (`action` worn) or took off (removed) `item` in `slot`."""

    name: ClassVar[str] = "equipment_changed"
    actor: str
    item: str
    keyword: str
    slot: str
    action: str


@dataclass(frozen=True, slots=True)
class EquipmentListed(Event):
    """What you wear, slot by slot (`item` null where empty), and your armour class."""

    name: ClassVar[str] = "equipment_listed"
    slots: list[dict[str, Any]]
    armor_class: int


@dataclass(frozen=True, slots=True)
class ShopListed(Event):
    """What `shopkeeper` sells, with prices, and the item types it buys."""

    name: ClassVar[str] = "shop_listed"
    shopkeeper: str
    items: list[dict[str, Any]]
    buys: list[str]


@dataclass(frozen=True, slots=True)
class ItemBought(Event):
    """`actor` bought `item` from `shopkeeper` for `price` gold."""

    name: ClassVar[str] = "item_bought"
    actor: str
    shopkeeper: str
    item: str
    keyword: str
    price: int


@dataclass(frozen=True, slots=True)
class ItemSold(Event):
    """`actor` sold `item` to `shopkeeper` for `price` gold."""

    name: ClassVar[str] = "item_sold"
    actor: str
    shopkeeper: str
    item: str
    keyword: str
    price: int


@dataclass(frozen=True, slots=True)
class Valued(Event):
    """What `shopkeeper` would pay for `item`."""

    name: ClassVar[str] = "valued"
    shopkeeper: str
    item: str
    keyword: str
    price: int


# ---- quests and trainers -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuestListed(Event):
    """The quests the givers in your room offer you (`quest list`).

    Each entry: n (its number for `quest accept`), id, title, description, kind
    (kill, collect, deliver), target (a mob's or an item's name), count, to (the
    receiver of a delivery, or null), level, giver, reward {xp, gold, items},
    state (available, accepted, too_low).
    """

    name: ClassVar[str] = "quest_listed"
    quests: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class QuestAccepted(Event):
    """You took on a quest; `given` names the item the giver handed you, if any."""

    name: ClassVar[str] = "quest_accepted"
    quest: str
    title: str
    description: str
    kind: str
    target: str
    count: int
    giver: str
    to: str | None
    given: str | None


@dataclass(frozen=True, slots=True)
class QuestProgressed(Event):
    """You got further with a quest: `count` of `needed` (a kill, an item, a delivery)."""

    name: ClassVar[str] = "quest_progressed"
    quest: str
    title: str
    count: int
    needed: int


@dataclass(frozen=True, slots=True)
class QuestCompleted(Event):
    """You finished a quest and got `rewards` {xp, gold, items [names]}."""

    name: ClassVar[str] = "quest_completed"
    quest: str
    title: str
    rewards: dict[str, Any]


@dataclass(frozen=True, slots=True)
class QuestAbandoned(Event):
    """You gave a quest up."""

    name: ClassVar[str] = "quest_abandoned"
    quest: str
    title: str


@dataclass(frozen=True, slots=True)
class QuestStatusShown(Event):
    """Your quests (`quest status`): each {id, title, kind, target, count, needed,
    ready, turn_in (who to complete it with)}, and the titles of those `done`."""

    name: ClassVar[str] = "quest_status_shown"
    quests: list[dict[str, Any]]
    done: list[str]


@dataclass(frozen=True, slots=True)
class PracticeListed(Event):
    """What `trainer` can teach you: each {id, title, kind, level, proficiency
    (null: not learned yet), max, cost, can (whether you may practise it now)}."""

    name: ClassVar[str] = "practice_listed"
    trainer: str
    skills: list[dict[str, Any]]
    gold: int


@dataclass(frozen=True, slots=True)
class Practiced(Event):
    """You practised `skill` with `trainer`: now at `proficiency` percent (of `max`),
    for `cost` gold (`gold` left)."""

    name: ClassVar[str] = "practiced"
    trainer: str
    skill: str
    title: str
    proficiency: int
    max: int
    cost: int
    gold: int


# ---- combat commands, groups and progression ----------------------------------


@dataclass(frozen=True, slots=True)
class Fled(Event):
    """`actor` tried to flee its fight: `success`, the `direction` it ran (null if it
    failed), whether `wimpy` made it run, and the XP it cost (`xp_lost`)."""

    name: ClassVar[str] = "fled"
    actor: str
    kind: str
    direction: str | None
    success: bool
    wimpy: bool
    xp_lost: int


@dataclass(frozen=True, slots=True)
class Considered(Event):
    """How a fight with `target` would go, as of now.

    `verdict` is easy, fair, risky or deadly; `level_diff` is the target's level
    minus yours; the damage fields are the expected damage per round each way;
    the rounds fields how many rounds each side would need to win; `xp` what the
    kill would be worth to you (0 for players); `joined_by` who would fight you
    alongside the target (its pack, the aggressive, whoever fights you already),
    counted in the rounds, the damage taken and the verdict. `brief`: one of several
    (`consider all`), to be shown in one short line.
    """

    name: ClassVar[str] = "considered"
    target: str
    target_kind: str
    verdict: str
    level_diff: int
    target_level: int
    target_hp: int
    target_max_hp: int
    hit_chance: int
    damage_per_round: float
    damage_taken_per_round: float
    rounds_to_win: int
    rounds_to_lose: int
    xp: int
    joined_by: tuple[str, ...] = ()
    brief: bool = False


@dataclass(frozen=True, slots=True)
class Assisted(Event):
    """`actor` joined `ally`'s fight against `target`."""

    name: ClassVar[str] = "assisted"
    actor: str
    kind: str
    ally: str
    target: str


@dataclass(frozen=True, slots=True)
class WimpySet(Event):
    """Your wimpy: you flee on your own when your hit points fall below `hp` (0: never)."""

    name: ClassVar[str] = "wimpy_set"
    hp: int
    max_hp: int


@dataclass(frozen=True, slots=True)
class XpGained(Event):
    """You gained `amount` XP (`reason`: kill, quest...; `source`: what for, an id for a
    quest; `title`: the same as a person reads it); `xp` is the new total and `xp_next`
    the total the next level needs."""

    name: ClassVar[str] = "xp_gained"
    amount: int
    reason: str
    source: str
    xp: int
    xp_next: int
    title: str = ""


@dataclass(frozen=True, slots=True)
class XpLost(Event):
    """You lost `amount` XP (`reason`: death, flee); never a level."""

    name: ClassVar[str] = "xp_lost"
    amount: int
    reason: str
    xp: int
    xp_next: int


@dataclass(frozen=True, slots=True)
class LevelGained(Event):
    """You reached `level`: what the maximums grew by, the attribute points gained,
    and the spells and skills learned ([{id, name, skill}])."""

    name: ClassVar[str] = "level_gained"
    level: int
    hp: int
    mana: int
    moves: int
    attributes: dict[str, int]
    learned: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Followed(Event):
    """`actor` now follows `leader` (null: stopped following `previous`)."""

    name: ClassVar[str] = "followed"
    actor: str
    leader: str | None
    previous: str | None


@dataclass(frozen=True, slots=True)
class GroupChanged(Event):
    """`member` joined (`joined` true) or left `leader`'s group."""

    name: ClassVar[str] = "group_changed"
    leader: str
    member: str
    joined: bool


@dataclass(frozen=True, slots=True)
class GroupListed(Event):
    """Your group: [{name, level, class, kind, hp, max_hp, mana, max_mana, moves,
    max_moves, position, here, leader}]."""

    name: ClassVar[str] = "group_listed"
    leader: str
    members: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class GroupTold(Event):
    """`actor` said `text` to its group (every member hears, wherever they are)."""

    name: ClassVar[str] = "group_told"
    actor: str
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class Walked(Event):
    """`actor` walked from `origin` to `destination` by `direction` (objects; followers
    follow). Never on the wire."""

    name: ClassVar[str] = "walked"
    internal: ClassVar[bool] = True
    actor: Any
    origin: str
    destination: str
    direction: str


# ---- signals inside the world (never on the wire) --------------------------


@dataclass(frozen=True, slots=True)
class Killed(Event):
    """A character was killed: for listeners (quests, XP), with the objects themselves."""

    name: ClassVar[str] = "killed"
    internal: ClassVar[bool] = True
    victim: Any
    killer: Any
    room: str



@dataclass(frozen=True, slots=True)
class ItemGiven(Event):
    """`giver` gave `item` to `receiver` (objects; quests hear deliveries)."""

    name: ClassVar[str] = "item_given"
    internal: ClassVar[bool] = True
    giver: Any
    receiver: Any
    item: Any


@dataclass(frozen=True, slots=True)
class ItemTaken(Event):
    """`taker` picked `item` up, from the floor or out of a container it was not
    carrying (objects; money is not an item taken: it became gold)."""

    name: ClassVar[str] = "item_taken"
    internal: ClassVar[bool] = True
    taker: Any
    item: Any


# The world core's own signals: what `World` (and its content editing, world/building.py)
# tells the game's systems and commands, which register for them (`listens`), so the
# core never imports them.


@dataclass(frozen=True, slots=True)
class ZoneDue(Event):
    """`zone`'s resets are due now (a new world runs every zone's): the resets system
    fills it (world/systems/resets.py)."""

    name: ClassVar[str] = "zone_due"
    internal: ClassVar[bool] = True
    zone: str


@dataclass(frozen=True, slots=True)
class MobSpawned(Event):
    """`mob` came into the world (`World.spawn_mob`), in its room: mob behaviours file it
    into their active sets and roll its loot."""

    name: ClassVar[str] = "mob_spawned"
    internal: ClassVar[bool] = True
    mob: Character


@dataclass(frozen=True, slots=True)
class MobRemoved(Event):
    """`mob` was taken out of the world (`World.remove_mob`): mob behaviours forget it."""

    name: ClassVar[str] = "mob_removed"
    internal: ClassVar[bool] = True
    mob: Character


@dataclass(frozen=True, slots=True)
class Entering(Event):
    """`character` is entering the world (`World.enter`), restored or `fresh` (new), not
    yet in a room: a fresh one puts on its class's kit, and it learns the spells and
    skills due at its level."""

    name: ClassVar[str] = "entering"
    internal: ClassVar[bool] = True
    character: Character
    fresh: bool


@dataclass(frozen=True, slots=True)
class Leaving(Event):
    """`character` is being taken out of the world (`World.leave`, a builder's purge):
    out of its fight, its following and its group."""

    name: ClassVar[str] = "leaving"
    internal: ClassVar[bool] = True
    character: Character


@dataclass(frozen=True, slots=True)
class Displaced(Event):
    """`character` is being whisked to another room by a builder (`char teleport`,
    `goto`): out of its fight."""

    name: ClassVar[str] = "displaced"
    internal: ClassVar[bool] = True
    character: Character


# ---- requests to the server (never on the wire) ------------------------------


@dataclass(frozen=True, slots=True)
class ServerRequest(Event):
    """The actor asked for something only the server can do.

    `kind` is one of: quit, password, stats; the admin and building ones
    (promote, kick, ban, unban, mute, unmute, announce, shutdown, snoop, force,
    audit, zone_export, reload_content: server/host/admin.py); agent (server/host/identity.py).
    `args` holds its inputs.
    """

    name: ClassVar[str] = "server_request"
    internal: ClassVar[bool] = True
    kind: str
    args: dict[str, Any]
