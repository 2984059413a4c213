"""`World`: the sans-I/O game state machine.

Input goes in through `perform`, `perform_line`, `enter`, `leave`, `set_linkdead`
and `tick`; output comes out of `drain_fanouts()`, each event once with its
recipients (`Fanout`), or `drain()`, one `Delivery` per recipient. Time is the
integer `time` (ticks), and all randomness comes from `rng`, seeded at creation,
so the same seed and the same inputs replay the same events.

The world core knows no command and no system: they register onto the registries it
is given (the commands in a `Registry`, the tick's systems and the listeners of its
signals in world/systems/registry.py) and it calls them only through those. Where the
game must act on a mob or a character coming or going, the world signals it
(`MobSpawned`, `Entering`, `Leaving`, `ZoneDue`... in world/events.py) and the systems
listen. world/game.py imports every command and system, and `import world` imports it
first, so `World(content)` plays the whole game.

A command function receives a `Ctx` (the world and the actor), defined here beside
`World` because each names the other. The core modules this one imports never name
`World`: they take the part of it they use as a `Protocol` that `World` satisfies
(`building.Editable`, `npcs.Places`), or are generic in it (world/systems/registry.py),
so there is no import cycle even among the imports made for type checking.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from world import building, rules
from world.commands.registry import (
    REGISTRY,
    Call,
    CommandSpec,
    Registry,
    bind_call,
    expand_alias,
    parse_line,
    split_words,
)
from world.context import find
from world.directions import Direction
from world.entities import (
    WEAR_PLACES,
    Character,
    Door,
    Effect,
    Exit,
    Item,
    ItemType,
    Kind,
    Position,
    Role,
    Room,
    Slot,
)
from world.errors import Code, Refused
from world.events import (
    Arrived,
    Delivery,
    Entered,
    Entering,
    Event,
    Fanout,
    Leaving,
    Left,
    LinkLost,
    MobRemoved,
    MobSpawned,
    RoomShown,
    Vitals,
    ZoneDue,
)
from world.npcs import NpcIndex, room_line
from world.prototypes import Content
from world.systems.registry import LISTENERS, SYSTEMS, ListenerFn, SystemSpec

# Command categories a stunned character may still use (looking, settings, leaving).
_STUNNED_OK = frozenset({"information", "settings", "system", "admin"})
# Commands a muted character may not use (an admin's `mute` sets `Character.muted`).
SPEECH = frozenset({"say", "tell", "shout", "emote", "gtell"})


class World:
    """The whole game: rooms, characters online, the clock and the dice.

    Args:
        content: the validated content to build rooms and items from.
        seed: seeds the world's one RNG.
        registry: the commands (the global registry by default).
        systems: what the tick runs, in order (the global list by default).
        listeners: who hears the world's signals, by event type (the global map by
            default).
    """

    def __init__(self, content: Content, seed: int = 0, registry: Registry = REGISTRY,
                 systems: Sequence[SystemSpec[World]] = SYSTEMS,
                 listeners: Mapping[type, Sequence[ListenerFn[World]]] = LISTENERS) -> None:
        self.content = building.own_content(content)  # builders edit this world's copy
        self.registry = registry
        self.systems = systems
        self.listeners = listeners
        self.rng = random.Random(seed)
        self.time = 0
        self.rooms: dict[str, Room] = {}
        self.characters: dict[str, Character] = {}
        self.mobs: dict[int, Character] = {}
        self.fighters: dict[int, Character] = {}  # the active set of combat rounds
        self.decaying: dict[int, Item] = {}  # corpses and the like, by item id
        self.next_reset: dict[str, int] = {}
        self.recovering: dict[int, Character] = {}  # below a maximum: regeneration runs
        self.affected: dict[int, Character] = {}  # effects that end or hurt: the effects system
        self.npcs = NpcIndex()  # mob behaviours' active sets: wanderers, aggressive...
        self._out: list[Fanout] = []
        self._dirty: dict[int, Character] = {}
        self._next_id = 1
        self.edits: list[building.Edit] = []  # builder changes the server has yet to drain
        self.undo_stacks: dict[str, list[building.Edit]] = {}  # builder (lower case) -> edits
        self.last_command: str | None = None  # the last command run, for metrics
        self._build()

    # ---- building ------------------------------------------------------------

    def new_id(self) -> int:
        """A fresh id for an entity (unique within this world)."""
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
        for zone in self.content.zones:
            self.signal(ZoneDue(zone))  # the resets fill it (world/systems/resets.py)

    def make_item(self, proto_id: str) -> Item:
        """Create an item from its prototype."""
        proto = self.content.items[proto_id]
        return Item(
            id=self.new_id(),
            proto=proto_id,
            name=proto.name,
            keywords=tuple(k.lower() for k in proto.keywords),
            description=proto.description.strip(),
            short=proto.short,
            weight=proto.weight,
            value=proto.value,
            type=ItemType(proto.type),
            slot=proto.slot,
            damage=rules.parse_dice(proto.damage) if proto.damage else None,
            two_handed=proto.two_handed,
            armor=proto.armor,
            mods=dict(proto.mods),
            level=proto.level,
            classes=tuple(proto.classes),
            capacity=proto.capacity,
            gold=proto.gold,
            flags=frozenset(proto.flags),
            effects=tuple(proto.effects),
            portions=proto.nourish.portions if proto.nourish is not None else 0,
        )

    def spawn_mob(self, proto_id: str, room_id: str, reset_key: tuple[str, int] | None = None
                  ) -> Character:
        """Make a mob from its prototype and put it in a room (others there see it arrive)."""
        proto = self.content.mobs[proto_id]
        hp = proto.hp if proto.hp is not None else rules.mob_hp(proto.level)
        mana = proto.mana if proto.mana is not None else proto.level * 5
        mob = Character(
            id=self.new_id(),
            name=proto.name,
            kind=Kind.MOB,
            cls="",
            room=room_id,
            description=proto.description.strip(),
            level=proto.level,
            hp=hp, max_hp=hp, mana=mana, max_mana=mana, moves=100, max_moves=100,
            attributes={a: proto.attributes.get(a, 10 + proto.level // 4)
                        for a in ("str", "dex", "con", "int", "wis")},
            gold=self.rng.randint(proto.gold[0], max(proto.gold)) if max(proto.gold) else 0,
            wimpy=proto.wimpy,
            proto=proto_id,
            behaviours=proto.behaviour_map(),
            home=proto_id.split(":", 1)[0],
            short=proto.short,
            keywords=tuple(k.lower() for k in proto.keywords),
            reset_key=reset_key,
            mods={"hit": proto.hit, "armor": proto.armor},
            damage_dice=rules.parse_dice(proto.damage) if proto.damage else
            rules.mob_damage(proto.level),
            skills={spell: 75 for spell in proto.spells},
        )
        for item_id in proto.inventory:
            mob.inventory.append(self.make_item(item_id))
        for item_id in proto.equipment:
            item = self.make_item(item_id)
            places = WEAR_PLACES.get(item.slot or "", ())
            free = next((p for p in places if p not in mob.equipment), None)
            if free is not None:
                mob.equipment[free] = item
            else:
                mob.inventory.append(item)
        self.mobs[mob.id] = mob
        room = self.rooms[room_id]
        room.characters.append(mob)
        self.emit_room(room, Arrived(mob.name, str(mob.kind), None, mob.level),
                       exclude=mob)
        self.signal(MobSpawned(mob))  # behaviours file it, and it rolls its loot
        return mob

    def remove_mob(self, mob: Character) -> None:
        """Take a mob out of the world without a word (death and purges say their own)."""
        room = self.rooms.get(mob.room)
        if room is not None and mob in room.characters:
            room.characters.remove(mob)
        self.mobs.pop(mob.id, None)
        self.recovering.pop(mob.id, None)
        self.affected.pop(mob.id, None)
        self._dirty.pop(mob.id, None)
        self.signal(MobRemoved(mob))

    def signal(self, event: Event) -> None:
        """Tell the listeners registered for this kind of event (quests hear of kills)."""
        for fn in self.listeners.get(type(event), ()):
            fn(self, event)

    # ---- events --------------------------------------------------------------

    def emit_to(self, ch: Character, event: Event) -> None:
        """Queue `event` for one character (dropped for mobs and the link-dead)."""
        if ch.kind is not Kind.MOB and (not ch.linkdead or event.internal):
            self._out.append(Fanout(event, [ch]))

    def emit_room(self, room: Room, event: Event, exclude: Character | None = None) -> None:
        """Queue `event` for everyone in `room` but `exclude` (one entry for them all)."""
        internal, mob = event.internal, Kind.MOB
        heard = [ch for ch in room.characters  # runs for every bystander: kept lean
                 if ch is not exclude and ch.kind is not mob and (not ch.linkdead or internal)]
        if heard:
            self._out.append(Fanout(event, heard))

    def emit_all(self, event: Event, exclude: Character | None = None) -> None:
        """Queue `event` for everyone online (one entry for them all)."""
        internal, mob = event.internal, Kind.MOB
        heard = [ch for ch in self.characters.values()
                 if ch is not exclude and ch.kind is not mob and (not ch.linkdead or internal)]
        if heard:
            self._out.append(Fanout(event, heard))

    def drain_fanouts(self) -> list[Fanout]:
        """Take every event queued since the last drain, each with its recipients, in
        order: what a host routes (one entry per event, however many hear it)."""
        out, self._out = self._out, []
        return out

    def drain(self) -> list[Delivery]:
        """Take every delivery queued since the last drain, in order: one per recipient
        of each event (`drain_fanouts`, flattened)."""
        return [Delivery(ch, f.event) for f in self.drain_fanouts() for ch in f.recipients]

    def touch(self, ch: Character) -> None:
        """Note that `ch`'s vitals changed: sent at the end of the tick, recovered over time."""
        self._dirty[ch.id] = ch
        if ch.hp < ch.max_hp or ch.mana < ch.max_mana or ch.moves < ch.max_moves:
            self.recovering[ch.id] = ch

    def mark_vitals(self, ch: Character) -> None:
        """Send `ch` its vitals at the end of this tick (without touching regeneration)."""
        self._dirty[ch.id] = ch

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
            fighting=ch.fighting.name if ch.fighting is not None else None,
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
                    "short": room_line(self, ch, room),
                    "fighting": ch.fighting.name if ch.fighting is not None else None,
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

        A new character (no `state`, or a state with no saved `level`, such as the
        server's `{"cls": ...}` at registration) gets its class's `kit`: what it can
        wear or wield goes on where it fits, the rest into its inventory.

        Raises:
            ValueError: the name is already in the world or the class is unknown.
        """
        if name.lower() in self.characters:
            raise ValueError(f"{name} is already in the world")
        if cls not in self.content.classes:
            raise ValueError(f"unknown class {cls!r}")
        proto = self.content.classes[cls]
        ch = Character(
            id=self.new_id(),
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
            attributes=dict(proto.attributes),
        )
        if state:
            self._restore(ch, state)
            if any(e.until is not None or e.dot for e in ch.effects):
                self.affected[ch.id] = ch
        fresh = not state or "level" not in state
        self.signal(Entering(ch, fresh))  # a fresh one's kit; the spells due at its level
        if fresh:
            ch.hp, ch.mana, ch.moves = ch.max_hp, ch.max_mana, ch.max_moves
        ch.session_start = self.time
        if ch.room not in self.rooms:
            ch.room = self.content.start_room
        self.characters[name.lower()] = ch
        room = self.rooms[ch.room]
        room.characters.append(ch)
        self.emit_room(room, Entered(ch.name, str(ch.kind), False, ch.level),
                       exclude=ch)
        self.emit_to(ch, self.room_view(room, ch))
        self.emit_to(ch, self.vitals(ch))
        self.touch(ch)
        self._dirty.pop(ch.id, None)
        return ch

    def leave(self, ch: Character, reason: str) -> dict[str, Any]:
        """Take `ch` out of the world; returns its snapshot for saving."""
        snap = self.snapshot(ch)
        self.signal(Leaving(ch))  # out of its fight, its following and group
        room = self.rooms[ch.room]
        if ch in room.characters:
            room.characters.remove(ch)
        self.characters.pop(ch.name.lower(), None)
        self._dirty.pop(ch.id, None)
        self.recovering.pop(ch.id, None)
        self.affected.pop(ch.id, None)
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
            self.emit_room(room, Entered(ch.name, str(ch.kind), True, ch.level),
                           exclude=ch)
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
              "max_moves", "title", "description", "played_ticks", "gold", "wimpy", "recall")
    _SAVED_MAPS = ("attributes", "skills", "quests", "settings")

    def snapshot(self, ch: Character) -> dict[str, Any]:
        """Everything about `ch` that must survive a restart, as plain data."""
        data: dict[str, Any] = {k: getattr(ch, k) for k in self._SAVED}
        data["played_ticks"] = ch.played_ticks + (self.time - ch.session_start)
        data["name"] = ch.name
        data["cls"] = ch.cls
        pos = ch.position
        data["position"] = str(pos if pos in (Position.RESTING, Position.SLEEPING)
                               else Position.STANDING)
        data["inventory"] = [self.snapshot_item(it) for it in ch.inventory]
        data["equipment"] = {str(slot): self.snapshot_item(it)
                             for slot, it in ch.equipment.items()}
        for key in self._SAVED_MAPS:
            data[key] = plain_copy(getattr(ch, key))
        data["aliases"] = dict(ch.aliases)
        data["cooldowns"] = {k: v - self.time for k, v in ch.cooldowns.items() if v > self.time}
        data["effects"] = [
            {"name": e.name, "source": e.source, "left": None if e.until is None
             else max(0, e.until - self.time), "mods": dict(e.mods), "dot": e.dot,
             "period": e.period, "flags": sorted(e.flags), "caster": e.caster}
            for e in ch.effects
        ]
        return data

    def snapshot_item(self, item: Item) -> dict[str, Any]:
        """An item as plain data: its prototype and what differs from it."""
        data: dict[str, Any] = {"proto": item.proto}
        if item.contents:
            data["contents"] = [self.snapshot_item(it) for it in item.contents]
        if item.gold:
            data["gold"] = item.gold
        nourish = self.content.items[item.proto].nourish if item.proto in self.content.items \
            else None
        if nourish is not None and item.portions != nourish.portions:
            data["portions"] = item.portions
        return data

    def restore_item(self, data: Any) -> Item | None:
        """An item from `snapshot_item` data (None if its prototype is gone)."""
        proto = data.get("proto") if isinstance(data, dict) else None
        if proto not in self.content.items:
            return None
        item = self.make_item(proto)
        gold = data.get("gold")
        if type(gold) is int and gold >= 0:
            item.gold = gold
        portions = data.get("portions")
        if type(portions) is int and 0 <= portions < item.portions:
            item.portions = portions
        for sub in data.get("contents", []) or []:
            inner = self.restore_item(sub)
            if inner is not None:
                item.contents.append(inner)
        return item

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
        attributes = state.get("attributes")
        if isinstance(attributes, dict) and attributes:
            ch.attributes = {str(k): v for k, v in attributes.items() if type(v) is int}
        skills = state.get("skills")
        if isinstance(skills, dict):
            ch.skills = {str(k): v for k, v in skills.items() if type(v) is int}
        quests = state.get("quests")
        if isinstance(quests, dict):
            ch.quests = {str(k): dict(v) for k, v in quests.items() if isinstance(v, dict)}
        cooldowns = state.get("cooldowns")
        if isinstance(cooldowns, dict):
            ch.cooldowns = {str(k): self.time + v for k, v in cooldowns.items()
                            if type(v) is int}
        for entry in state.get("inventory", []) or []:
            item = self.restore_item(entry)
            if item is not None:
                ch.inventory.append(item)
        equipment = state.get("equipment")
        if isinstance(equipment, dict):
            for slot_name, entry in equipment.items():
                item = self.restore_item(entry)
                if item is None:
                    continue
                try:
                    ch.equipment[Slot(slot_name)] = item
                except ValueError:
                    ch.inventory.append(item)
        for e in state.get("effects", []) or []:
            if not isinstance(e, dict) or not isinstance(e.get("name"), str):
                continue
            left = e.get("left")
            ch.effects.append(Effect(
                name=e["name"], source=str(e.get("source", "")),
                until=None if left is None else self.time + int(left),
                mods={str(k): int(v) for k, v in (e.get("mods") or {}).items()},
                dot=int(e.get("dot", 0)), period=max(1, int(e.get("period", 10))),
                flags=frozenset(str(f) for f in e.get("flags", [])),
                caster=str(e.get("caster", "")),
            ))

    # ---- commands ------------------------------------------------------------

    def perform(self, actor: Character, call: Call) -> Refused | None:
        """Run a structured call for `actor`; returns the refusal, if any."""
        self.last_command = None
        try:
            self._gate(actor, self.registry.specs.get(str(call.tool)))
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
            verb = split_words(line.strip())[0]
            hit = self.registry.lookup(verb) if verb and line.strip()[0] not in "'\":" else None
            self._gate(actor, hit[0] if hit else None)
            spec, args = parse_line(line, self.registry, actor.role)
            self._run(spec, actor, args)
        except Refused as refused:
            return refused
        return None

    def _gate(self, actor: Character, spec: CommandSpec | None) -> None:
        """Refuse a command above the actor's role before its arguments are even read,
        so a player learns no more of it than `forbidden`."""
        if spec is not None and actor.role.rank < spec.role.rank:
            self.last_command = spec.name
            raise Refused(Code.FORBIDDEN, f"'{spec.name}' is not yours to use.")

    def _run(self, spec: CommandSpec, actor: Character, args: dict[str, Any]) -> None:
        self.last_command = spec.name
        if actor.role.rank < spec.role.rank:
            raise Refused(Code.FORBIDDEN, f"'{spec.name}' is not yours to use.")
        if actor.muted and spec.name in SPEECH:
            raise Refused(Code.MUTED, "You have been muted: you can't talk to anyone for now.")
        if actor.position is Position.SLEEPING and not spec.sleeping_ok:
            raise Refused(Code.POSITION, "In your dreams, or what? (wake first)")
        if actor.effects and spec.category not in _STUNNED_OK and rules.has_flag(actor, "stunned"):
            raise Refused(Code.POSITION, "You are stunned and cannot act!")
        spec.func(Ctx(self, actor), **args)

    # ---- time ----------------------------------------------------------------

    def tick(self) -> None:
        """Advance one tick: every system due now, then the vitals of whoever changed."""
        self.time += 1
        now = self.time
        for spec in self.systems:
            if now % spec.every == 0:
                spec.fn(self)
        if self._dirty:
            dirty, self._dirty = self._dirty, {}
            for ch in dirty.values():
                self.emit_to(ch, self.vitals(ch))

    # ---- building (world/building.py) ------------------------------------------

    def record_edit(self, edit: building.Edit, *, undoable: bool = True) -> None:
        """Note a builder's change: for the server (`drain_edits`) and, if `undoable`,
        for the builder's `undo`."""
        self.edits.append(edit)
        if undoable:
            stack = self.undo_stacks.setdefault(edit.actor.lower(), [])
            stack.append(edit)
            del stack[:-building.UNDO_DEPTH]

    def drain_edits(self) -> list[building.Edit]:
        """Take every edit recorded since the last drain, in order."""
        out, self.edits = self.edits, []
        return out

    def apply_edit(self, edit: building.Edit) -> bool:
        """Replay a stored edit (its `after`); False for edits of live things, which
        are not replayed.

        Raises:
            building.EditError: the edit no longer fits the content.
        """
        return building.apply_edit(self, edit)

    def reload(self, content: Content) -> None:
        """Swap in new content; everyone and everything stays where it is.

        Raises:
            building.EditError: the content does not fit the running world.
        """
        building.reload(self, content)

    def exit_from(self, room: Room, direction: Direction) -> Exit | None:
        """The exit of `room` that way, if any."""
        return room.exits.get(direction)


# ---- what a command receives -----------------------------------------------------


@dataclass(slots=True)
class Ctx:
    """A command's view of the world while it runs (`World` makes one per command)."""

    world: World
    actor: Character

    @property
    def room(self) -> Room:
        """The room the actor stands in."""
        return self.world.rooms[self.actor.room]

    def tell(self, event: Event) -> None:
        """Send `event` to the actor only."""
        self.world.emit_to(self.actor, event)

    def tell_room(self, event: Event, *, include_actor: bool = False) -> None:
        """Send `event` to everyone in the actor's room (but the actor, by default)."""
        self.world.emit_room(self.room, event, exclude=None if include_actor else self.actor)

    def character_here(self, word: str) -> Character | None:
        """A character in the room named by `word` (`me` and `self` are the actor)."""
        if word.lower() in ("me", "self"):
            return self.actor
        return find(word, self.room.characters)

    def item_here(self, word: str) -> Item | None:
        """An item on the floor named by `word`."""
        return find(word, self.room.items)

    def item_carried(self, word: str) -> Item | None:
        """An item in the actor's inventory named by `word`."""
        return find(word, self.actor.inventory)


def plain_copy(value: Any) -> Any:
    """A copy of plain data (dicts, lists and scalars, as a character's maps hold): the
    containers new, the scalars shared. Several times faster than `copy.deepcopy`, which
    the snapshots of a crowd's every bystander would otherwise spend their time in."""
    if type(value) is dict:
        return {k: plain_copy(v) for k, v in value.items()}
    if type(value) is list:
        return [plain_copy(v) for v in value]
    if isinstance(value, dict | list | set | tuple):  # anything else: the thorough way
        return copy.deepcopy(value)
    return value

