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
import itertools
import json
import os
import socket
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import psutil

from server import log, netguard, wire
from server.bus import (
    Answer,
    BusError,
    Call,
    Command,
    Delivery,
    Disconnect,
    Gap,
    GatewayBus,
    Input,
    Output,
    Request,
    SessionIn,
    SessionOut,
    Subscription,
)
from server.config import Settings
from server.gateway.agent import AgentIdentity
from server.gateway.session import AuthRequest, GameRequest, Limits, Session, State
from server.gateway.telnet import TelnetConnection
from server.gateway.writer import Link, Writer, keepalive
from server.gateway.ws import Connection, http_response
from server.metrics import Metrics
from server.netguard import LogBudget
from world.entities import Character, Kind, Role
from world.events import Event, SettingChanged, Vitals, from_data

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


class NoA2A:
    """A gateway does not answer A2A (the world host has no HTTP port yet): 503."""

    async def get(self, path: str, headers: Any) -> Any:
        return http_response(503, "Service Unavailable",
                             b"A2A is served by `aegent serve` only, for now.\n",
                             "text/plain; charset=utf-8")

    async def post(self, path: str, headers: Any, body: bytes, address: str) -> Any:
        return await self.get(path, headers)


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
        self.a2a = NoA2A()
        self.port = settings.port
        self.telnet_port = settings.telnet_port
        self.started_at = time.time()
        self.writer = Writer(self.sessions, settings, self.now)
        self.game_name = "Aegent Quest"
        self.motd = ""
        self.classes: dict[str, str] = {}
        self.host_run: str | None = None  # the world host's run id
        self.up = False
        self.tools: dict[str, list[dict[str, Any]]] = {}  # session id -> its tools, `all`
        self.inflight: dict[int, tuple[Session, Any]] = {}  # n -> the command's session, id
        self.waiting: deque[Waiting] = deque()
        self.held: dict[Session, int] = {}  # commands of a session in `waiting`
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
        while not self._sends.empty():  # the `lost` of each session reaches the host
            await asyncio.sleep(0.01)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._outputs is not None:
            await self._outputs.close()
        for srv in self._servers:
            await srv.wait_closed()
        self.log.info("gateway_stopped")
        self.stopped.set()

    # ---- connections (the `Front` of ws.Connection and telnet.TelnetConnection)

    def open_session(self, conn: Link, kind: wire.Subprotocol) -> Session:
        """A connection is ready: make its session and greet it."""
        session = Session(f"{self.run_id}.{next(self._ids)}", kind, self, self.limits,
                          self.now(), conn.address)
        self.sessions[session] = conn
        self.by_id[session.id] = session
        self.metrics.sessions.labels(kind=str(kind)).inc()
        self.log.info("session_opened", session=session.id, subprotocol=str(kind),
                      address=conn.address)
        session.hello(self.game_name, self.motd, self.gateways)
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
        session.last_input = self.now()
        session.say([("error", message)])
        self.metrics.errors.labels(code=code).inc()
        self.mark(session)

    def session_lost(self, session: Session) -> None:
        """The connection under `session` is gone: the world host hears of it."""
        if self.sessions.pop(session, None) is None:
            return
        self.metrics.sessions.labels(kind=str(session.subprotocol)).dec()
        self.by_id.pop(session.id, None)
        self.tools.pop(session.id, None)
        self.tools.pop(session.id + "*", None)
        for n in [n for n, (s, _) in self.inflight.items() if s is session]:
            del self.inflight[n]
        self.writer.forget(session)
        ch = session.character
        if ch is not None and self.by_character.get(ch.id) is session:
            del self.by_character[ch.id]
        was = session.state
        session.close(session.close_reason or "connection lost")
        self.log.info("session_closed", session=session.id, reason=session.close_reason)
        if was is not State.CONNECTED or ch is not None:
            self._input(SessionIn(self.id, session.id, "lost"))

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
        """Send a command to the world host, or hold it while the host is away."""
        if not self.up or self.waiting:
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
            return
        if isinstance(msg, wire.Observe):
            self._input(SessionIn(self.id, session.id, "observe", {"id": msg.id}))
            return
        n = next(self._n)
        self.inflight[n] = (session, msg.id)
        if isinstance(msg, wire.Command):
            self._input(Command(self.id, session.id, ch.id, msg.line, msg.id, n))
        else:
            self._input(Call(self.id, session.id, ch.id, msg.tool, dict(msg.args), msg.id, n))

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
            self._input(SessionIn(self.id, session.id, "auth", {
                "kind": req.kind, "name": req.name, "password": req.password, "cls": req.cls,
                "id": req.id, "address": session.address,
                "subprotocol": str(session.subprotocol)}))
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
            msg = await self._sends.get()
            try:
                await self.bus.send(msg)
            except (BusError, ValueError) as exc:
                self.log.warning("input_not_sent", type=type(msg).__name__, error=repr(exc))

    # ---- outputs from the world host

    async def _take(self, outputs: Subscription[Output]) -> None:
        async for msg in outputs:
            if isinstance(msg, Gap):
                self.log.warning("outputs_dropped", count=msg.dropped)
                continue
            try:
                self.take(msg)
            except Exception as exc:  # one bad output must not stop the others
                self.log.error("output_failed", type=type(msg).__name__, exc_info=exc)

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
            if msg.code == "unknown_session":  # the host restarted: it will be resumed
                session.answer(sent[1] if sent else msg.id, UNAVAILABLE,
                               "The world restarted; please send that again.")
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
        by_character, writer = self.by_character, self.writer
        for cid in msg.recipients:
            session = by_character.get(cid)
            if session is None:
                continue
            self._view_event(session, event)
            session.deliver(event, cache)
            writer.mark(session, False)

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
            else:
                session.auth_succeeded(ch, str(args.get("role", "player")), args.get("id"),
                                       bool(args.get("created")))
        elif op == "auth_failed":
            session.auth_failed(str(args["code"]), str(args["message"]), args.get("id"))
        elif op == "name_checked":
            problem = args.get("problem")
            session.name_checked(bool(args["exists"]), str(problem) if problem else None,
                                 args.get("id"))
        elif op == "limits":
            session.apply_limits(Limits(float(args["rate"]), int(args["burst"]),
                                        int(args["queue"]), int(args["max_message"])))

    # ---- the world host's presence

    async def _ping(self) -> bool:
        """Ask the world host whether it is there; act on a change. Whether it answered."""
        try:
            reply = await self.bus.request(Request(self.id, "", "ping", {"run": self.run_id}),
                                           timeout=self.settings.world_ping_interval * 2)
        except BusError:
            reply = None
        if reply is None or not reply.ok:
            if self.up:
                self.up = False
                self.log.warning("world_away")
                self._tell_playing("The world is pausing; what you type waits for it "
                                   f"(up to {self.settings.world_wait:g} seconds).")
            return False
        data = reply.data
        self.game_name = str(data.get("name") or self.game_name)
        self.motd = str(data.get("motd") or "")
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

    def _resume_all(self) -> None:
        """A new world host: the commands it never answered are answered, and every
        playing session is logged in again there."""
        for n, (session, id) in list(self.inflight.items()):
            del self.inflight[n]
            if session in self.sessions:
                session.answer(id, UNAVAILABLE, "The world restarted before it answered "
                                                "that; look before you send it again.")
                self.mark(session)
        for session in list(self.sessions):
            ch = session.character
            if session.state is State.PLAYING and ch is not None:
                self._input(SessionIn(self.id, session.id, "resume", {
                    "name": ch.name, "address": session.address,
                    "subprotocol": str(session.subprotocol),
                    "agent": session.agent.to_data() if session.agent else None}))
        self.log.info("sessions_resumed", count=len(self.by_character))

    def _release(self) -> None:
        """Send the commands that waited for the world host, in order."""
        while self.up and self.waiting:
            waiting = self._unwait()
            if waiting.session in self.sessions:
                self._forward(waiting.session, waiting.msg)

    def _unwait(self) -> Waiting:
        waiting = self.waiting.popleft()
        left = self.held.pop(waiting.session, 1) - 1
        if left > 0:
            self.held[waiting.session] = left
        return waiting

    def _expire(self, now: float) -> None:
        """Answer `world_unavailable` to the commands that waited too long."""
        wait = self.settings.world_wait
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
