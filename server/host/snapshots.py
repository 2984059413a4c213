"""World snapshots: the whole `World` at one journal position, for recovery and replay.

A snapshot is the world as it stood right after journal entry `seq` (its rooms, the
items on their floors, the mobs and their fights, every character, the RNG and the
id counter): with the journal's entries after `seq` it gives the world of any later
moment (server/host/recorder.py), and `aegent replay` starts from one.

Format. One file per snapshot in the snapshot folder, `<seq, 16 digits>.aqs`: `MAGIC`,
one line of JSON (the header: `seq`, `tick`, `time`, `fingerprint`), then the world
pickled. It is written to a temporary name, fsynced and renamed, so a file that is
there is whole.

Pickle, and its one rule: a snapshot is read back only by the code that wrote it.
`fingerprint()` hashes the world's source (world/**/*.py) and the Python version, and
`load` refuses a snapshot whose fingerprint differs (`SnapshotMismatch`): after a
deploy of new world code the server starts from the content files and the database,
as a first start does. Snapshots are the server's own files in its data directory,
never taken from elsewhere (unpickling runs code: the folder is as trusted as the
database).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import world as world_package
from world.world import World

PERIODIC = "periodic"
"""A snapshot taken on the clock: only needed to start a replay or recovery sooner."""

MAGIC = b"AQSNAP1\n"
"""The first bytes of every snapshot: the format, version 1."""

SUFFIX = ".aqs"


class SnapshotMismatch(Exception):
    """The snapshot was written by other world code (or is not a snapshot at all)."""


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """One snapshot's header: after which journal entry (`seq`), at which world tick,
    when (wall clock), by which code (`fingerprint`), and where."""

    seq: int
    tick: int
    time: float
    fingerprint: str
    path: Path
    content: str = ""  # the hash of the content files the world was built from
    kind: str = PERIODIC  # why it was taken: periodic, start, reload or stop


@cache
def fingerprint() -> str:
    """The hash of this process's world code: world/**/*.py and the Python version."""
    digest = hashlib.sha256(f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    root = Path(world_package.__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def dump(world: World) -> bytes:
    """The world as pickle bytes (taken on the event loop: nothing may change it meanwhile)."""
    return pickle.dumps(world, protocol=pickle.HIGHEST_PROTOCOL)


class SnapshotStore:
    """The snapshots in `directory` (made if missing).

    Args:
        directory: the snapshot folder, in the data directory.
        keep: how many of the newest snapshots are always kept by `prune`.
    """

    def __init__(self, directory: str | os.PathLike[str], keep: int = 3) -> None:
        self.directory = Path(directory)
        self.keep = keep
        self.directory.mkdir(parents=True, exist_ok=True)

    def write(self, data: bytes, seq: int, tick: int, time: float, content: str = "",
              kind: str = PERIODIC) -> SnapshotInfo:
        """Write a snapshot (the bytes of `dump`) taken after entry `seq` at `tick`, of a
        world built from content files of hash `content`, for reason `kind`. Blocking:
        run it off the event loop."""
        header = {"seq": seq, "tick": tick, "time": time, "fingerprint": fingerprint(),
                  "content": content, "kind": kind}
        path = self.directory / f"{seq:016d}{SUFFIX}"
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            f.write(MAGIC + json.dumps(header).encode() + b"\n")
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(self.directory)
        return SnapshotInfo(seq, tick, time, fingerprint(), path, content, kind)

    def list(self) -> list[SnapshotInfo]:
        """Every readable snapshot, oldest first (a file that is not one is skipped)."""
        found = []
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            info = _header(path)
            if info is not None:
                found.append(info)
        return found

    def latest(self, *, at_or_before_seq: int | None = None,
               at_or_before_time: float | None = None, content: str | None = None
               ) -> SnapshotInfo | None:
        """The newest snapshot of this code (and of `content`, if given), within the
        bounds given; None if there is none."""
        return newest(self.list(), at_or_before_seq=at_or_before_seq,
                      at_or_before_time=at_or_before_time, content=content)

    def load(self, info: SnapshotInfo) -> World:
        """The world of one snapshot.

        Raises:
            SnapshotMismatch: another code's snapshot, or a damaged file.
        """
        if info.fingerprint != fingerprint():
            raise SnapshotMismatch(f"{info.path.name} was written by other world code")
        with open(info.path, "rb") as f:
            f.readline()
            f.readline()
            data = f.read()
        return undump(data, info.path.name)

    def prune(self, oldest_needed_seq: int, spacing: float = 3600.0) -> int:
        """Delete the snapshots no replay needs; how many were deleted.

        Kept: the base (the newest at or before `oldest_needed_seq`, the journal's first
        entry: older ones cannot be replayed from), every later one taken at a start or a
        reload (replay goes on from those), the newest `keep`, and of the periodic ones
        one per `spacing` seconds (where `aegent replay --from` can start). So the folder
        holds about a day's 24 snapshots, not 288."""
        doomed = prunable(self.list(), oldest_needed_seq, self.keep, spacing)
        for info in doomed:
            info.path.unlink(missing_ok=True)
        for stray in self.directory.glob("*.tmp"):
            stray.unlink(missing_ok=True)
        return len(doomed)


def newest(snaps: list[SnapshotInfo], *, at_or_before_seq: int | None = None,
           at_or_before_time: float | None = None, content: str | None = None
           ) -> SnapshotInfo | None:
    """The newest of `snaps` (oldest first) written by this code (and from `content`, if
    given), within the bounds given; None if there is none."""
    mine = fingerprint()
    for info in reversed(snaps):
        if info.fingerprint != mine or (content is not None and info.content != content):
            continue
        if at_or_before_seq is not None and info.seq > at_or_before_seq:
            continue
        if at_or_before_time is not None and info.time > at_or_before_time:
            continue
        return info
    return None


def prunable(snaps: list[SnapshotInfo], oldest_needed_seq: int, keep: int,
             spacing: float) -> list[SnapshotInfo]:
    """Which of `snaps` (oldest first) no replay needs: see `SnapshotStore.prune`."""
    base = max((i for i, s in enumerate(snaps) if s.seq <= oldest_needed_seq), default=0)
    kept_newest = set(range(max(0, len(snaps) - keep), len(snaps)))
    doomed = []
    last_kept = float("-inf")
    for i, info in enumerate(snaps):
        if i in kept_newest:
            continue
        if i < base:
            doomed.append(info)
        elif i == base or info.kind != PERIODIC or info.time - last_kept >= spacing:
            last_kept = info.time if info.kind == PERIODIC or i == base else last_kept
        else:
            doomed.append(info)
    return doomed


def undump(data: bytes, name: str) -> World:
    """The world pickled in `data` (the bytes of `dump`), read back by the code that
    wrote it; `name` says where it came from in errors.

    Raises:
        SnapshotMismatch: it does not load, or holds no world.
    """
    try:
        world = pickle.loads(data)
    except Exception as exc:
        raise SnapshotMismatch(f"{name} does not load: {exc!r}") from None
    if not isinstance(world, World):
        raise SnapshotMismatch(f"{name} holds no world")
    return world


def _header(path: Path) -> SnapshotInfo | None:
    try:
        with open(path, "rb") as f:
            if f.readline() != MAGIC:
                return None
            head: Any = json.loads(f.readline())
        return SnapshotInfo(int(head["seq"]), int(head["tick"]), float(head["time"]),
                            str(head["fingerprint"]), path, str(head.get("content", "")),
                            str(head.get("kind", PERIODIC)))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
