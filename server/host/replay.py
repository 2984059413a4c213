"""Replay: the world's journaled inputs, applied to a fresh World, give its events again.

The rule that makes it deterministic: **the inputs are the only source of change.**
A `World` changes only through what the world host journals (a character entering with
its saved state, a typed line, a tool call, a lost link, a leave, a tick boundary, an
admin action), all its randomness comes from its one `random.Random(seed)`, and its time
is the tick counter, advanced only by `Tick` inputs: wall-clock time, the network and
the database never enter it. So the same content, the same seed and the same inputs,
in the same order, give the same events, byte for byte, in any process.

`Replayer` applies inputs as the live server does (server/app.py): an `Enter` of a
character still in the world takes it back (link-dead or from another session), one
of a character not in it puts it in with its saved state; a command that crashes is
logged as an `internal_error` answer and play goes on; one `World.tick()` per `Tick`.
What it yields are event records, JSON-ready maps: `seq` (the journal entry that
caused it), `tick` (the world's time), `to` (the recipient's name), `event` (its wire
name) and `data` (`event.to_data()`), plus, after each command, the command's
`answer` to its actor (`{"ok": ..., "code": ..., "message": ...}`). Internal events
(requests to the server, signals between systems) are not on the wire and not in the
stream; their effects on the world are inputs of their own (a `quit` is a `Leave`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from server.bus.messages import (
    AdminInput,
    Call,
    Command,
    Enter,
    Input,
    Leave,
    LinkLost,
    Tick,
)
from server.wire import ErrorCode
from world.commands.registry import Call as WorldCall
from world.entities import Character, Kind, Role
from world.errors import Refused
from world.events import Delivery
from world.game import World
from world.prototypes import Content

EventRecord = dict[str, Any]
AdminHandler = Callable[[World, AdminInput], "World | None"]
"""Applies an admin input to the world; returns the world to go on with when the input
replaced it (a content reload: the world of the snapshot taken after it), else None."""


class ReplayError(Exception):
    """The inputs do not fit the world they are applied to (a character that is not
    there, a tick out of step): the journal and the starting state disagree."""


def event_records(deliveries: Iterable[Delivery], seq: int, tick: int) -> list[EventRecord]:
    """Deliveries as event records (internal events left out)."""
    return [{"seq": seq, "tick": tick, "to": d.recipient.name, "event": d.event.name,
             "data": d.event.to_data()}
            for d in deliveries if not d.event.internal]


def answer_record(actor: Character, refusal: Refused | None, seq: int, tick: int
                  ) -> EventRecord:
    """The end of one command, as the stream records it."""
    data: dict[str, Any] = {"ok": refusal is None}
    if refusal is not None:
        data["code"] = str(refusal.code)
        data["message"] = refusal.message
    return {"seq": seq, "tick": tick, "to": actor.name, "event": "answer", "data": data}


def canonical(record: EventRecord) -> bytes:
    """One record as one line of JSON with sorted keys: the bytes that are hashed and
    written to `events.jsonl`.

    Raises:
        TypeError: a value that is not JSON data (an event that is not wire-safe).
    """
    return json.dumps(record, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode() + b"\n"


def stream_hash(records: Iterable[EventRecord]) -> str:
    """The sha256 of the stream's canonical lines, in hex."""
    digest = hashlib.sha256()
    for record in records:
        digest.update(canonical(record))
    return digest.hexdigest()


