"""`aegent backup` and `aegent restore` round-trip a live server's data, all real: the
`aegent serve` process, its SQLite file, the two commands in their own processes.

A character moves while the server runs; the backup is taken from the running server
(online); restore refuses while a server holds the database; restored into another
data folder, a new server gives the character back where it stood. The server runs
with --log-json, and every line it writes to stderr is JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from wsclient import Client, auth_of, events

AEGENT = [sys.executable, "-m", "server.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def env() -> dict[str, str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("AEGENT_") and k not in ("DATABASE_URL", "QDRANT_URL")}
    return {**base, "AEGENT_ARGON2_TIME_COST": "1", "AEGENT_ARGON2_MEMORY_KIB": "1024",
            "AEGENT_SEED": "3", "AEGENT_TELNET_PORT": "0"}


def aegent(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AEGENT, *args], env=env(), capture_output=True, text=True,
                          timeout=60)


async def start(data: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen([*AEGENT, "serve", "--port", str(port), "--data-dir", str(data),
                             "--log-json"], env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    for _ in range(400):
        try:
            _, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            await w.wait_closed()
            return proc, port
        except OSError:
            if proc.poll() is not None:
                _, err = proc.communicate()
                raise AssertionError(err.decode()) from None
            await asyncio.sleep(0.05)
    raise AssertionError("server did not start")


async def stop(proc: subprocess.Popen[bytes]) -> str:
    """SIGTERM, wait; the server's stderr (its log)."""
    proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.to_thread(proc.communicate, timeout=30)
    assert proc.returncode == 0, err.decode()
    return err.decode()


def room_in(database: Path, name: str) -> str | None:
    with closing(sqlite3.connect(database)) as db:
        row = db.execute("SELECT room FROM characters WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])


async def test_backup_of_a_live_server_restores_into_a_new_data_folder(tmp_path: Path) -> None:
    live, restored, backup = tmp_path / "live", tmp_path / "restored", tmp_path / "b.sqlite3"
    proc, port = await start(live)
    try:
        c = await Client.open(f"ws://127.0.0.1:{port}/ws", "aegent.json")
        await c.recv()
        assert auth_of(await c.register("Oda", cls="cleric"))["ok"]
        room = events(await c.command("north"), "room")[0]["data"]["id"]
        assert room != "haven:square"
        for _ in range(100):  # written within dirty_save_interval (1 s); taken while live
            made = await asyncio.to_thread(aegent, "backup", "-o", str(backup),
                                           "--data-dir", str(live))
            assert made.returncode == 0, made.stderr
            if room_in(backup, "oda") == room or room_in(backup, "Oda") == room:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the backup never held the moved character")
        assert "backed up" in made.stdout
        busy = await asyncio.to_thread(aegent, "restore", str(backup), "--data-dir",
                                       str(live), "--force")
        assert busy.returncode == 1 and "already running" in busy.stderr, busy.stderr
        await c.close()
    finally:
        log = await stop(proc)
    lines = [line for line in log.splitlines() if line.strip()]
    assert lines and all(isinstance(json.loads(line), dict) for line in lines), log

    not_a_db = tmp_path / "junk.sqlite3"
    not_a_db.write_text("hello")
    bad = await asyncio.to_thread(aegent, "restore", str(not_a_db), "--data-dir", str(restored))
    assert bad.returncode == 1 and "not a readable SQLite database" in bad.stderr
    done = await asyncio.to_thread(aegent, "restore", str(backup), "--data-dir", str(restored))
    assert done.returncode == 0 and "restored" in done.stdout, done.stderr
    again = await asyncio.to_thread(aegent, "restore", str(backup), "--data-dir", str(restored))
    assert again.returncode == 2 and "--force" in again.stderr

    proc, port = await start(restored)
    try:
        c = await Client.open(f"ws://127.0.0.1:{port}/ws", "aegent.msgpack")
        await c.recv()
        got = await c.login("Oda")
        assert auth_of(got)["ok"] is True
        assert events(got, "room")[0]["data"]["id"] == room
        await c.close()
    finally:
        await stop(proc)
    # Restored over the live folder: its journal (the world after the backup) is set
    # aside, so the next start does not bring back what the backup does not hold.
    assert (live / "journal").is_dir()
    over = await asyncio.to_thread(aegent, "restore", str(backup), "--data-dir", str(live),
                                   "--force")
    assert over.returncode == 0 and "set aside" in over.stdout, over.stderr
    assert not (live / "journal").exists()
    assert [p.name.startswith("journal.before-restore-") for p in live.iterdir()
            if p.name.startswith("journal")] == [True]


def test_backup_of_postgresql_gives_the_pg_dump_line(tmp_path: Path) -> None:
    out = subprocess.run([*AEGENT, "backup", "-o", str(tmp_path / "x.dump")],
                         env={**env(), "DATABASE_URL": "postgresql+psycopg://aq:s3cret@db/aq"},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "pg_dump --format=custom --file " in out.stderr
    assert "'postgresql://aq@db/aq'" in out.stderr and "s3cret" not in out.stderr
