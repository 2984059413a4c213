"""The world host's side of the gateways: sessions that live in another process.

A gateway (server/gateway/relay.py) holds the connections and runs their `Session`s:
flood control, the login dialogue, rendering, codecs, the writes. The world host knows
each of them as a `RemoteSession`, a handle with the methods the host calls on a session
(`deliver`, `send`, `say`, `answer`, `auth_succeeded`...), whose calls become outputs on
the bus to that gateway (server/bus/messages.py). `HostRelay` takes the gateways' inputs
off the bus and drives the `Server` with them (`Server(listen=False)`: the host has no
sockets), and publishes the outputs in the order they were made.

An event that several sessions of one gateway receive in one pass goes to that gateway
once, as one `Delivery` naming its recipients; the gateway renders it per viewer.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from websockets.datastructures import Headers

from server import log, wire
from server.bus import (
    Answer,
    Call,
    Command,
    Delivery,
    Disconnect,
    HostBus,
    Output,
    Reply,
    Request,
    SessionIn,
    SessionOut,
    Subscription,
)
from server.bus.base import Serving, consume
from server.bus.messages import Input
from server.gateway import gmcp, render
from server.gateway.agent import AgentIdentity
from server.gateway.session import (
    AuthRequest,
    GameRequest,
    Limits,
    Session,
    SessionHandle,
    State,
)
from server.host.port import Clock, Marks, Spawns
from server.wire import ErrorCode, Subprotocol, WireError
from world.entities import Character
from world.events import Event, Message, ServerRequest, Snooped, Vitals

if TYPE_CHECKING:
    from server.config import Settings
    from server.gateway.front import A2AEndpoint
    from server.gateway.writer import Link
    from world.prototypes import Content
    from world.world import World


GATEWAY_TIMEOUT = 10.0
"""Seconds without a `ping` from a gateway after which its sessions are dropped (it died:
its players' characters stand link-dead, as after a lost connection)."""


QUEUED_MAX = 10_000
"""Batches of outputs waiting for the journal's copy in JetStream (a pass of the loop
each): past it, while NATS is away, the oldest are dropped (their players' gateways
answer what they miss `world_unavailable`)."""

STOP_WAIT = 10.0
"""Seconds a stopping world host waits for its last outputs to go out."""

HELD_MAX = 64
"""Inputs a session being logged in again may have waiting (its gateway holds at most
`queue_max` commands per session while the host is away: this is above that)."""


@dataclass(frozen=True, slots=True)
class Tagged:
    """A relayed command's id on the host: the client's `id` and the gateway's `n`, so
    that the answer, however late, names both."""

    id: Any
    n: int


def view(ch: Character) -> dict[str, Any]:
    """What a gateway's session shows of its character (its prompt, its settings)."""
    return {"id": ch.id, "name": ch.name, "cls": ch.cls, "kind": str(ch.kind),
            "role": str(ch.role), "title": ch.title, "settings": dict(ch.settings),
            **numbers(ch)}


def numbers(ch: Character) -> dict[str, Any]:
    """The prompt's numbers of `ch`."""
    return {"hp": ch.hp, "max_hp": ch.max_hp, "mana": ch.mana, "max_mana": ch.max_mana,
            "moves": ch.moves, "max_moves": ch.max_moves, "level": ch.level, "xp": ch.xp}


def event_data(event: Event) -> dict[str, Any]:
    """An event as a `Delivery` carries it (`world.events.from_data` reads it back)."""
    return {"name": event.name, "data": event.to_data()}


@dataclass(slots=True, eq=False)
class RemoteSession:
    """A session of `gateway`, as the world host sees it (see the module docstring)."""

    relay: HostRelay
    gateway: str
    id: str
    address: str
    subprotocol: Subprotocol
    state: State = State.CONNECTED
    character: Character | None = None
    agent: AgentIdentity | None = None
    requests: list[GameRequest | AuthRequest] = field(default_factory=list)
    close_reason: str | None = None
    limits: Limits = field(default_factory=Limits)
    last_input: float = 0.0
    seq: int = 0
    watchers: list[SessionHandle] = field(default_factory=list)
    resuming: bool = False  # logging in again after the host restarted
    held: list[Command | Call | SessionIn] = field(default_factory=list)  # while resuming
    gmcp_feed: gmcp.Feed | None = None  # its client takes GMCP: the lists are made here
    relayed: ClassVar[bool] = True

    @property
    def text_mode(self) -> bool:
        return self.subprotocol.text_mode

    @property
    def playing(self) -> bool:
        return self.state is State.PLAYING

    @property
    def queued(self) -> int:
        return 0  # its gateway holds what waits for tokens

    @property
    def allowed_categories(self) -> frozenset[str] | None:
        return self.agent.categories if self.agent is not None else None

    def _out(self, op: str, args: dict[str, Any]) -> None:
        self.relay.out(SessionOut(self.gateway, self.id, op, args))

    def deliver(self, event: Event, cache: dict[Any, Any] | None = None) -> None:
        if event.internal:
            assert isinstance(event, ServerRequest)
            self.requests.append(GameRequest(event.kind, dict(event.args)))
            return
        ch = self.character
        if self.watchers and not isinstance(event, Vitals | Snooped):
            self.echo(render.plain(render.render(event, ch.name if ch is not None else "")))
        if self.gmcp_feed is not None and not isinstance(event, Vitals):
            self.gmcp_feed.changed()  # its lists may have changed: looked at on flush
            self.relay.gmcp_touched.add(self)
        self.seq += 1
        if cache is None or ch is None:  # its own: straight to it
            self._out("event", event_data(event))
            return
        self._recipients(event, cache).append(ch.id)

    def _recipients(self, event: Event, cache: dict[Any, Any]) -> list[int]:
        """The recipients of the event's delivery to this session's gateway in this
        fan-out pass, made and queued by its first recipient there (the event's data
        made once for every gateway)."""
        delivery = cache.get((HostRelay, id(event), self.gateway))
        if delivery is None:
            data = cache.get((HostRelay, id(event)))
            if data is None:
                data = cache[(HostRelay, id(event))] = event_data(event)
            delivery = cache[(HostRelay, id(event), self.gateway)] = Delivery(
                self.gateway, [], data)
            self.relay.out(delivery)
        return delivery.recipients

    def send(self, msg: dict[str, Any]) -> None:
        if not self.text_mode:
            self._out("send", {"msg": msg})

    def say(self, spans: render.Spans) -> None:
        if self.watchers:
            self.echo(render.plain(spans))
        if self.text_mode:
            self._out("say", {"spans": [list(span) for span in spans]})

    def notify(self, spans: render.Spans, level: str = "info") -> None:
        self.deliver(Message(render.plain(spans), level))

    def echo(self, text: str, typed: bool = False) -> None:
        name = self.character.name if self.character else self.id
        for watcher in self.watchers:
            watcher.deliver(Snooped(name, text, typed))

    def answer(self, id: Any, code: str | None = None, message: str = "") -> None:
        n = 0
        if isinstance(id, Tagged):
            id, n = id.id, id.n
        ch = self.character
        self.relay.out(Answer(self.gateway, self.id, code is None, id, code,
                              message if code is not None else None, n,
                              numbers(ch) if ch is not None else None))

    def auth_succeeded(self, character: Character, role: str, id: Any = None,
                       created: bool = False) -> None:
        self.character = character
        self.state = State.PLAYING
        server = self.relay.server
        resumed, self.resuming = self.resuming, False
        if self.gmcp_feed is not None:  # the lists go whole at the next flush
            self.gmcp_feed.login(character)
            self.relay.gmcp_touched.add(self)
        self._out("auth_ok", {"character": view(character), "role": role, "id": id,
                              "created": created, "resumed": resumed,
                              "applied": self.relay.applied.get((self.gateway, self.id), 0),
                              "agent": self.agent.to_data() if self.agent else None,
                              "tools": server.tool_list(self),
                              "tools_all": server.tool_list(self, every=True)})
        if self.held:  # what came while it was logged in again, once that is done
            asyncio.get_running_loop().call_soon(self.relay.release, self)

    def auth_failed(self, code: str, message: str, id: Any = None) -> None:
        self.state = State.CONNECTED
        self.resuming = False
        for held in self.held:  # never applied: the gateway hears so
            if isinstance(held, Command | Call):
                self.relay.out(Answer(self.gateway, self.id, False, held.id, "unknown_session",
                                      "This world host does not know the session.", held.n))
        self.held.clear()
        self._out("auth_failed", {"code": code, "message": message, "id": id})

    def name_checked(self, exists: bool, problem: str | None, id: Any = None) -> None:
        self.state = State.CONNECTED
        self._out("name_checked", {"exists": exists, "problem": problem, "id": id})

    def apply_limits(self, limits: Limits) -> None:
        self.limits = limits
        self._out("limits", {"rate": limits.rate, "burst": limits.burst,
                             "queue": limits.queue, "max_message": limits.max_message})

    def close(self, reason: str) -> None:
        self.state = State.CLOSED
        self.close_reason = reason

    def tick(self, now: float) -> None:
        """Nothing: its gateway runs its queued commands."""

    def outbox(self) -> list[str | bytes]:
        return []  # its output went to the relay as it was made


def deliver_many(event: Event, sessions: Iterable[SessionHandle], cache: dict[Any, Any]
                 ) -> None:
    """A world host's fan-out (`Server.fan_out`): `session.deliver(event, cache)` for each
    of `sessions`, with the usual case done here: a gateway's session without snoopers
    or GMCP joins the recipients of the event's one `Delivery` to its gateway. This is
    the loop that every say in a crowd runs once per listener."""
    by_gateway: dict[str, list[int]] = {}  # this event's recipients, per gateway
    for session in sessions:
        ch = session.character
        if (not isinstance(session, RemoteSession) or ch is None or session.watchers
                or session.gmcp_feed is not None or event.internal):
            session.deliver(event, cache)
            continue
        session.seq += 1
        ids = by_gateway.get(session.gateway)
        if ids is None:
            ids = by_gateway[session.gateway] = session._recipients(event, cache)
        ids.append(ch.id)


@dataclass(slots=True, eq=False)
class GatewayLink:
    """The `Link` of a `RemoteSession` in `Server.sessions`: closing it tells the gateway."""

    relay: HostRelay
    remote: RemoteSession
    address: str = ""
    opened_at: float = 0.0
    session: Session | None = None  # no gateway session object lives here
    ping_sent: float | None = None
    closed: bool = False

    def send_frames(self, frames: list[str | bytes]) -> None:
        """Nothing: a remote session's output goes out as it is made."""

    def write_pending(self) -> None:
        """Nothing to write here."""

    def ping(self, now: float) -> None:
        """Its gateway keeps the connection alive."""

    def close(self, code: int = 1000, reason: str = "") -> None:
        if not self.closed:
            self.closed = True
            remote = self.remote
            self.relay.out(Disconnect(remote.gateway, remote.id,
                                      remote.close_reason or reason or "goodbye"))
            self.relay.drop(remote)

    def abort(self, why: str = "") -> None:
        self.close(1006, why)


class Host(Marks, Clock, Spawns, Protocol):
    """What `HostRelay` and its `RemoteSession`s need of the server (server/app.py
    `Server`)."""

    fan_out: Callable[[Event, list[SessionHandle], dict[Any, Any]], None]

    @property
    def content(self) -> Content: ...
    @property
    def world(self) -> World: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def a2a(self) -> A2AEndpoint: ...
    @property
    def recovered_commands(self) -> Mapping[tuple[str, str], int]: ...
    @property
    def journal_last(self) -> int: ...
    def class_names(self) -> dict[str, str]: ...
    def tool_list(self, session: SessionHandle, every: bool = False) -> list[dict[str, Any]]: ...
    def attach(self, session: SessionHandle, link: Link) -> None: ...
    def requested(self, session: SessionHandle) -> None: ...
    def run(self, session: SessionHandle,
            msg: wire.Command | wire.CallTool | wire.Observe) -> None: ...
    def session_lost(self, session: SessionHandle) -> None: ...
    async def resume(self, session: SessionHandle, name: str) -> None: ...


class Replica(Protocol):
    """The journal's copy in JetStream (server/host/replica.py), as the relay waits on it."""

    @property
    def acked(self) -> int: ...
    async def wait_acked(self, seq: int, timeout: float) -> bool: ...


class HostRelay:
    """Drives a `Server` from the gateways' inputs and sends them its outputs.

    Args:
        server: the world host's server (made with `listen=False`).
        bus: the bus to the gateways.
    """

    def __init__(self, server: Host, bus: HostBus) -> None:
        self.server = server
        server.fan_out = deliver_many  # one `Delivery` per event and gateway
        self.bus = bus
        self.run_id = os.urandom(6).hex()  # this start of the host: gateways see a restart
        self.log = log.get().bind(role="world_host")
        self.sessions: dict[tuple[str, str], RemoteSession] = {}
        self._pending: list[Output] = []
        # Batches of outputs, each with the journal entry it follows: sent once JetStream
        # holds that entry (nothing is acknowledged before its input is in the journal).
        self._queue: asyncio.Queue[tuple[int, list[Output]]] = asyncio.Queue()
        self.replica: Replica | None = None
        self._scheduled = False
        self._tasks: list[asyncio.Task[None]] = []
        self._serving: Serving | None = None
        self._inputs: Subscription[Input] | None = None
        # (gateway, session) -> the last command number its journal replayed (recovery)
        self.applied: dict[tuple[str, str], int] = dict(server.recovered_commands)
        self.gmcp_touched: set[RemoteSession] = set()  # GMCP sessions that heard something
        self.gateway_runs: dict[str, str] = {}  # gateway -> the run id its pings carry
        self.gateway_seen: dict[str, float] = {}  # gateway -> when it last asked `ping`

    async def start(self) -> None:
        """Take inputs and answer requests from now on."""
        self._inputs = await self.bus.inputs()
        self._serving = await self.bus.serve(self._request)
        self._tasks = [asyncio.create_task(self._take(self._inputs)),
                       asyncio.create_task(self._send()),
                       asyncio.create_task(self._reaper())]
        self.log.info("world_host_ready", run=self.run_id)

    async def stop(self) -> None:
        """Send what is pending, then stop taking inputs."""
        self._flush()
        deadline = self.server.now() + STOP_WAIT
        while not self._queue.empty() and self.server.now() < deadline:
            await asyncio.sleep(0.01)
        if self._serving is not None:
            await self._serving.close()
        if self._inputs is not None:
            await self._inputs.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ---- outputs

    def out(self, msg: Output) -> None:
        """Queue an output; the pass's outputs are published together, in order."""
        self._pending.append(msg)
        self._schedule()

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        if self.gmcp_touched:  # the GMCP lists of those that heard something, up to date
            touched, self.gmcp_touched = self.gmcp_touched, set()
            for remote in touched:
                ch, feed = remote.character, remote.gmcp_feed
                if ch is None or feed is None or not remote.playing:
                    continue
                found = feed.sync(ch)
                if found:
                    self._pending.append(SessionOut(remote.gateway, remote.id, "gmcp", {
                        "messages": [[package, data] for package, data in found]}))
        if self._pending:
            batch, self._pending = self._pending, []
            queue = self._queue
            if queue.qsize() >= QUEUED_MAX:  # the journal's copy is stuck: the oldest go
                queue.get_nowait()
                self.log.error("outputs_dropped", why="journal copy not acknowledged",
                               queued=QUEUED_MAX)
            queue.put_nowait((self.server.journal_last, batch))

    async def _send(self) -> None:
        while True:
            seq, batch = await self._queue.get()
            replica = self.replica
            while replica is not None and not await replica.wait_acked(seq, 5.0):
                self.log.warning("outputs_held", seq=seq, acked=replica.acked)
            by_gateway: dict[str, list[Output]] = {}
            for msg in batch:  # a batch per gateway, each in order
                by_gateway.setdefault(msg.gateway, []).append(msg)
            for gateway, msgs in by_gateway.items():
                try:
                    await self.bus.deliver_many(gateway, msgs)
                except Exception as exc:  # the bus reconnects; a lost output is logged
                    self.log.warning("output_not_sent", gateway=gateway, count=len(msgs),
                                     error=repr(exc))

    def _take_gmcp(self, remote: RemoteSession, spec: Any) -> None:
        """A session's client takes GMCP (`spec`: what it declared): its lists are made
        here, from the world."""
        if not isinstance(spec, dict):
            remote.gmcp_feed = None
            return
        supports = gmcp.Supports(self.server.settings.gmcp_supports_max)
        if spec.get("declared"):
            supports.update(gmcp.SUPPORTS[0], [str(s) for s in spec.get("supports") or ()])
        remote.gmcp_feed = gmcp.Feed(self.server.world, supports)

    def _gmcp_message(self, remote: RemoteSession, package: str, data: Any) -> None:
        """A GMCP message the client sent: what it supports, or a request for a list."""
        feed, ch = remote.gmcp_feed, remote.character
        if feed is None or ch is None:
            return
        if package.lower() in gmcp.SUPPORTS:
            if feed.supports is not None:
                feed.supports.update(package, data)
            feed.changed()
            self.gmcp_touched.add(remote)
            self._schedule()
            return
        found = feed.request(package, data, ch)
        if found:
            self.out(SessionOut(remote.gateway, remote.id, "gmcp", {
                "messages": [[p, d] for p, d in found]}))

    def _hold(self, remote: RemoteSession, msg: Command | Call | SessionIn) -> None:
        """Keep `msg` until `remote` is logged in again; past `HELD_MAX`, a command is
        answered as if the session were unknown (its gateway says `world_unavailable`)."""
        if len(remote.held) < HELD_MAX:
            remote.held.append(msg)
        elif isinstance(msg, Command | Call):
            self.out(Answer(msg.gateway, msg.session, False, msg.id, "unknown_session",
                            "Too much waits for this session.", msg.n))

    def release(self, remote: RemoteSession) -> None:
        """Take the inputs `remote` got while it was logged in again."""
        held, remote.held = remote.held, []
        for msg in held:
            self.take(msg)

    def forget(self, remote: RemoteSession) -> None:
        """`remote` is closed: its inputs are no longer taken."""
        if self.sessions.get((remote.gateway, remote.id)) is remote:
            del self.sessions[(remote.gateway, remote.id)]

    def drop(self, remote: RemoteSession) -> None:
        """`remote`'s connection is gone, as far as the world is concerned: as when a
        connection closes in one process (its character stands link-dead, if it plays)."""
        self.forget(remote)
        asyncio.get_running_loop().call_soon(self.server.session_lost, remote)

    def _gateway_seen(self, gateway: str, run: str) -> None:
        """A gateway asked `ping`: a new run of it (it restarted) has none of the sessions
        it had, so they are dropped; each gateway's last `ping` is kept for `_reaper`."""
        known = self.gateway_runs.get(gateway)
        self.gateway_runs[gateway] = run
        self.gateway_seen[gateway] = self.server.now()
        if known is not None and known != run:
            self._drop_gateway(gateway, "restarted")

    def _drop_gateway(self, gateway: str, why: str) -> None:
        gone = [r for (g, _), r in self.sessions.items() if g == gateway]
        for remote in gone:
            self.drop(remote)
        if gone:
            self.log.warning("gateway_sessions_dropped", gateway=gateway, why=why,
                             count=len(gone))

    async def _reaper(self) -> None:
        """Drop the sessions of a gateway silent for `GATEWAY_TIMEOUT` seconds (it died)."""
        while True:
            await asyncio.sleep(GATEWAY_TIMEOUT / 4)
            now = self.server.now()
            for gateway, seen in list(self.gateway_seen.items()):
                if now - seen > GATEWAY_TIMEOUT:
                    del self.gateway_seen[gateway]
                    self._drop_gateway(gateway, "silent")

    # ---- inputs

    async def _request(self, req: Request) -> Reply:
        if req.op == "ping":
            self._gateway_seen(req.gateway, str(req.args.get("run", "")))
            server = self.server
            return Reply(True, {"run": self.run_id, "name": server.content.name,
                                "motd": server.content.motd, "classes": server.class_names(),
                                "zones": {zid: zone.name for zid, zone
                                          in server.world.content.zones.items()}})
        if req.op in ("a2a_get", "a2a_post"):
            return await self._a2a(req)
        return Reply(False, code="unknown_op", message=f"no request {req.op[:40]!r}")

    async def _a2a(self, req: Request) -> Reply:
        """An A2A request a gateway took in: answered here, the response sent back whole."""
        args = req.args
        headers = Headers([(str(k), str(v)) for k, v in args.get("headers", ())])
        path = str(args.get("path", ""))
        a2a = self.server.a2a
        if req.op == "a2a_get":
            response = await a2a.get(path, headers)
        else:
            response = await a2a.post(path, headers, str(args.get("body", "")).encode(),
                                      str(args.get("address", "")))
        return Reply(True, {"status": response.status_code, "reason": response.reason_phrase,
                            "headers": [list(kv) for kv in response.headers.raw_items()],
                            "body": response.body.decode("utf-8", "replace")})

    async def _take(self, inputs: Subscription[Input]) -> None:
        await consume(inputs, self.take, self.log, "input")

    def take(self, msg: Input) -> None:
        """Act on one input from a gateway."""
        server = self.server
        if isinstance(msg, Command | Call):
            remote = self.sessions.get((msg.gateway, msg.session))
            if remote is not None and remote.resuming:
                self._hold(remote, msg)
                return
            if remote is None or remote.character is None or not remote.playing:
                self.out(Answer(msg.gateway, msg.session, False, msg.id, "unknown_session",
                                "This world host does not know the session.", msg.n))
                return
            tagged = Tagged(msg.id, msg.n)
            server.run(remote, wire.Command(msg.line, tagged) if isinstance(msg, Command)
                       else wire.CallTool(msg.tool, dict(msg.args), tagged))
            server.requested(remote)
        elif isinstance(msg, SessionIn):
            self._session_in(msg)
        else:
            self.log.warning("input_ignored", type=type(msg).__name__)

    def _session_in(self, msg: SessionIn) -> None:
        server, args, key = self.server, msg.args, (msg.gateway, msg.session)
        remote = self.sessions.get(key)
        if msg.op in ("auth", "resume"):
            if remote is None:
                remote = RemoteSession(self, msg.gateway, msg.session,
                                       str(args.get("address", "")),
                                       Subprotocol(str(args.get("subprotocol", "json"))),
                                       last_input=server.now())
                self.sessions[key] = remote
                server.attach(remote, GatewayLink(self, remote, remote.address, server.now()))
            if remote.playing:
                if msg.op == "resume" and remote.character is not None:  # again: say so
                    remote.resuming = True
                    remote.auth_succeeded(remote.character, str(remote.character.role))
                return
            remote.state = State.AUTHENTICATING
            self._take_gmcp(remote, args.get("gmcp"))
            if msg.op == "resume":
                remote.resuming = True
                agent = args.get("agent")
                remote.agent = AgentIdentity.from_data(agent) if isinstance(agent, dict) \
                    else None
                server.spawn(server.resume(remote, str(args.get("name", ""))))
                return
            cls = args.get("cls")
            remote.requests.append(AuthRequest(
                str(args.get("kind", "")), str(args.get("name", "")),
                str(args.get("password", "")), str(cls) if cls is not None else None,
                args.get("id")))
            server.requested(remote)
            return
        if remote is None:
            return
        if remote.resuming and msg.op != "lost":
            self._hold(remote, msg)
            return
        if msg.op == "lost":
            self.forget(remote)
            server.session_lost(remote)
        elif msg.op == "observe" and remote.playing:
            server.run(remote, wire.Observe(args.get("id")))
        elif msg.op == "usage" and remote.playing:
            try:
                usage = wire.parse_message(args.get("message"))
            except WireError as err:
                remote.send(wire.error(err.code, err.message, err.id))
                server.mark(remote)
                return
            remote.requests.append(GameRequest("usage_message", {"message": usage}))
            server.requested(remote)
        elif msg.op == "gmcp" and remote.playing and remote.gmcp_feed is not None:
            self._gmcp_message(remote, str(args.get("package", "")), args.get("data"))
        elif msg.op == "advance" and remote.playing:
            remote.requests.append(GameRequest("advance", {"ticks": int(args.get("ticks", 1)),
                                                          "id": args.get("id")}))
            server.requested(remote)
        else:
            remote.send(wire.error(ErrorCode.BAD_FRAME, f"unknown request {msg.op[:40]!r}"))
            server.mark(remote)
