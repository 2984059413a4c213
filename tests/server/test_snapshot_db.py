"""World snapshots in the database (server/host/snapshot_db.py): the store on SQLite and
PostgreSQL, the fingerprint rule, pruning, and `MirroredSnapshots`, whose database writes
wait in a bounded queue for their worker thread while the caller goes on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers import new_world
from pg import BACKENDS, database_url
from worldstate import world_state

from server.host.recorder import START, WorldRecorder
from server.host.snapshot_db import (
    DB_FOLDER,
    MAX_QUEUED,
    DbSnapshotStore,
    MirroredSnapshots,
)
from server.host.snapshots import PERIODIC, SnapshotInfo, SnapshotMismatch, dump
from server.host.storage import SqlRepository
from world.world import World


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """A migrated database of the backend under test."""
    with database_url(request, tmp_path) as url:
        repo = SqlRepository(url)
        repo.migrate()
        try:
            yield repo.engine
        finally:
            repo.close()


def world(seed: int = 3) -> World:
    w = new_world(seed)
    w.drain()
    return w


class GatedStore(DbSnapshotStore):
    """The real store, whose writes wait until the test opens the gate (to look at the
    queue while a write is under way)."""

    def __init__(self, engine: sa.Engine) -> None:
        super().__init__(engine)
        self.gate = threading.Event()
        self.entered = threading.Event()

    def write(self, data: bytes, seq: int, tick: int, time: float, content: str = "",
              kind: str = PERIODIC) -> SnapshotInfo:
        self.entered.set()
        assert self.gate.wait(10)
        return super().write(data, seq, tick, time, content, kind)


def test_the_store_writes_lists_loads_and_replaces(engine: sa.Engine) -> None:
    store = DbSnapshotStore(engine)
    w = world()
    data = dump(w)
    store.write(data, 7, w.time, 100.0, "c1", START)
    info = store.write(data, 9, w.time + 4, 200.0, "c1")
    assert info.path == DB_FOLDER / f"{9:016d}.aqs"
    assert [(s.seq, s.tick, s.time, s.content, s.kind) for s in store.list()] == [
        (7, w.time, 100.0, "c1", START), (9, w.time + 4, 200.0, "c1", PERIODIC)]
    assert store.latest() == info
    assert store.latest(at_or_before_seq=8) == store.list()[0]
    assert store.latest(content="c2") is None
    assert store.latest(at_or_before_time=150.0) == store.list()[0]
    assert world_state(store.load(info)) == world_state(w)
    again = store.write(b"\x80\x04N.", 9, 1, 300.0, "c1")  # the same seq: replaced
    assert [s.seq for s in store.list()] == [7, 9]
    with pytest.raises(SnapshotMismatch, match="holds no world"):
        store.load(again)


def test_the_store_refuses_other_world_code(engine: sa.Engine) -> None:
    store = DbSnapshotStore(engine)
    w = world()
    info = store.write(dump(w), 5, w.time, 1.0, "c1")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE world_snapshots SET fingerprint = :f"), {"f": "0" * 32})
    assert store.latest() is None  # another code's: not offered
    with pytest.raises(SnapshotMismatch, match="other world code"):
        store.load(store.list()[0])
    with pytest.raises(SnapshotMismatch, match="replaced by other world code"):
        store.load(info)  # a header read before the row changed
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM world_snapshots"))
    with pytest.raises(SnapshotMismatch, match="no longer there"):
        store.load(info)


def test_the_store_keeps_only_what_recovery_may_need(engine: sa.Engine) -> None:
    store = DbSnapshotStore(engine, keep=2)
    data = dump(world())
    for n, seq in enumerate((10, 20, 30, 40, 50, 60, 70)):
        store.write(data, seq, 0, n * 300.0, "c", START if seq == 40 else PERIODIC)
    # The journal starts at 26: the base (20), the start after it, the newest two.
    assert store.prune(25) == 3
    assert [(s.seq, s.kind) for s in store.list()] == [
        (20, PERIODIC), (40, START), (60, PERIODIC), (70, PERIODIC)]
    assert store.prune(1000) == 2
    assert [s.seq for s in store.list()] == [60, 70]


def test_mirrored_snapshots_write_both_and_a_new_folder_reads_the_database(
        engine: sa.Engine, tmp_path: Path) -> None:
    mirror = MirroredSnapshots(tmp_path / "a", DbSnapshotStore(engine))
    w = world()
    data = dump(w)
    info = mirror.write(data, 4, w.time, 10.0, "c1", START)
    assert mirror.flush(10)
    assert info.path.parent == tmp_path / "a"  # the file's
    assert [s.seq for s in mirror.db.list()] == [4]
    assert mirror.latest(content="c1") == info  # the file wins at the same seq
    assert mirror.close()

    fresh = MirroredSnapshots(tmp_path / "b", DbSnapshotStore(engine))  # a new machine
    found = fresh.latest(content="c1")
    assert found is not None and found.path.parent == DB_FOLDER and found.seq == 4
    assert world_state(fresh.load(found)) == world_state(w)
    fresh.write(data, 8, w.time, 20.0, "c1")
    assert fresh.flush(10)
    assert [(s.seq, s.path.parent) for s in fresh.list()] == [
        (4, DB_FOLDER), (8, tmp_path / "b")]
    assert fresh.prune(100) == 0  # the folder's one is among the newest
    assert fresh.close()


def test_the_database_write_waits_in_a_bounded_queue_not_in_the_caller(
        engine: sa.Engine, tmp_path: Path) -> None:
    gated = GatedStore(engine)
    mirror = MirroredSnapshots(tmp_path, gated)
    data = dump(world())
    try:
        mirror.write(data, 1, 0, 1.0, "c", START)
        assert gated.entered.wait(10)  # the worker is in the first write, held
        assert gated.list() == []  # the caller got its file, the database has nothing yet
        for seq in range(2, 6):  # periodic ones: only the newest waits
            mirror.write(data, seq, 0, float(seq), "c")
        assert mirror.waiting == 2  # the one being written, the newest periodic
        for seq in range(10, 11 + MAX_QUEUED):  # stop snapshots (never replaced)
            mirror.write(data, seq, 0, float(seq), "c", "stop")
        assert mirror.waiting == 1 + MAX_QUEUED  # the oldest waiting ones were dropped
        assert mirror.dropped == 2
        gated.gate.set()
        assert mirror.flush(30)
        assert [s.seq for s in gated.list()] == [1, *range(11, 11 + MAX_QUEUED)]
        assert len(list(tmp_path.glob("*.aqs"))) == 6 + MAX_QUEUED  # every file written
    finally:
        gated.gate.set()
        assert mirror.close()
    with pytest.raises(RuntimeError, match="closed"):
        mirror.write(data, 99, 0, 1.0)


def test_a_recorder_with_mirrored_snapshots_recovers_on_a_new_machine(
        engine: sa.Engine, tmp_path: Path) -> None:
    """The journal copied by hand here (test_replica.py copies it through JetStream)."""
    mirror = MirroredSnapshots(tmp_path / "a" / "snapshots", DbSnapshotStore(engine))
    rec = WorldRecorder(tmp_path / "a", "c1", snapshots=mirror)
    w = world()
    rec.snapshot_now(w, START)
    for _ in range(5):
        w.tick()
    rec.snapshot_now(w, "stop")
    assert mirror.close()
    rec.close()
    mirror2 = MirroredSnapshots(tmp_path / "b" / "snapshots", DbSnapshotStore(engine))
    rec2 = WorldRecorder(tmp_path / "b", "c1", snapshots=mirror2)
    got = rec2.recover(world())
    assert got.snapshot is not None and got.snapshot.path.parent == DB_FOLDER
    assert world_state(got.world) == world_state(w)
    assert mirror2.close()
    rec2.close()
