"""One server per database: the exclusive lock a server holds for its whole life.

Two servers on one database would each run a world and save over each other's
characters (last writer wins, items duplicated). So `Server.start()` takes this lock
before it migrates or listens, and `shutdown()` releases it; a second server refuses
to start with `AlreadyRunning`, whose text is the one line `aegent serve` prints.

* SQLite (the default): an exclusive, non-blocking `flock` on `aegent.lock` beside
  the database file (the data directory's `aegent.lock` for the default database),
  with the holder's pid written in it for the message. The kernel drops the lock when
  the process dies, however it dies; a stale file is harmless.
* PostgreSQL (`DATABASE_URL`): a session-level `pg_try_advisory_lock(ADVISORY_KEY)`
  on a connection of its own, kept open while the server runs. Advisory locks are per
  database, so servers on other databases of the same cluster do not collide. If that
  connection is lost (the database restarted), so is the lock.

Command-line tools (`aegent user`, `agent`, `usage`, `agent export/import`) do not take
it: they write rows that a running server only reads (accounts, keys, budgets) or
rows of a name that is not playing (an imported agent), never a character the world
holds, so they are safe next to a running server (docs/building.md).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from server.config import Settings

LOCK_FILE = "aegent.lock"
"""The lock file's name, in the folder of the SQLite database."""

ADVISORY_KEY = int.from_bytes(
    hashlib.sha256(b"aegent-quest: one world host per database").digest()[:8], "big",
    signed=True)
"""The PostgreSQL advisory lock key (a bigint), fixed for every version of the server."""


class AlreadyRunning(RuntimeError):
    """Another server holds the lock; `str()` is one line saying which and what to do."""


class ServerLock(Protocol):
    """A held lock."""

    def release(self) -> None:
        """Let go of it (idempotent)."""


class NoLock:
    """For databases no other process can share (SQLite in memory)."""

    def release(self) -> None:
        """Nothing to release."""


class FileLock:
    """An exclusive `flock` on a file holding the owner's pid.

    Use `FileLock.acquire(path, what)`; `what` names the thing locked in the message.
    """

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, path: Path, what: str) -> FileLock:
        """Take the lock at once or raise.

        Raises:
            AlreadyRunning: another open file (this process or another) holds it.
            OSError: the file cannot be opened or locked at all.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            pid = f"pid {holder}" if holder.isdigit() else "its pid is unknown"
            raise AlreadyRunning(f"another Aegent Quest server is already running on {what} "
                                 f"({pid}); stop it first") from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        return cls(path, fd)

    def release(self) -> None:
        """Empty the file and close it, which drops the lock."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)


class PgLock:
    """A session-level PostgreSQL advisory lock on a dedicated connection.

    Use `PgLock.acquire(url)`.
    """

    def __init__(self, engine: Engine, connection: Connection) -> None:
        self._engine = engine
        self._connection: Connection | None = connection

    @classmethod
    def acquire(cls, url: str) -> PgLock:
        """Take the lock at once or raise.

        Raises:
            AlreadyRunning: another session holds it.
            sqlalchemy.exc.OperationalError: the database cannot be reached.
        """
        me = f"aegent serve pid {os.getpid()} on {socket.gethostname()}"[:63]
        engine = create_engine(make_url(url), poolclass=NullPool, isolation_level="AUTOCOMMIT",
                               connect_args={"application_name": me})
        try:
            connection = engine.connect()
        except BaseException:
            engine.dispose()
            raise
        try:
            got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                     {"key": ADVISORY_KEY}).scalar()
            if got:
                return cls(engine, connection)
            holder = _pg_holder(connection)
        except BaseException:
            connection.close()
            engine.dispose()
            raise
        connection.close()
        engine.dispose()
        where = make_url(url).render_as_string(hide_password=True)
        raise AlreadyRunning(f"another Aegent Quest server is already running on database "
                             f"{where} ({holder}); stop it first")

    def release(self) -> None:
        """Unlock and close the connection (closing alone would unlock too)."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
        except Exception:  # the connection is gone already, and the lock with it
            pass
        finally:
            connection.close()
            self._engine.dispose()


def _pg_holder(connection: Connection) -> str:
    """Who holds the advisory lock, as well as PostgreSQL tells (its application name)."""
    row = connection.execute(text(
        "SELECT a.application_name, host(a.client_addr) FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
        "AND l.classid::bigint = :hi AND l.objid::bigint = :lo "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
        {"hi": (ADVISORY_KEY >> 32) & 0xFFFFFFFF, "lo": ADVISORY_KEY & 0xFFFFFFFF}).first()
    if row is None or not row[0]:
        return "its pid is unknown"
    return str(row[0]) + (f" from {row[1]}" if row[1] else "")


def acquire(settings: Settings) -> ServerLock:
    """The lock for `settings`' database: see the module's docstring.

    Raises:
        AlreadyRunning: another server holds it.
    """
    url = make_url(settings.resolved_database_url)
    backend = url.get_backend_name()
    if backend == "postgresql":
        return PgLock.acquire(settings.resolved_database_url)
    if backend != "sqlite":
        return NoLock()  # only SQLite and PostgreSQL are supported
    database = url.database or ""
    if database.startswith("file:"):  # an SQLite URI filename
        database = database[5:].partition("?")[0]
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        return NoLock()
    folder = Path(database).expanduser().resolve().parent
    data_dir = settings.data_dir.resolve()
    what = f"data directory {folder}" if folder == data_dir else f"database {database}"
    return FileLock.acquire(folder / LOCK_FILE, what)
