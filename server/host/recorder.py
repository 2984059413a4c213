"""The world host's record of its world: inputs journaled before they apply, snapshots,
recovery at start, and the offline replay behind `aegent replay`.

`WorldRecorder` sits in the data directory (`<data>/journal/`: the journal's segments in
`wal/`, the snapshots in `snapshots/`). The server calls `record` with every input
(server/bus/messages.py: a command with its character, an enter with the saved state,
a lost link, a leave, a tick boundary, an admin change) *before* applying it, so that
whatever a player is answered is already in the journal: the append is one `write`,
which a `kill -9` of the process does not undo. It snapshots the world every
`snapshot_interval` and when it stops.

At start, `recover` takes the newest snapshot written by this world code from these
content files and applies the journal after it (server/host/replay.py), which gives the
world of the moment the last process stopped, crashed or not: the mobs as they were,
the items on the floors, every character that was playing (now link-dead, waiting for
its player). Without such a snapshot (a first start, new world code, edited content
files) the world is the one built from the content and the database, as before.

`replay_recorded` is `aegent replay`: the event records of a recorded stretch, from
the snapshot at or before its start, with no network and no database.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import structlog

from server.bus.messages import AdminInput, Call, Command, Input, Leave
from server.host.journal import FileJournal
from server.host.replay import EventRecord, Replayer
from server.host.snapshots import SnapshotInfo, SnapshotMismatch, SnapshotStore, dump
from server.wire import ErrorCode
from world.commands.registry import SECRET, Registry, is_sensitive, redact_call
from world.entities import Role
from world.errors import Refused
from world.world import World

log = structlog.get_logger("aegent.journal")

STOP = "stop"
"""The snapshot taken when the server stops (the next start goes on from it)."""

RELOAD = "reload"
"""The admin input of a content reload: a snapshot is taken right after it, and replay
goes on from that snapshot (the new content is in it, not in the journal)."""

START = "start"
"""The admin input that opens each run of the server: a snapshot is taken right after
it (the world that run starts from: recovered, or new from the content), and replay
goes on from that snapshot, as after a reload."""

ROLE = "role"
"""The admin input of a role change of a character in the world (`name`, `role`)."""

UNRECORDED = Refused(ErrorCode.WORLD_UNAVAILABLE, "The world can't record that right now "
                     "(the server's disk?); nothing was done. Try again in a moment.")
"""The answer to a command the journal could not take: it is not applied."""


@dataclass(slots=True)
class Recovery:
    """What `recover` found: the world to play on, from which snapshot, how many journal
    entries it applied after it, and the characters that left meanwhile with their final
    state (to be saved: the crash may have beaten their save)."""

    world: World
    snapshot: SnapshotInfo | None = None
    replayed: int = 0
    left: dict[str, dict[str, Any]] = field(default_factory=dict)
    not_replayed: int = 0  # journal entries with no usable snapshot before them
    # (gateway, session) -> the number `n` of its last command replayed (cluster mode)
    commands: dict[tuple[str, str], int] = field(default_factory=dict)


class Replica(Protocol):
    """What `record` tells of each entry it journaled (server/host/replica.py's
    `JournalReplica`)."""

    def appended(self, seq: int, entry: Input) -> None: ...


def content_hash(content_dir: Path) -> str:
    """The hash of every file under `content_dir` (names and bytes)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in content_dir.rglob("*") if p.is_file()):
        digest.update(path.relative_to(content_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def apply_admin(store: SnapshotStore, seq: int) -> Any:
    """The admin handler of replay: a role change sets the role; a reload or a start goes
    on from the snapshot taken right after it (entry `seq`)."""
    def handler(world: World, entry: AdminInput) -> World | None:
        if entry.action == ROLE:
            ch = world.find_online(str(entry.args.get("name", "")))
            if ch is not None:
                with contextlib.suppress(ValueError):
                    ch.role = Role(str(entry.args.get("role")))
            return None
        if entry.action in (RELOAD, START):
            info = next((s for s in store.list() if s.seq == seq), None)
            if info is None:
                raise SnapshotMismatch(f"no snapshot after the {entry.action} at entry {seq}")
            return store.load(info)
        return None
    return handler


class WorldRecorder:
    """The journal and the snapshots of one world, in `directory`.

    Args:
        directory: `<data dir>/journal`.
        content: the hash of the content files (`content_hash`).
        retention: seconds journal entries are kept, even behind snapshots.
        sync: the journal's fsync policy (server/host/journal.py).
        clock: the wall clock.
    """

    def __init__(self, directory: Path, content: str, *, retention: float = 86400.0,
                 sync: Literal["always", "batch"] = "batch",
                 clock: Any = time.time, snapshots: SnapshotStore | None = None) -> None:
        self.directory = directory
        self.content = content
        self.journal = FileJournal(directory / "wal", sync=sync, retention=retention,
                                   clock=clock)
        # a cluster's world host passes server/host/snapshot_db.py's MirroredSnapshots
        self.snapshots = snapshots or SnapshotStore(directory / "snapshots")
        self.replica: Replica | None = None  # server/host/replica.py, in a cluster
        self.clock = clock
        self.snapshotting = False

    @property
    def last(self) -> int:
        """The newest journal entry's number."""
        return self.journal.last

    def record(self, entry: Input) -> int:
        """Journal `entry` (before it is applied); its sequence number. The replica, if
        any, copies it to JetStream afterwards."""
        seq = self.journal.append_now(entry)
        if self.replica is not None:
            self.replica.appended(seq, entry)
        return seq

    def snapshot_seq(self, last: int) -> int:
        """The journal number of the newest snapshot `recover` could start from with the
        journal ending at `last` (0 if none): a new machine's journal need not hold the
        entries before it (server/host/replica.py fetches from JetStream after it)."""
        info = self.snapshots.latest(content=self.content, at_or_before_seq=last)
        return info.seq if info is not None else 0

    def recover(self, fresh: World) -> Recovery:
        """The world to start with: the newest usable snapshot with the journal after it
        applied, or `fresh` (built from the content and the stored edits) if none."""
        # never one past the journal (a database's, from a run whose end JetStream lacks)
        info = self.snapshots.latest(content=self.content, at_or_before_seq=self.journal.last)
        last = self.journal.last
        if info is None or info.seq < self.journal.first - 1:
            if last:
                log.warning("journal_not_replayed", entries=last, reason="no snapshot of "
                            "this world code and content (new code, edited content?)")
            return Recovery(fresh, not_replayed=last if info is None else last - info.seq)
        try:
            engine = Replayer(None, world=self.snapshots.load(info), records=False)
            recovery = Recovery(engine.world, info)
            for record in self.journal.read(info.seq + 1):
                entry = record.entry
                if isinstance(entry, Leave):
                    ch = engine.world.characters.get(_name_of(engine.world, entry.character))
                    if ch is not None:
                        recovery.left[ch.name] = engine.world.snapshot(ch)
                if isinstance(entry, Command | Call) and entry.n:
                    recovery.commands[(entry.gateway, entry.session)] = entry.n
                engine.admin = apply_admin(self.snapshots, record.seq)
                engine.apply(entry, record.seq)
                recovery.replayed += 1
        except Exception as exc:  # a damaged journal or snapshot: start as without one
            log.error("journal_replay_failed", snapshot=info.seq, error=repr(exc))
            return Recovery(fresh, not_replayed=last - info.seq)
        recovery.world = engine.world
        log.info("world_recovered", snapshot=info.seq, replayed=recovery.replayed,
                 tick=engine.world.time, characters=len(engine.world.characters))
        return recovery

    async def snapshot(self, world: World) -> SnapshotInfo | None:
        """Snapshot `world` now (pickled on the loop, written in a thread), then prune the
        journal and the snapshots no longer needed; None if one is being written."""
        if self.snapshotting:
            return None
        self.snapshotting = True
        try:
            t0 = time.perf_counter()
            data = dump(world)
            took = time.perf_counter() - t0
            info = await asyncio.to_thread(self.snapshots.write, data, self.journal.last,
                                           world.time, self.clock(), self.content)
            await asyncio.to_thread(self._prune)
            log.info("world_snapshot", seq=info.seq, tick=info.tick, bytes=len(data),
                     pickle_ms=round(took * 1000, 1))
            return info
        finally:
            self.snapshotting = False

    def snapshot_now(self, world: World, kind: str) -> SnapshotInfo:
        """Snapshot `world` in this thread, for reason `kind` (START, RELOAD, STOP)."""
        return self.snapshots.write(dump(world), self.journal.last, world.time, self.clock(),
                                    self.content, kind)

    def _prune(self) -> None:
        self.journal.prune()
        self.snapshots.prune(self.journal.first - 1)

    def close(self) -> None:
        """Flush and close the journal."""
        self.journal.close()


def _name_of(world: World, cid: int) -> str:
    for ch in world.characters.values():
        if ch.id == cid:
            return ch.name.lower()
    return ""


def replay_recorded(directory: Path, since: float | None = None, until: float | None = None
                    ) -> Iterator[EventRecord]:
    """The event records of the recording in `directory` (`<data dir>/journal`) between
    the wall-clock times `since` and `until` (either open), from the newest snapshot at
    or before `since` (the oldest one if `since` is None).

    Raises:
        SnapshotMismatch: no snapshot of this world code covers `since`.
    """
    store = SnapshotStore(directory / "snapshots")
    journal = FileJournal(directory / "wal", readonly=True)
    try:
        snaps = [s for s in store.list() if s.seq >= journal.first - 1]
        usable = [s for s in snaps if since is None or s.time <= since]
        if not usable:
            raise SnapshotMismatch("no snapshot at or before the start of that stretch "
                                   "(it is past the journal's retention)")
        info = usable[-1] if since is not None else usable[0]
        engine = Replayer(None, world=store.load(info))
        for record in journal.read(info.seq + 1):
            if until is not None and record.time > until:
                break
            engine.admin = apply_admin(store, record.seq)
            out = engine.apply(record.entry, record.seq)
            if since is None or record.time >= since:
                yield from out
    finally:
        journal.close()


def masked_line(line: str, registry: Registry, aliases: Mapping[str, str] | None) -> str:
    """`line` as the journal keeps it: as typed, unless it runs a sensitive command
    (`password`, or a forced or aliased line that does), whose arguments are masked, so
    no secret is ever written to disk. (Replaying it runs the masked line: its answer
    may differ from the live one; nothing else in the world does.)"""
    if is_sensitive(line, registry, aliases):
        return f"{line.split(None, 1)[0]} {SECRET}"
    return line


def masked_args(tool: str, args: dict[str, Any], registry: Registry) -> dict[str, Any]:
    """A tool call's arguments as the journal keeps them (see `masked_line`)."""
    if redact_call(tool, args, registry).endswith(SECRET):
        return {k: SECRET for k in args}
    return args