class Replayer:
    """A fresh World of `content` and `seed`, driven by journal inputs.

    Args:
        content: the content the recording started with.
        seed: the world's seed.
        admin: applies an `AdminInput` to the world (the world host's admin service);
            without one, an admin input is a `ReplayError`.
        world: start from this world (a snapshot's) instead of a fresh one of `content`
            and `seed` (which are then ignored).
        records: False to apply inputs without making event records (recovery at start,
            where only the world's state matters).
    """

    def __init__(self, content: Content | None, seed: int = 0, *,
                 admin: AdminHandler | None = None, world: World | None = None,
                 records: bool = True) -> None:
        if world is None:
            if content is None:
                raise ValueError("a Replayer needs content or a world")
            world = World(content, seed=seed)
        self.world = world
        self.admin = admin
        self.records = records
        self.world.drain()  # building the world tells nobody anything
        self._ids: dict[int, Character] = {}  # character id -> the one in the world

    def apply(self, entry: Input, seq: int = 0) -> list[EventRecord]:
        """Apply one input; the records of what it caused, in order.

        Raises:
            ReplayError: the input does not fit the world.
        """
        out = self._apply(entry, seq)
        if not self.records:
            self.world.drain()
            return []
        out[:0] = event_records(self.world.drain(), seq, self.world.time)
        return out

    def _apply(self, entry: Input, seq: int) -> list[EventRecord]:
        """Apply `entry`; the records to follow its events (a command's answer)."""
        world = self.world
        if isinstance(entry, Tick):
            world.tick()
            if world.time != entry.tick:
                raise ReplayError(f"entry {seq}: tick {entry.tick}, but the world is at "
                                  f"{world.time} (a tick is missing or extra)")
            return []
        if isinstance(entry, Command | Call):
            ch = self._character(entry.character, seq)
            try:
                if isinstance(entry, Command):
                    refusal = world.perform_line(ch, entry.line)
                else:
                    refusal = world.perform(ch, WorldCall(entry.tool, entry.args))
            except Exception:  # as live: a command's bug is answered, play goes on
                refusal = Refused(ErrorCode.INTERNAL, "Something went wrong; it has been logged.")
            return [answer_record(ch, refusal, seq, world.time)] if self.records else []
        if isinstance(entry, Enter):
            self._enter(entry, seq)
        elif isinstance(entry, LinkLost):
            world.set_linkdead(self._character(entry.character, seq), True)
        elif isinstance(entry, Leave):
            world.leave(self._character(entry.character, seq), entry.reason)
        elif isinstance(entry, AdminInput):
            if self.admin is None:
                raise ReplayError(f"entry {seq}: admin input {entry.action!r}, and no "
                                  "admin handler to apply it")
            replaced = self.admin(world, entry)
            if replaced is not None:
                world.drain()
                self.world = replaced
                self._ids = {}
        else:  # pragma: no cover - every input type is handled above
            raise ReplayError(f"entry {seq}: {type(entry).__name__} is not an input")
        return []

    def _enter(self, entry: Enter, seq: int) -> None:
        world = self.world
        try:
            role = Role(entry.role)
        except ValueError:
            role = Role.PLAYER
        try:
            kind = Kind(entry.kind)
        except ValueError:
            kind = Kind.PLAYER
        online = world.characters.get(entry.name.lower())
        if online is not None:  # still in the world: taken back
            if entry.state is not None:
                raise ReplayError(f"entry {seq}: {entry.name} enters with a saved state "
                                  "but is already in the world")
            online.role = role
            if online.linkdead:
                world.set_linkdead(online, False)
            else:
                world.emit_to(online, world.room_view(world.rooms[online.room], online))
                world.emit_to(online, world.vitals(online))
            return
        cls = entry.cls if entry.cls in world.content.classes else next(
            iter(world.content.classes))
        try:
            world.enter(entry.name, cls, kind=kind, role=role, state=entry.state)
        except ValueError as exc:
            raise ReplayError(f"entry {seq}: {exc}") from None

    def _character(self, cid: int, seq: int) -> Character:
        ch = self._ids.get(cid)
        if ch is None or self.world.characters.get(ch.name.lower()) is not ch:
            self._ids = {c.id: c for c in self.world.characters.values()}
            ch = self._ids.get(cid)
        if ch is not None:
            return ch
        raise ReplayError(f"entry {seq}: character {cid} is not in the world")


def replay(content: Content, seed: int, entries: Iterable[tuple[int, Input]], *,
           admin: AdminHandler | None = None) -> Iterator[EventRecord]:
    """The event records of `entries` ((seq, input) pairs, as a journal replays them)
    applied in order to a fresh world of `content` and `seed`."""
    engine = Replayer(content, seed, admin=admin)
    for seq, entry in entries:
        yield from engine.apply(entry, seq)
