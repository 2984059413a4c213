"""`GameClient`: one agent's connection to the server over `aegent.msgpack`.

An asyncio client of the public protocol only (docs/protocol.md); it imports
nothing of the server but `server.wire`, the shared codecs. It connects, reads
`hello`, logs in (name and password, registering on first use, or an API key
when the server offers them: `Credentials.api_key` is the hook), and then:

- `call(tool, args)` and `command(line)` send a command with an id and return a
  `Result` when the server's `result` for it arrives: `ok`, the error, and the
  events that came in while it was under way (the server sends every event a
  command causes before its result);
- `observe()` asks for an `observation` (the snapshot and admissible actions);
- `tools()` asks for the tool list;
- `advance(ticks)` runs world ticks on a lockstep server (server/host/lockstep.py);
- `usage_reserve`, `usage_settle`, `usage_report` account for model calls (agents
  logged in with an API key); a refused reservation raises `BudgetExceeded`;
- `next_events(timeout)` waits for events without spinning: it returns what has
  arrived (every event, in order) as soon as there is something, or [] after
  `timeout`; `events()` is the same as an async iterator. A
  `{"type": "reconnected"}` marker is put in the stream when a lost connection was
  made again (sequence numbers start over then).

It asks for batched events (`"batch": true` in its `login` and `register`) and
expands each `events` message into the `event` messages it holds, each with its
`seq` (`expand_events`), where frames are decoded: the rest of the client, and
`on_frame`, see `event` messages only, from any server (one that predates batching
sends them as they are).

A reader task decodes every frame. When the connection drops, pending requests
fail with `ConnectionLost`, and the client reconnects with exponential back-off
(with jitter, capped) and logs in again, until `close()`: to the same address first,
then to the world's other gateways in turn (given, or listed in `hello`).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Subprotocol as WsSubprotocol

import server.wire as wire

SUBPROTOCOL = wire.Subprotocol.MSGPACK.value
MAX_BUFFERED_EVENTS = 2000  # beyond this the oldest are dropped (and counted)
MAX_GATEWAYS = 16  # addresses kept, given and learned from `hello`


def split_urls(text: str) -> list[str]:
    """`--server ws://a/ws,ws://b/ws`: the addresses, in order (one world's gateways)."""
    return [u.strip() for u in text.split(",") if u.strip()]


class ClientError(Exception):
    """The server refused something the client cannot go on without (a login)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ConnectionLost(ConnectionError):
    """The connection dropped while a request waited for its answer."""


class BudgetExceeded(ClientError):
    """The server refused to reserve model usage: a daily budget is reached.

    `on_limit` says what the agent must do now: `scripted` (play on without the
    model) or `stop`.
    """

    def __init__(self, message: str, on_limit: str) -> None:
        super().__init__("budget_exceeded", message)
        self.on_limit = on_limit if on_limit in ("scripted", "stop") else "stop"


@dataclass(frozen=True, slots=True)
class Credentials:
    """How an agent logs in: a name and password (registering on first use with `cls`),
    or an API key (agent accounts, when the server offers them)."""

    name: str
    password: str = ""
    cls: str | None = None
    api_key: str | None = None

    def login_message(self, batch: bool = True) -> dict[str, Any]:
        """The `login` message for these credentials (`batch`: asking for `events`
        messages)."""
        msg: dict[str, Any] = ({"type": "login", "api_key": self.api_key} if self.api_key
                               else {"type": "login", "name": self.name,
                                     "password": self.password})
        if batch:
            msg["batch"] = True
        return msg


def expand_events(msg: dict[str, Any]) -> list[dict[str, Any]]:
    """The `event` messages a decoded `events` message holds, in order, each given its
    `seq` in place: the message's `seq` for the first, one more for each next
    (docs/protocol.md, `events`). An item that is not a map is skipped, its number
    with it."""
    items = msg.get("events")
    if not isinstance(items, list):
        return []
    seq = msg.get("seq")
    first = seq if isinstance(seq, int) and not isinstance(seq, bool) else None
    out = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            if first is not None:
                item["seq"] = first + i
            out.append(item)
    return out


@dataclass(frozen=True, slots=True)
class Result:
    """The answer to one `call` or `command`."""

    ok: bool
    code: str = ""
    message: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The text of the events it caused, one per line (then the error, if refused)."""
        lines = [str(e["text"]) for e in self.events if e.get("text")]
        if not self.ok and self.message:
            lines.append(self.message)
        return "\n".join(lines)


@dataclass(slots=True)
class Backoff:
    """Exponential back-off with jitter: `base`, doubled per failure, at most `cap`."""

    base: float = 0.5
    cap: float = 30.0
    failures: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next(self) -> float:
        """The delay before the next try (counts one more failure)."""
        delay = min(self.cap, self.base * 2.0 ** self.failures)
        self.failures += 1
        return delay / 2 + self.rng.uniform(0, delay / 2)

    def reset(self) -> None:
        """A success: start again from `base`."""
        self.failures = 0


class GameClient:
    """One agent's connection (see the module docstring).

    Args:
        url: the server's WebSocket URL (`ws://host:4000/ws`), or several: the gateways
            of one world, tried in order. Those the server lists in `hello`
            (`gateways`) are added. A lost connection is made again to the same
            address first, then to the next ones in turn (docs/protocol.md, `hello`).
        credentials: how to log in.
        register: register the character first (its first use); a name that is
            taken falls back to logging in. Once in, reconnections log in.
        backoff: reconnection delays.
        request_timeout: how long a request waits for its answer.
        open_timeout: how long connecting may take.
        batch: ask for `events` messages (expanded here either way).
    """

    def __init__(self, url: str | Sequence[str], credentials: Credentials, *,
                 register: bool = True, backoff: Backoff | None = None,
                 request_timeout: float = 30.0, open_timeout: float = 10.0,
                 batch: bool = True) -> None:
        self.urls: list[str] = []  # the gateways to use, in order (given, then learned)
        self._learn([url] if isinstance(url, str) else list(url))
        if not self.urls:
            raise ValueError("no WebSocket URL to connect to")
        self.url = self.urls[0]  # the one in use (or last tried)
        self.credentials = credentials
        self.register = register
        self.backoff = backoff or Backoff()
        self.request_timeout = request_timeout
        self.open_timeout = open_timeout
        self.batch = batch
        self.batches = 0  # `events` messages received (each expanded into its events)
        self.hello: dict[str, Any] = {}
        self.character: dict[str, Any] = {}
        self.created = False  # the last login registered the character
        self.connected = asyncio.Event()
        self.reconnects = 0
        self.dropped_events = 0
        self.errors: deque[dict[str, Any]] = deque(maxlen=50)  # `error`s without an id
        self.log: Any = structlog.get_logger("aegent.agents").bind(agent=credentials.name)
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ids = 0
        self._pending: dict[Any, asyncio.Future[dict[str, Any]]] = {}
        self._collect: dict[Any, list[dict[str, Any]]] = {}
        self._events: deque[dict[str, Any]] = deque()
        self._wakeup = asyncio.Event()
        self._closing = False
        # every message (an `events` message's events one by one), for tests and envs
        self.on_frame: Callable[[dict[str, Any]], None] | None = None

    # ---- life cycle ---------------------------------------------------------------

    async def connect(self) -> dict[str, Any]:
        """Connect and log in (registering on first use); returns the `auth` message.

        Raises:
            ClientError: the server refused the login or the registration.
            OSError, InvalidHandshake: the server cannot be reached.
        """
        self._closing = False
        auth: dict[str, Any] | None = None
        for url in list(self.urls):  # the first that answers
            try:
                auth = await self._open(url)
                break
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                if url == self.urls[-1]:
                    raise
                self.log.info("connect_failed", url=url, error=repr(exc))
        assert auth is not None
        self._reader = asyncio.create_task(self._read_forever(),
                                           name=f"read-{self.credentials.name}")
        return auth

    async def close(self) -> None:
        """Close the connection and stop reconnecting."""
        self._closing = True
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        self._fail_pending(ConnectionLost("closed"))
        self.connected.clear()

    def _learn(self, urls: Sequence[object]) -> None:
        """Add the WebSocket URLs among `urls` not known yet (at most MAX_GATEWAYS)."""
        for url in urls:
            if (isinstance(url, str) and url.startswith(("ws://", "wss://"))
                    and url not in self.urls and len(self.urls) < MAX_GATEWAYS):
                self.urls.append(url)

    def _after(self, url: str) -> str:
        """The address to try after `url` failed: the next one, round the list."""
        i = self.urls.index(url) if url in self.urls else -1
        return self.urls[(i + 1) % len(self.urls)]

    async def _open(self, url: str) -> dict[str, Any]:
        self.url = url
        ws = await connect(url, subprotocols=[WsSubprotocol(SUBPROTOCOL)],
                           open_timeout=self.open_timeout, max_size=None,
                           ping_interval=20, ping_timeout=20)
        try:
            self.hello = await self._recv(ws)
            gateways = self.hello.get("gateways")
            if isinstance(gateways, list):
                self._learn(gateways)
            auth = await self._login(ws)
        except BaseException:
            await ws.close()
            raise
        self._ws = ws
        self.connected.set()
        self.backoff.reset()
        return auth

    async def _recv(self, ws: ClientConnection) -> dict[str, Any]:
        raw = await asyncio.wait_for(ws.recv(), self.request_timeout)
        msg = wire.decode_msgpack(raw)
        if not isinstance(msg, dict):
            raise ClientError("bad_message", "the server sent something that is not a map")
        return msg

    async def _auth(self, ws: ClientConnection, message: dict[str, Any]) -> dict[str, Any]:
        await ws.send(wire.encode_msgpack(message))
        while True:
            msg = await self._recv(ws)
            if msg.get("type") == "auth":
                return msg
            for event in self._events_in(msg):
                self._push(event)  # the first room and vitals may come at once

    async def _login(self, ws: ClientConnection) -> dict[str, Any]:
        # Registering first (not logging in first) on first use: failed logins are
        # throttled per address, and a hundred agents share one.
        creds = self.credentials
        if self.register and not creds.api_key:
            reg: dict[str, Any] = {"type": "register", "name": creds.name,
                                   "password": creds.password}
            if creds.cls:
                reg["class"] = creds.cls
            if self.batch:
                reg["batch"] = True
            auth = await self._auth(ws, reg)
            code = auth.get("error", {}).get("code")
            if not auth.get("ok") and code == wire.ErrorCode.NAME_TAKEN:
                auth = await self._auth(ws, creds.login_message(self.batch))
        else:
            auth = await self._auth(ws, creds.login_message(self.batch))
        if not auth.get("ok"):
            err = auth.get("error") or {}
            raise ClientError(str(err.get("code", "auth_failed")), str(err.get("message", "")))
        self.created = bool(auth.get("created"))
        self.character = dict(auth.get("character") or {})
        self.register = False  # it exists now: reconnections log in
        return auth

    async def _read_forever(self) -> None:
        while not self._closing:
            ws = self._ws
            if ws is None:
                return
            try:
                async for raw in ws:
                    self._dispatch(raw)
            except ConnectionClosed:
                pass
            if self._closing:
                return
            self.connected.clear()
            self._fail_pending(ConnectionLost("the connection dropped"))
            self.log.warning("connection_lost", url=self.url)
            await self._reconnect()

    async def _reconnect(self) -> None:
        url = self.url  # the same gateway first, then the others in turn
        while not self._closing:
            delay = self.backoff.next()
            await asyncio.sleep(delay)
            try:
                await self._open(url)
            except ClientError as exc:
                self.log.warning("relogin_failed", url=url, code=exc.code,
                                 message=exc.message)
                url = self._after(url)
                continue
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError) as exc:
                self.log.info("reconnect_failed", url=url, error=repr(exc),
                              retry_in=round(delay, 2))
                url = self._after(url)
                continue
            self.reconnects += 1
            self.log.info("reconnected", url=url, reconnects=self.reconnects)
            self._push({"type": "reconnected"})
            return

    def _fail_pending(self, exc: Exception) -> None:
        pending, self._pending = self._pending, {}
        self._collect.clear()
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(exc)

    # ---- incoming -------------------------------------------------------------------

    def _dispatch(self, raw: str | bytes) -> None:
        try:
            msg = wire.decode_msgpack(raw)
        except wire.WireError as exc:
            self.log.warning("bad_frame", error=exc.message)
            return
        if not isinstance(msg, dict):
            return
        if msg.get("type") in ("event", "events"):
            for event in self._events_in(msg):
                if self.on_frame is not None:
                    self.on_frame(event)
                for got in self._collect.values():
                    got.append(event)
                self._push(event)
            return
        if self.on_frame is not None:
            self.on_frame(msg)
        kind = msg.get("type")
        mid = msg.get("id")
        fut = self._pending.pop(mid, None) if mid is not None else None
        if fut is not None and not fut.done():
            fut.set_result(msg)
        elif kind == "error":
            self.errors.append(msg)
            self.log.info("server_error", code=msg.get("code"), message=msg.get("message"))

    def _events_in(self, msg: dict[str, Any]) -> list[dict[str, Any]]:
        """The `event` messages in `msg`: itself, an `events` message's expanded, or none."""
        kind = msg.get("type")
        if kind == "event":
            return [msg]
        if kind == "events":
            self.batches += 1
            return expand_events(msg)
        return []

    def _push(self, msg: dict[str, Any]) -> None:
        if len(self._events) >= MAX_BUFFERED_EVENTS:
            self._events.popleft()
            self.dropped_events += 1
        self._events.append(msg)
        self._wakeup.set()

    async def next_events(self, timeout: float | None = None) -> list[dict[str, Any]]:
        """Every event that arrived since the last call, waiting for one if there is none
        (at most `timeout` seconds; None waits as long as it takes)."""
        if not self._events:
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout)
            except TimeoutError:
                return []
        out = list(self._events)
        self._events.clear()
        self._wakeup.clear()
        return out

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Every event, one at a time, as it comes (an endless async iterator)."""
        while True:
            if not self._events:
                self._wakeup.clear()
                await self._wakeup.wait()
            if self._events:
                yield self._events.popleft()  # one at a time: nothing is lost if we stop

    def pending_events(self) -> int:
        """Events received and not taken yet."""
        return len(self._events)

    # ---- requests ---------------------------------------------------------------------

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    async def _request(self, msg: dict[str, Any], collect: bool = False
                       ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        await self.connected.wait()
        ws = self._ws
        assert ws is not None
        mid = self._next_id()
        msg["id"] = mid
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[mid] = fut
        got: list[dict[str, Any]] = []
        if collect:
            self._collect[mid] = got
        try:
            try:
                await ws.send(wire.encode_msgpack(msg))
            except ConnectionClosed as exc:
                raise ConnectionLost("the connection dropped") from exc
            answer = await asyncio.wait_for(fut, self.request_timeout)
        finally:
            self._pending.pop(mid, None)
            self._collect.pop(mid, None)
        return answer, got

    async def call(self, tool: str, args: dict[str, Any] | None = None) -> Result:
        """Run a tool (a structured command) and wait for its result.

        Raises:
            ConnectionLost: the connection dropped before the result came.
            TimeoutError: no result within `request_timeout`.
        """
        answer, got = await self._request({"type": "call", "tool": tool, "args": args or {}},
                                          collect=True)
        return self._result(answer, got)

    async def command(self, line: str) -> Result:
        """Run a line as a person types it and wait for its result."""
        answer, got = await self._request({"type": "command", "line": line}, collect=True)
        return self._result(answer, got)

    @staticmethod
    def _result(answer: dict[str, Any], got: list[dict[str, Any]]) -> Result:
        if answer.get("type") == "result":
            err = answer.get("error") or {}
            return Result(bool(answer.get("ok")), str(err.get("code") or ""),
                          str(err.get("message") or ""), got)
        return Result(False, str(answer.get("code", "error")), str(answer.get("message", "")),
                      got)

    async def observe(self) -> dict[str, Any]:
        """The server's `observation`: the full snapshot and the admissible actions.

        Raises:
            ClientError: the server answered with an `error` (e.g. `rate_limited`).
        """
        answer, _ = await self._request({"type": "observe"})
        if answer.get("type") != "observation":
            raise ClientError(str(answer.get("code", "error")), str(answer.get("message", "")))
        return answer

    async def tools(self, every: bool = False) -> list[dict[str, Any]]:
        """The tools this character may use, as JSON-Schema function descriptions
        (`every`: also those the API key's scopes do not grant, marked `allowed: false`)."""
        answer, _ = await self._request({"type": "tools", "all": True} if every
                                        else {"type": "tools"})
        tools = answer.get("tools")
        return list(tools) if isinstance(tools, list) else []

    # ---- usage accounting (agents logged in with an API key) -----------------------------

    async def _usage(self, msg: dict[str, Any]) -> dict[str, Any]:
        answer, _ = await self._request({"type": "usage", **msg})
        if answer.get("type") == "error":
            raise ClientError(str(answer.get("code", "error")), str(answer.get("message", "")))
        if not answer.get("ok"):
            err = answer.get("error") or {}
            code, message = str(err.get("code", "error")), str(err.get("message", ""))
            if code == "budget_exceeded":
                raise BudgetExceeded(message, str(err.get("on_limit", "stop")))
            raise ClientError(code, message)
        return answer

    async def usage_reserve(self, model: str, max_tokens: int) -> str:
        """Reserve the worst case of one model call in the agent's budgets; returns the
        reservation's id for `usage_settle`.

        Raises:
            BudgetExceeded: a daily budget would be overshot (see its `on_limit`).
            ClientError: the server refused the message (`not_an_agent`, `bad_field`...).
            ConnectionLost, TimeoutError: no answer.
        """
        answer = await self._usage({"op": "reserve", "model": model, "max_tokens": max_tokens})
        return str(answer.get("reservation", ""))

    async def usage_settle(self, reservation: str, model: str, prompt_tokens: int,
                           completion_tokens: int, cached_tokens: int = 0) -> dict[str, Any]:
        """Release a reservation and record what the call really used; returns the
        server's answer (`tokens`, `cost_usd`, `today`).

        Raises:
            ClientError: `unknown_reservation` (expired, settled already), `bad_field`.
            ConnectionLost, TimeoutError: no answer (the reservation stays held until
                settled or expired).
        """
        return await self._usage({"op": "settle", "reservation": reservation, "model": model,
                                  "prompt_tokens": prompt_tokens,
                                  "completion_tokens": completion_tokens,
                                  "cached_tokens": cached_tokens})

    async def usage_report(self, model: str, prompt_tokens: int, completion_tokens: int,
                           cached_tokens: int = 0) -> dict[str, Any]:
        """Record a model call made without a reservation."""
        return await self._usage({"op": "report", "model": model,
                                  "prompt_tokens": prompt_tokens,
                                  "completion_tokens": completion_tokens,
                                  "cached_tokens": cached_tokens})

    async def advance(self, ticks: int) -> int:
        """Run `ticks` world ticks on a lockstep server and wait until their output has
        gone out to everyone; returns the world's tick count after them.

        Raises:
            ClientError: refused: `lockstep_off` (the server runs on the clock), `busy`
                (another advance is under way), `bad_field`.
            ConnectionLost, TimeoutError: no answer.
        """
        answer, _ = await self._request({"type": "advance", "ticks": ticks})
        if answer.get("type") != "result" or not answer.get("ok"):
            raise ClientError(str(answer.get("code", "error")), str(answer.get("message", "")))
        return int(answer.get("tick") or 0)

    async def ping(self) -> float:
        """A round trip to the server, in seconds."""
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await self._request({"type": "ping"})
        return loop.time() - t0
