"""The world's journal over real `aegent serve` processes: what the players saw is what
`aegent replay` gives back, and a `kill -9` loses nothing of the world a player was
answered about (server/host/recorder.py).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from test_cli import AEGENT, env, start, stop
from test_durability import kill9
from wsclient import Client, auth_of, events

from server.bus.messages import Tick
from server.host.journal import FileJournal


def seen_events(client: Client) -> list[tuple[str, Any]]:
    """Every event the client received, as (name, data)."""
    return [(m["name"], m["data"]) for m in client.seen
            if isinstance(m, dict) and m.get("type") == "event"]


def replay(data: Path, *flags: str) -> tuple[list[dict[str, Any]], str]:
    """`aegent replay` of `data`: its records and the hash it printed."""
    out = subprocess.run([*AEGENT, "replay", "--data-dir", str(data), *flags],
                         capture_output=True, timeout=120, env=env(data))
    assert out.returncode == 0, out.stderr.decode()
    records = [json.loads(line) for line in out.stdout.splitlines()]
    return records, out.stderr.decode().strip().rsplit(" ", 1)[-1]


async def play(port: int, name: str) -> Client:
    """A warrior takes the rat quest, kills a rat in the stable, loots and looks at
    itself: a fight with the world's dice, a quest step, xp."""
    c = await Client.open(f"ws://127.0.0.1:{port}/ws", "aegent.json")
    await c.recv()
    assert auth_of(await c.register(name))["ok"]
    for line in ("west", "quest accept rats", "south", "kill rat"):
        await c.command(line)
    await c.until(lambda m: m.get("type") == "event" and m["name"] == "xp_gained", timeout=60)
    for line in ("get all corpse", "score", "say done"):
        await c.command(line)
    return c


async def test_what_the_player_saw_is_what_replay_gives_back(tmp_path: Path) -> None:
    data = tmp_path / "data"
    served = await start(data)
    port = served.port
    try:
        ann = await play(port, "Ann")
        await ann.close()
    finally:
        code, out = await stop(served)
    assert code == 0, out
    records, digest = replay(data)
    live = seen_events(ann)
    assert [name for name, _ in live].count("hit_landed") >= 1  # there was a fight
    again = [(r["event"], r["data"]) for r in records if r["to"] == "Ann"
             and r["event"] != "answer"]
    assert again == live  # every event, its data byte for byte, in the same order
    answers = [(r["data"]["ok"], r["data"].get("code"), r["data"].get("message"))
               for r in records if r["event"] == "answer"]
    results = [(m["ok"], m.get("error", {}).get("code"), m.get("error", {}).get("message"))
               for m in ann.seen
               if isinstance(m, dict) and m.get("type") == "result" and m.get("id") != "reg"]
    assert len(answers) == 7 and answers == results  # and every command's answer
    # A second replay of the same journal: the same stream, to the byte.
    out_file = tmp_path / "events.jsonl"
    _, digest2 = replay(data, "-o", str(out_file))
    assert digest2 == digest and len(digest) == 64
    assert [json.loads(line) for line in out_file.read_text().splitlines()] == records


async def test_replay_from_until_gives_a_stretch(tmp_path: Path) -> None:
    data = tmp_path / "data"
    served = await start(data)
    port = served.port
    try:
        ann = await play(port, "Ann")
        await ann.close()
    finally:
        await stop(served)
    everything, _ = replay(data)
    ticks = sorted({r["tick"] for r in everything})
    mid = ticks[len(ticks) // 2]
    # The journal's wall-clock times: the stretch from the middle tick on.
    with FileJournal(data / "journal" / "wal", readonly=True) as journal:
        at = next(r.time for r in journal.read() if isinstance(r.entry, Tick)
                  and r.entry.tick == mid)
    later, _ = replay(data, "--from", str(at))
    assert later and later == [r for r in everything if r["tick"] >= mid][-len(later):]
    assert min(r["tick"] for r in later) >= mid - 1
    earlier, _ = replay(data, "--until", str(at))
    assert earlier and max(r["tick"] for r in earlier) <= mid
    bad = subprocess.run([*AEGENT, "replay", "--data-dir", str(data), "--from", "yesterday"],
                         capture_output=True, env=env(data), timeout=60)
    assert bad.returncode == 2 and b"not a time" in bad.stderr


async def test_kill_9_keeps_the_world_a_player_was_answered_about(tmp_path: Path) -> None:
    data = tmp_path / "data"
    served = await start(data)
    proc, port = served.process, served.port
    try:
        ann = await Client.open(f"ws://127.0.0.1:{port}/ws", "aegent.json")
        await ann.recv()
        assert auth_of(await ann.register("Ann"))["ok"]
        got = await ann.command("drop potion")
        assert any(m.get("type") == "result" and m["ok"] for m in got)
        got = await ann.command("north")
        room = events(got, "room")[0]["data"]["id"]
    finally:
        kill9(proc)  # at once: no save, no snapshot after the answers
    served = await start(data)
    proc, port = served.process, served.port
    try:
        # The potion still lies in the square, where nothing in the content puts one.
        bob = await Client.open(f"ws://127.0.0.1:{port}/ws", "aegent.json")
        await bob.recv()
        got = await bob.register("Bob")
        square = events(got, "room")[0]["data"]
        assert any("potion" in str(item).lower() for item in square.get("items", [])), square
        # Ann was still playing: she stands where she was, link-dead, and is taken back.
        ann = await Client.open(f"ws://127.0.0.1:{port}/ws", "aegent.json")
        await ann.recv()
        got = await ann.login("Ann")
        assert auth_of(got)["ok"]
        assert events(got, "room")[-1]["data"]["id"] == room
        inventory = await ann.command("inventory")
        assert "potion" not in json.dumps(events(inventory)).lower()
    finally:
        kill9(proc)


async def test_the_journal_keeps_no_password(tmp_path: Path) -> None:
    """`password old new` runs as a command: the journal masks it (no secret on disk)."""
    data = tmp_path / "data"
    served = await start(data)
    port = served.port
    try:
        c = await Client.open(f"ws://127.0.0.1:{port}/ws", "aegent.json")
        await c.recv()
        assert auth_of(await c.register("Ann", password="first secret"))["ok"]
        await c.command("password first secret second-secret-xyz")
    finally:
        await stop(served)
    raw = b"".join(p.read_bytes() for p in (data / "journal" / "wal").iterdir())
    assert b"second-secret-xyz" not in raw and b"first secret" not in raw
    assert b"password ********" in raw
