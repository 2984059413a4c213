"""World building as data: builder edits, undo, zone export and content reload (pure).

The contract with the server (`server/` persists and audits what happens here):

* Every builder command that changes the world records one `Edit` with
  `World.record_edit(edit)`: it is appended to `world.edits` (the server takes
  them with `World.drain_edits()`, stores and audits them) and to the builder's
  undo stack (`world.undo_stacks[name.lower()]`).
* `Edit.persistent` edits change *content* (rooms, exits, doors, prototypes,
  zones, resets). Their `before` and `after` are **content states**: whole
  documents of the things they touch, never differences, so applying one twice
  is harmless. A content state is a map with any of these keys::

      {"zones":  {zone_id: zone header doc | None},
       "rooms":  {room_id: room doc | None},        # None: the room is gone
       "items":  {proto_id: item prototype doc | None},
       "mobs":   {proto_id: mob prototype doc | None},
       "resets": {zone_id: [reset doc, ...]}}        # the zone's whole list

  Each doc is exactly what a zone file holds under that key (the loader's
  format), with every id written in full (`zone:id`). `World.apply_edit(edit)`
  applies `edit.after`: the server replays the stored persistent edits, in
  order, after loading content/, so builder work survives a restart.
* Other edits (`mob.spawn`, `item.spawn`, `purge`, `char.set`, `char.teleport`,
  `char.goto`, `zone.reset`) touch live things only: they are audited, some can
  be undone, and `apply_edit` ignores them.
* `undo` applies the last undoable edit's `before` and records the reversal as
  an edit of kind `undo.<kind>` (with `before` and `after` swapped), which is
  persistent exactly when the edit it reverses was.

Also here: `export_zone()` (a zone back in the loader's format, as plain data),
`reload()` (new content under a running world), `examine_fields()` (every field
of anything, for builders) and the events of building.

Invariant: `world.content`'s tables are the definition of the world (what
export writes and what resets make); the live `Room`s mirror the room
prototypes, except for what play changes (doors opened, items moved).

world/world.py imports this module (`World.apply_edit`, `World.reload` and the
`Edit`s it keeps), so the functions here take the world as an `Editable`: the part
of `World` they use, which `World` passes itself as.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ValidationError

from world.context import find
from world.directions import Direction
from world.entities import Character, Dice, Door, Exit, Item, Kind, Room
from world.errors import Code, Refused
from world.events import Arrived, Departed, Displaced, Event, Leaving, RoomShown
from world.prototypes import (
    Content,
    DoorModel,
    ItemModel,
    MobModel,
    QuestModel,
    ResetModel,
    RoomModel,
    RoomProto,
    ZoneInfo,
    qualify,
)
from world.prototypes import room_proto as resolve_room
from world.rules import TICKS_PER_MINUTE
from world.text import clean_value

# Edit kinds that change content (replayed after a restart, written by export).
CONTENT_KINDS = frozenset({
    "room.dig", "room.set", "exit.link", "exit.unlink", "door.set", "proto.create",
    "proto.set", "zone.create", "zone.set", "reset.add", "reset.remove",
})
# Edit kinds of live things (audited; not replayed).
LIVE_KINDS = frozenset({
    "mob.spawn", "item.spawn", "purge", "char.set", "char.teleport", "char.goto", "zone.reset",
})
UNDO_PREFIX = "undo."
UNDO_DEPTH = 100  # edits kept per builder for `undo`
# Room flags the game knows (world/systems/combat.py and behaviours.py read them).
ROOM_FLAGS = ("safe", "pvp", "recall", "no_mob", "dark", "indoors", "water", "no_recall",
              "no_magic")
STATE_KEYS = ("zones", "rooms", "items", "mobs", "resets")
LOCAL_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Edit:
    """One builder change, as plain data (JSON-safe `before` and `after`).

    Attributes:
        actor: who made it (a character name).
        kind: what it was (`room.dig`, `proto.set`, `mob.spawn`, `undo.room.set`...).
        target: the id of the thing changed (a room or prototype id, a zone,
            a character's name).
        before: the state before (a content state for persistent edits).
        after: the state after.
        zone: the zone it belongs to.
    """

    actor: str
    kind: str
    target: str
    before: Any
    after: Any
    zone: str

    @property
    def persistent(self) -> bool:
        """Whether it changes content (and so is replayed and exported)."""
        return self.kind.removeprefix(UNDO_PREFIX) in CONTENT_KINDS

    def to_data(self) -> dict[str, Any]:
        """The edit as a plain map."""
        return {"actor": self.actor, "kind": self.kind, "target": self.target,
                "before": self.before, "after": self.after, "zone": self.zone}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Edit:
        """The edit from `to_data()`'s map."""
        return cls(str(data["actor"]), str(data["kind"]), str(data["target"]),
                   data.get("before"), data.get("after"), str(data.get("zone", "")))


class EditError(ValueError):
    """A content state that does not fit the world (a broken reference, a bad field)."""


class Editable(Protocol):
    """What building uses of a world (`World` is one): the content it edits (and
    `reload` replaces), the live things that mirror it, and the ways to tell people.
    Read-only where building only reads or mutates in place."""

    content: Content

    @property
    def time(self) -> int: ...
    @property
    def rooms(self) -> MutableMapping[str, Room]: ...
    @property
    def characters(self) -> Mapping[str, Character]: ...
    @property
    def mobs(self) -> Mapping[int, Character]: ...
    @property
    def decaying(self) -> MutableMapping[int, Item]: ...
    @property
    def next_reset(self) -> MutableMapping[str, int]: ...
    @property
    def undo_stacks(self) -> MutableMapping[str, list[Edit]]: ...

    def make_item(self, proto_id: str) -> Item: ...
    def restore_item(self, data: Any) -> Item | None: ...
    def spawn_mob(self, proto_id: str, room_id: str,
                  reset_key: tuple[str, int] | None = None) -> Character: ...
    def remove_mob(self, mob: Character) -> None: ...
    def find_online(self, name: str) -> Character | None: ...
    def move(self, ch: Character, to: str) -> None: ...
    def touch(self, ch: Character) -> None: ...
    def signal(self, event: Event) -> None: ...
    def room_view(self, room: Room, viewer: Character | None) -> RoomShown: ...
    def emit_to(self, ch: Character, event: Event) -> None: ...
    def emit_room(self, room: Room, event: Event, exclude: Character | None = None
                  ) -> None: ...
    def emit_all(self, event: Event, exclude: Character | None = None) -> None: ...


# ---- events ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Built(Event):
    """A builder's change went through (sent to the builder). `kind` is the edit's kind,
    `target` its id, `detail` what changed (fields and values, by kind)."""

    name: ClassVar[str] = "built"
    kind: str
    target: str
    zone: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Examined(Event):
    """Every field of something, for builders (`examine`): `kind` is room, zone,
    item, mob, player, agent, item_proto or mob_proto."""

    name: ClassVar[str] = "examined"
    kind: str
    id: str
    title: str
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ResetsListed(Event):
    """The reset rules of a zone (`reset list`); `n` numbers them for `reset remove`."""

    name: ClassVar[str] = "resets_listed"
    zone: str
    room: str
    reset_minutes: float
    resets: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class ZonesListed(Event):
    """Every zone with its size (`zone list`)."""

    name: ClassVar[str] = "zones_listed"
    zones: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Purged(Event):
    """A builder made mobs and items vanish from the room."""

    name: ClassVar[str] = "purged"
    actor: str
    things: list[str]


@dataclass(frozen=True, slots=True)
class Teleported(Event):
    """`actor` sent `target` to room `to` (sent to both)."""

    name: ClassVar[str] = "teleported"
    actor: str
    target: str
    to: str


@dataclass(frozen=True, slots=True)
class ZoneExported(Event):
    """A zone was written back to content/ (`path`), with how many of each it holds."""

    name: ClassVar[str] = "zone_exported"
    zone: str
    path: str
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class ContentReloaded(Event):
    """The world's content was re-read under everyone's feet (sent to everyone)."""

    name: ClassVar[str] = "content_reloaded"
    zones: int
    rooms: int
    moved: int  # characters whose room vanished and who went to the start room


# ---- content of a world ---------------------------------------------------------------


def own_content(content: Content) -> Content:
    """A `Content` with tables of its own, so a world's edits never reach another's."""
    return dataclasses.replace(
        content,
        rooms=dict(content.rooms), items=dict(content.items), mobs=dict(content.mobs),
        zones=dict(content.zones), resets=dict(content.resets), quests=dict(content.quests),
        classes=dict(content.classes), spells=dict(content.spells), help=dict(content.help),
    )


def door_doc(m: DoorModel) -> dict[str, Any]:
    """A door in the loader's format (`name` always, the rest when not the default)."""
    doc: dict[str, Any] = {"name": m.name}
    if not m.closed:
        doc["closed"] = False
    if m.locked:
        doc["locked"] = True
    if m.key is not None:
        doc["key"] = m.key
    return doc


def room_doc(p: RoomProto) -> dict[str, Any]:
    """A room prototype in the loader's format (ids in full)."""
    doc: dict[str, Any] = {"name": p.name, "description": p.description}
    if p.exits:
        doc["exits"] = {
            d.value: x.to if x.door is None else {"to": x.to, "door": door_doc(x.door)}
            for d, x in p.exits.items()
        }
    if p.flags:
        doc["flags"] = sorted(p.flags)
    if p.extras:
        doc["extras"] = dict(p.extras)
    if p.items:
        doc["items"] = list(p.items)
    return doc


def model_doc(model: BaseModel) -> dict[str, Any]:
    """A prototype (item, mob, reset, quest, zone header) in the loader's format."""
    doc: dict[str, Any] = model.model_dump(mode="json", exclude_defaults=True)
    return doc


def room_proto(rid: str, doc: Any) -> RoomProto:
    """Check a room doc and resolve it as the loader does.

    Raises:
        EditError: the doc breaks the room schema.
    """
    model = _validated(RoomModel, doc, f"room {rid}")
    return resolve_room(rid, model)


def _validated(model: type[Any], doc: Any, what: str) -> Any:
    """`doc` as `model`, its strings cleaned (world/text.py): every builder edit, live or
    replayed from the database (edits stored before cleaning came in too), passes here."""
    try:
        return model.model_validate(clean_value(doc))
    except ValidationError as exc:
        raise EditError(f"{what}: {describe_error(exc)}") from None


def describe_error(exc: ValidationError) -> str:
    """The first problem of a validation error as one line: `key.path: message`."""
    err = exc.errors()[0]
    loc = ".".join(str(x) for x in err["loc"] if not (isinstance(x, str) and x[:1].isupper()))
    return f"{loc}: {err['msg']}" if loc else str(err["msg"])


def capture(world: Editable, *, zones: Iterable[str] = (), rooms: Iterable[str] = (),
            items: Iterable[str] = (), mobs: Iterable[str] = (),
            resets: Iterable[str] = ()) -> dict[str, Any]:
    """The content state of the named things as they are now (None: not there)."""
    c = world.content
    state: dict[str, Any] = {}
    if zones:
        state["zones"] = {z: model_doc(c.zones[z]) if z in c.zones else None for z in zones}
    if rooms:
        state["rooms"] = {r: room_doc(c.rooms[r]) if r in c.rooms else None for r in rooms}
    if items:
        state["items"] = {i: model_doc(c.items[i]) if i in c.items else None for i in items}
    if mobs:
        state["mobs"] = {m: model_doc(c.mobs[m]) if m in c.mobs else None for m in mobs}
    if resets:
        state["resets"] = {z: [model_doc(r) for r in c.resets.get(z, ())] for z in resets}
    return state


def apply_state(world: Editable, state: Mapping[str, Any]) -> None:
    """Make the world's content match `state` (a content state), live rooms included.

    Everything is checked first (schemas, then every reference in the whole
    content); on any problem nothing changes.

    Raises:
        EditError: the state is malformed or would leave a broken reference.
    """
    if not isinstance(state, Mapping):
        raise EditError("a content state is a map")
    unknown = sorted(str(k) for k in state if k not in STATE_KEYS)
    if unknown:
        raise EditError(f"unknown part(s) of a content state: {', '.join(unknown)}")
    c = world.content
    zones: dict[str, ZoneInfo | None] = {}
    for zid, doc in _table(state, "zones").items():
        zones[zid] = None if doc is None else _validated(ZoneInfo, doc, f"zone {zid}")
        info = zones[zid]
        if info is not None and info.id != zid:
            raise EditError(f"zone {zid}: its header says '{info.id}'")
    items: dict[str, ItemModel | None] = {
        pid: None if doc is None else _validated(ItemModel, doc, f"item {pid}")
        for pid, doc in _table(state, "items").items()}
    mobs: dict[str, MobModel | None] = {
        pid: None if doc is None else _validated(MobModel, doc, f"mob {pid}")
        for pid, doc in _table(state, "mobs").items()}
    rooms: dict[str, RoomProto | None] = {
        rid: None if doc is None else room_proto(rid, doc)
        for rid, doc in _table(state, "rooms").items()}
    resets: dict[str, tuple[ResetModel, ...]] = {}
    for zid, docs in _table(state, "resets").items():
        if not isinstance(docs, list):
            raise EditError(f"resets of {zid}: a list")
        resets[zid] = tuple(_validated(ResetModel, d, f"reset {n + 1} of {zid}")
                            for n, d in enumerate(docs))
    for pid in (*items, *mobs, *rooms):
        _check_id(pid)
    for zid in zones:
        if LOCAL_ID.match(zid) is None:
            raise EditError(f"'{zid}' is not a zone id (lower case letters, digits, _)")

    new_zones = _merged(c.zones, zones)
    new_items = _merged(c.items, items)
    new_mobs = _merged(c.mobs, mobs)
    new_rooms = _merged(c.rooms, rooms)
    new_resets = {z: r for z, r in {**c.resets, **resets}.items() if z in new_zones}
    check_content(new_zones, new_rooms, new_items, new_mobs, new_resets, c.quests,
                  c.start_room, {s: None for s in c.spells},
                  [ref for cls in c.classes.values() for ref in getattr(cls, "kit", ())])

    old_rooms = dict(c.rooms)
    old_resets = dict(c.resets)
    _commit(c.zones, zones)
    _commit(c.items, items)
    _commit(c.mobs, mobs)
    _commit(c.rooms, rooms)
    for zid in list(c.resets):
        if zid not in c.zones:
            del c.resets[zid]
    c.resets.update({z: r for z, r in resets.items() if z in c.zones})

    for zid, info in zones.items():
        if info is None:
            world.next_reset.pop(zid, None)
        elif zid not in world.next_reset:
            world.next_reset[zid] = world.time + _reset_interval(info)
    for rid, proto in rooms.items():
        if proto is not None:
            sync_room(world, proto, old_rooms.get(rid))
    for rid, proto in rooms.items():
        if proto is None and rid in world.rooms:
            _remove_room(world, rid, old_rooms.get(rid))
    for zid in resets:
        _remap_reset_keys(world, zid, old_resets.get(zid, ()), c.resets.get(zid, ()))


def _table(state: Mapping[str, Any], key: str) -> dict[str, Any]:
    table = state.get(key, {})
    if not isinstance(table, Mapping):
        raise EditError(f"'{key}' of a content state is a map")
    return {str(k): v for k, v in table.items()}


def _check_id(pid: str) -> None:
    zone, colon, local = pid.partition(":")
    if not colon or LOCAL_ID.match(zone) is None or LOCAL_ID.match(local) is None:
        raise EditError(f"'{pid}' is not a full id (zone:id)")


def _merged(table: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(table)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def _commit(table: dict[str, Any], changes: Mapping[str, Any]) -> None:
    for key, value in changes.items():
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value


def check_content(zones: Mapping[str, ZoneInfo], rooms: Mapping[str, RoomProto],
                  items: Mapping[str, ItemModel], mobs: Mapping[str, MobModel],
                  resets: Mapping[str, tuple[ResetModel, ...]],
                  quests: Mapping[str, QuestModel], start_room: str,
                  spells: Mapping[str, object], kit: Iterable[str] = ()) -> None:
    """Check every reference between content tables (what the loader checks).

    Raises:
        EditError: the first broken reference.
    """
    if start_room not in rooms:
        raise EditError(f"the start room '{start_room}' would be gone")
    for rid, room in rooms.items():
        if room.zone not in zones:
            raise EditError(f"room {rid}: no zone '{room.zone}'")
        for way, ex in room.exits.items():
            if ex.to not in rooms:
                raise EditError(f"room {rid}: exit {way.value} leads to unknown room '{ex.to}'")
            if ex.door is not None and ex.door.key is not None and ex.door.key not in items:
                raise EditError(f"room {rid}: the door {way.value} needs unknown key "
                                f"'{ex.door.key}'")
        for ref in room.items:
            if ref not in items:
                raise EditError(f"room {rid}: unknown item '{ref}'")
    for mid, mob in mobs.items():
        for ref in (*mob.equipment, *mob.inventory, *(lt.item for lt in mob.loot)):
            if ref not in items:
                raise EditError(f"mob {mid}: unknown item '{ref}'")
        for spell in mob.spells:
            if spell not in spells:
                raise EditError(f"mob {mid}: unknown spell '{spell}'")
    for zid, rules in resets.items():
        for n, r in enumerate(rules, 1):
            if (r.mob is None) == (r.item is None):
                raise EditError(f"reset {n} of {zid}: names a mob or an item")
            if r.room not in rooms:
                raise EditError(f"reset {n} of {zid}: unknown room '{r.room}'")
            if r.mob is not None and r.mob not in mobs:
                raise EditError(f"reset {n} of {zid}: unknown mob '{r.mob}'")
            if r.item is not None and r.item not in items:
                raise EditError(f"reset {n} of {zid}: unknown item '{r.item}'")
    for qid, q in quests.items():
        if q.giver not in mobs:
            raise EditError(f"quest {qid}: unknown giver '{q.giver}'")
        table: Mapping[str, object] = mobs if q.kind == "kill" else items
        if q.target not in table:
            raise EditError(f"quest {qid}: unknown target '{q.target}'")
        if q.to is not None and q.to not in mobs:
            raise EditError(f"quest {qid}: unknown mob '{q.to}'")
        for ref in q.reward.items:
            if ref not in items:
                raise EditError(f"quest {qid}: unknown reward item '{ref}'")
    for ref in kit:
        if ref not in items:
            raise EditError(f"a class kit needs item '{ref}'")


def _reset_interval(info: ZoneInfo) -> int:
    return max(1, int(info.reset_minutes * TICKS_PER_MINUTE))


# ---- live rooms follow their prototypes ---------------------------------------------


def _make_door(m: DoorModel) -> Door:
    return Door(m.name, m.closed, m.locked and m.closed, m.key)


def _set_door(door: Door, m: DoorModel) -> None:
    door.name, door.closed, door.locked, door.key = m.name, m.closed, m.locked and m.closed, m.key


def sync_room(world: Editable, proto: RoomProto, old: RoomProto | None) -> Room:
    """Make the live room match its prototype (made if new). Doors keep what play did
    to them unless their definition changed; a door stays one object for both sides."""
    room = world.rooms.get(proto.id)
    if room is None:
        room = Room(id=proto.id, zone=proto.zone, name=proto.name,
                    description=proto.description)
        world.rooms[proto.id] = room
        for ref in proto.items:
            room.items.append(world.make_item(ref))
    room.zone, room.name, room.description = proto.zone, proto.name, proto.description
    room.flags = proto.flags
    room.extras = dict(proto.extras)
    exits: dict[Direction, Exit] = {}
    for d, xp in proto.exits.items():
        live = room.exits.get(d)
        back = _back_exit(world, proto.id, d, xp.to)
        model = xp.door
        if model is None:  # a door written on the far side only stands on this side too
            far = world.content.rooms.get(xp.to)
            far_exit = far.exits.get(d.opposite) if far is not None else None
            if far_exit is not None and far_exit.to == proto.id:
                model = far_exit.door
        door: Door | None = None
        if model is not None:
            if live is not None and live.to == xp.to and live.door is not None:
                door = live.door
            elif back is not None and back.door is not None:
                door = back.door
            old_exit = old.exits.get(d) if old is not None else None
            if door is None:
                door = _make_door(model)
            elif old_exit is None or old_exit.to != xp.to or old_exit.door != xp.door:
                _set_door(door, model)  # its definition changed: it starts afresh
            if back is not None:
                back.door = door
        elif back is not None:
            back.door = None
        exits[d] = Exit(d, xp.to, door)
    room.exits = exits
    return room


def _back_exit(world: Editable, rid: str, d: Direction, to: str) -> Exit | None:
    far = world.rooms.get(to)
    if far is None:
        return None
    ex = far.exits.get(d.opposite)
    return ex if ex is not None and ex.to == rid else None


def _remove_room(world: Editable, rid: str, old: RoomProto | None) -> None:
    room = world.rooms.pop(rid)
    dest = world.content.start_room
    if old is not None:
        dest = next((x.to for x in old.exits.values() if x.to in world.rooms), dest)
    relocate(world, room.characters, dest)
    for item in room.items:
        world.decaying.pop(item.id, None)


def relocate(world: Editable, characters: Iterable[Character], dest: str) -> int:
    """Move characters whose room is gone to `dest` (players see where they are)."""
    moved = 0
    target = world.rooms[dest]
    for ch in list(characters):
        ch.room = dest
        target.characters.append(ch)
        moved += 1
        if ch.kind is not Kind.MOB:
            world.emit_to(ch, world.room_view(target, ch))
    return moved


def _remap_reset_keys(world: Editable, zid: str, old: tuple[ResetModel, ...],
                      new: tuple[ResetModel, ...]) -> None:
    """Mobs made by reset n keep counting for the same rule wherever it moved in the list."""
    if old == new:
        return
    mapping: dict[int, int] = {}
    used: set[int] = set()
    for k, rule in enumerate(old):
        j = next((j for j, other in enumerate(new) if j not in used and other == rule), None)
        if j is not None:
            mapping[k] = j
            used.add(j)
    for mob in world.mobs.values():
        if mob.reset_key is not None and mob.reset_key[0] == zid:
            n = mapping.get(mob.reset_key[1])
            mob.reset_key = None if n is None else (zid, n)


# ---- edits: replay and undo --------------------------------------------------------------


def apply_edit(world: Editable, edit: Edit) -> bool:
    """Replay a persistent edit (apply its `after`); False for an edit of live things.

    Raises:
        EditError: its state no longer fits the world.
    """
    if not edit.persistent:
        return False
    apply_state(world, edit.after)
    return True


def undo_edit(world: Editable, edit: Edit) -> None:
    """Put back what `edit` changed (its `before`).

    Live things that are gone since (a spawned mob killed, a character logged
    out) leave nothing to put back: the undo is then a no-op, so it never blocks
    the builder's older changes.

    Raises:
        EditError: a content change cannot be undone any more (what it touched
            changed since in a way its old state no longer fits).
    """
    if edit.persistent:
        apply_state(world, edit.before)
        return
    kind = edit.kind
    state = edit.before
    if kind == "mob.spawn":
        mob = world.mobs.get(int(edit.after["mob"]))
        if mob is not None:
            take_mob(world, mob)
    elif kind == "item.spawn":
        item_id = int(edit.after["item"])
        for items in _item_holders(world):
            for it in items:
                if it.id == item_id:
                    items.remove(it)
                    return
    elif kind == "purge":
        room = world.rooms.get(state["room"])
        if room is None:
            return
        for m in state["mobs"]:
            if m["proto"] in world.content.mobs:
                key = m.get("reset_key")
                world.spawn_mob(m["proto"], room.id,
                                reset_key=(str(key[0]), int(key[1])) if key else None)
        for data in state["items"]:
            item = world.restore_item(data)
            if item is not None:
                room.items.append(item)
        owner = world.find_online(str(state.get("holder", "")))
        for data in state.get("carried", ()):
            item = world.restore_item(data)
            if item is not None:
                (owner.inventory if owner is not None else room.items).append(item)
    elif kind == "char.set":
        ch = find_character(world, state["id"])
        if ch is not None:
            set_character_field(world, ch, state["field"], state["value"])
    elif kind in ("char.teleport", "char.goto"):
        ch = find_character(world, state["id"])
        if ch is not None and state["room"] in world.rooms and ch.room != state["room"]:
            move_character(world, ch, state["room"])
    else:
        raise EditError(f"'{edit.kind}' cannot be undone")


def _item_holders(world: Editable) -> Iterable[list[Item]]:
    for ch in world.characters.values():
        yield ch.inventory
    for room in world.rooms.values():
        yield room.items


def take_mob(world: Editable, mob: Character) -> None:
    """Take a mob out of the world (out of any fight first), without a word."""
    world.signal(Leaving(mob))  # out of its fight, following and group (systems/combat.py)
    world.remove_mob(mob)


def find_character(world: Editable, ident: Any) -> Character | None:
    """A character by id (mobs and players) or by name (players)."""
    if isinstance(ident, int) and not isinstance(ident, bool):
        mob = world.mobs.get(ident)
        if mob is not None:
            return mob
        return next((ch for ch in world.characters.values() if ch.id == ident), None)
    return world.find_online(str(ident))


def move_character(world: Editable, ch: Character, dest: str) -> None:
    """Take `ch` to room `dest` by magic: the old room sees it go, the new one arrive."""
    world.signal(Displaced(ch))  # out of any fight (world/systems/combat.py)
    old = world.rooms[ch.room]
    world.emit_room(old, Departed(ch.name, str(ch.kind), None), exclude=ch)
    world.move(ch, dest)
    new = world.rooms[dest]
    world.emit_room(new, Arrived(ch.name, str(ch.kind), None, ch.level), exclude=ch)
    world.emit_to(ch, world.room_view(new, ch))


# Live character fields a builder may set: name -> (kind, least, most).
CHARACTER_FIELDS: dict[str, tuple[type, int, int]] = {
    "level": (int, 1, 50), "xp": (int, 0, 10**9), "hp": (int, 0, 10**6),
    "max_hp": (int, 1, 10**6), "mana": (int, 0, 10**6), "max_mana": (int, 0, 10**6),
    "moves": (int, 0, 10**6), "max_moves": (int, 1, 10**6), "gold": (int, 0, 10**9),
    "wimpy": (int, 0, 10**6), "title": (str, 0, 80), "description": (str, 0, 2000),
    "short": (str, 0, 200),
    "str": (int, 1, 50), "dex": (int, 1, 50), "con": (int, 1, 50), "int": (int, 1, 50),
    "wis": (int, 1, 50),
}
ATTRIBUTE_FIELDS = frozenset({"str", "dex", "con", "int", "wis"})


def character_field(ch: Character, field: str) -> Any:
    """The current value of a settable character field."""
    if field in ATTRIBUTE_FIELDS:
        return ch.attributes.get(field, 10)
    return getattr(ch, field)


def set_character_field(world: Editable, ch: Character, field: str, value: Any) -> None:
    """Set a settable character field (already checked) and tell whoever needs to know."""
    if field in ATTRIBUTE_FIELDS:
        ch.attributes[field] = int(value)
    else:
        setattr(ch, field, value)
    world.touch(ch)


# ---- export --------------------------------------------------------------------------


def _local(ref: str, zid: str) -> str:
    zone, colon, local = ref.partition(":")
    return local if colon and zone == zid else ref


def _in_zone(pid: str, zid: str) -> bool:
    return pid.split(":", 1)[0] == zid


def export_zone(world: Editable, zid: str) -> dict[str, Any]:
    """Zone `zid` as a zone file's document, exactly in the loader's format.

    Ids of the zone itself are written short (`square`), others in full
    (`greenwood:trailhead`). Prototypes come out resolved: an `extends` in the
    original file is written out as the merged fields. `build_content` of the
    result gives back equal rooms, prototypes, resets and quests.

    Raises:
        KeyError: no such zone.
    """
    c = world.content
    info = c.zones[zid]
    doc: dict[str, Any] = {"zone": model_doc(info)}
    doc["zone"]["id"] = info.id
    doc["zone"]["name"] = info.name
    rooms: dict[str, Any] = {}
    for rid, proto in c.rooms.items():
        if proto.zone != zid:
            continue
        rdoc = room_doc(proto)
        if "exits" in rdoc:
            for way, ex in rdoc["exits"].items():
                if isinstance(ex, str):
                    rdoc["exits"][way] = _local(ex, zid)
                else:
                    ex["to"] = _local(ex["to"], zid)
                    if "key" in ex["door"]:
                        ex["door"]["key"] = _local(ex["door"]["key"], zid)
        if "items" in rdoc:
            rdoc["items"] = [_local(i, zid) for i in rdoc["items"]]
        rooms[_local(rid, zid)] = rdoc
    doc["rooms"] = rooms
    items = {_local(pid, zid): model_doc(m) for pid, m in c.items.items() if _in_zone(pid, zid)}
    if items:
        doc["items"] = items
    mobs: dict[str, Any] = {}
    for pid, mob in c.mobs.items():
        if not _in_zone(pid, zid):
            continue
        mdoc = model_doc(mob)
        for key in ("equipment", "inventory"):
            if key in mdoc:
                mdoc[key] = [_local(i, zid) for i in mdoc[key]]
        for loot in mdoc.get("loot", []):
            loot["item"] = _local(loot["item"], zid)
        mobs[_local(pid, zid)] = mdoc
    if mobs:
        doc["mobs"] = mobs
    resets = []
    for rule in c.resets.get(zid, ()):
        rdoc = model_doc(rule)
        for key in ("mob", "item", "room"):
            if key in rdoc:
                rdoc[key] = _local(rdoc[key], zid)
        resets.append(rdoc)
    if resets:
        doc["resets"] = resets
    quests: dict[str, Any] = {}
    for qid, quest in c.quests.items():
        if not _in_zone(qid, zid):
            continue
        qdoc = model_doc(quest)
        for key in ("giver", "target", "to"):
            if key in qdoc:
                qdoc[key] = _local(qdoc[key], zid)
        if "items" in qdoc.get("reward", {}):
            qdoc["reward"]["items"] = [_local(i, zid) for i in qdoc["reward"]["items"]]
        quests[_local(qid, zid)] = qdoc
    if quests:
        doc["quests"] = quests
    return doc


def zone_counts(doc: Mapping[str, Any]) -> dict[str, int]:
    """How many rooms, items, mobs, resets and quests a zone document holds."""
    return {k: len(doc.get(k) or ()) for k in ("rooms", "items", "mobs", "resets", "quests")}


# ---- reload -----------------------------------------------------------------------------


def reload(world: Editable, content: Content) -> None:
    """Put new content under the running world.

    Prototypes, zones, resets and quests are replaced; rooms take their new
    names, descriptions, exits, doors, flags and extras; every character, mob
    and item stays where it is. Characters in rooms that vanished go to the
    start room; mobs there are taken away (resets make them again where they
    belong now). New rooms get their items. Quest
    progress for quests that vanished is dropped; builders' undo stacks are
    cleared (their states belong to the old content).

    Raises:
        EditError: the content does not fit the running world (a character's
            class is gone, a broken reference); nothing changed.
    """
    new = own_content(content)
    check_content(new.zones, new.rooms, new.items, new.mobs, new.resets, new.quests,
                  new.start_room, new.spells,
                  [ref for cls in new.classes.values() for ref in getattr(cls, "kit", ())])
    for ch in world.characters.values():
        if ch.cls not in new.classes:
            raise EditError(f"{ch.name} is a {ch.cls}, a class the new content lacks")
    old = world.content
    world.content = new
    for rid, proto in new.rooms.items():
        sync_room(world, proto, old.rooms.get(rid))
    moved = 0
    for rid in [r for r in world.rooms if r not in new.rooms]:
        room = world.rooms[rid]
        for mob in [ch for ch in room.characters if ch.is_mob]:
            take_mob(world, mob)  # its zone's resets make it again where it belongs
        del world.rooms[rid]
        moved += relocate(world, room.characters, new.start_room)
        for item in room.items:
            world.decaying.pop(item.id, None)
    for zid in list(world.next_reset):
        if zid not in new.zones:
            del world.next_reset[zid]
    for zid, info in new.zones.items():
        if zid not in world.next_reset:
            world.next_reset[zid] = world.time + _reset_interval(info)
    for zid in set(old.resets) | set(new.resets):
        _remap_reset_keys(world, zid, old.resets.get(zid, ()), new.resets.get(zid, ()))
    for ch in world.characters.values():
        for qid in [q for q in ch.quests if q not in new.quests]:
            del ch.quests[qid]
    world.undo_stacks.clear()
    world.emit_all(ContentReloaded(len(new.zones), len(new.rooms), moved))


# ---- examine ------------------------------------------------------------------------


def _brief(thing: Character | Item) -> dict[str, Any]:
    if isinstance(thing, Character):
        return {"id": thing.id, "name": thing.name, "kind": str(thing.kind)}
    return {"id": thing.id, "name": thing.name, "proto": thing.proto}


def plain(value: Any) -> Any:
    """Any field value as JSON-safe data (characters and items nested as brief refs)."""
    if isinstance(value, Character | Item):
        return _brief(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Dice):
        return str(value)
    if isinstance(value, frozenset | set):
        return sorted(str(plain(v)) for v in value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def examine_fields(world: Editable, thing: Room | Character | Item) -> dict[str, Any]:
    """Every field of a live room, character or item, as plain data."""
    out: dict[str, Any] = {f.name: plain(getattr(thing, f.name))
                           for f in dataclasses.fields(thing)}
    if isinstance(thing, Room):
        proto = world.content.rooms.get(thing.id)
        out["exits"] = {
            d.value: {"to": ex.to, "door": None if ex.door is None else plain(ex.door)}
            for d, ex in thing.exits.items()}
        out["prototype"] = None if proto is None else room_doc(proto)
    return out


# ---- what builders name ----------------------------------------------------------------


def resolve(world: Editable, actor: Character, word: str) -> tuple[str, Any]:
    """What `actor`'s word names: (kind, thing). Kinds: room, zone, item_proto, mob_proto
    (with an id), character (a Character), item (an Item)."""
    c, here = world.content, world.rooms[actor.room]
    low = word.strip().lower()
    if low in ("here", "room"):
        return "room", here.id
    if low == "zone":
        return "zone", here.zone
    if ":" in low:
        for kind, table in (("room", c.rooms), ("mob_proto", c.mobs), ("item_proto", c.items)):
            if low in table:
                return kind, low
        prefix, _, rest = low.partition(":")
        tables: dict[str, tuple[str, dict[str, Any]]] = {
            "room": ("room", c.rooms), "item": ("item_proto", c.items),
            "mob": ("mob_proto", c.mobs), "zone": ("zone", c.zones)}
        if prefix in tables and rest:
            kind, table = tables[prefix]
            ref = rest if prefix == "zone" else qualify(rest, here.zone)
            if ref in table:
                return kind, ref
        raise Refused(Code.NOT_HERE, f"Nothing has the id '{low[:40]}'.")
    # as `Ctx.character_here`: `me` and `self` are the actor
    ch = actor if word.lower() in ("me", "self") else find(word, here.characters)
    if ch is not None:
        return "character", ch
    item = (find(word, actor.inventory) or find(word, actor.equipment.values())
            or find(word, here.items))
    if item is not None:
        return "item", item
    online = world.find_online(word)
    if online is not None:
        return "character", online
    if low in c.zones:
        return "zone", low
    local = qualify(low, here.zone)
    for kind, table in (("room", c.rooms), ("mob_proto", c.mobs), ("item_proto", c.items)):
        if local in table:
            return kind, local
    raise Refused(Code.NOT_HERE, f"You find nothing called '{word[:40]}'.")


def examine_anything(world: Editable, actor: Character, word: str) -> None:
    """`examine` for builders: every field of whatever `actor`'s word names, told to
    `actor`."""
    kind, thing = resolve(world, actor, word)
    c = world.content
    if kind == "room":
        room = world.rooms[thing]
        world.emit_to(actor, Examined("room", room.id, room.name, examine_fields(world, room)))
    elif kind == "zone":
        info = c.zones[thing]
        fields = info.model_dump(mode="json")
        fields["rooms"] = sorted(r for r, p in c.rooms.items() if p.zone == thing)
        fields["resets"] = [model_doc(r) for r in c.resets.get(thing, ())]
        fields["next_reset"] = world.next_reset.get(thing)
        world.emit_to(actor, Examined("zone", thing, info.name, fields))
    elif kind in ("item_proto", "mob_proto"):
        model = c.items[thing] if kind == "item_proto" else c.mobs[thing]
        world.emit_to(actor, Examined(kind, thing, model.name, model.model_dump(mode="json")))
    elif kind == "character":
        ch: Character = thing
        label = "mob" if ch.kind is Kind.MOB else str(ch.kind)
        world.emit_to(actor, Examined(label, ch.proto or ch.name, ch.name,
                                      examine_fields(world, ch)))
    else:
        item: Item = thing
        world.emit_to(actor, Examined("item", item.proto, item.name,
                                      examine_fields(world, item)))
