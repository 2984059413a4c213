"""`aegent play [URL]`: a terminal client for people.

It speaks `aegent.json` and runs the login dialogue of telnet itself: the name,
then (the server's `exists` answer tells which) the password of an existing
character, or the questions of a new one; passwords are read without echo. It
colours output by event (or not, with --no-color or NO_COLOR), and reads commands
with line editing and history (GNU readline where the terminal has it; the history
is kept in ~/.aegent_history). With a pipe on stdin it reads lines as they come,
so it can be scripted.

It asks for batched events (`"batch": true` in its `login` and `register`):
`show_message` takes an `events` message as the `event` messages it holds (`expand_events`,
each with its `seq`), and a plain `event` as ever (from a server that predates batching).
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import os
import shutil
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, TextIO

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

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

    def wrap(self, text: str) -> str:
        """`text` word-wrapped to the terminal's width as it is now (80 columns, or
        $COLUMNS, where there is no terminal): the server sends paragraphs unwrapped.
        Line breaks stay; the lines a long line is broken into keep its indent."""
        width = max(20, shutil.get_terminal_size((80, 24)).columns)
        out = []
        for line in text.split("\n"):
            if len(line) <= width:
                out.append(line)
                continue
            indent = line[:len(line) - len(line.lstrip(" "))]
            out.append(textwrap.fill(line, width, subsequent_indent=indent[:width // 2],
                                     break_on_hyphens=False))
        return "\n".join(out)

    def show(self, text: str, style: str = "") -> None:
        """Print text, wrapped (keeping what the player is typing on its own line)."""
        text = self.wrap(text)
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


MIN_PASSWORD = 8  # as the server's own dialogue (server/gateway/session.py) asks


async def _answer(ws: ClientConnection, term: Terminal, *types: str) -> dict[str, Any]:
    """The next message of one of `types` (or an error); anything else is shown."""
    while True:
        reply = await _recv(ws)
        if reply.get("type") in (*types, "error"):
            return reply
        show_message(term, reply)


async def login(ws: ClientConnection, term: Terminal, hello: dict[str, Any]
                ) -> dict[str, Any] | None:
    """The dialogue of telnet: the name; then its password if the character exists, else
    the questions of a new one (is the name right, a password twice, a class). The server
    says which (`exists`); passwords are read without echo. Returns the `login` message
    that logs this character in again (after a reconnection), or None at the end of
    input."""
    classes: dict[str, str] = hello.get("classes", {})
    while True:
        name = await term.line("By what name are you known? ")
        if name is None:
            return None
        name = name.strip()
        if not name:
            continue
        await ws.send(json.dumps({"type": "exists", "name": name}))
        known = await _answer(ws, term, "exists")
        problem = known.get("problem") or known.get("message")
        if known.get("type") == "error" or problem:
            term.show(str(problem or "That name cannot be used."), "error")
            continue
        if known.get("exists"):
            password = await term.secret("Password: ")
            if password is None:
                return None
            msg: dict[str, Any] = {"type": "login", "name": name, "password": password,
                                   "batch": True}
        else:
            new = await _new_character(term, name.capitalize(), classes)
            if new is None:
                return None
            if new is False:
                continue
            password, cls = new
            msg = {"type": "register", "name": name, "password": password, "class": cls,
                   "batch": True}
        await ws.send(json.dumps(msg))
        reply = await _answer(ws, term, "auth")
        if reply.get("ok"):
            return {"type": "login", "name": name, "password": msg["password"], "batch": True}
        error = reply.get("error", {}) if reply.get("type") == "auth" else reply
        term.show(str(error.get("message", "Login failed.")), "error")


async def _new_character(term: Terminal, name: str, classes: dict[str, str]
                         ) -> tuple[str, str] | Literal[False] | None:
    """The questions of a new character: (password, class); False to start over (the name
    was not right); None at the end of input."""
    answer = await term.line(f"Did I get that right, {name} (y/n)? ")
    if answer is None:
        return None
    if not answer.strip().lower().startswith("y"):
        return False
    prompt = f"Give me a password for {name}: "
    while True:
        password = await term.secret(prompt)
        if password is None:
            return None
        if len(password) < MIN_PASSWORD:
            term.show(f"A password needs at least {MIN_PASSWORD} characters.", "error")
            continue
        again = await term.secret("Please retype the password: ")
        if again is None:
            return None
        if again == password:
            break
        term.show("The passwords don't match.", "error")
        prompt = "Give me a password: "
    options = ", ".join(f"[{label[:1].upper()}]{label[1:]}" for label in classes.values())
    while True:
        choice = await term.line(f"Choose a class: {options}: ")
        if choice is None:
            return None
        word = choice.strip().lower()
        cls = next((cid for cid, label in classes.items()
                    if word and (cid.startswith(word) or label.lower().startswith(word))), None)
        if cls is not None:
            return password, cls
        term.show("That is not a class here.", "error")


def expand_events(msg: dict[str, Any]) -> list[dict[str, Any]]:
    """The `event` messages an `events` message holds, in order, each with its `seq`: the
    message's for the first, one more for each next (docs/protocol.md, `events`)."""
    items = msg.get("events")
    seq = msg.get("seq")
    first = seq if isinstance(seq, int) else 0
    return [{**item, "type": "event", "seq": first + i}
            for i, item in enumerate(items if isinstance(items, list) else ())
            if isinstance(item, dict)]


def show_message(term: Terminal, msg: dict[str, Any]) -> None:
    """Print one server message as a person should read it."""
    kind = msg.get("type")
    if kind == "events":
        for event in expand_events(msg):
            show_message(term, event)
    elif kind == "event":
        if msg.get("name") == "vitals":
            return  # the status line below shows them
        text = msg.get("text")
        if text:
            term.show(str(text), str(msg.get("name", "")))
    elif kind == "error":
        term.show(str(msg.get("message", "")), "error")
    elif kind == "result" and not msg.get("ok"):
        term.show(str(msg.get("error", {}).get("message", "")), "error")


