"""A real, throwaway PostgreSQL server for the tests marked `postgres`.

`start_postgres()` runs Debian's `initdb` and `pg_ctl` in a fresh folder under /tmp
and returns a running `PostgresServer`, or None when the server binaries are not
installed (`make postgres` installs them; the tests then skip, or fail under CI:
tests/needs.py). PostgreSQL refuses to
run as root, so as root the binaries run as the `postgres` system user through
`runuser`. The server listens on 127.0.0.1 on a free port with trust
authentication and `fsync=off`; it is fast and disposable, never a place for data.

`postgres_url` is the session-scoped fixture (registered in tests/conftest.py);
`scratch_database(url)` gives one test a database of its own on that server;
`BACKENDS` and `database_url` run a storage test on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from daemons import free_port, log_tail, scratch_folder, start_on_free_port
from needs import require
from psycopg import sql

USER = "aegent"
DATABASE = "aegent_test"
HOW = ("initdb and pg_ctl were found neither on PATH nor in /usr/lib/postgresql/*/bin: "
       "run `make postgres` (Debian's postgresql package)")


def find_bindir() -> Path | None:
    """The folder holding `initdb` and `pg_ctl`: PATH first, then the newest Debian one."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl and Path(initdb).parent == Path(pg_ctl).parent:
        return Path(initdb).parent

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", Path(path).parent.parent.name))

    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        folder = Path(candidate)
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


@dataclass
class PostgresServer:
    """A running throwaway server; `stop()` ends it and deletes its folder."""

    bindir: Path
    root: Path
    port: int
    as_user: str | None

    @property
    def datadir(self) -> Path:
        """The cluster's data folder."""
        return self.root / "data"

    @property
    def log(self) -> Path:
        """The server's log file (`pg_ctl -l`)."""
        return self.root / "server.log"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the test database."""
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def admin_dsn(self, database: str = "postgres") -> str:
        """A libpq connection string for `database`, as the superuser."""
        return f"host=127.0.0.1 port={self.port} user={USER} dbname={database}"

    def run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a server binary (as the `postgres` user when we are root)."""
        argv = [str(self.bindir / tool), *args]
        if self.as_user is not None:
            argv = ["runuser", "-u", self.as_user, "--", *argv]
        result = subprocess.run(
            argv, cwd=self.root, capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}{log_tail(self.log)}"
            )
        return result

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self.run(
            "pg_ctl", "-D", str(self.datadir), "-l", str(self.log),
            "-o", options, "-w", "-t", "60", "start",
        )

    def stop(self) -> None:
        """Stop the server at once and remove its folder."""
        try:
            if (self.datadir / "postmaster.pid").exists():
                self.run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer | None:
    """Create a cluster in a temp folder, start it and create the test database.

    Returns:
        The running server, or None when the PostgreSQL binaries are not installed.

    Raises:
        RuntimeError: The binaries exist but the server could not be set up (for
            instance, running as root without a `postgres` user).
    """
    bindir = find_bindir()
    if bindir is None:
        return None
    root = scratch_folder("aegent-pg-")
    os.chmod(root, 0o700)
    server = PostgresServer(bindir=bindir, root=root, port=free_port(), as_user=None)
    try:
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError(
                    "running as root, but there is no `postgres` user to run PostgreSQL as"
                ) from None
            os.chown(root, owner.pw_uid, owner.pw_gid)
            server.as_user = "postgres"
        server.run(
            "initdb", "-D", str(server.datadir), "-A", "trust", "-U", USER,
            "-E", "UTF8", "--no-locale", "--no-sync",
        )
        start_on_free_port(server)
        with psycopg.connect(server.admin_dsn(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    except BaseException:
        server.stop()
        raise
    return server


@contextlib.contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """A fresh, empty database on the server of `url`, dropped afterwards.

    Args:
        url: A `postgresql+psycopg://` URL, such as the `postgres_url` fixture's.

    Yields:
        The URL of the new database. Close every engine on it before leaving.
    """
    base, _, _ = url.rpartition("/")
    name = f"t_{uuid.uuid4().hex[:16]}"
    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
"""The database backends a storage test runs on: `@pytest.fixture(params=BACKENDS)`."""


@contextlib.contextmanager
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of the backend `request.param` names (`BACKENDS`):
    a SQLite file under `tmp_path`, or a scratch database on the test run's PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'aegent.db'}"
    else:
        with scratch_database(request.getfixturevalue("postgres_url")) as url:
            yield url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of database `aegent_test` on a PostgreSQL server private to this test run.

    When the PostgreSQL binaries are not installed it skips, saying how to install
    them, or under CI fails (tests/needs.py); it fails when they are installed but the
    server cannot start.
    """
    server = start_postgres()
    if server is None:
        require("postgresql", available=False, how=HOW)
    try:
        yield server.url
    finally:
        server.stop()
