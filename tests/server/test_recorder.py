"""The world's record (server/host/recorder.py, snapshots.py): snapshots that load only
into the code that wrote them, recovery from a snapshot plus the journal after it, a
fall back to the fresh world when that cannot work, and no secret in the journal."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import starter_content
from worldstate import live_step

from server.bus.base import BusClosed
from server.bus.messages import AdminInput, Command, Enter, Leave, LinkLost, Tick
from server.host.journal import FileJournal
from server.host.recorder import (
    RELOAD,
    ROLE,
    START,
    WorldRecorder,
    content_hash,
    masked_args,
    masked_line,
    replay_recorded,
)
from server.host.snapshots import MAGIC, PERIODIC, SnapshotMismatch, SnapshotStore, dump
from world.commands.registry import SECRET
from world.entities import Role
from world.world import World


def fresh(seed: int = 5) -> World:
    world = World(starter_content(), seed=seed)
    world.drain()
    return world


def test_recover_gives_the_world_of_the_moment_it_stopped(tmp_path: Path) -> None:
    rec = WorldRecorder(tmp_path, "c1")
    world = fresh()
    rec.record(AdminInput("", START))
    rec.snapshot_now(world, START)
    live_step(rec, world, Enter("", "s1", "Ann", "player", "warrior", True))
    ann = world.characters["ann"]
    for line in ("drop potion", "north", "say hello"):
        live_step(rec, world, Command("", "s1", ann.id, line))
    for _ in range(30):
        live_step(rec, world, Tick(world.time + 1))
    rec.close()  # no snapshot after: a crash
    again = WorldRecorder(tmp_path, "c1").recover(fresh())
    assert again.snapshot is not None and again.replayed == 34
    got = again.world
    assert got.time == world.time == 30
    assert got.characters["ann"].room == ann.room
    square = got.rooms[got.content.start_room]
    assert [i.proto for i in square.items] == [i.proto for i in world.rooms[
        world.content.start_room].items]
    assert any(i.proto == "potion" or "potion" in i.proto for i in square.items)
    assert got.rng.random() == world.rng.random()  # the dice go on alike


def test_a_leave_after_the_snapshot_is_handed_back_to_be_saved(tmp_path: Path) -> None:
    rec = WorldRecorder(tmp_path, "c1")
    world = fresh()
    rec.snapshot_now(world, START)
    live_step(rec, world, Enter("", "s1", "Ann", "player", "warrior", True))
    ann_id = world.characters["ann"].id
    live_step(rec, world, Command("", "s1", ann_id, "north"))
    live_step(rec, world, Leave("", "s1", ann_id, "quit"))
    rec.close()
    again = WorldRecorder(tmp_path, "c1").recover(fresh())
    assert "ann" not in again.world.characters
    assert again.left["Ann"]["room"] != world.content.start_room


def test_no_usable_snapshot_means_the_fresh_world(tmp_path: Path) -> None:
    rec = WorldRecorder(tmp_path, "c1")
    world = fresh()
    rec.snapshot_now(world, START)
    live_step(rec, world, Enter("", "s1", "Ann", "player", "warrior", True))
    rec.close()
    start = fresh()
    # Other content files: the snapshot is not theirs.
    other = WorldRecorder(tmp_path, "c2").recover(start)
    assert other.world is start and other.snapshot is None and other.not_replayed == 1
    # A journal that does not fit the snapshot (an entry for a character not there).
    rec = WorldRecorder(tmp_path, "c1")
    rec.record(Command("", "s9", 99999, "look"))
    rec.close()
    broken = WorldRecorder(tmp_path, "c1").recover(start)
    assert broken.world is start and broken.snapshot is None


def test_snapshots_load_only_into_the_code_that_wrote_them(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    world = fresh()
    info = store.write(dump(world), 7, world.time, 1.0, "c1")
    assert store.load(info).time == world.time
    path = info.path
    text = path.read_bytes()
    head, _, rest = text[len(MAGIC):].partition(b"\n")
    path.write_bytes(MAGIC + head.replace(info.fingerprint.encode(), b"0" * 32) + b"\n" + rest)
    assert store.latest() is None  # another code's: not offered
    with pytest.raises(SnapshotMismatch, match="other world code"):
        store.load(store.list()[0])
    (tmp_path / f"{8:016d}.aqs").write_bytes(b"not a snapshot")
    assert [s.seq for s in store.list()] == [7]  # a stray file is skipped


def test_prune_keeps_what_the_journal_still_needs(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, keep=2)
    world = fresh()
    data = dump(world)
    # Every 5 minutes; one start (a new run) among them.
    for n, seq in enumerate((10, 20, 30, 40, 50, 60, 70, 80)):
        store.write(data, seq, world.time, n * 300.0, "c", START if seq == 40 else PERIODIC)
    (tmp_path / "x.tmp").write_bytes(b"half")
    # The journal starts at 26: the snapshot at 20 is the base to replay from; after it,
    # the start (replay goes on from it), periodic ones 15 minutes apart at least
    # (spacing 900 s here), and the newest two.
    assert store.prune(25, spacing=900.0) == 3
    assert [(s.seq, s.kind) for s in store.list()] == [
        (20, PERIODIC), (40, START), (50, PERIODIC), (70, PERIODIC), (80, PERIODIC)]
    assert store.prune(1000) == 3  # past the journal's start: only the newest `keep`
    assert [s.seq for s in store.list()] == [70, 80]
    assert not list(tmp_path.glob("*.tmp"))


def test_a_reload_goes_on_from_the_snapshot_taken_after_it(tmp_path: Path) -> None:
    rec = WorldRecorder(tmp_path, "c1")
    world = fresh()
    rec.record(AdminInput("", START))
    rec.snapshot_now(world, START)
    live_step(rec, world, Enter("", "s1", "Ann", "admin", "warrior", True))
    rec.record(AdminInput("root", ROLE, {"name": "Ann", "role": "builder"}))
    world.characters["ann"].role = Role.BUILDER
    rec.record(AdminInput("root", RELOAD))
    world.rooms[world.content.start_room].items.clear()  # what the reload changed
    rec.snapshot_now(world, START)
    live_step(rec, world, Tick(world.time + 1))
    rec.close()
    got = WorldRecorder(tmp_path, "c1").recover(fresh()).world
    assert not got.rooms[got.content.start_room].items
    assert got.characters["ann"].role is Role.BUILDER
    # Replay crosses the reload: Ann's tick after it is replayed on the reloaded world.
    records = list(replay_recorded(tmp_path))
    assert {r["seq"] for r in records} == {2}  # Ann's entering; the tick told nothing


def test_the_journal_masks_secrets_and_only_them() -> None:
    world = fresh()
    reg = world.registry
    assert masked_line("password old-one new-one", reg, None) == f"password {SECRET}"
    assert masked_line("pw x y", reg, {"pw": "password $*"}) == f"pw {SECRET}"
    assert masked_line("say my password is x", reg, None) == "say my password is x"
    assert masked_line("north", reg, None) == "north"
    assert masked_args("password", {"old": "a", "new": "b"}, reg) == {"old": SECRET,
                                                                       "new": SECRET}
    assert masked_args("say", {"message": "hi"}, reg) == {"message": "hi"}


def test_content_hash_sees_every_file(tmp_path: Path) -> None:
    (tmp_path / "zones").mkdir()
    (tmp_path / "zones" / "a.yaml").write_text("x: 1\n")
    first = content_hash(tmp_path)
    (tmp_path / "zones" / "a.yaml").write_text("x: 2\n")
    second = content_hash(tmp_path)
    assert second != first
    os.rename(tmp_path / "zones" / "a.yaml", tmp_path / "zones" / "b.yaml")
    assert content_hash(tmp_path) not in (first, second)


def test_a_readonly_journal_neither_cuts_nor_appends(tmp_path: Path) -> None:
    with FileJournal(tmp_path) as journal:
        journal.append_now(Tick(1))
        journal.append_now(LinkLost("", "s", 1))
    segment = next(tmp_path.glob("*.aqj"))
    with segment.open("ab") as f:
        f.write(b"\x00\x00\x01")  # a torn tail, as a writer in mid-append leaves it
    size = segment.stat().st_size
    ro = FileJournal(tmp_path, readonly=True)
    assert [r.seq for r in ro.read()] == [1, 2]
    assert segment.stat().st_size == size
    with pytest.raises(BusClosed, match="read-only"):
        ro.append_now(Tick(3))
    assert FileJournal(tmp_path / "none", readonly=True).last == 0
    assert not (tmp_path / "none").exists()
