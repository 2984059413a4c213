"""The real `aegent` process: serve, SIGTERM saves everyone, JSON logs, content check."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import serverproc
from daemons import free_port
from serverproc import AEGENT, FAST, Served, room_on_login
from wsclient import Client, auth_of, events

from server.cli import ready_line


def env(data: Path) -> dict[str, str]:
    return {**os.environ, **FAST, "AEGENT_DATA_DIR": str(data)}


async def start(data: Path, *extra: str) -> Served:
    return await serverproc.start(*extra, env=env(data))


async def stop(served: Served) -> tuple[int, str]:
    """SIGTERM, wait: its exit status and all it wrote (stdout, then stderr)."""
    stopped = await serverproc.stop(served)
    return stopped.code, stopped.stdout + stopped.stderr


async def test_sigterm_saves_everyone_and_restart_restores(tmp_path: Path) -> None:
    data = tmp_path / "data"
    served = await start(data, "--log-json")
    try:
        c = await Client.open(served.url, "aegent.json")
        await c.recv()
        assert auth_of(await c.register("Oda", cls="cleric"))["ok"]
        got = await c.command("north")
        room = events(got, "room")[0]["data"]["id"]
        await c.command("say before the restart")
        code, logs = await stop(served)
        note = await c.until(lambda m: m.get("type") == "event" and m["name"] == "message")
        assert "shutting down" in note[-1]["data"]["text"]
    finally:
        serverproc.kill(served)
    assert code == 0, logs
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert any(rec["event"] == "shutdown_done" and rec["saved"] == 1 for rec in lines), logs
    entered = next(rec for rec in lines if rec["event"] == "character_entered")
    assert entered["character"] == "Oda" and entered["session"].startswith("s")

    served = await start(data)
    try:
        assert await room_on_login(served, "Oda") == room
    finally:
        await stop(served)


def test_content_check_reports_file_line_and_key(tmp_path: Path) -> None:
    ok = subprocess.run([*AEGENT, "content", "check"], capture_output=True, text=True,
                        timeout=60)
    assert ok.returncode == 0 and "rooms" in ok.stdout
    broken = tmp_path / "content"
    src = Path(__file__).resolve().parents[2] / "content"
    subprocess.run(["cp", "-r", str(src), str(broken)], check=True)
    zone = broken / "zones" / "haven.yaml"
    text = zone.read_text().replace("    exits:\n", "    exits:\n      sideways: square\n", 1)
    zone.write_text(text)
    bad = subprocess.run([*AEGENT, "content", "check", "--content-dir", str(broken)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert "haven.yaml:" in bad.stderr and "exits" in bad.stderr and "sideways" in bad.stderr


async def test_broken_content_stops_the_server_with_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "content"
    src = Path(__file__).resolve().parents[2] / "content"
    subprocess.run(["cp", "-r", str(src), str(broken)], check=True)
    (broken / "world.yaml").write_text("name: X\nstart_room: haven:nowhere\n")
    proc = subprocess.run([*AEGENT, "serve", "--port", str(free_port()), "--content-dir",
                           str(broken)], env=env(tmp_path / "d"), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1
    assert "world.yaml:2: start_room: unknown room 'haven:nowhere'" in proc.stderr


@pytest.mark.parametrize("role", ["world", "gateway"])
def test_a_cluster_role_without_the_bus_says_so_in_one_line(tmp_path: Path, role: str) -> None:
    no_bus = {k: v for k, v in env(tmp_path / "d").items() if k != "AEGENT_NATS_URL"}
    proc = subprocess.run([*AEGENT, role], cwd=tmp_path, env=no_bus, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == (f"aegent: aegent {role} needs the bus: --nats nats://HOST:PORT "
                           "(or AEGENT_NATS_URL)\n")


async def test_serve_says_where_to_go_in_one_plain_line(tmp_path: Path) -> None:
    served = await start(tmp_path / "data")
    code, out = await stop(served)
    assert code == 0, out
    ready = re.findall(r"^Aegent Quest is up: open (\S+) in a browser, or telnet (\S+) (\d+)$",
                       out, re.MULTILINE)
    assert len(ready) == 1, out
    assert ready[0][:2] == (f"http://127.0.0.1:{served.port}/", "127.0.0.1")
    assert ready[0][2] != "0"
    # listening on every interface: an address that works from this machine
    assert ready_line("X", "0.0.0.0", 4000, 4001) == (
        "X is up: open http://127.0.0.1:4000/ in a browser, or telnet 127.0.0.1 4001")
    assert "http://[::1]:4000/" in ready_line("X", "::1", 4000, 4001)
