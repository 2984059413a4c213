"""A small test client over real WebSockets, in any of the three subprotocols."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
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
        self._id = 0

    @classmethod
    async def open(cls, url: str, subprotocol: str | None) -> Client:
        """Connect to `url` asking for `subprotocol` (None: none offered, text)."""
        ws = await connect(url, subprotocols=[subprotocol] if subprotocol else None,
                           open_timeout=TIMEOUT, max_size=None)
        return cls(ws, subprotocol or "aegent.text")

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
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        if self.subprotocol == "aegent.msgpack":
            assert isinstance(raw, bytes), "msgpack sessions get binary frames"
            msg = msgpack.unpackb(raw, raw=False)
        elif self.subprotocol == "aegent.json":
            assert isinstance(raw, str), "json sessions get text frames"
            msg = json.loads(raw)
        else:
            msg = raw
        self.seen.append(msg)
        return msg

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

    async def register(self, name: str, password: str = "correct horse", cls: str = "warrior"
                       ) -> list[Any]:
        """Register and wait for the `auth` answer and the first `vitals`."""
        await self.send({"type": "register", "name": name, "password": password,
                         "class": cls, "id": "reg"})
        got = await self.until(lambda m: m.get("type") == "auth")
        if got[-1]["ok"]:
            got += await self.until(lambda m: m.get("type") == "event"
                                    and m["name"] == "vitals")
        return got

    async def login(self, name: str, password: str = "correct horse") -> list[Any]:
        await self.send({"type": "login", "name": name, "password": password, "id": "login"})
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


def events(msgs: list[Any], name: str | None = None) -> list[dict[str, Any]]:
    """The `event` messages among `msgs` (of one name, if given)."""
    return [m for m in msgs if isinstance(m, dict) and m.get("type") == "event"
            and (name is None or m["name"] == name)]


def auth_of(msgs: list[Any]) -> dict[str, Any]:
    """The `auth` message among `msgs`."""
    found: dict[str, Any] = next(m for m in msgs if isinstance(m, dict) and m.get("type") == "auth")
    return found
