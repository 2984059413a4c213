"""The embedded mode's file journal (server/host/journal.py): entries round-trip in
order across reopening and segments, a torn tail is cut off on open (never an error),
keys are stored once within the window, and old segments go with the retention."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from server.bus.base import BusClosed, Journal
from server.bus.messages import (
    AdminInput,
    BusMessageError,
    Call,
    Command,
    Enter,
    Input,
    Leave,
    LinkLost,
    Tick,
)
from server.host.journal import MAGIC, FileJournal, JournalCorrupt


class Clock:
    """A wall clock the test moves."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def samples() -> list[Input]:
    """One input of every kind."""
    return [
        Enter("gw", "s1", "Ann", "player", "warrior", created=True, state=None),
        Enter("gw", "s2", "Bob", "builder", "mage", state={"level": 3, "room": "haven:square",
                                                          "skills": {"armor": 40}}),
        Command("gw", "s1", 1, "kill rat", id=7),
        Call("gw", "s2", 2, "cast", {"spell": "magic missile", "target": "rat"}, id="x"),
        Tick(1),
        LinkLost("gw", "s2", 2),
        Leave("gw", "s1", 1, "quit"),
        AdminInput("root", "broadcast", {"text": "Reboot in 5 minutes. Ünïcode ✓"}),
    ]


def segments(path: Path) -> list[Path]:
    return sorted(path.glob("*.aqj"))


def entries(journal: FileJournal, start: int = 1, end: int | None = None) -> list[Input]:
    return [r.entry for r in journal.read(start, end)]


async def test_entries_round_trip_in_order_and_across_reopening(tmp_path: Path) -> None:
    journal = FileJournal(tmp_path / "journal")
    protocol: Journal = journal  # the bus's protocol, checked by mypy
    assert protocol is journal
    assert await journal.bounds() == (1, 0)
    assert [r async for r in journal.replay()] == []
    seqs = [await journal.append(e) for e in samples()]
    assert seqs == list(range(1, 9))
    assert await journal.bounds() == (1, 8)
    assert [r async for r in journal.replay()] == list(enumerate(samples(), 1))
    assert [s for s, _ in [r async for r in journal.replay(3, 5)]] == [3, 4, 5]
    assert [r async for r in journal.replay(9)] == []
    journal.close()
    with pytest.raises(Exception, match="closed"):
        await journal.append(Tick(2))

    again = FileJournal(tmp_path / "journal", sync="always")
    assert again.truncated == 0
    assert entries(again) == samples()
    assert await again.append(Tick(2)) == 9
    assert entries(again, 8) == [samples()[-1], Tick(2)]
    times = [r.time for r in again.read()]
    assert times == sorted(times)
    again.close()


@pytest.mark.parametrize("tail", [
    b"\x00\x00",  # half a header
    b"\x00\x00\x00\x40\x12\x34\x56\x78" + b"\x93\x04",  # a header and half its payload
    b"\x00\x00\x00\x02\x00\x00\x00\x00\x90\x90",  # a whole record with a wrong CRC
    b"\xff" * 4096,  # garbage (a length far past the limit)
    b"\x00" * 100,  # zeros, as a file system may leave after a crash
], ids=["half-header", "half-payload", "bad-crc", "garbage", "zeros"])
def test_a_torn_tail_is_cut_off_and_appends_go_on(tmp_path: Path, tail: bytes) -> None:
    with FileJournal(tmp_path) as journal:
        for e in samples()[:3]:
            journal.append_now(e)
    (segment,) = segments(tmp_path)
    whole = segment.read_bytes()
    segment.write_bytes(whole + tail)

    with FileJournal(tmp_path) as journal:  # no exception
        assert journal.truncated == len(tail)
        assert segment.read_bytes() == whole
        assert entries(journal) == samples()[:3]
        assert journal.append_now(Tick(1)) == 4
    with FileJournal(tmp_path) as journal:
        assert journal.truncated == 0
        assert entries(journal) == [*samples()[:3], Tick(1)]


def test_a_record_cut_short_by_a_crash_is_dropped(tmp_path: Path) -> None:
    with FileJournal(tmp_path) as journal:
        for e in samples()[:4]:
            journal.append_now(e)
    (segment,) = segments(tmp_path)
    whole = segment.read_bytes()
    with FileJournal(tmp_path) as journal:
        journal.append_now(Command("gw", "s1", 1, "north"))
    written = segment.read_bytes()
    for cut in range(len(whole) + 1, len(written)):  # every place the write can stop
        segment.write_bytes(written[:cut])
        with FileJournal(tmp_path) as journal:
            assert journal.last == 4
            assert entries(journal) == samples()[:4]
        assert segment.read_bytes() == whole


def test_a_segment_torn_while_being_made_is_made_again(tmp_path: Path) -> None:
    (tmp_path / f"{1:016d}.aqj").write_bytes(MAGIC[:3])
    with FileJournal(tmp_path) as journal:
        assert journal.last == 0
        assert journal.append_now(Tick(1)) == 1
    with FileJournal(tmp_path) as journal:
        assert entries(journal) == [Tick(1)]


def test_a_file_of_another_format_is_refused(tmp_path: Path) -> None:
    (tmp_path / f"{1:016d}.aqj").write_bytes(b"something else entirely")
    with pytest.raises(Exception, match="not a journal segment"):
        FileJournal(tmp_path)


