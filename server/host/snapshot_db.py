"""World snapshots in the database, for a world host that starts on another machine.

A snapshot (server/host/snapshots.py) is the pickled `World` right after one journal
entry. The snapshot folder is in the data directory: a world host moved to a machine
with an empty data directory has none. In a cluster the world host also keeps them in
the database, where the new machine finds them (and the journal after them in
JetStream: server/host/replica.py).

* `WorldSnapshotRow` (`world_snapshots`, revision `0006`): one row per snapshot, keyed
  by its journal entry `seq`, with its `tick`, `time` (wall clock), content hash,
  fingerprint, `kind` and the pickle bytes.
* `DbSnapshotStore(engine)`: `SnapshotStore`'s interface on that table (`write`, `list`,
  `latest`, `load`, `prune`), with the same rule: `load` refuses a snapshot of other
  world code (`SnapshotMismatch`). Plain blocking calls, for a worker thread.
* `MirroredSnapshots(directory, db)`: the `SnapshotStore` a cluster's world host gives
  `WorldRecorder`. `write` writes the file as before and hands the database's copy to
  its own worker thread, so the event loop never waits on a database write of a few
  MB; `list` (and so `latest`) is the folder's snapshots and the database's together
  (the file wins at the same `seq`), so a new machine, whose folder is empty, recovers
  from the database's; `load` reads each where it lives; `prune` prunes both.

Bounds. The database keeps what recovery may need, not the hourly ones of `aegent replay
--from` (that reads the folder): the newest `keep`, the base (the newest at or before
the journal's first entry) and the start and reload snapshots after it. The worker
holds at most one periodic snapshot waiting (a newer one replaces it) and `MAX_QUEUED`
writes in all (past that the oldest waiting is dropped, with an error logged: the file
has it); `flush` and `close` wait for it. A database write that fails is logged and not
retried: the next periodic snapshot writes again.

Unpickling runs code: the table is as trusted as the snapshot folder (the database holds
the accounts' password hashes too).
"""

from __future__ import annotations

import math
import os
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlalchemy import BigInteger, Engine, Float, LargeBinary, delete
from sqlalchemy import select as core_select
from sqlmodel import Field, Session, SQLModel, col, select

from server.host.snapshots import (
    PERIODIC,
    SUFFIX,
    SnapshotInfo,
    SnapshotMismatch,
    SnapshotStore,
    fingerprint,
    newest,
    prunable,
    undump,
)
from world.world import World

DB_FOLDER = Path("database:world_snapshots")
"""The `path` of a snapshot that lives in the database (the folder of none on disk):
`<DB_FOLDER>/<seq, 16 digits>.aqs`, for log lines and errors."""

MAX_QUEUED = 8
"""Database writes waiting at most in `MirroredSnapshots` (a periodic one is replaced
by the next; start, reload and stop snapshots wait their turn)."""

log = structlog.get_logger("aegent.snapshots")


class WorldSnapshotRow(SQLModel, table=True):
    """One snapshot: the world after journal entry `seq` (see the module docstring)."""

    __tablename__ = "world_snapshots"

    seq: int = Field(primary_key=True, sa_type=BigInteger,
                     sa_column_kwargs={"autoincrement": False})
    tick: int = Field(sa_type=BigInteger)
    time: float = Field(sa_type=Float)
    content: str = Field(default="", max_length=64)
    fingerprint: str = Field(max_length=64)
    kind: str = Field(default=PERIODIC, max_length=16)
    data: bytes = Field(sa_type=LargeBinary)


