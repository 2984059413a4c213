"""`aegent backup` and `aegent restore`: the SQLite database copied while the server runs,
and put back while it does not.

* Backup uses SQLite's online backup API (`sqlite3.Connection.backup`): one step, under a
  read lock, so the copy is one consistent moment of the database even while the server
  writes (WAL readers do not block it). It is written beside the target and renamed in,
  so a half-written file never has the target's name.
* Restore takes the server's own lock (server/host/datadir.py), so it refuses while a server
  runs on that database, checks that the file is an Aegent Quest database, and copies it
  in with the same API (which also empties any write-ahead log of the old one).
* PostgreSQL (`DATABASE_URL`) is backed up by its own tools: `pg_dump_command()` is the
  documented line (docs/operations.md), which `aegent backup` prints instead.

The agents' memory (Qdrant, `<data dir>/qdrant` or a server) is not in the database;
docs/operations.md says how to copy it.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL, make_url

if TYPE_CHECKING:
    from server.config import Settings


class BackupError(Exception):
    """Why a backup or restore could not be done; `str()` is one line for the operator."""


def sqlite_path(settings: Settings) -> Path | None:
    """The settings' SQLite database file, or None when the database is not an SQLite file
    (PostgreSQL, or SQLite in memory)."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database.startswith("file:"):
        database = database[5:].partition("?")[0]
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        return None
    return Path(database).expanduser()


def pg_dump_command(settings: Settings, output: Path) -> str:
    """The pg_dump line that backs up the settings' PostgreSQL database (custom format,
    restored with pg_restore), the password left out (it comes from PGPASSWORD or
    ~/.pgpass)."""
    return f"pg_dump --format=custom --file {output} '{_libpq_url(settings)}'"


def pg_restore_command(settings: Settings, backup: Path) -> str:
    """The pg_restore line that puts such a dump back (over a stopped server's database)."""
    return f"pg_restore --clean --if-exists --dbname '{_libpq_url(settings)}' {backup}"


def _libpq_url(settings: Settings) -> str:
    """The database URL as libpq reads it: no SQLAlchemy driver, no password."""
    url = make_url(settings.resolved_database_url)
    plain = URL.create("postgresql", url.username, None, url.host, url.port, url.database,
                       url.query)
    return plain.render_as_string(hide_password=False)


def backup_sqlite(database: Path, output: Path) -> int:
    """Copy a live SQLite database to `output` (replaced if there); returns its size.

    Raises:
        BackupError: there is no database, or it cannot be read or written.
    """
    if not database.is_file():
        raise BackupError(f"there is no database at {database} (has the server run here?)")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(database)) as source, \
                closing(sqlite3.connect(partial)) as target:
            source.backup(target)  # all pages in one step: one consistent snapshot
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        os.replace(partial, output)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"cannot back up {database}: {exc}") from None
    return output.stat().st_size


def check_backup(path: Path) -> None:
    """Raise BackupError unless `path` is an SQLite file holding an Aegent Quest database."""
    if not path.is_file():
        raise BackupError(f"no such file: {path}")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            tables = {row[0] for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "alembic_version" not in tables or "accounts" not in tables:
                raise BackupError(f"{path} is an SQLite file but not an Aegent Quest database")
            db.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from None


def restore_sqlite(backup: Path, database: Path) -> int:
    """Replace `database` with the backup's content; returns the database's size.

    The caller holds the server lock. Raises BackupError as `check_backup` does, or when
    the database cannot be written.
    """
    check_backup(backup)
    database.parent.mkdir(parents=True, exist_ok=True)
    try:
        with closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as source, \
                closing(sqlite3.connect(database)) as target:
            source.backup(target)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot restore into {database}: {exc}") from None
    return database.stat().st_size