async def test_a_key_is_stored_once_within_the_window(tmp_path: Path) -> None:
    clock = Clock()
    journal = FileJournal(tmp_path, dedup_window=120, clock=clock)
    assert await journal.append(Command("gw", "s", 1, "north"), "host:1") == 1
    assert await journal.append(Command("gw", "s", 1, "north"), "host:1") == 1
    assert await journal.append(Command("gw", "s", 1, "south"), "host:2") == 2
    assert await journal.append(Tick(1)) == 3  # no key: always stored
    journal.close()

    journal = FileJournal(tmp_path, dedup_window=120, clock=clock)  # remembered on open
    assert await journal.append(Command("gw", "s", 1, "north"), "host:1") == 1
    assert await journal.bounds() == (1, 3)
    clock.now += 121  # past the window: a new entry
    assert await journal.append(Command("gw", "s", 1, "north"), "host:1") == 4
    assert await journal.append(Command("gw", "s", 1, "north"), "host:1") == 4
    journal.close()
    clock.now += 121
    with FileJournal(tmp_path, dedup_window=120, clock=clock) as journal:
        assert journal.append_now(Command("gw", "s", 1, "north"), "host:1") == 5
        assert [r.key for r in journal.read()] == ["host:1", "host:2", None, "host:1",
                                                   "host:1"]


async def test_segments_roll_and_the_retention_drops_whole_old_ones(tmp_path: Path) -> None:
    clock = Clock()
    journal = FileJournal(tmp_path, segment_bytes=300, retention=3600, clock=clock)
    for n in range(1, 41):
        assert await journal.append(Command("gw", "s", 1, f"say line {n}")) == n
        clock.now += 60  # one a minute
    files = segments(tmp_path)
    assert len(files) > 5
    assert all(f.stat().st_size <= 300 for f in files)
    lines = [e.line for e in entries(journal) if isinstance(e, Command)]
    assert lines == [f"say line {n}" for n in range(1, 41)]
    assert [s for s, _ in [r async for r in journal.replay(17, 23)]] == list(range(17, 24))
    journal.close()

    clock.now += 1800  # entries 1..~10 are now past the hour
    journal = FileJournal(tmp_path, segment_bytes=300, retention=3600, clock=clock)
    first, last = await journal.bounds()
    assert len(segments(tmp_path)) < len(files)
    assert 1 < first <= 11 and last == 40
    records = list(journal.read())
    assert [r.seq for r in records] == list(range(first, 41))
    assert all(r.time >= clock.now - 3600 - 60 * 4 for r in records)  # a segment's worth
    assert [s for s, _ in [r async for r in journal.replay(1, first)]] == [first]
    journal.close()

    clock.now += 10 * 3600  # everything is old: the newest segment stays, appends go on
    with FileJournal(tmp_path, segment_bytes=300, retention=3600, clock=clock) as journal:
        first, last = journal.first, journal.last
        assert last == 40 and first > 30
        assert journal.append_now(Tick(1)) == 41


def test_a_damaged_older_segment_is_reported_when_read(tmp_path: Path) -> None:
    with FileJournal(tmp_path, segment_bytes=200) as journal:
        for n in range(20):
            journal.append_now(Command("gw", "s", 1, f"say {n}"))
    oldest = segments(tmp_path)[0]
    data = bytearray(oldest.read_bytes())
    data[len(MAGIC) + 12] ^= 0xFF  # inside the first record's payload
    oldest.write_bytes(bytes(data))
    with FileJournal(tmp_path, segment_bytes=200) as journal:
        assert journal.last == 20  # only the newest segment is read on open
        with pytest.raises(JournalCorrupt):
            list(journal.read())
        assert len(list(journal.read(journal.last - 1))) == 2


async def test_batched_appends_reach_the_disk_after_the_interval(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced_in: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced_in.append(threading.get_ident())
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    journal = FileJournal(tmp_path, sync="batch", sync_interval=0.01)
    synced_in.clear()  # making the first segment synced it, at once
    for n in range(1, 101):
        assert await journal.append(Tick(n)) == n
    # written before `append` returned: another process would read it all now (so
    # would the next one after a kill -9), fsync or not
    with FileJournal(tmp_path, readonly=True) as reader:
        assert reader.truncated == 0 and reader.last == 100
    assert synced_in == []  # not yet: one fsync for the whole batch, later
    for _ in range(500):
        if synced_in:
            break
        await asyncio.sleep(0.01)
    # One fsync for the batch, in a worker thread: the event loop never waits on the disk.
    assert len(synced_in) == 1 and synced_in[0] != threading.get_ident()
    assert [r.seq for r in journal.read(99)] == [99, 100]
    journal.close()


def test_bad_arguments_and_entries_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sync"):
        FileJournal(tmp_path, sync="sometimes")  # type: ignore[arg-type]
    with FileJournal(tmp_path) as journal, pytest.raises(BusMessageError):
        journal.append_now("kill rat")  # type: ignore[arg-type]


def test_restart_goes_on_at_a_number_and_keeps_what_it_held_aside(tmp_path: Path) -> None:
    with FileJournal(tmp_path) as journal:
        assert journal.restart(7) is None  # nothing held: nothing to keep
        assert (journal.first, journal.last) == (7, 6)
        assert journal.append_now(Tick(1), at=123.0) == 7  # a time given: kept as it is
        assert [(r.seq, r.time) for r in journal.read()] == [(7, 123.0)]
        aside = journal.restart(40)
        assert aside is not None and aside.parent == tmp_path
        assert journal.append_now(Tick(2)) == 40
    with FileJournal(tmp_path) as again:  # reopened: it goes on from there
        assert (again.first, again.last) == (40, 40)
        assert [(r.seq, r.entry) for r in again.read()] == [(40, Tick(2))]
        with pytest.raises(ValueError, match="starts at 1"):
            again.restart(0)
    with FileJournal(aside, readonly=True) as kept:
        assert [(r.seq, r.entry) for r in kept.read()] == [(7, Tick(1))]
    with pytest.raises(BusClosed):
        again.restart(50)
