"""The embedded mode's journal: the world's inputs in an append-only log on disk.

`FileJournal` keeps the bus's `Journal` protocol (server/bus/base.py) in a folder of the
data directory, for the single-process server, as `NatsJournal` does in a JetStream
stream for the cluster.

Format. The folder holds segments, `<first seq, 16 digits>.aqj`, each one `MAGIC`
then records; a record is a 4-byte big-endian length and the CRC-32 of the payload,
then the payload: the msgpack array `[seq, time, key, entry]`, where `time` is the wall
clock of the append (for retention and `aegent replay --from/--until`; the world never
sees it), `key` the append's idempotency key or nil, and `entry` the input encoded by
`server.bus.messages.encode` (msgpack bin). Sequence numbers run from 1 with no gaps.

Invariants:
- An append is one `write` of the whole record, at the end of the newest segment, done
  before `append` returns: it survives a `kill -9` of the process in both sync modes.
  `sync="always"` also fsyncs before returning (it survives a power cut);
  `sync="batch"` fsyncs at most every `sync_interval` seconds (a power cut loses at
  most that much), which costs one fsync per batch instead of one per input; that
  fsync runs in a worker thread, on a duplicate of the descriptor, so the event loop
  never waits on the disk (an fsync took 100 ms under the soak). "always" fsyncs in
  the caller's thread: it is for a world host whose event loop does nothing else.
- On open, the newest segment is read to its end: a torn or corrupt record there (a
  crash in mid-write) and everything after it is cut off, with a warning, never an
  exception; appends go on from the last complete record. Older segments are not read.
- Memory is bounded: entries live on disk only; what is kept is the segment list and
  the keys appended within `dedup_window` (at most `MAX_KEYS`).
- A segment is started past `segment_bytes`; whole segments whose newest entry is older
  than `retention` are deleted (never the newest one), so `bounds()` moves its first
  number forward as `NatsJournal`'s does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
import time
import zlib
from bisect import bisect_right
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import msgpack
import structlog

from server.bus.base import (
    DEDUP_WINDOW,
    DEFAULT_RETENTION,
    BusClosed,
    BusError,
    BusUnavailable,
    check_family,
)
from server.bus.messages import INPUTS, MAX_MESSAGE_BYTES, BusMessageError, Input, decode, encode

MAGIC = b"AQJRNL1\n"
"""The first bytes of every segment: the format, version 1."""

HEADER = struct.Struct(">II")
"""A record's header: the payload's length and its CRC-32."""

MAX_RECORD = MAX_MESSAGE_BYTES + 1024
"""The largest payload a record may hold (an entry plus its seq, time and key); a
header claiming more is corrupt."""

SEGMENT_BYTES = 64 * 1024 * 1024
"""A segment's size past which the next append starts a new one."""

SYNC_INTERVAL = 0.05
"""Seconds between fsyncs with `sync="batch"`."""

MAX_KEYS = 100_000
"""Idempotency keys remembered at most, whatever the window (the oldest go first)."""

SUFFIX = ".aqj"

log = structlog.get_logger("journal")


class JournalCorrupt(BusError):
    """A record of an older segment does not read back (its CRC, its length or its
    sequence number is wrong): the file was damaged after it was written."""


@dataclass(frozen=True, slots=True)
class Record:
    """One stored entry: its sequence number, the wall-clock time of its append, its
    idempotency key and the input."""

    seq: int
    time: float
    key: str | None
    entry: Input


@dataclass(slots=True)
class _Segment:
    first: int  # the sequence number of its first record (from its name)
    path: Path
    first_time: float | None = None  # the time of its first record, once read


@dataclass(frozen=True, slots=True)
class _Raw:
    offset: int
    end: int
    seq: int
    time: float
    key: str | None
    entry: bytes


