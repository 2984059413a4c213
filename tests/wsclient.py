"""A small test client over real WebSockets, in any of the three subprotocols.

`register(..., batch=True)` and `login(..., batch=True)` ask for batched events and
make `recv` expand each `events` message into the `event` messages it holds (each with
its `seq`), so a test reads either mode alike; without it (the default) every message
comes as the server sent it.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import msgpack
from websockets.asyncio.client import ClientConnection, connect

TIMEOUT = 10.0


class Client:
    """One player's connection: structured (json/msgpack) or text."""

    def __init__(self, ws: ClientConnection, subprotocol: str) -> None:
        self.ws = ws
        self.subprotocol = subprotocol
        self.seen: list[Any] = []
        self.batch = False  # `events` messages are expanded (asked for at login)
        self.batches: list[dict[str, Any]] = []  # the `events` messages expanded, as sent
        self._expanded: deque[dict[str, Any]] = deque()  # their events not taken yet
        self._id = 0

    @classmethod
    async def open(cls, url: str, subprotocol: str | None) -> Client:
        """Connect to `url` asking for `subprotocol` (None: none offered, text)."""
        ws = await connect(url, subprotocols=[subprotocol] if subprotocol else None,
                           open_timeout=TIMEOUT, max_size=None)
        return cls(ws, subprotocol or "aegent.text")

    @classmethod
    async def registered(cls, url: str, names: Sequence[str],
                         subprotocol: str = "aegent.json") -> list[Client]:
        """One client per name, each past its `hello` and registered, in order."""
        clients = []
        for name in names:
            client = await cls.open(url, subprotocol)
            await client.recv()
            await client.register(name)
            clients.append(client)
        return clients

    def next_id(self) -> int:
        self._id += 1
        return self._id

    async def send(self, msg: dict[str, Any] | str | bytes) -> None:
        if isinstance(msg, str | bytes):
            await self.ws.send(msg)
        elif self.subprotocol == "aegent.msgpack":
            await self.ws.send(msgpack.packb(msg, use_bin_type=True))
        else:
            await self.ws.send(json.dumps(msg))

    async def recv(self, timeout: float = TIMEOUT) -> Any:
        """The next message (with `batch`: an `events` message's events one by one)."""
        while not self._expanded:
            msg = await self._recv_frame(timeout)
            if not (self.batch and isinstance(msg, dict) and msg.get("type") == "events"):
                self.seen.append(msg)
                return msg
            self.batches.append(msg)
            self._expanded.extend(expand_events(msg))
        event = self._expanded.popleft()
        self.seen.append(event)
        return event

    async def _recv_frame(self, timeout: float) -> Any:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        if self.subprotocol == "aegent.msgpack":
            assert isinstance(raw, bytes), "msgpack sessions get binary frames"
            return msgpack.unpackb(raw, raw=False)
        if self.subprotocol == "aegent.json":
            assert isinstance(raw, str), "json sessions get text frames"
            return json.loads(raw)
        return raw

    async def until(self, pred: Callable[[Any], bool], timeout: float = TIMEOUT) -> list[Any]:
        """Receive until a message matches; return everything received, that one last."""
        got: list[Any] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            msg = await self.recv(max(0.01, deadline - loop.time()))
            got.append(msg)
            if pred(msg):
                return got

    async def register(self, name: str, password: str = "correct horse", cls: str = "warrior",
                       batch: bool = False) -> list[Any]:
        """Register and wait for the `auth` answer and the first `vitals` (`batch`: ask
        for `events` messages and expand them from now on)."""
        msg = {"type": "register", "name": name, "password": password, "class": cls,
               "id": "reg"}
        await self.send({**msg, "batch": True} if batch else msg)
        self.batch = batch
        got = await self.until(lambda m: m.get("type") == "auth")
        if got[-1]["ok"]:
            got += await self.until(lambda m: m.get("type") == "event"
                                    and m["name"] == "vitals")
        return got

    async def login(self, name: str, password: str = "correct horse", batch: bool = False
                    ) -> list[Any]:
        """Log in and wait for the `auth` answer and the first `vitals` (`batch`: as in
        `register`)."""
        msg = {"type": "login", "name": name, "password": password, "id": "login"}
        await self.send({**msg, "batch": True} if batch else msg)
        self.batch = batch
        got = await self.until(lambda m: m.get("type") == "auth")
        if got[-1]["ok"]:
            got += await self.until(lambda m: m.get("type") == "event"
                                    and m["name"] == "vitals")
        return got

    async def command(self, line: str) -> list[Any]:
        """Send a line with an id; return every message up to and including its result."""
        mid = self.next_id()
        await self.send({"type": "command", "line": line, "id": mid})
        return await self.until(lambda m: m.get("type") == "result" and m.get("id") == mid)

    async def call(self, tool: str, **args: Any) -> list[Any]:
        mid = self.next_id()
        await self.send({"type": "call", "tool": tool, "args": args, "id": mid})
        return await self.until(lambda m: m.get("type") == "result" and m.get("id") == mid)

    async def close(self) -> None:
        await self.ws.close()


def expand_events(msg: dict[str, Any]) -> list[dict[str, Any]]:
    """The `event` messages an `events` message holds, each with its `seq`: the message's
    for the first, one more for each next (docs/protocol.md, `events`)."""
    items = msg["events"]
    assert all(item["type"] == "event" and "seq" not in item for item in items), msg
    return [{**item, "seq": msg["seq"] + i} for i, item in enumerate(items)]


def events(msgs: list[Any], name: str | None = None) -> list[dict[str, Any]]:
    """The `event` messages among `msgs` (of one name, if given)."""
    return [m for m in msgs if isinstance(m, dict) and m.get("type") == "event"
            and (name is None or m["name"] == name)]


def auth_of(msgs: list[Any]) -> dict[str, Any]:
    """The `auth` message among `msgs`."""
    found: dict[str, Any] = next(m for m in msgs if isinstance(m, dict) and m.get("type") == "auth")
    return found
