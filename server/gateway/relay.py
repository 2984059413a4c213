"""A gateway: the connections and their sessions, with the world host over the bus.

`aegent gateway` runs one `Gateway`. It listens for WebSocket and telnet connections
(server/gateway/ws.py, telnet.py), and runs each connection's `Session`: flood control,
the login dialogue, rendering per viewer, the codecs and the writes, as `aegent serve`
does. What needs the world goes to the world host over the bus (server/bus/): commands
as `Command` and `Call`, the rest as `SessionIn`; what comes back (`Delivery`, `Answer`,
`SessionOut`, `Disconnect`) is applied to the sessions and written by the same `Writer`.

The gateway keeps a view of each session's character (a `Character` that is in no
world): the world host sends it whole at login, and the numbers the prompt shows with
each answer and each `vitals` event; `setting_changed` events update its settings.

The world host may go away (a crash, a `reboot`, a deploy) while the gateway keeps its
connections. The gateway asks it every `world_ping_interval` whether it is there. When
it is not, players are told that the world is pausing, and their commands wait, up to
`world_wait` seconds each; then they are answered `world_unavailable`. When a new world
host answers, the gateway logs its playing sessions in again (`resume`), and sends the
commands that waited. A command sent before the host went away and never answered is
answered `world_unavailable` (it may or may not have been applied: the journal knows).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import socket
import time
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import psutil
from websockets.datastructures import Headers
from websockets.http11 import Response

from server import log, netguard, wire
from server.bus import (
    Answer,
    BusError,
    BusTimeout,
    Call,
    Command,
    Delivery,
    Disconnect,
    GatewayBus,
    Input,
    Output,
    Reply,
    Request,
    SessionIn,
    SessionOut,
    Subscription,
)
from server.bus.base import consume
from server.config import Settings
from server.gateway import gmcp
from server.gateway.agent import AgentIdentity
from server.gateway.front import opened, refused
from server.gateway.session import (
    AuthRequest,
    GameRequest,
    Limits,
    Session,
    State,
    deliver_many,
)
from server.gateway.telnet import TelnetConnection
from server.gateway.writer import Link, Writer, keepalive
from server.gateway.ws import Connection, http_response
from server.metrics import Metrics
from server.netguard import LogBudget
from world.entities import Character, Kind, Role
from world.events import Event, SettingChanged, Vitals, from_data

STOP_WAIT = 2.0
"""Seconds a stopping gateway waits at most for each of its last steps (the inputs it
still had to send, its listeners closing)."""

LATE_PINGS = 3
"""Unanswered pings in a row (each within twice `world_ping_interval`) after which a
world host that is still subscribed counts as away: a busy host is not a gone one."""

UNAVAILABLE = "world_unavailable"
"""The error code of a command the world host could not take in time."""

NUMBERS = ("hp", "max_hp", "mana", "max_mana", "moves", "max_moves", "level", "xp")
"""The prompt's numbers in a view (server/host/relay.py `numbers`)."""


def character_of(view: dict[str, Any]) -> Character:
    """The gateway's copy of a character, from the world host's view of it."""
    try:
        kind = Kind(str(view.get("kind", "player")))
    except ValueError:
        kind = Kind.PLAYER
    try:
        role = Role(str(view.get("role", "player")))
    except ValueError:
        role = Role.PLAYER
    ch = Character(int(view["id"]), str(view["name"]), kind, str(view.get("cls", "")), "",
                   role=role, title=str(view.get("title", "")),
                   settings=dict(view.get("settings") or {}))
    set_numbers(ch, view)
    return ch


def set_numbers(ch: Character, numbers: dict[str, Any]) -> None:
    """Copy the prompt's numbers into `ch`."""
    for name in NUMBERS:
        value = numbers.get(name)
        if type(value) is int:
            setattr(ch, name, value)


@dataclass(slots=True)
class Waiting:
    """A command held while the world host is away."""

    session: Session
    msg: wire.Command | wire.CallTool | wire.Observe
    since: float


