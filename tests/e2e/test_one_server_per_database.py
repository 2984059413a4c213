"""One server per database: a second one refuses to start, clearly, before it touches
anything; after the first stops, a new one starts. SQLite (a `flock` in the data
directory), PostgreSQL (an advisory lock), and the real `aegent serve` process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FAST_HASH, StartServer, ws_url
from pg import scratch_database
from wsclient import Client

from server.app import Server
from server.config import Settings
from server.host import datadir


def _message(where: str) -> str:
    return (f"another Aegent Quest server is already running on {where} "
            f"(pid {os.getpid()}); stop it first")


async def test_second_server_on_one_data_dir_refuses(start_server: StartServer,
                                                     settings: Settings) -> None:
    first = await start_server()
    data = settings.data_dir.resolve()
    assert (data / datadir.LOCK_FILE).read_text() == f"{os.getpid()}\n"

    second = Server(settings)
    with pytest.raises(datadir.AlreadyRunning) as err:
        await second.start()
    assert str(err.value) == _message(f"data directory {data}")
    assert second.port == 0  # it never listened

    c = await Client.open(ws_url(first), "aegent.json")  # the first goes on
    await c.recv()
    await c.send({"type": "ping", "id": 1})
    assert (await c.recv()) == {"type": "pong", "id": 1}
    await c.close()

    await first.shutdown("test")
    assert (data / datadir.LOCK_FILE).read_text() == ""  # released, no stale pid
    third = await start_server()
    assert third.port != 0


async def test_the_lock_comes_before_migrations(settings: Settings) -> None:
    data = settings.data_dir.resolve()
    held = datadir.FileLock.acquire(data / datadir.LOCK_FILE, "x")  # as a server would
    try:
        with pytest.raises(datadir.AlreadyRunning):
            await Server(settings).start()
        assert not (data / "aegent.sqlite3").exists()  # nothing was created or migrated
    finally:
        held.release()


async def test_a_failed_start_lets_go_of_the_lock(start_server: StartServer) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            await start_server(port=taken.getsockname()[1])
    server = await start_server()  # the lock of the failed start was released
    assert server.port != 0


def test_aegent_serve_refuses_while_another_holds_the_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    held = datadir.FileLock.acquire(data / datadir.LOCK_FILE, "x")  # our pid goes in it
    try:
        env = {**os.environ, "AEGENT_DATA_DIR": str(data), "AEGENT_TELNET_PORT": "0",
               "AEGENT_PORT": "0"}
        proc = subprocess.run([sys.executable, "-m", "server.cli", "serve"], env=env,
                              capture_output=True, text=True, timeout=60)
    finally:
        held.release()
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == "aegent: " + _message(
        f"data directory {data.resolve()}")
    assert not (data / "aegent.sqlite3").exists()


@pytest.mark.postgres
async def test_second_server_on_one_postgres_database_refuses(
        start_server: StartServer, postgres_url: str, tmp_path: Path) -> None:
    with scratch_database(postgres_url) as url:
        first = await start_server(database_url=url)
        # Another data directory, the same database: still refused.
        other = Settings(port=0, telnet_port=0, data_dir=tmp_path / "other", seed=7,
                         database_url=url, **FAST_HASH)  # type: ignore[arg-type]
        with pytest.raises(datadir.AlreadyRunning) as err:
            await Server(other).start()
        text = str(err.value)
        assert text.startswith("another Aegent Quest server is already running on database "
                               "postgresql+psycopg://")
        assert f"(aegent serve pid {os.getpid()} on {socket.gethostname()}"[:40] in text
        assert text.endswith("; stop it first")

        await first.shutdown("test")
        again = await start_server(database_url=url)  # unlocked: a new one starts
        await again.shutdown("test")
