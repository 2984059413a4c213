"""`aegent play`: the terminal client against a real server, piped and in a real terminal."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import subprocess
import sys
import uuid

import pytest
from conftest import StartServer, session_of, ws_url
from test_gateway_failover import until
from wsclient import Client

from server import play
from server.play import Terminal

PLAY = [sys.executable, "-m", "server.cli", "play"]


async def test_piped_session_registers_plays_and_quits(start_server: StartServer) -> None:
    server = await start_server()
    script = "\n".join(["Tam", "y", "long secret", "long secret", "r",
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
    # an existing character: the name, then its password; no "new character?" question
    script = "\n".join(["Ula", "wrong one", "Ula", "long secret", "score", "quit", ""])
    proc = await asyncio.create_subprocess_exec(*PLAY, ws_url(server), stdin=subprocess.PIPE,
                                                stdout=subprocess.PIPE)
    out, _ = await asyncio.wait_for(proc.communicate(script.encode()), 60)
    text = out.decode()
    assert "Wrong name or password." in text
    assert "level 1 Warrior" in text
    assert text.count("Password: ") == 2 and "(y/n)" not in text


def test_cannot_connect_is_a_clear_error() -> None:
    proc = subprocess.run([*PLAY, "ws://127.0.0.1:9/ws"], input="", capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1
    assert "Cannot connect to ws://127.0.0.1:9/ws" in proc.stdout


class Tmux:
    """`aegent play` in a real terminal (a detached tmux session), read off its screen."""

    def __init__(self, cmd: str) -> None:
        self.session = f"aq{uuid.uuid4().hex[:8]}"
        self.run("new-session", "-d", "-s", self.session, "-x", "100", "-y", "40",
                 f"env HOME=/tmp {cmd}; sleep 5")

    @staticmethod
    def run(*args: str) -> str:
        return subprocess.run(["tmux", *args], capture_output=True, text=True,
                              check=True).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.session)

    async def has(self, text: str) -> str:
        for _ in range(100):
            shown = self.screen()
            if text in shown:
                return shown
            await asyncio.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared:\n{shown}")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.session, *keys)

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.session], capture_output=True)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
async def test_in_a_real_terminal_the_password_is_hidden(start_server: StartServer) -> None:
    server = await start_server()
    term = Tmux(" ".join([*PLAY, ws_url(server)]))
    try:
        await term.has("By what name")
        for keys, wait_for in (("Vic", "Did I get that right, Vic (y/n)?"),
                               ("y", "Give me a password for Vic:"),
                               ("hidden pass 1", "retype"), ("hidden pass 1", "class"),
                               ("cleric", "Town Square")):
            term.keys(keys, "Enter")
            await term.has(wait_for)
        term.keys("say typed at a terminal", "Enter")
        shown = await term.has("You say, 'typed at a terminal'")
        assert "hidden pass 1" not in shown
        term.keys("Up", "")  # history recalls the last line
        for _ in range(50):
            lines = [ln.rstrip() for ln in term.screen().splitlines() if ln.strip()]
            if lines and lines[-1] == "say typed at a terminal":
                break
            await asyncio.sleep(0.1)
        assert lines[-1] == "say typed at a terminal", lines[-3:]
    finally:
        term.close()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
async def test_in_a_real_terminal_an_existing_character_gets_the_password_question(
        start_server: StartServer) -> None:
    """The name, then "Password:" with the typing hidden: never "new character (y/n)?",
    where a password typed by habit used to show in clear."""
    server = await start_server()
    script = "\n".join(["Vera", "y", "hidden pass 2", "hidden pass 2", "m", "quit", ""])
    proc = await asyncio.create_subprocess_exec(*PLAY, ws_url(server), stdin=subprocess.PIPE,
                                                stdout=subprocess.PIPE)
    await asyncio.wait_for(proc.communicate(script.encode()), 60)
    term = Tmux(" ".join([*PLAY, ws_url(server)]))
    try:
        await term.has("By what name")
        term.keys("vera", "Enter")
        shown = await term.has("Password:")
        assert "(y/n)" not in shown
        term.keys("hidden pass 2", "Enter")
        shown = await term.has("Town Square")
        assert "hidden pass 2" not in shown and "(y/n)" not in shown
    finally:
        term.close()


async def test_asks_for_batched_events_and_shows_each(start_server: StartServer) -> None:
    """`aegent play` logs in (and back in) with `batch`, and shows every event of an
    `events` message: what two others said, held back (`fanout_delay`) until its own
    `look` is answered, comes in one."""
    server = await start_server(fanout_delay=30.0)
    others = await Client.registered(ws_url(server), ("Bob", "Cyd"))
    read_end, write_end = os.pipe()
    out = io.StringIO()
    with os.fdopen(read_end, "r") as inp, os.fdopen(write_end, "w") as typed:
        game = asyncio.create_task(play.play(ws_url(server), Terminal(out, inp, False),
                                             backoff=(0.05, 0.2)))
        typed.write("Tam\ny\nlong secret\nlong secret\nwarrior\n")
        typed.flush()
        await until(out, "Town Square")
        first = session_of(server, "Tam")
        assert first.batch
        for c, word in zip(others, ("one", "two"), strict=True):
            await c.command(f"say {word}")
        typed.write("look\n")
        typed.flush()
        await until(out, "Cyd says, 'two'")
        shown = out.getvalue()
        assert shown.index("Bob says, 'one'") < shown.index("Cyd says, 'two'")
        server.sessions[first].abort("test: drop the link")  # it logs in again: batch too
        await until(out, "Reconnected to")
        again = session_of(server, "Tam")
        assert again is not first and again.batch
        await others[0].command("say three")
        typed.write("look\n")
        typed.flush()
        await until(out, "Bob says, 'three'")
        typed.write("quit\n")
        typed.flush()
        assert await asyncio.wait_for(game, 20) == 0
    for c in others:
        await c.close()
