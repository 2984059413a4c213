"""`aegent play`: the terminal client against a real server, piped and in a real terminal."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import uuid

import pytest
from conftest import StartServer, ws_url

PLAY = [sys.executable, "-m", "server.cli", "play"]


async def test_piped_session_registers_plays_and_quits(start_server: StartServer) -> None:
    server = await start_server()
    script = "\n".join(["Tam", "y", "long secret", "long secret", "rogue",
                        "look", "north", "say hello from a terminal", "alias hi say hi $*",
                        "hi there", "quit", ""])
    proc = await asyncio.create_subprocess_exec(
        *PLAY, "--no-color", ws_url(server), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(script.encode()), 60)
    text = out.decode()
    assert proc.returncode == 0, err.decode()
    assert "Town Square" in text and "Temple Steps" in text
    assert "You say, 'hello from a terminal'" in text
    assert "You say, 'hi there'" in text
    assert "Goodbye" in text
    assert "\x1b[" not in text  # --no-color
    assert "long secret" not in text


async def test_wrong_password_is_reported_and_retried(start_server: StartServer) -> None:
    server = await start_server()
    script = "\n".join(["Ula", "y", "long secret", "long secret", "warrior", "quit",
                        ""])
    proc = await asyncio.create_subprocess_exec(*PLAY, ws_url(server), stdin=subprocess.PIPE,
                                                stdout=subprocess.PIPE)
    await asyncio.wait_for(proc.communicate(script.encode()), 60)
    script = "\n".join(["Ula", "n", "wrong one", "Ula", "n", "long secret", "score", "quit", ""])
    proc = await asyncio.create_subprocess_exec(*PLAY, ws_url(server), stdin=subprocess.PIPE,
                                                stdout=subprocess.PIPE)
    out, _ = await asyncio.wait_for(proc.communicate(script.encode()), 60)
    text = out.decode()
    assert "Wrong name or password." in text
    assert "level 1 Warrior" in text


def test_cannot_connect_is_a_clear_error() -> None:
    proc = subprocess.run([*PLAY, "ws://127.0.0.1:9/ws"], input="", capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1
    assert "Cannot connect to ws://127.0.0.1:9/ws" in proc.stdout


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
async def test_in_a_real_terminal_the_password_is_hidden(start_server: StartServer) -> None:
    server = await start_server()
    session = f"aq{uuid.uuid4().hex[:8]}"
    cmd = " ".join([*PLAY, ws_url(server)])

    def tmux(*args: str) -> str:
        return subprocess.run(["tmux", *args], capture_output=True, text=True,
                              check=True).stdout

    async def screen_has(text: str) -> str:
        for _ in range(100):
            shown = tmux("capture-pane", "-p", "-t", session)
            if text in shown:
                return shown
            await asyncio.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared:\n{shown}")

    tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "40",
         f"env HOME=/tmp {cmd}; sleep 5")
    try:
        await screen_has("By what name")
        for keys, wait_for in (("Vic", "new character"), ("y", "Password:"),
                               ("hidden pass 1", "Again"), ("hidden pass 1", "class"),
                               ("cleric", "Town Square")):
            tmux("send-keys", "-t", session, keys, "Enter")
            await screen_has(wait_for)
        tmux("send-keys", "-t", session, "say typed at a terminal", "Enter")
        shown = await screen_has("You say, 'typed at a terminal'")
        assert "hidden pass 1" not in shown
        tmux("send-keys", "-t", session, "Up", "")  # history recalls the last line
        for _ in range(50):
            lines = [ln.rstrip() for ln in tmux("capture-pane", "-p", "-t", session).splitlines()
                     if ln.strip()]
            if lines and lines[-1] == "say typed at a terminal":
                break
            await asyncio.sleep(0.1)
        assert lines[-1] == "say typed at a terminal", lines[-3:]
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
