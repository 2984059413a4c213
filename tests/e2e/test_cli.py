"""The real `aegent` process: serve, SIGTERM saves everyone, JSON logs, content check."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

from wsclient import Client, auth_of, events

from server.cli import ready_line

AEGENT = [sys.executable, "-m", "server.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def env(data: Path) -> dict[str, str]:
    return {**os.environ, "AEGENT_ARGON2_TIME_COST": "1", "AEGENT_ARGON2_MEMORY_KIB": "1024",
            "AEGENT_DATA_DIR": str(data), "AEGENT_SEED": "3", "AEGENT_TELNET_PORT": "0"}


async def start(data: Path, *extra: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen([*AEGENT, "serve", "--port", str(port), *extra], env=env(data),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(200):
        try:
            _, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            await w.wait_closed()
            return proc, port
        except OSError:
            if proc.poll() is not None:
                out = proc.stderr.read().decode() if proc.stderr else "died"
                raise AssertionError(out) from None
            await asyncio.sleep(0.05)
    raise AssertionError("server did not start")


async def stop(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = await asyncio.to_thread(proc.communicate, timeout=20)
    return proc.returncode, (out + err).decode()


async def test_sigterm_saves_everyone_and_restart_restores(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc, port = await start(data, "--log-json")
    try:
        c = await Client.open(f"ws://127.0.0.1:{port}/ws", "aegent.json")
        await c.recv()
        assert auth_of(await c.register("Oda", cls="cleric"))["ok"]
        got = await c.command("north")
        room = events(got, "room")[0]["data"]["id"]
        await c.command("say before the restart")
        code, logs = await stop(proc)
        note = await c.until(lambda m: m.get("type") == "event" and m["name"] == "message")
        assert "shutting down" in note[-1]["data"]["text"]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, logs
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert any(rec["event"] == "shutdown_done" and rec["saved"] == 1 for rec in lines), logs
    entered = next(rec for rec in lines if rec["event"] == "character_entered")
    assert entered["character"] == "Oda" and entered["session"].startswith("s")

    proc, port = await start(data)
    try:
        c = await Client.open(f"ws://127.0.0.1:{port}/ws", "aegent.msgpack")
        await c.recv()
        got = await c.login("Oda")
        assert auth_of(got)["ok"] is True
        assert events(got, "room")[0]["data"]["id"] == room
        await c.close()
    finally:
        await stop(proc)


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


async def test_serve_says_where_to_go_in_one_plain_line(tmp_path: Path) -> None:
    proc, port = await start(tmp_path / "data")
    code, out = await stop(proc)
    assert code == 0, out
    ready = re.findall(r"^Aegent Quest is up: open (\S+) in a browser, or telnet (\S+) (\d+)$",
                       out, re.MULTILINE)
    assert len(ready) == 1, out
    assert ready[0][:2] == (f"http://127.0.0.1:{port}/", "127.0.0.1") and ready[0][2] != "0"
    # listening on every interface: an address that works from this machine
    assert ready_line("X", "0.0.0.0", 4000, 4001) == (
        "X is up: open http://127.0.0.1:4000/ in a browser, or telnet 127.0.0.1 4001")
    assert "http://[::1]:4000/" in ready_line("X", "::1", 4000, 4001)