class BusA2A:
    """The A2A paths of a gateway: each request goes to the world host over the bus (it
    has the agents, their keys and their sessions), its answer comes back as it is."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def get(self, path: str, headers: Headers) -> Response:
        return await self._ask("a2a_get", {"path": path, "headers": pairs(headers)})

    async def post(self, path: str, headers: Headers, body: bytes, address: str
                   ) -> Response:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return plain_response(400, "The body is not UTF-8.\n")
        return await self._ask("a2a_post", {"path": path, "headers": pairs(headers),
                                            "body": text, "address": address})

    async def _ask(self, op: str, args: dict[str, Any]) -> Response:
        gateway = self.gateway
        try:
            reply = await gateway.bus.request(
                Request(gateway.id, "", op, args),
                timeout=gateway.settings.a2a_reply_timeout + 5.0)
        except BusError:
            return plain_response(503, "The world is not running just now; try again in a "
                                       "moment.\n")
        except ValueError as exc:  # not bus data, or too large for it
            gateway.log.warning("a2a_not_forwarded", error=str(exc))
            return plain_response(400, "That request cannot be passed on.\n")
        data = reply.data
        if not reply.ok or not isinstance(data.get("status"), int):
            return plain_response(502, "The world could not answer that.\n")
        return Response(int(data["status"]), str(data.get("reason", "")),
                        Headers([(str(k), str(v)) for k, v in data.get("headers", ())]),
                        str(data.get("body", "")).encode("utf-8"))


def pairs(headers: Headers) -> list[list[str]]:
    """HTTP headers as bus data."""
    return [[name, value] for name, value in headers.raw_items()]


def plain_response(status: int, text: str) -> Response:
    """A short text answer of the gateway's own."""
    return http_response(status, HTTPStatus(status).phrase, text.encode("utf-8"),
                         "text/plain; charset=utf-8")


