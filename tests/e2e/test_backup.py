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
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import serverproc
from serverproc import AEGENT, FAST, Served, room_on_login
from wsclient import Client, auth_of, events


def env() -> dict[str, str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("AEGENT_") and k not in ("DATABASE_URL", "QDRANT_URL")}
    return {**base, **FAST}


def aegent(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AEGENT, *args], env=env(), capture_output=True, text=True,
                          timeout=60)


async def start(data: Path) -> Served:
    return await serverproc.start("--data-dir", str(data), "--log-json", env=env())


async def stop(served: Served) -> str:
    """SIGTERM, wait; the server's stderr (its log)."""
    stopped = await serverproc.stop(served)
    assert stopped.code == 0, stopped.stderr
    return stopped.stderr


def room_in(database: Path, name: str) -> str | None:
    with closing(sqlite3.connect(database)) as db:
        row = db.execute("SELECT room FROM characters WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])


async def test_backup_of_a_live_server_restores_into_a_new_data_folder(tmp_path: Path) -> None:
    live, restored, backup = tmp_path / "live", tmp_path / "restored", tmp_path / "b.sqlite3"
    served = await start(live)
    try:
        c = await Client.open(served.url, "aegent.json")
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
        log = await stop(served)
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

    served = await start(restored)
    try:
        assert await room_on_login(served, "Oda") == room
    finally:
        await stop(served)
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
