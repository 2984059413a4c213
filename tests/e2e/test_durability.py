"""Durability over a real `aegent serve` process and `kill -9`: what the game confirmed is
on disk (README: within `dirty_save_interval`; economy changes before they are confirmed).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from test_cli import start
from wsclient import Client, auth_of, events


def saved(data: Path, name: str) -> dict[str, Any] | None:
    """The character's row as it is in the SQLite file now (another process's view)."""
    db = sqlite3.connect(f"file:{data / 'aegent.sqlite3'}?mode=ro", uri=True, timeout=5)
    try:
        row = db.execute("SELECT data FROM characters WHERE name = ?", (name.lower(),)
                         ).fetchone()
    finally:
        db.close()
    if row is None:
        return None
    got: dict[str, Any] = json.loads(row[0]) if isinstance(row[0], str) else row[0]
    return got


def kill9(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.communicate(timeout=10)  # reaps it and closes its pipes


def carried(snapshot: dict[str, Any] | None) -> list[str]:
    return [it["proto"] for it in (snapshot or {}).get("inventory", [])]


async def test_a_move_is_on_disk_within_a_second_and_survives_kill_9(tmp_path: Path) -> None:
    data = tmp_path / "data"
    served = await start(data)  # autosave stays at its 60 s: only the dirty flush can pass
    proc, port = served.process, served.port
    try:
        c = await Client.open(f"ws://127.0.0.1:{port}/ws", "aegent.json")
        await c.recv()
        assert auth_of(await c.register("Mira"))["ok"]
        room = events(await c.command("north"), "room")[0]["data"]["id"]
        # Polled, not slept: the flush is due within 1 s; 5 s is a generous ceiling.
        deadline = time.monotonic() + 5
        while (saved(data, "Mira") or {}).get("room") != room:
            assert time.monotonic() < deadline, "the move was not written within 5 s"
            await asyncio.sleep(0.05)
        await c.close()
    finally:
        kill9(proc)
    served = await start(data)
    proc, port = served.process, served.port
    try:
        c = await Client.open(f"ws://127.0.0.1:{port}/ws", "aegent.json")
        await c.recv()
        got = await c.login("Mira")
        assert auth_of(got)["ok"]
        assert events(got, "room")[0]["data"]["id"] == room
        await c.close()
    finally:
        kill9(proc)


async def test_a_gift_is_written_before_it_is_confirmed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    served = await start(data)
    proc, port = served.process, served.port
    try:
        a = await Client.open(f"ws://127.0.0.1:{port}/ws", "aegent.json")
        b = await Client.open(f"ws://127.0.0.1:{port}/ws", "aegent.json")
        await a.recv()
        await b.recv()
        assert auth_of(await a.register("Ansel"))["ok"]
        assert auth_of(await b.register("Brisa"))["ok"]
        got = await a.command("give potion to brisa")
        assert any(m.get("type") == "result" and m["ok"] for m in got), got
        # The result came: the gift must already be in the file, for both of them.
        assert "haven:healing_potion" not in carried(saved(data, "Ansel"))
        assert "haven:healing_potion" in carried(saved(data, "Brisa"))
    finally:
        kill9(proc)  # at once, with no shutdown save
    served = await start(data)
    proc, port = served.process, served.port
    try:
        b = await Client.open(f"ws://127.0.0.1:{port}/ws", "aegent.json")
        await b.recv()
        assert auth_of(await b.login("Brisa"))["ok"]
        inv = await b.call("inventory")
        assert "potion" in json.dumps(events(inv)).lower()
        await b.close()
    finally:
        kill9(proc)


async def test_quit_says_saved_only_after_the_save(tmp_path: Path) -> None:
    data = tmp_path / "data"
    served = await start(data)
    proc, port = served.process, served.port
    try:
        c = await Client.open(f"ws://127.0.0.1:{port}/ws", "aegent.json")
        await c.recv()
        assert auth_of(await c.register("Quill"))["ok"]
        room = events(await c.command("north"), "room")[0]["data"]["id"]
        await c.send({"type": "command", "line": "quit"})
        note = await c.until(lambda m: m.get("type") == "event" and m["name"] == "message"
                             and "saved" in m["data"]["text"])
        assert "Your character is saved" in note[-1]["data"]["text"]
        assert (saved(data, "Quill") or {}).get("room") == room
    finally:
        kill9(proc)