class Gateway:
    """One gateway process (see the module docstring).

    Args:
        settings: the configuration (`gateway_id`, `world_wait`, `world_ping_interval`...).
        bus: the bus to the world host.
    """

    def __init__(self, settings: Settings, bus: GatewayBus) -> None:
        self.settings = settings
        self.bus = bus
        self.id = settings.gateway_id or f"{socket.gethostname()}-{os.getpid()}".replace(
            ".", "-")[:64]
        self.run_id = os.urandom(3).hex()  # this start: the world host forgets the last one's
        self.log = log.get().bind(gateway=self.id)
        self.metrics = Metrics()
        self.connections: set[Any] = set()
        self.sessions: dict[Session, Link] = {}
        self.by_id: dict[str, Session] = {}
        self.by_character: dict[int, Session] = {}
        self.exempt = netguard.parse_networks(settings.exempt_addresses, "exempt_addresses")
        self.per_address = netguard.AddressCounter(settings.max_connections_per_address,
                                                   self.exempt)
        self.refusals_logged = LogBudget(settings.log_lines_per_minute, time.monotonic)
        self.trusted_proxies = netguard.parse_networks(settings.trusted_proxies)
        self.limits = Limits(settings.rate, settings.burst, settings.queue_max,
                             settings.max_message_bytes)
        self.gateways = [u.strip() for u in settings.gateway_urls.split(",") if u.strip()]
        self.a2a = BusA2A(self)
        self.port = settings.port
        self.telnet_port = settings.telnet_port
        self.started_at = time.time()
        self.writer = Writer(self.sessions, settings, self.now)
        self.game_name = "Aegent Quest"
        self.motd = ""
        self.classes: dict[str, str] = {}
        self.areas: dict[str, str] = {}  # zone id -> name (GMCP's Room.Info `area`)
        self.host_run: str | None = None  # the world host's run id
        self.up = False
        self.tools: dict[str, list[dict[str, Any]]] = {}  # session id -> its tools, `all`
        # n -> the command's session, the command and when it was sent (in order of n)
        self.inflight: dict[int, tuple[Session, Command | Call, float]] = {}
        self.resuming: set[Session] = set()  # logged in again on a new world host
        self.waiting: deque[Waiting] = deque()
        self.held: dict[Session, int] = {}  # commands of a session in `waiting`
        self._late = 0  # pings in a row that went unanswered in time
        self.authing: dict[Session, Any] = {}  # logins sent to the world host -> their id
        self._n = itertools.count(1)
        self._ids = itertools.count(1)
        self._sends: asyncio.Queue[Input] = asyncio.Queue()
        self._servers: list[asyncio.Server] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._outputs: Subscription[Output] | None = None
        self._proc = psutil.Process()
        self._stopping = False
        self.stopped = asyncio.Event()

    @property
    def world(self) -> None:
        """No world here (GMCP's lists and MSSP's counts are the world host's)."""
        return None

    def now(self) -> float:
        """Monotonic seconds."""
        return time.monotonic()

    # ---- life cycle

    async def start(self) -> None:
        """Subscribe to this gateway's outputs, find the world host, listen."""
        self._outputs = await self.bus.deliveries(self.id)
        self._tasks = [asyncio.create_task(self._take(self._outputs)),
                       asyncio.create_task(self._send()),
                       asyncio.create_task(self._watch()),
                       asyncio.create_task(self._housekeeping())]
        await self._ping()
        loop = asyncio.get_running_loop()
        srv = await loop.create_server(lambda: Connection(self), self.settings.host,
                                       self.settings.port, reuse_address=True, backlog=2048)
        self._servers.append(srv)
        self.port = srv.sockets[0].getsockname()[1]
        tsrv = await loop.create_server(lambda: TelnetConnection(self), self.settings.host,
                                        self.settings.telnet_port, reuse_address=True,
                                        backlog=2048)
        self._servers.append(tsrv)
        self.telnet_port = tsrv.sockets[0].getsockname()[1]
        self.log.info("gateway_started", port=self.port, telnet_port=self.telnet_port,
                      world=self.up)

    async def shutdown(self, reason: str = "shutdown") -> None:
        """Close every connection (the world host keeps the characters, link-dead)."""
        if self._stopping:
            await self.stopped.wait()
            return
        self._stopping = True
        self.log.info("gateway_stopping", reason=reason, sessions=len(self.sessions))
        for srv in self._servers:
            srv.close()
        for session in list(self.sessions):
            session.notify([("", "This gateway is shutting down; connect again to go on.")],
                           "warning")
            session.close("gateway shutdown")
            self.mark(session)
        self.writer.flush()
        await asyncio.sleep(0.05)
        for conn in list(self.connections):
            conn.abort()
        deadline = self.now() + STOP_WAIT
        while not self._sends.empty() and self.now() < deadline:  # each `lost` to the host
            await asyncio.sleep(0.01)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._outputs is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outputs.close(), STOP_WAIT)
        for srv in self._servers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(srv.wait_closed(), STOP_WAIT)
        self.log.info("gateway_stopped")
        self.stopped.set()

    # ---- connections (the `Front` of ws.Connection and telnet.TelnetConnection)

    def open_session(self, conn: Link, kind: wire.Subprotocol) -> Session:
        """A connection is ready: make its session and greet it."""
        session = Session(f"{self.run_id}.{next(self._ids)}", kind, self, self.limits,
                          self.now(), conn.address)
        self.by_id[session.id] = session
        opened(self, self.sessions, session, conn, self.game_name, self.motd, self.gateways)
        if not self.up:
            session.notify([("warning", "The world is not running just now; it should be "
                                        "back in a moment.")], "warning")
        self.mark(session)
        return session

    def receive(self, session: Session, payload: str | bytes) -> None:
        """A whole message arrived for `session`."""
        session.receive_frame(payload, self.now())
        self._after(session)

    def refuse_input(self, session: Session, code: str, message: str) -> None:
        """Input a shell could not turn into a message."""
        refused(self, session, code, message)
        self.mark(session)

    def session_lost(self, session: Session) -> None:
        """The connection under `session` is gone: the world host hears of it."""
        if self.sessions.pop(session, None) is None:
            return
        self.metrics.sessions.labels(kind=str(session.subprotocol)).dec()
        self.by_id.pop(session.id, None)
        self.authing.pop(session, None)
        self.tools.pop(session.id, None)
        self.tools.pop(session.id + "*", None)
        for n in [n for n, (s, _, _) in self.inflight.items() if s is session]:
            del self.inflight[n]
        self.resuming.discard(session)
        self.writer.forget(session)
        ch = session.character
        if ch is not None and self.by_character.get(ch.id) is session:
            del self.by_character[ch.id]
        was = session.state
        session.close(session.close_reason or "connection lost")
        self.log.info("session_closed", session=session.id, reason=session.close_reason)
        if was is not State.CONNECTED or ch is not None:
            self._input(SessionIn(self.id, session.id, "lost"))

    def gmcp_feed(self, supports: gmcp.Supports) -> gmcp.Feed:
        """A session's GMCP feed: what events say is made here; the item and player
        lists, which read the world, come from the world host."""
        return gmcp.Feed(None, supports, lists=False, areas=self.areas)

    def gmcp_heard(self, session: Session, package: str, data: Any) -> None:
        """The world host hears it too, once the session plays there (before that, its
        `auth` carries what the client declared)."""
        if session.state is State.PLAYING:
            self._input(SessionIn(self.id, session.id, "gmcp", {"package": package,
                                                                "data": data}))

    def _gmcp_of(self, session: Session) -> dict[str, Any] | None:
        """What a session's client declared of GMCP, for the world host (None: no GMCP)."""
        supports = session.gmcp_feed.supports
        if not session.gmcp_enabled:
            return None
        return {"declared": bool(supports and supports.declared),
                "supports": list(supports) if supports is not None else []}

    def mark(self, session: Session, urgent: bool = True) -> None:
        """Note that `session` has output (server/gateway/writer.py)."""
        self.writer.mark(session, urgent)

    def health_json(self) -> str:
        """The /health document: this gateway and whether the world host answers."""
        return json.dumps({"ok": not self._stopping and self.up, "role": "gateway",
                           "gateway": self.id, "world": self.up, "sessions": len(self.sessions),
                           "rss_mib": round(self._proc.memory_info().rss / 2**20, 1),
                           "uptime_s": round(time.time() - self.started_at)})

    # ---- the game port of the sessions

    def class_names(self) -> dict[str, str]:
        """Class id -> name (as the world host said)."""
        return dict(self.classes)

    def tool_list(self, session: Session, every: bool = False) -> list[dict[str, Any]]:
        """The tools: the world host's list for the session's role and key, as of its
        login (`every`: the role's whole list, each marked `allowed`)."""
        tools = self.tools.get(session.id + "*" if every else session.id, ())
        return [dict(tool) for tool in tools]

    def run(self, session: Session, msg: wire.Command | wire.CallTool | wire.Observe) -> None:
        """Send a command to the world host, or hold it while the host is away (or this
        session is being logged in again there, or has commands held before it)."""
        if not self.up or session in self.resuming or session in self.held:
            held = self.held.get(session, 0)
            if held >= session.limits.queue:
                session.answer(msg.id, UNAVAILABLE, "Too many commands are waiting for the "
                                                    "world; this one was dropped.")
                return
            self.held[session] = held + 1
            self.waiting.append(Waiting(session, msg, self.now()))
            return
        self._forward(session, msg)

    def _forward(self, session: Session, msg: wire.Command | wire.CallTool | wire.Observe
                 ) -> None:
        ch = session.character
        if ch is None or session.state is not State.PLAYING:
            session.answer(msg.id, UNAVAILABLE, "You are no longer in the world.")
            self.mark(session)
            return
        if isinstance(msg, wire.Observe):
            self._input(SessionIn(self.id, session.id, "observe", {"id": msg.id}))
            return
        n = next(self._n)
        sent = (Command(self.id, session.id, ch.id, msg.line, msg.id, n)
                if isinstance(msg, wire.Command) else
                Call(self.id, session.id, ch.id, msg.tool, dict(msg.args), msg.id, n))
        self.inflight[n] = (session, sent, self.now())
        self._input(sent)

    def _after(self, session: Session) -> None:
        if session.requests:
            requests, session.requests = session.requests, []
            for req in requests:
                self._request(session, req)
        self.mark(session)

    def _request(self, session: Session, req: AuthRequest | GameRequest) -> None:
        if isinstance(req, AuthRequest):
            if not self.up:
                self._unavailable_auth(session, req.id)
                return
            self.authing[session] = req.id
            self._input(SessionIn(self.id, session.id, "auth", {
                "kind": req.kind, "name": req.name, "password": req.password, "cls": req.cls,
                "id": req.id, "address": session.address,
                "subprotocol": str(session.subprotocol), "gmcp": self._gmcp_of(session)}))
        elif req.kind == "usage_message":
            message = req.args["message"]
            self._input(SessionIn(self.id, session.id, "usage",
                                  {"message": wire.usage_data(message)}))
        elif req.kind == "advance":
            self._input(SessionIn(self.id, session.id, "advance", dict(req.args)))

    def _unavailable_auth(self, session: Session, id: Any) -> None:
        session.auth_failed(UNAVAILABLE, "The world is not running just now; try again in "
                                         "a moment.", id)

    def _input(self, msg: Input) -> None:
        self._sends.put_nowait(msg)

    async def _send(self) -> None:
        while True:
            msgs = [await self._sends.get()]
            while not self._sends.empty():  # what this pass queued goes as one batch
                msgs.append(self._sends.get_nowait())
            try:
                await self.bus.send_many(msgs)
            except Exception as exc:  # the bus reconnects by itself: these are lost
                self.log.warning("input_not_sent", count=len(msgs), error=repr(exc))

    # ---- outputs from the world host

    async def _take(self, outputs: Subscription[Output]) -> None:
        await consume(outputs, self.take, self.log, "output")

    def take(self, msg: Output) -> None:
        """Apply one output of the world host to its sessions."""
        if isinstance(msg, Delivery):
            self._delivery(msg)
            return
        session = self.by_id.get(msg.session)
        if isinstance(msg, Answer):
            sent = self.inflight.pop(msg.n, None) if msg.n else None
            if session is None:
                return
            if msg.code == "unknown_session":  # a new world host: sent again once resumed
                if sent is not None:
                    self.inflight[msg.n] = sent
                if session.state is State.PLAYING and session not in self.resuming:
                    self._resume(session)
                else:
                    session.answer(msg.id, UNAVAILABLE, "The world restarted; please send "
                                                        "that again.")
            else:
                if msg.view is not None and session.character is not None:
                    set_numbers(session.character, msg.view)
                session.answer(msg.id, msg.code, msg.message or "")
            self.mark(session)
        elif isinstance(msg, Disconnect):
            if session is not None:
                session.close(msg.reason)
                self.mark(session)
        elif isinstance(msg, SessionOut) and session is not None:
            self._session_out(session, msg)
            self.mark(session)

    def _delivery(self, msg: Delivery) -> None:
        event = from_data(str(msg.event["name"]), msg.event["data"])
        cache: dict[Any, Any] = {}
        by_character = self.by_character
        sessions = [s for cid in msg.recipients if (s := by_character.get(cid)) is not None]
        viewed = isinstance(event, Vitals | SettingChanged)  # the sessions' copies change
        if viewed:
            for session in sessions:
                self._view_event(session, event)
        deliver_many(event, sessions, cache)
        self.writer.mark_fanout(sessions)

    def _view_event(self, session: Session, event: Event) -> None:
        ch = session.character
        if ch is None:
            return
        if isinstance(event, Vitals):
            set_numbers(ch, {n: getattr(event, n) for n in NUMBERS})
        elif isinstance(event, SettingChanged) and event.key not in ("aliases",):
            ch.settings[event.key] = event.value

    def _session_out(self, session: Session, msg: SessionOut) -> None:
        op, args = msg.op, msg.args
        if op == "event":
            event = from_data(str(args["name"]), args["data"])
            self._view_event(session, event)
            session.deliver(event)
        elif op == "send":
            sent = args["msg"]
            if isinstance(sent, dict) and sent.get("type") == "observation":
                sent["seq"] = session.seq  # every event before it has been delivered here
            session.send(sent)
        elif op == "say":
            session.say([(str(style), str(text)) for style, text in args["spans"]])
        elif op == "auth_ok":
            self.authing.pop(session, None)
            ch = character_of(args["character"])
            agent = args.get("agent")
            session.agent = AgentIdentity.from_data(agent) if isinstance(agent, dict) else None
            self.tools[session.id] = list(args.get("tools") or [])
            self.tools[session.id + "*"] = list(args.get("tools_all") or [])
            old = session.character
            if old is not None and self.by_character.get(old.id) is session:
                del self.by_character[old.id]
            self.by_character[ch.id] = session
            if args.get("resumed") and session.state is State.PLAYING:
                session.character = ch  # logged in again after a restart: nothing to say
                self._resumed(session, int(args.get("applied") or 0))
            else:
                session.auth_succeeded(ch, str(args.get("role", "player")), args.get("id"),
                                       bool(args.get("created")))
        elif op == "gmcp":
            session.gmcp_out.extend((str(m[0]), m[1]) for m in args.get("messages", ()))
        elif op == "auth_failed":
            self.authing.pop(session, None)
            session.auth_failed(str(args["code"]), str(args["message"]), args.get("id"))
        elif op == "name_checked":
            self.authing.pop(session, None)
            problem = args.get("problem")
            session.name_checked(bool(args["exists"]), str(problem) if problem else None,
                                 args.get("id"))
        elif op == "limits":
            session.apply_limits(Limits(float(args["rate"]), int(args["burst"]),
                                        int(args["queue"]), int(args["max_message"])))

    # ---- the world host's presence

    async def _ping(self) -> bool:
        """Ask the world host whether it is there; act on a change. Whether it answered."""
        reply: Reply | None
        try:
            reply = await self.bus.request(Request(self.id, "", "ping", {"run": self.run_id}),
                                           timeout=self.settings.world_ping_interval * 2)
        except BusTimeout:  # busy (a long pause of its loop) or gone: gone after a few
            self._late += 1
            if self._late < LATE_PINGS:
                return self.up
            reply = None
        except BusError:  # nobody serves requests: it is gone
            reply = None
        else:
            self._late = 0
        if reply is None or not reply.ok:
            self._late = 0
            self._fail_auths()
            if self.up:
                self.up = False
                self.log.warning("world_away")
                self._tell_playing("The world is pausing; what you type waits for it "
                                   f"(up to {self.settings.world_wait:g} seconds).")
            return False
        data = reply.data
        self.game_name = str(data.get("name") or self.game_name)
        self.motd = str(data.get("motd") or "")
        zones = data.get("zones")
        if isinstance(zones, dict):
            self.areas.clear()
            self.areas.update((str(k), str(v)) for k, v in zones.items())
        classes = data.get("classes")
        if isinstance(classes, dict):
            self.classes = {str(k): str(v) for k, v in classes.items()}
        run = str(data.get("run", ""))
        if run != self.host_run:
            restarted = self.host_run is not None
            self.host_run = run
            if restarted:
                self._resume_all()
        if not self.up:
            self.up = True
            self.log.info("world_back", run=run)
            self._tell_playing("The world goes on.")
        self._release()
        return True

    def _tell_playing(self, text: str) -> None:
        for session in list(self.sessions):
            if session.state is State.PLAYING:
                session.notify([("notice", text)], "warning")
                self.mark(session)

    def _fail_auths(self) -> None:
        """The world host is gone: the logins it was working on are refused."""
        authing, self.authing = self.authing, {}
        for session, id in authing.items():
            if session in self.sessions and session.state is State.AUTHENTICATING:
                self._unavailable_auth(session, id)
                self.mark(session)

    def _resume_all(self) -> None:
        """A new world host: every playing session is logged in again there; what it
        had sent and not heard back about waits for that (`_resumed`)."""
        self._fail_auths()
        for session in list(self.sessions):
            if session.state is State.PLAYING and session.character is not None:
                self._resume(session)
        self.log.info("sessions_resumed", count=len(self.resuming))

    def _resume(self, session: Session) -> None:
        """Log `session` in again on the world host (on this gateway's word)."""
        ch = session.character
        assert ch is not None
        self.resuming.add(session)
        self._input(SessionIn(self.id, session.id, "resume", {
            "name": ch.name, "address": session.address,
            "subprotocol": str(session.subprotocol), "gmcp": self._gmcp_of(session),
            "agent": session.agent.to_data() if session.agent else None}))

    def _resumed(self, session: Session, applied: int) -> None:
        """`session` plays on the new world host, whose journal holds this session's
        commands up to number `applied`: those it had sent and never heard back about
        are answered (they were done; their events are gone with the old host) or sent
        again (they were not), in order, then what waited meanwhile."""
        self.resuming.discard(session)
        for n, (owner, sent, _) in list(self.inflight.items()):
            if owner is not session:
                continue
            if n <= applied:
                del self.inflight[n]
                session.answer(sent.id)
            else:
                self.inflight[n] = (owner, sent, self.now())
                self._input(sent)
        self.mark(session)
        self._release()

    def _release(self) -> None:
        """Send the commands that waited for the world host, in order (those of a
        session being logged in again keep waiting)."""
        if not self.up or not self.waiting:
            return
        kept: deque[Waiting] = deque()
        while self.waiting:
            waiting = self.waiting.popleft()
            session = waiting.session
            if session in self.sessions and session in self.resuming:
                kept.append(waiting)
                continue
            self._unheld(session)
            if session in self.sessions:
                self._forward(session, waiting.msg)
        self.waiting = kept

    def _unwait(self) -> Waiting:
        waiting = self.waiting.popleft()
        self._unheld(waiting.session)
        return waiting

    def _unheld(self, session: Session) -> None:
        left = self.held.pop(session, 1) - 1
        if left > 0:
            self.held[session] = left

    def _expire(self, now: float) -> None:
        """Answer `world_unavailable` to the commands that waited too long: held here, or
        sent and never answered (an input or its answer lost on the bus)."""
        wait = self.settings.world_wait
        for n, (session, sent, since) in list(self.inflight.items()):
            if now - since < wait:
                continue
            del self.inflight[n]
            if session in self.sessions:
                session.answer(sent.id, UNAVAILABLE, "The world did not answer that in time; look "
                                                "before you send it again.")
                self.mark(session)
        while self.waiting and now - self.waiting[0].since >= wait:
            waiting = self._unwait()
            session = waiting.session
            if session in self.sessions:
                session.answer(waiting.msg.id, UNAVAILABLE,
                               "The world did not come back in time; that was not done.")
                self.mark(session)

    async def _watch(self) -> None:
        interval = self.settings.world_ping_interval
        while True:
            started = self.now()
            await self._ping()
            self._expire(self.now())
            await asyncio.sleep(max(0.0, interval - (self.now() - started)))

    async def _housekeeping(self) -> None:
        s = self.settings
        last_ping = self.now()
        while True:
            await asyncio.sleep(s.housekeeping_interval)
            now = self.now()
            ping = now - last_ping >= s.ping_interval
            if ping:
                last_ping = now
            keepalive(self.connections, self.sessions, s, now, ping, self.mark, self.log)