class DbSnapshotStore:
    """The snapshots in the `world_snapshots` table of `engine` (migrated).

    Args:
        engine: the database's engine (`SqlRepository.engine`).
        keep: how many of the newest snapshots `prune` always keeps.
    """

    def __init__(self, engine: Engine, keep: int = 3) -> None:
        self.engine = engine
        self.keep = keep

    def write(self, data: bytes, seq: int, tick: int, time: float, content: str = "",
              kind: str = PERIODIC) -> SnapshotInfo:
        """Store a snapshot (the bytes of `dump`) taken after entry `seq`, replacing one
        of the same `seq`. Blocking."""
        mine = fingerprint()
        with Session(self.engine) as session:
            session.exec(delete(WorldSnapshotRow).where(col(WorldSnapshotRow.seq) == seq))
            session.add(WorldSnapshotRow(seq=seq, tick=tick, time=time, content=content,
                                         fingerprint=mine, kind=kind, data=data))
            session.commit()
        return SnapshotInfo(seq, tick, time, mine, _path(seq), content, kind)

    def list(self) -> list[SnapshotInfo]:
        """Every snapshot's header, oldest first (the bytes stay in the database)."""
        row = WorldSnapshotRow
        query = core_select(col(row.seq), col(row.tick), col(row.time), col(row.fingerprint),
                            col(row.content), col(row.kind)).order_by(col(row.seq))
        with self.engine.connect() as connection:
            found = connection.execute(query).all()
        return [SnapshotInfo(seq, tick, time, fp, _path(seq), content, kind)
                for seq, tick, time, fp, content, kind in found]

    def latest(self, *, at_or_before_seq: int | None = None,
               at_or_before_time: float | None = None, content: str | None = None
               ) -> SnapshotInfo | None:
        """The newest snapshot of this code (and of `content`, if given) within the bounds
        given; None if there is none."""
        return newest(self.list(), at_or_before_seq=at_or_before_seq,
                      at_or_before_time=at_or_before_time, content=content)

    def load(self, info: SnapshotInfo) -> World:
        """The world of one snapshot.

        Raises:
            SnapshotMismatch: another code's snapshot, one no longer there, or bytes
                that do not load.
        """
        name = f"the database's snapshot {info.seq}"
        if info.fingerprint != fingerprint():
            raise SnapshotMismatch(f"{name} was written by other world code")
        row = WorldSnapshotRow
        with Session(self.engine) as session:
            found = session.exec(select(row.fingerprint, row.data)
                                 .where(col(row.seq) == info.seq)).first()
        if found is None:
            raise SnapshotMismatch(f"{name} is no longer there")
        if found[0] != fingerprint():
            raise SnapshotMismatch(f"{name} was replaced by other world code's")
        return undump(found[1], name)

    def prune(self, oldest_needed_seq: int, spacing: float = math.inf) -> int:
        """Delete the snapshots no recovery needs (`SnapshotStore.prune`'s rule, without
        the hourly ones by default); how many were deleted."""
        doomed = [info.seq for info in prunable(self.list(), oldest_needed_seq, self.keep,
                                                spacing)]
        if doomed:
            with Session(self.engine) as session:
                session.exec(delete(WorldSnapshotRow)
                             .where(col(WorldSnapshotRow.seq).in_(doomed)))
                session.commit()
        return len(doomed)


def _path(seq: int) -> Path:
    return DB_FOLDER / f"{seq:016d}{SUFFIX}"


@dataclass(frozen=True, slots=True)
class _Write:
    data: bytes
    info: SnapshotInfo


@dataclass(frozen=True, slots=True)
class _Prune:
    oldest_needed_seq: int


