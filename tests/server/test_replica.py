"""The journal copied into JetStream (server/host/replica.py), against a real nats-server
(tests/natsd.py): in order, under the local numbers, through a restart of the server
with nothing lost and nothing twice, with a bounded memory while NATS is away; and at
start, the local journal and the stream reconciled, down to a world recovered on a new
machine from the database's snapshot and the stream's entries."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from helpers import new_world
from natsd import NatsServer, nats_server
from worldstate import live_step, world_state

from server.bus.base import BusError
from server.bus.messages import AdminInput, Command, Enter, Input, LinkLost, Tick
from server.bus.nats import NatsBus, NatsJournal
from server.host.journal import FileJournal
from server.host.recorder import START, WorldRecorder
from server.host.replica import JournalDiverged, JournalReplica
from server.host.snapshot_db import DB_FOLDER, DbSnapshotStore, MirroredSnapshots
from server.host.storage import SqlRepository
from world.world import World

__all__ = ["nats_server"]  # the module-scoped fixture

WAIT = 10.0
_prefixes = itertools.count()


def inputs(n: int, start: int = 1, tag: str = "") -> list[Input]:
    """`n` inputs of a few kinds, numbered from `start` so that order shows."""
    gateway = f"g{tag}"
    kinds = [lambda i: Command(gateway, f"s{i % 5}", i, f"say {i}", id=i),
             lambda i: Tick(i), lambda i: LinkLost(gateway, f"s{i % 5}", i)]
    return [kinds[i % len(kinds)](i) for i in range(start, start + n)]


def append(journal: FileJournal, replica: JournalReplica, entries: list[Input]) -> int:
    """As `WorldRecorder.record` does: journal, then tell the replica."""
    seq = 0
    for entry in entries:
        seq = journal.append_now(entry)
        replica.appended(seq, entry)
    return seq


async def connect(server: NatsServer, prefix: str) -> NatsBus:
    return await NatsBus.connect(server.url, prefix, reconnect_wait=0.05, ack_timeout=2.0,
                                 on_error=lambda exc: None)


async def in_stream(bus: NatsBus) -> list[tuple[int, Input]]:
    """What the stream holds (a journal object of its own: the stream may be new)."""
    return [(seq, e) async for seq, e in NatsJournal(bus, bus.journal.retention,
                                                     2.0).replay()]


def in_journal(journal: FileJournal) -> list[tuple[int, Input]]:
    return [(r.seq, r.entry) for r in journal.read()]


@asynccontextmanager
async def replicated(server: NatsServer, folder: Path, prefix: str | None = None,
                     **options: Any) -> AsyncIterator[tuple[FileJournal, JournalReplica,
                                                            NatsBus]]:
    """A journal in `folder`, its replica (started) and the bus, closed afterwards."""
    bus = await connect(server, prefix or f"r{next(_prefixes)}")
    journal = FileJournal(folder)
    replica = JournalReplica(journal, bus, **options)
    try:
        await replica.start(timeout=WAIT)
        yield journal, replica, bus
    finally:
        await replica.close(timeout=1.0)
        journal.close()
        await bus.close()


# ---- copying ---------------------------------------------------------------------------


async def test_entries_reach_jetstream_in_order_under_their_numbers(
        nats_server: NatsServer, tmp_path: Path) -> None:
    async with replicated(nats_server, tmp_path, window=64) as (journal, replica, bus):
        entries = inputs(1000)
        last = append(journal, replica, entries)
        assert await replica.wait_acked(last, WAIT)
        assert replica.acked == last == 1000
        assert await in_stream(bus) == in_journal(journal) == list(enumerate(entries, 1))
        msg = await bus.js.get_msg(bus.subjects.stream, seq=1000)
        assert msg.headers is not None
        assert msg.headers["Nats-Msg-Id"] == f"{bus.subjects.prefix}:1000"
        assert replica.spilled == 0 and replica.resyncs == 1  # the start's
        # one acknowledgement per flight (64 here, the window) stands for all its entries
        assert replica.asked <= 1000 // 64 + 2


async def test_a_restart_of_nats_loses_nothing_duplicates_nothing_holds_little(
        nats_server: NatsServer, tmp_path: Path) -> None:
    async with replicated(nats_server, tmp_path, window=64, buffer=32, ack_timeout=1.0,
                          retry=0.05) as (journal, replica, bus):
        assert await replica.wait_acked(append(journal, replica, inputs(100)), WAIT)
        append(journal, replica, inputs(200, 101))
        await asyncio.sleep(0)  # the replica publishes some: they are in flight
        nats_server.stop(kill=True)  # as a crash: the store stays
        last = append(journal, replica, inputs(300, 301))
        # NATS is away: the host goes on, holding at most `buffer` entries in memory
        assert replica.buffered <= 32 and replica.spilled >= 300 - 32
        assert not await replica.wait_acked(last, 0.2)  # and nothing is acknowledged
        assert replica.acked < last
        await asyncio.to_thread(nats_server.start)
        assert await replica.wait_acked(last, WAIT)
        assert replica.resyncs >= 2
        assert await in_stream(bus) == in_journal(journal)  # seqs 1..600, each once
        assert [seq for seq, _ in in_journal(journal)] == list(range(1, 601))
    assert journal.last == 600


async def test_another_writer_stalls_the_copy_and_nothing_is_stored_out_of_place(
        nats_server: NatsServer, tmp_path: Path) -> None:
    async with replicated(nats_server, tmp_path, ack_timeout=1.0, retry=0.05
                          ) as (journal, replica, bus):
        assert await replica.wait_acked(append(journal, replica, inputs(5)), WAIT)
        assert await bus.journal.append(Tick(999)) == 6  # someone else's entry 6
        mine = append(journal, replica, inputs(3, 6))
        assert not await replica.wait_acked(mine, 1.0)
        assert replica.problem is not None and "another world host" in replica.problem
        assert await bus.journal.bounds() == (1, 6)  # none of ours after theirs
        assert replica.acked == 5
        assert not await replica.close(timeout=0)


async def test_close_waits_for_the_acknowledgements(nats_server: NatsServer,
                                                     tmp_path: Path) -> None:
    async with replicated(nats_server, tmp_path) as (journal, replica, bus):
        append(journal, replica, inputs(50))
        assert await replica.close()
        assert replica.acked == 50
        assert [s for s, _ in await in_stream(bus)] == list(range(1, 51))
        assert not await replica.wait_acked(51, 0.01)  # closed


# ---- start: reconciling the journal and the stream -------------------------------------


async def test_a_new_machine_takes_the_stream_into_its_empty_journal(
        nats_server: NatsServer, tmp_path: Path) -> None:
    prefix = f"r{next(_prefixes)}"
    async with replicated(nats_server, tmp_path / "a", prefix) as (journal, replica, _):
        append(journal, replica, inputs(100))
        assert await replica.close()
        times = [r.time for r in journal.read()]
    async with replicated(nats_server, tmp_path / "b", prefix) as (fresh, replica, bus):
        assert in_journal(fresh) == list(enumerate(inputs(100), 1))
        assert replica.acked == 100
        # the times of the first appends (JetStream's store times: a moment later)
        assert all(0 <= b - a < 60 for a, b in zip(times, (r.time for r in fresh.read()),
                                                    strict=True))
        append(fresh, replica, inputs(1, 101))  # and it goes on where the other stopped
        assert await replica.wait_acked(101, WAIT)
        assert [s for s, _ in await in_stream(bus)][-2:] == [100, 101]


async def test_a_journal_that_ends_before_the_stream_begins_goes_on_at_its_numbers(
        nats_server: NatsServer, tmp_path: Path) -> None:
    prefix = f"r{next(_prefixes)}"
    entries = inputs(100)
    async with replicated(nats_server, tmp_path / "a", prefix) as (journal, replica, bus):
        append(journal, replica, entries)
        assert await replica.close()
        await bus.js.purge_stream(bus.subjects.stream, seq=61)  # its age took 1..60
    with FileJournal(tmp_path / "b") as old:  # a machine that ran long ago
        for entry in entries[:10]:
            old.append_now(entry)
    async with replicated(nats_server, tmp_path / "b", prefix) as (local, replica, bus):
        assert (local.first, local.last, replica.acked) == (61, 100, 100)
        assert in_journal(local) == list(enumerate(entries, 1))[60:]
        (aside,) = (tmp_path / "b").glob("superseded-*")  # the old entries, kept
        assert in_journal(FileJournal(aside, readonly=True)) == list(enumerate(entries,
                                                                               1))[:10]


async def test_a_stream_behind_the_journal_gets_the_missing_entries_at_their_numbers(
        nats_server: NatsServer, tmp_path: Path) -> None:
    with FileJournal(tmp_path) as journal:  # it pruned 1..39 long ago
        journal.restart(40)
        for entry in inputs(50, 40):
            journal.append_now(entry)
    async with replicated(nats_server, tmp_path) as (journal, replica, bus):  # no stream
        assert await replica.wait_acked(89, WAIT)
        assert await bus.journal.bounds() == (40, 89)
        assert await in_stream(bus) == in_journal(journal)
        assert await replica.close()  # and a start with a stream deleted meanwhile
        await bus.js.delete_stream(bus.subjects.stream)
        again = JournalReplica(journal, bus)
        await again.start(timeout=WAIT)
        assert await again.wait_acked(89, WAIT)
        assert await in_stream(bus) == in_journal(journal)
        await again.close()


async def test_another_worlds_stream_is_refused_and_nothing_changes(
        nats_server: NatsServer, tmp_path: Path) -> None:
    prefix = f"r{next(_prefixes)}"
    async with replicated(nats_server, tmp_path / "a", prefix) as (journal, replica, _):
        append(journal, replica, inputs(5, tag="a"))
        assert await replica.close()
    for ours in (inputs(5, tag="b"), inputs(8, tag="b")):  # the same length, or longer
        folder = tmp_path / f"b{len(ours)}"
        with FileJournal(folder) as mine:
            for entry in ours:
                mine.append_now(entry)
        bus = await connect(nats_server, prefix)
        local = FileJournal(folder)
        try:
            with pytest.raises(JournalDiverged, match="different entries at 5"):
                await JournalReplica(local, bus).start(timeout=WAIT)
            assert in_journal(local) == list(enumerate(ours, 1))
            assert [e for _, e in await in_stream(bus)] == inputs(5, tag="a")
        finally:
            local.close()
            await bus.close()


async def test_start_gives_up_when_jetstream_does_not_answer(tmp_path: Path,
                                                              nats_server: NatsServer) -> None:
    bus = await connect(nats_server, f"r{next(_prefixes)}")
    nats_server.stop()
    try:
        with FileJournal(tmp_path) as journal, pytest.raises(BusError, match="NATS|JetStream"):
            await JournalReplica(journal, bus, retry=0.05).start(timeout=0.3)
    finally:
        await asyncio.to_thread(nats_server.start)
        await bus.close()


# ---- recovery on a new machine ---------------------------------------------------------


def fresh() -> World:
    world = new_world(5)
    world.drain()
    return world


async def test_a_new_machine_recovers_the_world_from_the_database_and_the_stream(
        nats_server: NatsServer, tmp_path: Path) -> None:
    repo = SqlRepository(f"sqlite:///{tmp_path / 'aegent.db'}")
    repo.migrate()
    prefix = f"r{next(_prefixes)}"
    try:
        # Machine A: a run, a periodic snapshot, then more play, and a crash.
        mirror = MirroredSnapshots(tmp_path / "a" / "snapshots", DbSnapshotStore(repo.engine))
        rec = WorldRecorder(tmp_path / "a", "c1", snapshots=mirror)
        bus = await connect(nats_server, prefix)
        replica = JournalReplica(rec.journal, bus)
        await replica.start(timeout=WAIT)
        rec.replica = replica
        world = fresh()
        rec.record(AdminInput("", START))
        rec.snapshot_now(world, START)
        live_step(rec, world, Enter("", "s1", "Ann", "player", "warrior", True))
        ann = world.characters["ann"].id
        for line in ("drop potion", "north", "say hello"):
            live_step(rec, world, Command("", "s1", ann, line))
        for _ in range(20):
            live_step(rec, world, Tick(world.time + 1))
        periodic = await rec.snapshot(world)  # the file, then the database
        assert periodic is not None
        for line in ("south", "get potion", "say back"):
            live_step(rec, world, Command("", "s1", ann, line))
        for _ in range(15):
            live_step(rec, world, Tick(world.time + 1))
        assert await replica.wait_acked(rec.last, WAIT)  # before any output goes out
        assert await asyncio.to_thread(mirror.close)
        await replica.close()
        rec.close()  # no stop snapshot: a crash; machine A is gone with its disk
        await bus.close()

        # Machine B: an empty data directory, the same database and NATS.
        mirror2 = MirroredSnapshots(tmp_path / "b" / "snapshots", DbSnapshotStore(repo.engine))
        rec2 = WorldRecorder(tmp_path / "b", "c1", snapshots=mirror2)
        bus2 = await connect(nats_server, prefix)
        replica2 = JournalReplica(rec2.journal, bus2, since=rec2.snapshot_seq)
        await replica2.start(timeout=WAIT)  # before recovery
        rec2.replica = replica2
        # only the entries after the database's snapshot were fetched, not the stream's all
        assert (rec2.journal.first, rec2.journal.last) == (periodic.seq + 1, rec.last)
        assert (await bus2.journal.bounds())[0] == 1
        recovery = rec2.recover(fresh())
        assert recovery.snapshot is not None and recovery.snapshot.path.parent == DB_FOLDER
        assert recovery.replayed == 18  # the entries after the periodic snapshot
        assert world_state(recovery.world) == world_state(world)
        assert recovery.world.rng.random() == world.rng.random()  # the dice go on alike
        live_step(rec2, recovery.world, Tick(recovery.world.time + 1))  # and B plays on
        assert await replica2.wait_acked(rec2.last, WAIT)
        await replica2.close()
        assert await asyncio.to_thread(mirror2.close)
        rec2.close()
        await bus2.close()
    finally:
        repo.close()