class FileJournal:
    """The journal in `directory` (made if missing): see the module's docstring.

    Args:
        directory: the journal's folder, in the data directory.
        sync: "always" (fsync every append) or "batch" (at most every `sync_interval`).
        sync_interval: seconds between fsyncs in batch mode.
        segment_bytes: the size past which a new segment starts.
        retention: seconds an entry is kept (whole segments go once all theirs are older).
        dedup_window: seconds within which an append with a key already seen stores
            nothing and returns the first append's sequence number.
        clock: the wall clock (for tests).
        readonly: only read (`aegent replay`, beside a running server): nothing is made,
            cut off, pruned or appended; a torn tail is left as it is and not read.
    """

    def __init__(self, directory: str | os.PathLike[str], *,
                 sync: Literal["always", "batch"] = "batch",
                 sync_interval: float = SYNC_INTERVAL,
                 segment_bytes: int = SEGMENT_BYTES,
                 retention: float = DEFAULT_RETENTION,
                 dedup_window: float = DEDUP_WINDOW,
                 clock: Callable[[], float] = time.time,
                 readonly: bool = False) -> None:
        if sync not in ("always", "batch"):
            raise ValueError(f"sync must be 'always' or 'batch', not {sync!r}")
        self.directory = Path(directory)
        self.sync = sync
        self.sync_interval = sync_interval
        self.segment_bytes = segment_bytes
        self.retention = retention
        self.dedup_window = dedup_window
        self._clock = clock
        self._keys: dict[str, tuple[int, float]] = {}  # key -> (seq, time), oldest first
        self._timer: asyncio.TimerHandle | None = None
        self._dirty = False  # written since the last fsync
        self._closed = False
        self.truncated = 0  # bytes cut off a torn tail when opened
        self.readonly = readonly
        if readonly:
            self._segments = self._list() if self.directory.is_dir() else []
            self._last, self._size = (self._recover(self._segments[-1]) if self._segments
                                      else (0, 0))
            self._fd = -1
            self._closed = True
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        self._segments = self._list()
        if not self._segments:
            self._segments = [self._create(1)]
        self._last, self._size = self._recover(self._segments[-1])
        self._fd = os.open(self._segments[-1].path, os.O_WRONLY | os.O_APPEND)
        self._load_keys()
        self.prune()

    # ---- the Journal protocol ---------------------------------------------------------

    async def append(self, entry: Input, key: str | None = None) -> int:
        """Append `entry`; its sequence number once it is written (and, with
        `sync="always"`, on disk). A `key` seen within the window stores nothing and
        returns the first append's number.

        Raises:
            BusClosed: the journal was closed.
            BusUnavailable: the write failed (disk full...); nothing of it is kept.
        """
        return self.append_now(entry, key)

    async def replay(self, start: int = 1, end: int | None = None
                     ) -> AsyncIterator[tuple[int, Input]]:
        """The entries from `start` to `end` (default: the last one now), in order."""
        for record in self.read(start, end):
            yield record.seq, record.entry

    async def bounds(self) -> tuple[int, int]:
        """(first, last) sequence numbers held; (last + 1, last) when empty."""
        return self.first, self._last

    # ---- synchronous API --------------------------------------------------------------

    @property
    def first(self) -> int:
        """The oldest sequence number held (last + 1 when none is)."""
        if not self._segments:
            return self._last + 1
        return min(self._segments[0].first, self._last + 1)

    @property
    def last(self) -> int:
        """The newest sequence number (0 before the first append)."""
        return self._last

    def append_now(self, entry: Input, key: str | None = None, *,
                   at: float | None = None) -> int:
        """`append` without the event loop (it never waits for anything but the disk).
        `at` is the entry's time when it was first appended elsewhere (an entry copied
        from JetStream, server/host/replica.py); now by default."""
        if self._closed:
            raise BusClosed("the journal is read-only" if self.readonly else
                            "the journal is closed")
        check_family(entry, INPUTS, "an input")
        now = self._clock() if at is None else at
        if key is not None:
            self._expire_keys(now)
            known = self._keys.get(key)
            if known is not None:
                return known[0]
        seq = self._last + 1
        payload = msgpack.packb([seq, now, key, encode(entry)], use_bin_type=True)
        record = HEADER.pack(len(payload), zlib.crc32(payload)) + payload
        if self._size + len(record) > self.segment_bytes and self._size > len(MAGIC):
            self._roll(seq)
        try:
            _write_all(self._fd, record)
        except OSError as exc:
            with contextlib.suppress(OSError):  # leave no half record behind
                os.ftruncate(self._fd, self._size)
            raise BusUnavailable(f"cannot write the journal: {exc}") from None
        self._size += len(record)
        self._last = seq
        segment = self._segments[-1]
        if segment.first_time is None:
            segment.first_time = now
        if key is not None:
            self._keys[key] = (seq, now)
            if len(self._keys) > MAX_KEYS:
                del self._keys[next(iter(self._keys))]
        self._synced_later()
        return seq

    def read(self, start: int = 1, end: int | None = None) -> Iterator[Record]:
        """The records from `start` to `end` (default: the last one now), in order,
        read from disk as the iteration goes.

        Raises:
            JournalCorrupt: a record does not read back.
            BusMessageError: an entry does not decode (written by a newer version).
        """
        last = self._last if end is None else min(end, self._last)
        start = max(start, self.first)
        if start > last:
            return
        firsts = [s.first for s in self._segments]
        index = max(bisect_right(firsts, start) - 1, 0)
        for segment in list(self._segments[index:]):
            if segment.first > last:
                return
            expected = segment.first
            for raw in _scan(segment.path):
                if raw.seq != expected:
                    raise JournalCorrupt(f"{segment.path.name}: entry {raw.seq} where "
                                         f"{expected} was expected")
                expected += 1
                if raw.seq > last:
                    return
                if raw.seq >= start:
                    yield Record(raw.seq, raw.time, raw.key, _entry(raw))
            if expected <= min(last, self._next_first(segment) - 1):
                raise JournalCorrupt(f"{segment.path.name}: damaged after entry "
                                     f"{expected - 1}")

    def flush(self) -> None:
        """Put everything written on disk now (fsync)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._dirty and not self._closed:
            os.fsync(self._fd)
            self._dirty = False

    def prune(self) -> int:
        """Delete the segments whose entries are all past the retention; how many."""
        horizon = self._clock() - self.retention
        gone = 0
        while len(self._segments) > 1:
            newer = self._segments[1]
            if newer.first_time is None:
                newer.first_time = _first_time(newer.path)
            # every entry of the oldest segment is older than the next one's first
            if newer.first_time is None or newer.first_time >= horizon:
                break
            old = self._segments.pop(0)
            old.path.unlink(missing_ok=True)
            gone += 1
        if gone:
            _fsync_dir(self.directory)
            log.info("journal_pruned", segments=gone, first=self.first)
        return gone

    def restart(self, first: int) -> Path | None:
        """Go on at sequence number `first` (the next append's), as a journal that holds
        nothing: for a world host taking over a JetStream stream that its local journal
        does not join (server/host/replica.py). The segments held so far are moved, whole,
        into a new sub-folder `superseded-<time>`, never read again here and never
        deleted; that folder, or None when there were no entries to keep.

        Raises:
            BusClosed: the journal is closed or read-only.
            ValueError: `first` is below 1.
        """
        if self._closed:
            raise BusClosed("the journal is read-only" if self.readonly else
                            "the journal is closed")
        if first < 1:
            raise ValueError(f"a journal starts at 1 or later, not {first}")
        self.flush()
        os.close(self._fd)
        aside: Path | None = None
        if self.first <= self._last:
            aside = self.directory / f"superseded-{time.time_ns()}"
            aside.mkdir()
        for segment in self._segments:
            if aside is not None:
                segment.path.rename(aside / segment.path.name)
            else:
                segment.path.unlink(missing_ok=True)
        self._segments = [self._create(first)]
        self._fd = os.open(self._segments[-1].path, os.O_WRONLY | os.O_APPEND)
        self._last, self._size = first - 1, len(MAGIC)
        self._keys.clear()
        log.warning("journal_restarted", first=first, superseded=str(aside) if aside else None)
        return aside

    def close(self) -> None:
        """Flush and close; appends are refused afterwards (reading still works)."""
        if self._closed:
            return
        self.flush()
        os.close(self._fd)
        self._closed = True

    def __enter__(self) -> FileJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- inside ---------------------------------------------------------------------

    def _list(self) -> list[_Segment]:
        segments = []
        for path in self.directory.iterdir():
            stem = path.name.removesuffix(SUFFIX)
            if path.name.endswith(SUFFIX) and stem.isdigit() and path.is_file():
                segments.append(_Segment(int(stem), path))
        segments.sort(key=lambda s: s.first)
        return segments

    def _create(self, first: int) -> _Segment:
        path = self.directory / f"{first:016d}{SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, MAGIC)
            os.fsync(fd)
        finally:
            os.close(fd)
        _fsync_dir(self.directory)
        return _Segment(first, path)

    def _recover(self, segment: _Segment) -> tuple[int, int]:
        """Read the newest segment to its last complete record, cut off what follows
        it; (the last sequence number, the segment's size)."""
        size = segment.path.stat().st_size
        with segment.path.open("rb") as f:
            head = f.read(len(MAGIC))
        if head != MAGIC:
            if size >= len(MAGIC) and not MAGIC.startswith(head):
                raise BusError(f"{segment.path} is not a journal segment of this version")
            if self.readonly:
                return segment.first - 1, size
            log.warning("journal_torn_header", segment=segment.path.name)
            self._create(segment.first)  # torn while being made: made again
            self.truncated += size
            return segment.first - 1, len(MAGIC)
        end, last = len(MAGIC), segment.first - 1
        for raw in _scan(segment.path):
            if raw.seq != last + 1:
                break
            if segment.first_time is None:
                segment.first_time = raw.time
            end, last = raw.end, raw.seq
        if end < size and not self.readonly:
            log.warning("journal_torn_tail", segment=segment.path.name, kept=last,
                        cut_bytes=size - end)
            self.truncated += size - end
            os.truncate(segment.path, end)
        return last, end

    def _load_keys(self) -> None:
        """The keys appended within the window, from the newest segments back."""
        horizon = self._clock() - self.dedup_window
        found: list[tuple[str, int, float]] = []
        for segment in reversed(self._segments):
            for raw in _scan(segment.path):
                if raw.seq > self._last:
                    break
                if raw.key is not None and raw.time >= horizon:
                    found.append((raw.key, raw.seq, raw.time))
            if segment.first_time is None or segment.first_time < horizon:
                break  # older segments hold only older entries
        found.sort(key=lambda k: k[1])
        for key, seq, at in found[-MAX_KEYS:]:
            self._keys.setdefault(key, (seq, at))

    def _expire_keys(self, now: float) -> None:
        horizon = now - self.dedup_window
        while self._keys:
            key = next(iter(self._keys))
            if self._keys[key][1] >= horizon:
                break
            del self._keys[key]

    def _roll(self, first: int) -> None:
        """Close the newest segment (on disk) and start the next at `first`."""
        self.flush()
        os.close(self._fd)
        self._segments.append(self._create(first))
        self._fd = os.open(self._segments[-1].path, os.O_WRONLY | os.O_APPEND)
        self._size = len(MAGIC)
        self.prune()

    def _synced_later(self) -> None:
        self._dirty = True
        if self.sync == "always":
            self.flush()
            return
        if self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop: on disk at the next flush, roll or close
                return
            self._timer = loop.call_later(self.sync_interval, self._sync_aside)

    def _sync_aside(self) -> None:
        """The batch fsync, in a worker thread: an fsync can take 100 ms on a busy disk,
        and the event loop (the world's tick, every player's answer) must not wait for
        it. It syncs a duplicate of the descriptor, so a roll or a close meanwhile is
        safe; appends go on (the next batch's fsync covers them)."""
        self._timer = None
        if not self._dirty or self._closed:
            return
        self._dirty = False
        fd = os.dup(self._fd)
        done = asyncio.get_running_loop().run_in_executor(None, _fsync_and_close, fd)
        done.add_done_callback(_log_sync_error)

    def _next_first(self, segment: _Segment) -> int:
        """The first sequence number after `segment` (past the last for the newest)."""
        index = self._segments.index(segment)
        if index + 1 < len(self._segments):
            return self._segments[index + 1].first
        return self._last + 1


def _scan(path: Path) -> Iterator[_Raw]:
    """The records of one segment that read back, in order; it stops at the first
    that does not (torn, corrupt) or at the end."""
    with path.open("rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            return
        offset = len(MAGIC)
        while True:
            header = f.read(HEADER.size)
            if len(header) < HEADER.size:
                return
            length, crc = HEADER.unpack(header)
            if length > MAX_RECORD:
                return
            payload = f.read(length)
            if len(payload) < length or zlib.crc32(payload) != crc:
                return
            try:
                seq, at, key, entry = msgpack.unpackb(payload, raw=False)
            except (ValueError, TypeError, msgpack.UnpackException):
                return
            if (type(seq) is not int or not isinstance(at, float | int)
                    or not isinstance(key, str | None) or not isinstance(entry, bytes)):
                return
            end = offset + HEADER.size + length
            yield _Raw(offset, end, seq, float(at), key, entry)
            offset = end


def _entry(raw: _Raw) -> Input:
    try:
        msg: Any = decode(raw.entry)
    except BusMessageError as exc:
        raise BusMessageError(exc.code, f"journal entry {raw.seq}: {exc.message}") from None
    check_family(msg, INPUTS, f"an input (journal entry {raw.seq})")
    entry: Input = msg
    return entry


def _first_time(path: Path) -> float | None:
    for raw in _scan(path):
        return raw.time
    return None


def _fsync_and_close(fd: int) -> None:
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _log_sync_error(done: asyncio.Future[None]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.error("journal_fsync_failed", error=repr(done.exception()))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_dir(directory: Path) -> None:
    """Make a file's creation or removal in `directory` durable."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
