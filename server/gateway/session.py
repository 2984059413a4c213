"""The session: one connection's sans-I/O state machine.

A `Session` takes decoded frames (`receive_frame`) and world events (`deliver`)
and produces frames to send (`outbox`). It knows nothing of sockets: `ws.py` is a
thin shell around it. States go CONNECTED -> (text-mode dialogue) -> AUTHENTICATING
-> PLAYING -> CLOSED. Work that needs the server (checking a password, quitting)
comes out as `requests` for the shell to carry out, which answers with
`auth_succeeded` / `auth_failed` / `notify`.

Commands are applied at once while the token bucket has tokens; beyond the
burst they wait in a small bounded queue drained tick by tick (`tick`), and
beyond that they are refused with `rate_limited`, so one flood never starves the
others.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from server import wire
from server.gateway import gmcp, render
from server.gateway.agent import AgentIdentity
from server.wire import ErrorCode, Subprotocol, WireError
from world.commands.settings import DEFAULT_PROMPT, render_prompt
from world.entities import Character
from world.events import Event, ServerRequest, Snooped, Vitals
from world.rules import xp_next


class State(StrEnum):
    """Where a session is in its life."""

    CONNECTED = "connected"
    ASK_NAME = "ask_name"
    ASK_PASSWORD = "ask_password"
    CONFIRM_NAME = "confirm_name"
    NEW_PASSWORD = "new_password"
    CONFIRM_PASSWORD = "confirm_password"
    CHOOSE_CLASS = "choose_class"
    AUTHENTICATING = "authenticating"
    PLAYING = "playing"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Limits:
    """Flood control and size limits of one session."""

    rate: float = 8.0
    burst: int = 16
    queue: int = 32
    max_message: int = 8192


@dataclass(frozen=True, slots=True)
class AuthRequest:
    """The shell must log in or register: answer with auth_succeeded/auth_failed."""

    kind: str  # "login" | "register" | "exists" | "api_key" (the key is in `password`)
    name: str
    password: str = field(repr=False)  # never in a log line or a traceback
    cls: str | None
    id: Any


@dataclass(frozen=True, slots=True)
class GameRequest:
    """The shell must act for a playing character (quit, password, stats)."""

    kind: str
    args: dict[str, Any]


Request = AuthRequest | GameRequest


class GamePort(Protocol):
    """What a session needs of the game around it."""

    def run(self, session: Session, msg: wire.Command | wire.CallTool | wire.Observe) -> None:
        """Apply a command for the session's character, routing every event it causes
        (an `observe` is answered with an `observation` in its turn, like a command)."""

    def tool_list(self, session: Session, every: bool = False) -> list[dict[str, Any]]:
        """The tools this session may use (`every`: also those its key's scopes do not
        grant, each with `allowed`)."""

    def class_names(self) -> dict[str, str]:
        """Class id -> display name, for character creation."""


class SessionHandle(Protocol):
    """What the world host does with a session: a `Session` in the same process, or a
    `RemoteSession` (server/host/relay.py) standing for one on a gateway, whose calls
    become outputs on the bus. Admin, identity, usage, A2A and lockstep take this."""

    id: str
    address: str
    character: Character | None
    agent: AgentIdentity | None
    state: State
    requests: list[Request]
    close_reason: str | None
    limits: Limits
    last_input: float
    seq: int
    watchers: list[SessionHandle]

    @property
    def relayed(self) -> bool:
        """Whether it stands for a session on a gateway (its output goes at once)."""

    @property
    def gateway(self) -> str:
        """The gateway it is on ("": this process)."""

    @property
    def subprotocol(self) -> Subprotocol:
        """The codec its connection speaks."""

    @property
    def text_mode(self) -> bool:
        """Whether it speaks lines of text."""

    @property
    def playing(self) -> bool:
        """Whether it has a character in the world."""

    @property
    def queued(self) -> int:
        """Commands waiting for tokens."""

    @property
    def allowed_categories(self) -> frozenset[str] | None:
        """The command categories its API key grants (None: all)."""

    def deliver(self, event: Event, cache: dict[Any, Any] | None = None) -> None:
        """Queue a world event for it."""

    def send(self, msg: dict[str, Any]) -> None:
        """Queue a structured message (structured sessions only)."""

    def say(self, spans: render.Spans) -> None:
        """Queue a line of text (text sessions only)."""

    def notify(self, spans: render.Spans, level: str = "info") -> None:
        """Tell it something from the server itself."""

    def echo(self, text: str, typed: bool = False) -> None:
        """Copy `text` to the admins snooping on it."""

    def answer(self, id: Any, code: str | None = None, message: str = "") -> None:
        """The end of a command."""

    def auth_succeeded(self, character: Character, role: str, id: Any = None,
                       created: bool = False) -> None:
        """It logged in as `character`."""

    def auth_failed(self, code: str, message: str, id: Any = None) -> None:
        """Its login or registration was refused."""

    def name_checked(self, exists: bool, problem: str | None, id: Any = None) -> None:
        """Whether the name it asked about exists."""

    def apply_limits(self, limits: Limits) -> None:
        """Give it other flood limits."""

    def close(self, reason: str) -> None:
        """Mark it closed."""

    def tick(self, now: float) -> None:
        """Run the commands its bucket now allows."""

    def outbox(self) -> list[str | bytes]:
        """Take the frames to send now."""


@dataclass(slots=True)
class _Pending:
    msg: wire.Command | wire.CallTool | wire.Observe


@dataclass(slots=True, eq=False)
class Session:
    """One connection, from hello to goodbye.

    Args:
        id: a short id for logs.
        subprotocol: the codec this connection speaks.
        game: the game port commands go to.
        limits: flood control.
        now: the monotonic time at creation.
        address: the peer's address, for throttling and logs.
    """

    id: str
    subprotocol: Subprotocol
    game: GamePort
    limits: Limits = field(default_factory=Limits)
    now: float = 0.0
    address: str = ""
    state: State = State.CONNECTED
    character: Character | None = None
    ansi: bool = False
    requests: list[Request] = field(default_factory=list)
    close_reason: str | None = None
    last_input: float = 0.0
    seq: int = 0
    width: int | None = None  # text mode: wrap output to this many columns (telnet NAWS)
    held: bool = False  # text mode: keep output until the shell lets it go (telnet: NAWS)
    gmcp_enabled: bool = False  # also queue GMCP messages in gmcp_out (telnet)
    gmcp_out: list[gmcp.Message] = field(default_factory=list)  # sent before the text
    gmcp_feed: gmcp.Feed = field(default_factory=gmcp.Feed)  # the shell gives it the world
    gmcp_inline: list[tuple[int, gmcp.Message]] = field(default_factory=list)  # see outbox
    _inline: list[tuple[int, gmcp.Message]] = field(default_factory=list)  # (line index, msg)
    _out: list[str | bytes] = field(default_factory=list)
    batch: bool = False  # the client asked for `events` messages (login's `batch`)
    _events: list[Any] = field(default_factory=list)  # events for the next `events` message
    _events_seq: int = 0  # the first one's seq
    _events_bytes: int = 0
    _lines: list[str] = field(default_factory=list)
    _tokens: float = 0.0
    _refilled: float = 0.0
    _queue: deque[_Pending] = field(default_factory=deque)
    _login_name: str = ""
    _login_password: str = ""
    _prompt_vitals: tuple[int, int, int] | None = None
    watchers: list[SessionHandle] = field(default_factory=list)  # admins snooping on it
    agent: AgentIdentity | None = None  # set on an API-key login (server/host/identity.py)
    _text: bool = False  # subprotocol.text_mode, read once per delivery
    relayed: ClassVar[bool] = False  # not a world host's handle of a session elsewhere
    gateway: ClassVar[str] = ""  # the gateway it is on: this process

    def __post_init__(self) -> None:
        self._tokens = float(self.limits.burst)
        self._refilled = self.now
        self.last_input = self.now
        self.ansi = self._text = self.subprotocol.text_mode

    # ---- properties -------------------------------------------------------------

    @property
    def colour(self) -> bool:
        """Whether text goes out with ANSI colour: text mode, unless the character said no."""
        ch = self.character
        return self.ansi and (ch is None or ch.settings.get("color", True) is not False)

    @property
    def text_mode(self) -> bool:
        """Whether this session speaks lines of text rather than structured messages."""
        return self.subprotocol.text_mode

    @property
    def playing(self) -> bool:
        """Whether the session has a character in the world."""
        return self.state is State.PLAYING

    @property
    def password_expected(self) -> bool:
        """Text mode: whether the next line is a password (telnet turns echo off)."""
        return self.state in (State.ASK_PASSWORD, State.NEW_PASSWORD, State.CONFIRM_PASSWORD)

    @property
    def allowed_categories(self) -> frozenset[str] | None:
        """The command categories this session's API key grants (None: every one; people
        and keys with the scope `*`)."""
        return self.agent.categories if self.agent is not None else None

    def apply_limits(self, limits: Limits) -> None:
        """Give the session other flood limits (an agent's own), with a full bucket."""
        self.limits = limits
        self._tokens = float(limits.burst)
        self._refilled = self.now

    @property
    def queued(self) -> int:
        """Commands waiting for tokens."""
        return len(self._queue)

    # ---- output -----------------------------------------------------------------

    def send(self, msg: dict[str, Any]) -> None:
        """Queue a structured message (ignored in text mode: use `say`)."""
        if not self.text_mode:
            if self._events:  # the events before it go first
                self._close_events()
            self._out.append(wire.encode_any(self.subprotocol, msg))

    def _close_events(self) -> None:
        """Queue the events waiting for an `events` message as one."""
        self._out.append(wire.events_frame(self._events, self._events_seq))
        self._events = []
        self._events_bytes = 0

    def _batch_event(self, frame: str | bytes) -> None:
        """Add an event (encoded without `seq`; `self.seq` is its number) to the next
        `events` message."""
        if not self._events:
            self._events_seq = self.seq
        self._events.append(frame)
        self._events_bytes += len(frame)
        if self._events_bytes >= wire.EVENTS_FRAME_BYTES:
            self._close_events()

    def say(self, spans: render.Spans) -> None:
        """Queue a line of text for people (text mode only)."""
        if self.watchers:
            self.echo(render.plain(spans))
        if self.text_mode:
            self._lines.append(render.ansi(spans) if self.colour else render.plain(spans))

    def _error(self, code: str, message: str, id: Any = None) -> None:
        if self.text_mode:
            self.say(render.error_spans(message))
        else:
            self.send(wire.error(code, message, id))

    def answer(self, id: Any, code: str | None = None, message: str = "") -> None:
        """The end of a command: its `result` (refused without an id: an `error`); a
        refusal's `message` is also said in text mode."""
        if code is not None:
            if id is not None:
                self.send(wire.result(id, False, code, message))
            else:
                self.send(wire.error(code, message))
            self.say([("error", message)])
        elif id is not None:
            self.send(wire.result(id, True))

    def hello(self, server_name: str, motd: str, gateways: list[str] | None = None) -> None:
        """Greet a new connection (text mode starts the login dialogue); `gateways`: the
        addresses a structured client may reconnect to (docs/protocol.md, `hello`)."""
        if self.text_mode:  # one greeting: the game's name, unless the motd says it already
            if server_name not in motd:
                self.say([("heading", f"Welcome to {server_name}!")])
            if motd:
                self.say([("", motd)])
            self._ask_name()
        else:
            self.send({
                "type": "hello",
                "protocol": wire.PROTOCOL_VERSION,
                "server": server_name,
                "subprotocol": str(self.subprotocol),
                "motd": motd,
                "classes": self.game.class_names(),
                "login": ["password", "api_key"],
                "gateways": list(gateways or []),
            })

    def deliver(self, event: Event, cache: dict[Any, Any] | None = None) -> None:
        """Queue a world event for this client (internal ones become requests).

        `cache` is shared by every recipient of one fan-out pass: the text and the
        encoded frame of an event are made once per point of view and per codec, and
        each recipient's copy only gets its own `seq` spliced in. This runs once per
        recipient of every event, so it is kept lean.
        """
        if event.internal:
            assert isinstance(event, ServerRequest)
            self.requests.append(GameRequest(event.kind, dict(event.args)))
            return
        character = self.character
        viewer = character.name if character is not None else ""
        if self.watchers and not isinstance(event, Vitals | Snooped):
            self.echo(render.plain(render.render(event, viewer)))
        if self.gmcp_enabled:
            self._gmcp_event(event, character)
        if self._text:
            if isinstance(event, Vitals):
                self._prompt_vitals = (event.hp, event.mana, event.moves)
                return
            colour = self.colour
            key: tuple[Any, ...] = (id(event), render.perspective(event, viewer, cache), colour)
            line = cache.get(key) if cache is not None else None
            if line is None:
                spans = render.render(event, viewer)
                line = render.ansi(spans) if colour else render.plain(spans)
                if cache is not None:
                    cache[key] = line
            self._lines.append(line)
            return
        self.seq += 1
        if cache is None:  # this session's own: seq goes in directly
            if self.batch:
                self._batch_event(wire.encode_any(self.subprotocol, self._event_message(
                    event, viewer, None)))
                return
            self._out.append(wire.encode_any(self.subprotocol, self._event_message(
                event, viewer, self.seq)))
            return
        self._shared(event, viewer, render.perspective(event, viewer, cache), cache)

    def _shared(self, event: Event, viewer: str, perspective: str,
                cache: dict[Any, Any]) -> None:
        """Queue the event's one encoding for this point of view and codec (made by the
        first recipient that needs it), numbered by `self.seq`."""
        key = (id(event), perspective, self.subprotocol, self.ansi)
        frame = cache.get(key)
        if frame is None:
            frame = cache[key] = wire.encode_any(self.subprotocol,
                                                 self._event_message(event, viewer, None))
        if self.batch:  # the shared bytes as they are: the message's seq numbers them
            self._batch_event(frame)
        else:  # the shared bytes with this session's seq spliced in
            self._out.append(wire.with_seq(frame, self.seq))

    # ---- GMCP (text sessions of MUD clients: server/gateway/gmcp.py) ---------------------------

    def _gmcp_event(self, event: Event, character: Character | None) -> None:
        feed = self.gmcp_feed
        self.gmcp_out.extend(feed.event(event, character, self.colour))
        if self._text and not isinstance(event, Vitals):  # this event's line comes next
            bracket = feed.bracket(event, character.name if character is not None else "")
            if bracket is not None:
                at = len(self._lines)
                self._inline += [(at, bracket[0]), (at + 1, bracket[1])]

    def take_gmcp(self) -> list[gmcp.Message]:
        """The GMCP messages to send before the next text: those of the events so far, then
        the item and player lists brought up to date (empty unless GMCP is on)."""
        out, self.gmcp_out = self.gmcp_out, []
        if self.gmcp_enabled and self.state is State.PLAYING:
            out += self.gmcp_feed.sync(self.character)
        return out

    def gmcp_request(self, package: str, data: Any) -> None:
        """A GMCP message from the client that asks for something (`Char.Items.Inv`...):
        the answer is queued in `gmcp_out`; anything else is ignored, as GMCP wants."""
        if self.gmcp_enabled and self.state is State.PLAYING:
            self.gmcp_out.extend(self.gmcp_feed.request(package, data, self.character))

    def _place_inline(self, lines: list[str], text: str, width: int | None) -> None:
        """Turn the line indexes of `_inline` into offsets in `text` (`gmcp_inline`), the
        frame made of `lines`: a shell splits the frame there to send each message
        between the lines it goes between. Should the text not be the lines wrapped one
        by one, they all go before it, in order."""
        marks, self._inline = self._inline, []
        offsets, pos = [0], 0
        for line in lines:
            piece = render.wrap(line, width) if width else line
            if not text.startswith(piece, pos):
                self.gmcp_out.extend(msg for _, msg in marks)
                return
            pos += len(piece) + 1
            offsets.append(min(pos, len(text)))
        self.gmcp_inline = [(offsets[min(at, len(lines))], msg) for at, msg in marks]

    def _event_message(self, event: Event, viewer: str, seq: int | None) -> dict[str, Any]:
        spans = render.render(event, viewer)
        msg: dict[str, Any] = {
            "type": "event",
            "name": event.name,
            "data": event.to_data(),
            "text": render.ansi(spans) if self.ansi else render.plain(spans),
        }
        if seq is not None:
            msg["seq"] = seq
        return msg

    def echo(self, text: str, typed: bool = False) -> None:
        """Copy `text` (what this session received, or with `typed` what it sent) to the
        admins snooping on it, as `snooped` events."""
        name = self.character.name if self.character else self.id
        for watcher in self.watchers:
            watcher.deliver(Snooped(name, text, typed))

    def notify(self, spans: render.Spans, level: str = "info") -> None:
        """Tell the client something from the server itself (as a `message` event)."""
        from world.events import Message

        self.deliver(Message(render.plain(spans), level))

    def outbox(self) -> list[str | bytes]:
        """Take the frames to send now. Text mode sends one frame, ending in a prompt (with
        GMCP, `gmcp_inline` then says where in it `Comm.Channel.Start`/`End` go)."""
        if self.text_mode:
            if not self._lines or self.held:
                return []
            lines = list(self._lines) if self._inline else []
            text = "\n".join(self._lines)
            self._lines.clear()
            width = self.wrap_width
            if width:
                text = render.wrap(text, width)
            text += "\n" + self._prompt()
            if self._inline:
                self._place_inline(lines, text, width)
            return [text]
        if self._events:
            self._close_events()
        out, self._out = self._out, []
        return out

    @property
    def wrap_width(self) -> int | None:
        """The columns text mode wraps to (None: not wrapped): the client's own (telnet
        NAWS), else the character's `width` setting (0: off), else the default."""
        if self.width:
            return self.width
        chosen = self.character.settings.get("width") if self.character is not None else None
        if type(chosen) is int:
            return chosen or None
        return render.DEFAULT_WIDTH

    def _prompt(self) -> str:
        if self.state is State.PLAYING and self.character is not None:
            ch = self.character
            fmt = ch.settings.get("prompt", DEFAULT_PROMPT)
            if not fmt:
                return ""
            values = {"hp": ch.hp, "max_hp": ch.max_hp, "mana": ch.mana, "max_mana": ch.max_mana,
                      "moves": ch.moves, "max_moves": ch.max_moves, "xp": ch.xp,
                      "xp_next": xp_next(ch), "level": ch.level}
            spans = render.prompt_spans(render_prompt(str(fmt), values))
            return render.ansi(spans) if self.colour else render.plain(spans)
        return ""

    # ---- input ------------------------------------------------------------------

    def receive_frame(self, data: str | bytes, now: float) -> None:
        """Take one frame from the client."""
        self.now = now
        self.last_input = now
        if self.state is State.CLOSED:
            return
        size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8"))
        if size > self.limits.max_message:
            self._error(ErrorCode.TOO_LARGE,
                        f"message of {size} bytes is over the limit of "
                        f"{self.limits.max_message}")
            return
        if self.text_mode:
            if isinstance(data, bytes | bytearray):
                try:
                    data = bytes(data).decode("utf-8")
                except UnicodeDecodeError:
                    self._error(ErrorCode.BAD_FRAME, "Please send UTF-8 text.")
                    return
            text = data.replace("\r\n", "\n").replace("\r", "\n")
            if text.endswith("\n"):  # "Ann\n" is one line, not "Ann" and then ""
                text = text[:-1]
            for line in text.split("\n"):
                if line.strip() or self.state is not State.PLAYING:
                    self._receive_line(line)
            return
        try:
            msg = wire.parse_message(wire.decode_any(self.subprotocol, data))
        except WireError as err:
            self._error(err.code, err.message, err.id)
            return
        self.receive(msg)

    def receive(self, msg: wire.ClientMessage) -> None:
        """Act on one structured message."""
        if isinstance(msg, wire.Ping):
            self.send({"type": "pong", "id": msg.id} if msg.id is not None else {"type": "pong"})
        elif isinstance(msg, wire.Tools):
            tools = self.game.tool_list(self, every=True) if msg.all else self.game.tool_list(self)
            reply: dict[str, Any] = {"type": "tools", "tools": tools}
            if msg.id is not None:
                reply["id"] = msg.id
            self.send(reply)
        elif isinstance(msg, wire.Login | wire.Register):
            self._auth_message(msg)
        elif isinstance(msg, wire.Exists):
            self._exists(msg)
        elif isinstance(msg, wire.Usage):  # the shell answers (server/host/usage_service.py)
            if self.state is not State.PLAYING:
                self._error(ErrorCode.NOT_AUTHENTICATED, "Log in first.", msg.id)
            else:
                self.requests.append(GameRequest("usage_message", {"message": msg}))
        elif isinstance(msg, wire.Advance):  # lockstep: the shell runs the ticks
            if self.state is not State.PLAYING:
                self._error(ErrorCode.NOT_AUTHENTICATED, "Log in first.", msg.id)
            else:
                self.requests.append(GameRequest("advance", {"ticks": msg.ticks, "id": msg.id}))
        else:
            self._command(msg)

    def _auth_message(self, msg: wire.Login | wire.Register) -> None:
        if self.state is State.PLAYING:
            self._error(ErrorCode.ALREADY_AUTHENTICATED, "You are already playing.", msg.id)
            return
        if self.state is State.AUTHENTICATING:
            self._error(ErrorCode.BUSY, "A login is already under way.", msg.id)
            return
        self.batch = msg.batch
        if isinstance(msg, wire.Login):
            if msg.api_key is not None:
                self.state = State.AUTHENTICATING
                self.requests.append(AuthRequest("api_key", "", msg.api_key, None, msg.id))
                return
            self.state = State.AUTHENTICATING
            self.requests.append(AuthRequest("login", msg.name or "", msg.password or "",
                                             None, msg.id))
        else:
            self.state = State.AUTHENTICATING
            self.requests.append(AuthRequest("register", msg.name, msg.password, msg.cls,
                                             msg.id))

    def _exists(self, msg: wire.Exists) -> None:
        """Structured `exists`: the shell looks the name up and answers (`name_checked`).
        One at a time, and each costs a token of the bucket, as a command does."""
        if self.state is State.PLAYING:
            self._error(ErrorCode.ALREADY_AUTHENTICATED, "You are already playing.", msg.id)
            return
        if self.state is State.AUTHENTICATING:
            self._error(ErrorCode.BUSY, "A login is already under way.", msg.id)
            return
        self._refill()
        if self._tokens < 1.0:
            self._error(ErrorCode.RATE_LIMITED, "Slow down: too many questions at once.",
                        msg.id)
            return
        self._tokens -= 1.0
        self._login_name = msg.name
        self.state = State.AUTHENTICATING
        self.requests.append(AuthRequest("exists", msg.name, "", None, msg.id))

    def _command(self, msg: wire.Command | wire.CallTool | wire.Observe) -> None:
        if self.state is not State.PLAYING:
            self._error(ErrorCode.NOT_AUTHENTICATED, "Log in first.", msg.id)
            return
        self._refill()
        if not self._queue and self._tokens >= 1.0:
            self._tokens -= 1.0
            self.game.run(self, msg)
        elif len(self._queue) < self.limits.queue:
            self._queue.append(_Pending(msg))
        else:
            self._error(ErrorCode.RATE_LIMITED,
                        "Slow down: too many commands at once; this one was dropped.", msg.id)

    def _refill(self) -> None:
        elapsed = self.now - self._refilled
        if elapsed > 0:
            self._tokens = min(float(self.limits.burst), self._tokens + elapsed * self.limits.rate)
            self._refilled = self.now

    def tick(self, now: float) -> None:
        """Run queued commands that the bucket now allows."""
        self.now = now
        if not self._queue or self.state is not State.PLAYING:
            return
        self._refill()
        while self._queue and self._tokens >= 1.0:
            self._tokens -= 1.0
            self.game.run(self, self._queue.popleft().msg)

    # ---- auth answers from the shell ---------------------------------------------

    def auth_succeeded(self, character: Character, role: str, id: Any = None,
                       created: bool = False) -> None:
        """The shell logged the character in; the world has already greeted it."""
        self.character = character
        self.state = State.PLAYING
        self._login_password = ""
        if self.gmcp_enabled:
            self.gmcp_out.extend(self.gmcp_feed.login(character))
        if self.text_mode:
            return
        msg: dict[str, Any] = {
            "type": "auth",
            "ok": True,
            "created": created,
            "character": {
                "name": character.name,
                "class": character.cls,
                "level": character.level,
                "kind": str(character.kind),
                "role": role,
            },
        }
        if self.agent is not None:  # whose agent it is: it answers its owner's tells
            msg["character"]["owner"] = self.agent.owner
        if id is not None:
            msg["id"] = id
        self.send(msg)

    def auth_failed(self, code: str, message: str, id: Any = None) -> None:
        """The shell refused the login or registration."""
        self._login_password = ""
        if self.text_mode:
            self.say(render.error_spans(message))
            self._ask_name()
            return
        self.state = State.CONNECTED
        msg: dict[str, Any] = {"type": "auth", "ok": False,
                               "error": {"code": code, "message": message}}
        if id is not None:
            msg["id"] = id
        self.send(msg)

    def name_checked(self, exists: bool, problem: str | None, id: Any = None) -> None:
        """The shell says whether the name exists (or what is wrong with it): text mode
        goes on with the dialogue; a structured session gets an `exists` answer."""
        if not self.text_mode:
            if self.state is State.AUTHENTICATING:
                self.state = State.CONNECTED
            reply: dict[str, Any] = {"type": "exists", "name": self._login_name,
                                     "exists": exists}
            if problem is not None:
                reply["problem"] = problem
            if id is not None:
                reply["id"] = id
            self.send(reply)
            return
        if problem is not None:
            self.say(render.error_spans(problem))
            self._ask_name()
        elif exists:
            self.state = State.ASK_PASSWORD
            self.say([("", "Password: ")])
        else:
            self.state = State.CONFIRM_NAME
            self.say([("", f"Did I get that right, {self._login_name} (y/n)? ")])

    def close(self, reason: str) -> None:
        """Mark the session closed; the shell closes the connection."""
        self.state = State.CLOSED
        self.close_reason = reason

    # ---- text-mode dialogue ----------------------------------------------------------

    def _ask_name(self) -> None:
        self.state = State.ASK_NAME
        self.say([("", "By what name are you known? ")])

    def _receive_line(self, line: str) -> None:
        state = self.state
        text = line.strip()
        if state is State.PLAYING:
            self._command(wire.Command(line=text))
        elif state is State.ASK_NAME:
            if not text:
                self._ask_name()
                return
            self._login_name = text.capitalize()
            self.state = State.AUTHENTICATING
            self.requests.append(AuthRequest("exists", self._login_name, "", None, None))
        elif state is State.ASK_PASSWORD:
            self.state = State.AUTHENTICATING
            self.requests.append(AuthRequest("login", self._login_name, text, None, None))
        elif state is State.CONFIRM_NAME:
            if text.lower().startswith("y"):
                self.state = State.NEW_PASSWORD
                self.say([("", f"Give me a password for {self._login_name}: ")])
            else:
                self._ask_name()
        elif state is State.NEW_PASSWORD:
            if len(text) < 8:
                self.say(render.error_spans("A password needs at least 8 characters."))
                self.say([("", "Password: ")])
                return
            self._login_password = text
            self.state = State.CONFIRM_PASSWORD
            self.say([("", "Please retype the password: ")])
        elif state is State.CONFIRM_PASSWORD:
            if text != self._login_password:
                self.say(render.error_spans("The passwords don't match."))
                self.state = State.NEW_PASSWORD
                self.say([("", "Give me a password: ")])
                return
            self.state = State.CHOOSE_CLASS
            self._ask_class()
        elif state is State.CHOOSE_CLASS:
            classes = self.game.class_names()
            choice = _choose(text, classes)
            if choice is None:
                self.say(render.error_spans("That is not a class here."))
                self._ask_class()
                return
            self.state = State.AUTHENTICATING
            self.requests.append(AuthRequest("register", self._login_name, self._login_password,
                                             choice, None))
        elif state is State.AUTHENTICATING:
            self.say(render.error_spans("One moment, please..."))

    def _ask_class(self) -> None:
        names = self.game.class_names()
        options = ", ".join(f"[{cid[0].upper()}]{name[1:]}" for cid, name in names.items())
        self.say([("", f"Choose a class: {options}: ")])


def _choose(text: str, classes: dict[str, str]) -> str | None:
    word = text.strip().lower()
    if not word:
        return None
    for cid, name in classes.items():
        if cid.startswith(word) or name.lower().startswith(word):
            return cid
    return None


def deliver_many(event: Event, sessions: Iterable[SessionHandle], cache: dict[Any, Any]
                 ) -> None:
    """`session.deliver(event, cache)` for each of `sessions`, the recipients of one event
    in this process, with the usual case done here: a structured session without
    snoopers or GMCP that reads the event as a bystander takes the event's one
    encoding for its codec (`Session._shared`), numbered by its own `seq`. This is the
    loop that every say in a crowd runs once per listener."""
    if event.internal:
        for session in sessions:
            session.deliver(event, cache)
        return
    names = render.personal_names(event, cache)
    for session in sessions:
        ch = session.character
        if (not isinstance(session, Session) or session._text or session.watchers
                or session.gmcp_enabled or ch is None or names is None or ch.name in names):
            session.deliver(event, cache)
            continue
        session.seq += 1
        session._shared(event, ch.name, "", cache)  # a bystander's point of view