MAX_GATEWAYS = 16  # addresses kept, given and learned from `hello`
RECONNECT_FOR = 300.0  # seconds of trying before giving up


async def play(url: str | Sequence[str], term: Terminal,
               on_connect: Callable[[], None] | None = None,
               backoff: tuple[float, float] = (0.5, 10.0)) -> int:
    """Connect (to the first of `url` that answers), log in, then pass lines to the
    server until `quit` or the end of input. A lost connection (not one the server
    closed on purpose) is made again, to the same address first and then to the
    world's other gateways (given, or listed in `hello`), and the character logged in
    again; `backoff` is the first and the longest wait between tries."""
    given = [url] if isinstance(url, str) else list(url)
    urls = _addresses(given, [])
    if len(urls) != len(set(given)):
        term.show("Give WebSocket URLs (ws://host:port/ws), not: " + ", ".join(
            u for u in given if u not in urls), "error")
        return 2
    ws: ClientConnection | None = None
    for address in urls:
        try:
            ws = await connect(address, subprotocols=["aegent.json"],  # type: ignore[list-item]
                               open_timeout=10)
            break
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            term.show(f"Cannot connect to {address}: {exc}", "error")
    if ws is None:
        return 1
    if on_connect:
        on_connect()
    hello = await _recv(ws)
    urls = _addresses(urls, hello.get("gateways"))
    if hello.get("motd"):
        term.show(str(hello["motd"]))
    again = await login(ws, term, hello)
    if again is None:
        await ws.close()
        return 0
    typing: asyncio.Task[str | None] | None = None  # the line being typed, across reconnects
    try:
        while True:
            typing, ended = await _playing(ws, term, typing)
            await ws.close()
            if ended or ws.close_code == 1000:  # quit, end of input, or closed on purpose
                break
            term.show("The connection was lost; reconnecting…", "error")
            found = await _reconnect(urls, address, again, term, backoff)
            if found is None:
                term.show("Could not reconnect; giving up.", "error")
                return 1
            ws, address, urls = found
    finally:
        if typing is not None:
            typing.cancel()
    term.show("Connection closed.")
    return 0


def _addresses(urls: list[str], more: object) -> list[str]:
    """`urls` and the WebSocket URLs in `more` (hello's `gateways`), once each, at most
    MAX_GATEWAYS."""
    out: list[str] = []
    for url in [*urls, *(more if isinstance(more, list) else [])]:
        if (isinstance(url, str) and url.startswith(("ws://", "wss://")) and url not in out
                and len(out) < MAX_GATEWAYS):
            out.append(url)
    return out


async def _playing(ws: ClientConnection, term: Terminal,
                   typing: asyncio.Task[str | None] | None
                   ) -> tuple[asyncio.Task[str | None] | None, bool]:
    """Show what the server sends and send what the player types, until the connection
    ends; returns the line still being typed and whether the player ended it (`quit`,
    the end of input)."""
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
    closed = asyncio.create_task(done.wait())
    ended = False
    try:
        while not done.is_set():
            if typing is None:
                typing = asyncio.create_task(term.line())
            await asyncio.wait({typing, closed}, return_when=asyncio.FIRST_COMPLETED)
            if not typing.done():
                break  # the connection ended first: the line goes to the next one
            line, typing = typing.result(), None
            with contextlib.suppress(ConnectionClosed):
                if line is None:
                    await ws.send(json.dumps({"type": "command", "line": "quit"}))
                    ended = True
                    break
                if line.strip():
                    await ws.send(json.dumps({"type": "command", "line": line}))
                if line.strip().lower() == "quit":
                    ended = True
                    break
        if ended:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 5)
    finally:
        closed.cancel()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return typing, ended


async def _reconnect(urls: list[str], address: str, again: dict[str, Any], term: Terminal,
                     backoff: tuple[float, float]
                     ) -> tuple[ClientConnection, str, list[str]] | None:
    """Dial `address`, then the next ones in turn, waiting longer each time, and log in
    with `again`; None after RECONNECT_FOR seconds."""
    delay, cap = backoff
    deadline = asyncio.get_running_loop().time() + RECONNECT_FOR
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(delay)
        delay = min(cap, delay * 2)
        try:
            ws = await connect(address, subprotocols=["aegent.json"],  # type: ignore[list-item]
                               open_timeout=10)
        except (OSError, TimeoutError, InvalidHandshake):
            address = urls[(urls.index(address) + 1) % len(urls)]
            if len(urls) > 1:
                term.show(f"Trying another server: {address}", "error")
            continue
        try:
            hello = await _recv(ws)
            urls = _addresses(urls, hello.get("gateways"))
            await ws.send(json.dumps(again))
            reply = await _answer(ws, term, "auth")
        except ConnectionClosed:
            continue
        if reply.get("ok"):
            term.show(f"Reconnected to {address}.")
            return ws, address, urls
        await ws.close()
        error = reply.get("error", {}) if reply.get("type") == "auth" else reply
        term.show(str(error.get("message", "Login failed.")), "error")
        return None  # the password no longer works there: asking again is for a person
    return None


def main(url: str | Sequence[str] | None, color: bool | None) -> int:
    """Run the terminal client (`url`: one address, or the world's gateways in turn)."""
    if color is None:
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    term = Terminal(sys.stdout, sys.stdin, color)
    try:
        return asyncio.run(play(url or DEFAULT_URL, term))
    except KeyboardInterrupt:
        return 130
    finally:
        term.close()