class MirroredSnapshots(SnapshotStore):
    """Snapshots in `directory` and in the database (see the module docstring).

    Args:
        directory: the snapshot folder, in the data directory.
        db: the database's store.
        keep: how many of the newest snapshots each side always keeps.
    """

    def __init__(self, directory: str | os.PathLike[str], db: DbSnapshotStore,
                 keep: int = 3) -> None:
        super().__init__(directory, keep)
        self.files = SnapshotStore(directory, keep)
        self.db = db
        self.dropped = 0  # database writes dropped: too many waiting
        self.failed = 0  # database writes (and prunes) that raised
        self._jobs: deque[_Write | _Prune] = deque()
        self._cond = threading.Condition()
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def write(self, data: bytes, seq: int, tick: int, time: float, content: str = "",
              kind: str = PERIODIC) -> SnapshotInfo:
        """Write the file (blocking, as `SnapshotStore.write`), then queue the database's
        copy for the worker thread."""
        info = self.files.write(data, seq, tick, time, content, kind)
        with self._cond:
            if self._closed:
                raise RuntimeError("the snapshot store is closed")
            if kind == PERIODIC:  # only the newest periodic one is worth writing
                self._discard(lambda job: isinstance(job, _Write)
                              and job.info.kind == PERIODIC)
            self._jobs.append(_Write(data, info))
            writes = [job for job in self._jobs if isinstance(job, _Write)]
            if len(writes) > MAX_QUEUED:
                oldest = writes[0]
                self._jobs.remove(oldest)
                self.dropped += 1
                log.error("snapshot_db_dropped", seq=oldest.info.seq, kind=oldest.info.kind,
                          reason="too many database writes waiting")
            self._start()
        return info

    def list(self) -> list[SnapshotInfo]:
        """The folder's snapshots and the database's, oldest first (the file at a `seq`
        both have); the folder's alone, with a warning, if the database fails."""
        try:
            found = {info.seq: info for info in self.db.list()}
        except Exception as exc:
            log.warning("snapshot_db_unreadable", error=repr(exc))
            found = {}
        found.update((info.seq, info) for info in self.files.list())
        return [found[seq] for seq in sorted(found)]

    def load(self, info: SnapshotInfo) -> World:
        """The world of one snapshot, from the folder or the database."""
        if info.path.parent == self.files.directory:
            return self.files.load(info)
        return self.db.load(info)

    def prune(self, oldest_needed_seq: int, spacing: float = 3600.0) -> int:
        """Prune the folder (now: `SnapshotStore.prune`) and the database (queued after
        the writes); how many files were deleted."""
        gone = self.files.prune(oldest_needed_seq, spacing)
        with self._cond:
            if not self._closed:
                self._discard(lambda job: isinstance(job, _Prune))
                self._jobs.append(_Prune(oldest_needed_seq))
                self._start()
        return gone

    @property
    def waiting(self) -> int:
        """Database jobs not yet done."""
        with self._cond:
            return len(self._jobs) + self._busy

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until the database has every snapshot written so far (blocking); whether
        it did within `timeout` seconds."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._jobs and not self._busy, timeout)

    def close(self, timeout: float | None = 30.0) -> bool:
        """Wait for the database's writes (as `flush`), then stop the worker; whether
        every write was done. Writes are refused afterwards."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        with self._cond:
            done = not self._jobs and not self._busy
            if not done:
                log.error("snapshot_db_unwritten", jobs=len(self._jobs) + self._busy)
                self._jobs.clear()
        return done

    # ---- the worker thread

    def _discard(self, doomed: Callable[[_Write | _Prune], bool]) -> None:
        for job in [job for job in self._jobs if doomed(job)]:
            self._jobs.remove(job)

    def _start(self) -> None:
        self._cond.notify_all()
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="snapshot-db",
                                            daemon=True)
            self._thread.start()

    def _work(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._jobs) or self._closed)
                if not self._jobs:
                    return
                job = self._jobs.popleft()
                self._busy = True
            try:
                self._run(job)
            except Exception as exc:  # the file has it; the next periodic one writes again
                self.failed += 1
                log.error("snapshot_db_failed", job=type(job).__name__.strip("_").lower(),
                          error=repr(exc))
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _run(self, job: _Write | _Prune) -> None:
        if isinstance(job, _Write):
            info = job.info
            self.db.write(job.data, info.seq, info.tick, info.time, info.content, info.kind)
            log.info("snapshot_db_written", seq=info.seq, kind=info.kind, bytes=len(job.data))
        else:
            self.db.prune(job.oldest_needed_seq)
