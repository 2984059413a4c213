"""`World`: the sans-I/O game state machine.

Input goes in through `perform`, `perform_line`, `enter`, `leave`, `set_linkdead`
and `tick`; output comes out of `drain()` as a list of `Delivery`. Time is the
integer `time` (ticks), and all randomness comes from `rng`, seeded at creation,
so the same seed and the same inputs replay the same events.
"""

from __future__ import annotations

import random
from typing import Any

from world import commands as _commands  # noqa: F401  (registers every command)
from world import rules
from world.commands.registry import REGISTRY, Call, CommandSpec, Registry, bind_call, parse_line
from world.commands.settings import expand_alias
from world.context import Ctx
from world.directions import Direction
from world.entities import Character, Door, Exit, Item, Kind, Position, Role, Room
from world.errors import Code, Refused
from world.events import Delivery, Entered, Event, Left, LinkLost, RoomShown, Vitals
from world.prototypes import Content


class World:
    """The whole game: rooms, characters online, the clock and the dice.

    Args:
        content: the validated content to build rooms and items from.
        seed: seeds the world's one RNG.
        registry: the commands (the global registry by default).
    """

    def __init__(self, content: Content, seed: int = 0, registry: Registry = REGISTRY) -> None:
        self.content = content
        self.registry = registry
        self.rng = random.Random(seed)
        self.time = 0
        self.rooms: dict[str, Room] = {}
        self.characters: dict[str, Character] = {}
        self._out: list[Delivery] = []
        self._dirty: dict[int, Character] = {}
        self._recovering: dict[int, Character] = {}
        self._next_id = 1
        self.last_command: str | None = None  # the last command run, for metrics
        self._build()

    # ---- building ------------------------------------------------------------

    def _new_id(self) -> int:
        n = self._next_id
        self._next_id += 1
        return n

    def _build(self) -> None:
        doors: dict[tuple[str, str], Door] = {}
        for rid, proto in self.content.rooms.items():
            room = Room(
                id=rid,
                zone=proto.zone,
                name=proto.name,
                description=proto.description,
                flags=proto.flags,
                extras=dict(proto.extras),
            )
            for direction, xp in proto.exits.items():
                door: Door | None = None
                if xp.door is not None:
                    pair = (min(rid, xp.to), max(rid, xp.to))
                    door = doors.get(pair)
                    if door is None:
                        m = xp.door
                        door = doors[pair] = Door(m.name, m.closed, m.locked and m.closed, m.key)
                room.exits[direction] = Exit(direction, xp.to, door)
            for item_id in proto.items:
                room.items.append(self.make_item(item_id))
            self.rooms[rid] = room
        # A door declared on one side only also stands on the way back.
        for rid, room in self.rooms.items():
            for ex in room.exits.values():
                if ex.door is None:
                    continue
                back = self.rooms[ex.to].exits.get(ex.direction.opposite)
                if back is not None and back.to == rid and back.door is None:
                    back.door = ex.door

    def make_item(self, proto_id: str) -> Item:
        """Create an item from its prototype."""
        proto = self.content.items[proto_id]
        return Item(
            id=self._new_id(),
            proto=proto_id,
            name=proto.name,
            keywords=tuple(k.lower() for k in proto.keywords),
            description=proto.description.strip(),
            short=proto.short,
            weight=proto.weight,
            value=proto.value,
        )

    # ---- events --------------------------------------------------------------

    def emit_to(self, ch: Character, event: Event) -> None:
        """Queue `event` for one character (dropped for mobs and the link-dead)."""
        if ch.kind is not Kind.MOB and (not ch.linkdead or event.internal):
            self._out.append(Delivery(ch, event))

    def emit_room(self, room: Room, event: Event, exclude: Character | None = None) -> None:
        """Queue `event` for everyone in `room` but `exclude`."""
        for ch in room.characters:
            if ch is not exclude:
                self.emit_to(ch, event)

    def emit_all(self, event: Event, exclude: Character | None = None) -> None:
        """Queue `event` for everyone online."""
        for ch in self.characters.values():
            if ch is not exclude:
                self.emit_to(ch, event)

    def drain(self) -> list[Delivery]:
        """Take every delivery queued since the last drain, in order."""
        out, self._out = self._out, []
        return out

    def touch(self, ch: Character) -> None:
        """Note that `ch`'s vitals changed: sent at the end of the tick, recovered over time."""
        self._dirty[ch.id] = ch
        if ch.hp < ch.max_hp or ch.mana < ch.max_mana or ch.moves < ch.max_moves:
            self._recovering[ch.id] = ch

    def vitals(self, ch: Character) -> Vitals:
        """The `vitals` event for `ch`, as of now."""
        return Vitals(
            hp=ch.hp,
            max_hp=ch.max_hp,
            mana=ch.mana,
            max_mana=ch.max_mana,
            moves=ch.moves,
            max_moves=ch.max_moves,
            level=ch.level,
            xp=ch.xp,
            xp_next=rules.xp_next(ch),
            position=str(ch.position),
            fighting=ch.fighting,
        )

    def room_view(self, room: Room, viewer: Character | None) -> RoomShown:
        """The `room` event for `room` as `viewer` sees it."""
        exits: dict[str, str] = {}
        doors: dict[str, dict[str, Any]] = {}
        for direction, ex in room.exits.items():
            exits[direction.value] = ex.to
            if ex.door is not None:
                doors[direction.value] = {
                    "name": ex.door.name,
                    "closed": ex.door.closed,
                    "locked": ex.door.locked,
                }
        return RoomShown(
            id=room.id,
            title=room.name,
            description=room.description,
            zone=room.zone,
            exits=exits,
            doors=doors,
            characters=[
                {
                    "name": ch.name,
                    "keyword": ch.keyword,
                    "kind": str(ch.kind),
                    "level": ch.level,
                    "position": str(ch.position),
                    "linkdead": ch.linkdead,
                }
                for ch in room.characters
                if ch is not viewer
            ],
            items=[{"name": it.name, "keyword": it.keyword, "short": it.short}
                   for it in room.items],
            flags=sorted(room.flags),
        )

    # ---- characters in and out ----------------------------------------------

    def find_online(self, name: str) -> Character | None:
        """The character called `name` (any case) if it is in the world."""
        return self.characters.get(name.lower())

    def enter(
        self,
        name: str,
        cls: str,
        *,
        kind: Kind = Kind.PLAYER,
        role: Role = Role.PLAYER,
        state: dict[str, Any] | None = None,
    ) -> Character:
        """Put a character into the world, new or restored from `snapshot()`.

        Raises:
            ValueError: the name is already in the world or the class is unknown.
        """
        if name.lower() in self.characters:
            raise ValueError(f"{name} is already in the world")
        if cls not in self.content.classes:
            raise ValueError(f"unknown class {cls!r}")
        proto = self.content.classes[cls]
        ch = Character(
            id=self._new_id(),
            name=name,
            kind=kind,
            cls=cls,
            room=self.content.start_room,
            role=role,
            hp=proto.hp,
            max_hp=proto.hp,
            mana=proto.mana,
            max_mana=proto.mana,
            moves=proto.moves,
            max_moves=proto.moves,
        )
        if state:
            self._restore(ch, state)
        ch.session_start = self.time
        if ch.room not in self.rooms:
            ch.room = self.content.start_room
        self.characters[name.lower()] = ch
        room = self.rooms[ch.room]
        room.characters.append(ch)
        self.emit_room(room, Entered(ch.name, str(ch.kind), False), exclude=ch)
        self.emit_to(ch, self.room_view(room, ch))
        self.emit_to(ch, self.vitals(ch))
        self.touch(ch)
        self._dirty.pop(ch.id, None)
        return ch

    def leave(self, ch: Character, reason: str) -> dict[str, Any]:
        """Take `ch` out of the world; returns its snapshot for saving."""
        snap = self.snapshot(ch)
        room = self.rooms[ch.room]
        if ch in room.characters:
            room.characters.remove(ch)
        self.characters.pop(ch.name.lower(), None)
        self._dirty.pop(ch.id, None)
        self._recovering.pop(ch.id, None)
        self.emit_room(room, Left(ch.name, str(ch.kind), reason))
        return snap

    def set_linkdead(self, ch: Character, linkdead: bool) -> None:
        """Mark `ch` as having lost (or regained) its connection."""
        if ch.linkdead == linkdead:
            return
        room = self.rooms[ch.room]
        if linkdead:
            ch.linkdead = True
            self.emit_room(room, LinkLost(ch.name), exclude=ch)
        else:
            ch.linkdead = False
            self.emit_room(room, Entered(ch.name, str(ch.kind), True), exclude=ch)
            self.emit_to(ch, self.room_view(room, ch))
            self.emit_to(ch, self.vitals(ch))

    def move(self, ch: Character, to: str) -> None:
        """Move `ch` to room `to` without messages (the caller tells who sees what)."""
        old = self.rooms[ch.room]
        if ch in old.characters:
            old.characters.remove(ch)
        ch.room = to
        self.rooms[to].characters.append(ch)

    # ---- snapshots -----------------------------------------------------------

    _SAVED = ("room", "level", "xp", "hp", "max_hp", "mana", "max_mana", "moves",
              "max_moves", "title", "description", "played_ticks")

    def snapshot(self, ch: Character) -> dict[str, Any]:
        """Everything about `ch` that must survive a restart, as plain data."""
        data: dict[str, Any] = {k: getattr(ch, k) for k in self._SAVED}
        data["played_ticks"] = ch.played_ticks + (self.time - ch.session_start)
        data["name"] = ch.name
        data["cls"] = ch.cls
        pos = ch.position
        data["position"] = str(pos if pos in (Position.RESTING, Position.SLEEPING)
                               else Position.STANDING)
        data["inventory"] = [{"proto": it.proto} for it in ch.inventory]
        data["settings"] = dict(ch.settings)
        data["aliases"] = dict(ch.aliases)
        return data

    def _restore(self, ch: Character, state: dict[str, Any]) -> None:
        for key in self._SAVED:
            if key in state and type(state[key]) is type(getattr(ch, key)):
                setattr(ch, key, state[key])
        position = state.get("position")
        ch.position = (Position(position) if position in ("resting", "sleeping")
                       else Position.STANDING)
        settings = state.get("settings")
        if isinstance(settings, dict):
            ch.settings = {str(k): v for k, v in settings.items()
                           if isinstance(v, str | bool | int)}
        aliases = state.get("aliases")
        if isinstance(aliases, dict):
            ch.aliases = {str(k): str(v) for k, v in aliases.items() if isinstance(v, str)}
        for entry in state.get("inventory", []):
            proto = entry.get("proto") if isinstance(entry, dict) else None
            if proto in self.content.items:
                ch.inventory.append(self.make_item(proto))

    # ---- commands ------------------------------------------------------------

    def perform(self, actor: Character, call: Call) -> Refused | None:
        """Run a structured call for `actor`; returns the refusal, if any."""
        self.last_command = None
        try:
            spec, args = bind_call(call, self.registry)
            self._run(spec, actor, args)
        except Refused as refused:
            return refused
        return None

    def perform_line(self, actor: Character, line: str) -> Refused | None:
        """Run a typed line for `actor`; returns the refusal, if any."""
        self.last_command = None
        if actor.aliases:
            line = expand_alias(actor.aliases, line)
        try:
            spec, args = parse_line(line, self.registry)
            self._run(spec, actor, args)
        except Refused as refused:
            return refused
        return None

    def _run(self, spec: CommandSpec, actor: Character, args: dict[str, Any]) -> None:
        self.last_command = spec.name
        if actor.role.rank < spec.role.rank:
            raise Refused(Code.FORBIDDEN, f"'{spec.name}' is not yours to use.")
        if actor.position is Position.SLEEPING and not spec.sleeping_ok:
            raise Refused(Code.POSITION, "In your dreams, or what? (wake first)")
        spec.func(Ctx(self, actor), **args)

    # ---- time ----------------------------------------------------------------

    def tick(self) -> None:
        """Advance one tick: regeneration, then the vitals of whoever changed."""
        self.time += 1
        if self.time % rules.REGEN_EVERY == 0 and self._recovering:
            for cid, ch in list(self._recovering.items()):
                self._regenerate(ch)
                if ch.hp >= ch.max_hp and ch.mana >= ch.max_mana and ch.moves >= ch.max_moves:
                    del self._recovering[cid]
        if self._dirty:
            dirty, self._dirty = self._dirty, {}
            for ch in dirty.values():
                self.emit_to(ch, self.vitals(ch))

    def _regenerate(self, ch: Character) -> None:
        pos = ch.position
        before = (ch.hp, ch.mana, ch.moves)
        ch.hp = min(ch.max_hp, ch.hp + rules.regen_amount(ch.max_hp, pos))
        ch.mana = min(ch.max_mana, ch.mana + rules.regen_amount(ch.max_mana, pos))
        ch.moves = min(ch.max_moves, ch.moves + rules.regen_amount(ch.max_moves, pos))
        if (ch.hp, ch.mana, ch.moves) != before:
            self._dirty[ch.id] = ch

    def exit_from(self, room: Room, direction: Direction) -> Exit | None:
        """The exit of `room` that way, if any."""
        return room.exits.get(direction)
