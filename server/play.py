"""`aegent play [URL]`: a terminal client for people.

It speaks `aegent.json`, runs the login dialogue itself (the password is read
without echo), colours output by event (or not, with --no-color or NO_COLOR),
and reads commands with line editing and history (GNU readline where the
terminal has it; the history is kept in ~/.aegent_history). With a pipe on
stdin it reads lines as they come, so it can be scripted.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

DEFAULT_URL = "ws://localhost:4000/ws"
HISTORY = Path.home() / ".aegent_history"

_STYLE = {
    "room": "\x1b[1;36m", "said": "\x1b[1;33m", "told": "\x1b[1;35m", "shouted": "\x1b[1;31m",
    "emoted": "\x1b[37m", "hit_landed": "\x1b[33m", "died": "\x1b[1;31m",
    "level_gained": "\x1b[1;32m", "xp_gained": "\x1b[32m", "message": "\x1b[1;32m",
    "error": "\x1b[31m", "fight_started": "\x1b[1;31m",
}
RESET = "\x1b[0m"


class Terminal:
    """Where the client reads lines and writes text (a real terminal, or pipes in tests).

    Args:
        out: where text goes.
        inp: where lines come from.
        color: whether to colour output.
    """

    def __init__(self, out: TextIO, inp: TextIO, color: bool) -> None:
        self.out = out
        self.inp = inp
        self.color = color
        self.interactive = inp.isatty() and out.isatty()
        self._readline: Any = None
        if self.interactive:
            with contextlib.suppress(ImportError):
                import readline

                self._readline = readline
                with contextlib.suppress(OSError):
                    readline.read_history_file(HISTORY)
                readline.set_history_length(1000)

    def show(self, text: str, style: str = "") -> None:
        """Print text (keeping what the player is typing on its own line)."""
        code = _STYLE.get(style, "") if self.color else ""
        body = f"{code}{text}{RESET}" if code else text
        if self.interactive and self._readline is not None:
            typed = self._readline.get_line_buffer()
            self.out.write("\r\x1b[K" + body + "\n")
            if typed:
                self.out.write(typed)
        else:
            self.out.write(body + "\n")
        self.out.flush()

    async def line(self, prompt: str = "") -> str | None:
        """Read one line (None at the end of input)."""
        if self.interactive:
            try:
                return await asyncio.to_thread(input, prompt)
            except EOFError:
                return None
        if prompt:
            self.out.write(prompt)
            self.out.flush()
        text = await asyncio.to_thread(self.inp.readline)
        return text.rstrip("\r\n") if text else None

    async def secret(self, prompt: str) -> str | None:
        """Read a password without echo (plain read from a pipe)."""
        if self.interactive:
            try:
                return await asyncio.to_thread(getpass.getpass, prompt)
            except EOFError:
                return None
        return await self.line(prompt)

    def close(self) -> None:
        """Save the history."""
        if self._readline is not None:
            with contextlib.suppress(OSError):
                self._readline.write_history_file(HISTORY)


async def _recv(ws: ClientConnection) -> dict[str, Any]:
    raw = await ws.recv()
    msg: dict[str, Any] = json.loads(raw)
    return msg


async def login(ws: ClientConnection, term: Terminal, hello: dict[str, Any]) -> bool:
    """The dialogue: name, password; for a new character, the password again and a class."""
    classes: dict[str, str] = hello.get("classes", {})
    while True:
        name = await term.line("By what name are you known? ")
        if name is None:
            return False
        name = name.strip()
        if not name:
            continue
        answer = await term.line(f"Is {name.capitalize()} a new character (y/n)? ")
        if answer is None:
            return False
        new = answer.strip().lower().startswith("y")
        password = await term.secret("Password: ")
        if password is None:
            return False
        msg: dict[str, Any] = {"type": "login", "name": name, "password": password}
        if new:
            again = await term.secret("Again, to be sure: ")
            if again != password:
                term.show("The passwords don't match.", "error")
                continue
            options = ", ".join(f"{cid} ({label})" for cid, label in classes.items())
            choice = await term.line(f"Choose a class: {options}: ")
            if choice is None:
                return False
            cls = next((c for c in classes if c.startswith(choice.strip().lower())), None)
            if cls is None:
                term.show("That is not a class here.", "error")
                continue
            msg = {"type": "register", "name": name, "password": password, "class": cls}
        await ws.send(json.dumps(msg))
        while True:
            reply = await _recv(ws)
            if reply.get("type") == "auth":
                break
            show_message(term, reply)
        if reply.get("ok"):
            return True
        term.show(reply.get("error", {}).get("message", "Login failed."), "error")


def show_message(term: Terminal, msg: dict[str, Any]) -> None:
    """Print one server message as a person should read it."""
    kind = msg.get("type")
    if kind == "event":
        if msg.get("name") == "vitals":
            return  # the status line below shows them
        text = msg.get("text")
        if text:
            term.show(str(text), str(msg.get("name", "")))
    elif kind == "error":
        term.show(str(msg.get("message", "")), "error")
    elif kind == "result" and not msg.get("ok"):
        term.show(str(msg.get("error", {}).get("message", "")), "error")


async def play(url: str, term: Terminal, on_connect: Callable[[], None] | None = None) -> int:
    """Connect, log in, then pass lines to the server until `quit` or the end of input."""
    try:
        ws = await connect(url, subprotocols=["aegent.json"], open_timeout=10)  # type: ignore[list-item]
    except (OSError, TimeoutError) as exc:
        term.show(f"Cannot connect to {url}: {exc}", "error")
        return 1
    async with ws:
        if on_connect:
            on_connect()
        hello = await _recv(ws)
        if hello.get("motd"):
            term.show(str(hello["motd"]))
        if not await login(ws, term, hello):
            return 0
        done = asyncio.Event()

        async def reader() -> None:
            try:
                async for raw in ws:
                    show_message(term, json.loads(raw))
            except ConnectionClosed:
                pass
            finally:
                done.set()

        task = asyncio.create_task(reader())
        try:
            while not done.is_set():
                line = await term.line()
                if line is None:
                    await ws.send(json.dumps({"type": "command", "line": "quit"}))
                    break
                if line.strip():
                    await ws.send(json.dumps({"type": "command", "line": line}))
                if line.strip().lower() == "quit":
                    break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 5)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    term.show("Connection closed.")
    return 0


def main(url: str | None, color: bool | None) -> int:
    """Run the terminal client."""
    if color is None:
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    term = Terminal(sys.stdout, sys.stdin, color)
    try:
        return asyncio.run(play(url or DEFAULT_URL, term))
    except KeyboardInterrupt:
        return 130
    finally:
        term.close()
