"""The telnet listener: a thin asyncio shell around `TelnetCodec` and a text `Session`.

Each TCP connection on the telnet port (default 4001) gets the option offers at
once (WILL SGA, EOR, GMCP, MSSP, COMPRESS2; DO NAWS, TTYPE, CHARSET) and a text
session with the classic login dialogue, exactly as a WebSocket text client
would. Negotiation feeds the session: NAWS sets its wrap width, GMCP turns on
its structured side channel, a password question turns echo off (WILL ECHO)
until the answer is in. A client that never negotiates still plays: plain lines
in, plain lines out, and no telnet bytes from us beyond the first offers.

Like `ws.Connection`, writes are coalesced: what a connection has to send after
one pass of the event loop goes out in one `transport.write` (compressed once,
with one sync flush, under MCCP2).

Hardening (docs/security.md): a connection from a trusted proxy
(`Settings.trusted_proxies`) must start with a PROXY protocol header, which gives
the client's address; the offers and the session wait for it, and a missing or
broken header closes the connection. Each address holds at most
`max_connections_per_address` connections (`Server.per_address`). Every log line
a client's input can cause goes through the connection's `LogBudget`, and what a
connection keeps (terminal types, GMCP packages) is bounded and goes with it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from server import netguard
from server.gateway import gmcp, proxy_protocol
from server.gateway import telnet_protocol as tp
from server.gateway.session import Session
from server.wire import Subprotocol
from world.commands.registry import REGISTRY
from world.entities import Role
from world.rules import LEVEL_CAP

if TYPE_CHECKING:
    from server.gateway.front import Front
    from world.world import World

MAX_WRITE_BUFFER = 4 << 20  # a client that reads nothing is dropped past this
MIN_WIDTH = 20  # narrower NAWS reports are taken as this
# The greeting waits this long at most for the client's window size (NAWS), so that it
# is wrapped to the window like everything after it; a line typed, or NAWS refused,
# sends it at once.
GREETING_WAIT = 0.5
CODEBASE = "Aegent Quest 0.1"
TOO_MANY = b"Too many connections from your address.\r\n"


class TelnetConnection(asyncio.Protocol):
    """One telnet connection and its text session."""

    def __init__(self, server: Front) -> None:
        settings = server.settings
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.codec = tp.TelnetCodec(max_line=settings.max_message_bytes,
                                    name=server.game_name,
                                    max_terminal_types=settings.terminal_types_max)
        self.session: Session | None = None
        self.address = ""
        self.ping_sent: float | None = None  # telnet keepalives (IAC NOP) need no answer
        self.closed = False
        self.opened_at = 0.0
        self.client = ""  # from GMCP Core.Hello, or the first TTYPE answer
        self.client_version = ""
        self.gmcp_supports = gmcp.Supports(settings.gmcp_supports_max)
        self.log_budget = netguard.LogBudget(settings.log_lines_per_minute, server.now)
        self._supports_budget = netguard.LogBudget(1, server.now)  # "list full": once a minute
        self.proxy: proxy_protocol.ProxyParser | None = None  # waiting for a PROXY header
        self._proxy_deadline: asyncio.TimerHandle | None = None
        self._counted = False  # holds a place in server.per_address
        self._terminal_logged = False
        self._echo = False  # we said WILL ECHO: the client's typing is hidden
        self._greeting: asyncio.TimerHandle | None = None  # the greeting waits for NAWS

    # ---- asyncio.Protocol ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        host = str(peer[0]) if isinstance(peer, tuple) else str(peer or "")
        self.address = netguard.valid_address(host) or host
        self.opened_at = self.server.now()
        self.server.connections.add(self)
        self.pacer = netguard.InputPacer(self.server.settings.input_bytes_per_second,
                                         self.server.settings.input_burst_bytes,
                                         self.server.now)
        if netguard.is_trusted(self.address, self.server.trusted_proxies):
            # The proxy speaks first: no offers, no session before its header.
            self.proxy = proxy_protocol.ProxyParser()
            self._proxy_deadline = asyncio.get_running_loop().call_later(
                self.server.settings.login_timeout, self._proxy_timeout)
            return
        self._begin()

    def _begin(self) -> bool:
        """The client's address is known: count it, make the offers, open the session.

        False when the address already has its share of connections: it is told so
        and the connection closes."""
        assert self.transport is not None
        if not self.server.per_address.acquire(self.address):
            if self.server.refusals_logged.allow():  # server-wide: a flood is few lines
                self._log("warning", "too_many_connections",
                          limit=self.server.per_address.limit)
            self.transport.write(TOO_MANY)
            self.transport.close()
            return False
        self._counted = True
        self.codec.start()
        self.write_pending()
        self.session = self.server.open_session(self, Subprotocol.TEXT)
        self.session.gmcp_feed = self.server.gmcp_feed(self.gmcp_supports)
        self.session.held = True  # written by _greet, once the window size is known
        self._greeting = asyncio.get_running_loop().call_later(GREETING_WAIT, self._greet)
        return True

    def _greet(self) -> None:
        """Send what the session holds (its greeting): NAWS answered, or not in time."""
        if self._greeting is not None:
            self._greeting.cancel()
            self._greeting = None
        session = self.session
        if session is None or not session.held or self.closed:
            return
        session.held = False
        frames = session.outbox()
        if frames:
            self.send_frames(frames)
        self.write_pending()

    def _proxy_header(self, data: bytes) -> bytes:
        """Read the PROXY header a trusted proxy sends first; the bytes after it, once
        the session is open (nothing before, or when the connection is refused)."""
        assert self.proxy is not None and self.transport is not None
        result = self.proxy.feed(data)
        if isinstance(result, proxy_protocol.Header):
            self._end_proxy()
            if result.address is not None:  # LOCAL or UNKNOWN: the proxy's own address
                self.address = result.address
            return result.rest if self._begin() else b""
        if isinstance(result, proxy_protocol.ProxyError):
            self._end_proxy()
            self._log("warning", "proxy_header_invalid", reason=result.reason)
            self.transport.close()
        return b""

    def _proxy_timeout(self) -> None:
        self._proxy_deadline = None
        if self.proxy is not None:
            self._end_proxy()
            self._log("warning", "proxy_header_invalid", reason="no header in time")
            self.abort("no PROXY header")

    def _end_proxy(self) -> None:
        self.proxy = None
        if self._proxy_deadline is not None:
            self._proxy_deadline.cancel()
            self._proxy_deadline = None

    def data_received(self, data: bytes) -> None:
        self.server.metrics.bytes_in.inc(len(data))
        pause = self.pacer.take(len(data))
        if pause > 0 and self.transport is not None and not self.closed:
            self.transport.pause_reading()  # over its rate: its bytes wait in the kernel
            asyncio.get_running_loop().call_later(pause, self._read_on)
        if self.proxy is not None:
            data = self._proxy_header(data)
        if self.session is None or not data:
            return
        try:
            for event in self.codec.receive(data):
                self._event(event)
            self._sync_echo()
            self.write_pending()
        except Exception as exc:  # a bug here must cost one connection, not the server
            self.server.log.error("connection_crashed", address=self.address,
                                  session=self.session.id if self.session else None,
                                  exc_info=exc)
            self.abort("internal error")

    def _read_on(self) -> None:
        if self.transport is not None and not self.closed and not self.transport.is_closing():
            self.transport.resume_reading()

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._end_proxy()
        if self._greeting is not None:
            self._greeting.cancel()
            self._greeting = None
        self.server.connections.discard(self)
        if self._counted:
            self._counted = False
            self.server.per_address.release(self.address)
        if self.session is not None:
            self.server.session_lost(self.session)

    # ---- incoming -----------------------------------------------------------------

    def _event(self, event: tp.TelnetEvent) -> None:
        session = self.session
        if session is None:
            return
        if session.held and (isinstance(event, tp.Line | tp.Invalid) or (
                isinstance(event, tp.OptionRefused | tp.OptionDisabled)
                and event.option == tp.NAWS)):
            self._greet()  # no window size coming, or no more waiting: greet first
        if isinstance(event, tp.Line):
            if self._echo:  # the client shows nothing while we echo: give it the line end
                self.codec.send_text("\n")
            self.server.receive(session, event.text)
        elif isinstance(event, tp.Invalid):
            self._log("info", "telnet_invalid_input", code=event.code)
            self.server.refuse_input(session, event.code, event.message)
        elif isinstance(event, tp.WindowSize):
            session.width = max(event.width, MIN_WIDTH) if event.width else None
            if session.held:
                self._greet()
        elif isinstance(event, tp.OptionEnabled | tp.OptionDisabled):
            self._option(session, event)
        elif isinstance(event, tp.TerminalType):
            if not self.client:
                self.client = event.name
            if event.name.upper() == "DUMB":
                session.ansi = False
            if not self._terminal_logged:  # the first answer names the client: once
                self._terminal_logged = True
                self._log("info", "telnet_terminal", terminal=event.name)
        elif isinstance(event, tp.GmcpMessage):
            self._gmcp(session, event)
        elif isinstance(event, tp.Charset):
            self._log("info", "telnet_charset", charset=event.name[:64],
                      accepted=event.accepted)
        elif isinstance(event, tp.OptionRefused):
            self._log("debug", "telnet_option_refused", option=tp.option_name(event.option),
                      local=event.local)
        elif isinstance(event, tp.Subnegotiation):
            self._log("debug", "telnet_subnegotiation_ignored",
                      option=tp.option_name(event.option), size=len(event.payload))

    def _option(self, session: Session, event: tp.OptionEnabled | tp.OptionDisabled) -> None:
        on = isinstance(event, tp.OptionEnabled)
        if event.option == tp.GMCP:
            session.gmcp_enabled = self.codec.gmcp
        elif event.option == tp.MSSP and event.local and on:
            self.codec.send_mssp(self.mssp())
        elif event.option == tp.NAWS and not on:
            session.width = None
        self._log("debug", "telnet_option", option=tp.option_name(event.option),
                  local=event.local, on=on)

    def _gmcp(self, session: Session, event: tp.GmcpMessage) -> None:
        data = event.data
        package = event.package.lower()
        if event.error:  # not JSON, or nested too deep: ignored (GMCP has no error reply)
            self._log("info", "gmcp_bad_body", package=event.package[:64], error=event.error)
            return
        if package == "core.hello" and isinstance(data, dict):
            self.client = str(data.get("client", ""))[:64]
            self.client_version = str(data.get("version", ""))[:64]
            self._log("info", "telnet_client", client=self.client,
                      version=self.client_version)
        elif package in gmcp.SUPPORTS:
            ignored = self.gmcp_supports.update(package, data)
            if ignored and self._supports_budget.allow():
                self._log("info", "gmcp_supports_ignored", package=event.package,
                          ignored=ignored, kept=len(self.gmcp_supports),
                          limit=self.gmcp_supports.limit)
            self.server.gmcp_heard(session, event.package, data)
        elif package == "core.ping":
            self.codec.send_gmcp("Core.Ping")
        else:  # a request (Char.Items.Inv...) is answered; anything else is ignored
            session.gmcp_request(event.package, data)
            self.server.gmcp_heard(session, event.package, data)

    def _log(self, level: str, event: str, **fields: Any) -> None:
        """Log a line caused by the client's input, within the connection's budget; the
        first line over it in a minute becomes one `log_suppressed` line."""
        who = {"session": self.session.id if self.session else None, "address": self.address}
        self.log_budget.write(self.server.log, level, event, who, **fields)

    def _sync_echo(self) -> None:
        """Hide the client's typing while the session waits for a password."""
        want = self.session is not None and self.session.password_expected
        if want and not self._echo and self.codec.telnet_seen:
            self._echo = self.codec.enable(tp.ECHO)
        elif not want and self._echo:
            self._echo = False
            self.codec.disable(tp.ECHO)

    def mssp(self) -> dict[str, object]:
        """The MSSP table for MUD listing crawlers (the world's counts: `mssp_content`)."""
        server, settings = self.server, self.server.settings
        variables: dict[str, object] = {
            "NAME": server.game_name,
            "PLAYERS": len(server.by_character),
            "UPTIME": int(server.started_at),
            "CODEBASE": CODEBASE,
            "PORT": server.telnet_port,
            "CRAWL DELAY": -1,
            "LANGUAGE": "English",
            "FAMILY": "Custom",
            "GENRE": "Fantasy",
            "GAMESYSTEM": "Custom",
            "STATUS": "Alpha",
            **(mssp_content(server.world) if server.world is not None else {}),
            "ANSI": True,
            "UTF-8": True,
            "GMCP": True,
            "MCCP": True,
            "MSDP": False,
            "MXP": False,
            "SSL": False,
            "VT100": False,
            "XTERM 256 COLORS": False,
            "PUEBLO": False,
            "MINIMUM AGE": 0,
        }
        if settings.host not in ("", "0.0.0.0", "::"):
            variables["HOSTNAME"] = settings.host
            variables["WEBSITE"] = f"http://{settings.host}:{server.port}/"
        return variables

    # ---- outgoing -----------------------------------------------------------------

    def send_frames(self, frames: list[str | bytes]) -> None:
        """Queue text from the session: each frame ends with a prompt (GA or EOR after it).

        GMCP goes first; `Comm.Channel.Start`/`End` go inside the text, around the line
        they mark (`Session.gmcp_inline`: offsets in the frame)."""
        self._send_gmcp()
        self._sync_echo()
        inline: list[tuple[int, gmcp.Message]] = []
        if self.session is not None:
            inline, self.session.gmcp_inline = self.session.gmcp_inline, []
        for frame in frames:
            text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
            pos = 0
            for offset, (package, data) in inline:
                if offset > pos:
                    self.codec.send_text(text[pos:offset])
                    pos = offset
                self.codec.send_gmcp(package, data)
            inline = []
            self.codec.send_text(text[pos:], prompt=True)

    def _send_gmcp(self) -> None:
        session = self.session
        if session is None:
            return
        for package, data in session.take_gmcp():
            self.codec.send_gmcp(package, data)

    def write_pending(self) -> None:
        """Write whatever is queued (GMCP included), in one write."""
        self._send_gmcp()
        data = self.codec.data_to_send()
        if not data or self.transport is None or self.transport.is_closing():
            return
        self.server.metrics.bytes_out.inc(len(data))
        self.transport.write(data)
        if self.transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
            self.abort("too slow: output is not being read")

    def ping(self, now: float) -> None:
        """Keepalive: IAC NOP to telnet clients (nothing to those that never negotiated)."""
        self.codec.send_nop()
        self.write_pending()

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Send what is left, end compression, close (telnet has no close reason)."""
        if self.transport is None or self.transport.is_closing():
            return
        self._send_gmcp()
        self.codec.finish()
        self.write_pending()
        self.transport.close()
        loop = asyncio.get_running_loop()
        loop.call_later(2.0, self.abort, "close timeout")

    def abort(self, why: str = "") -> None:
        """Drop the TCP connection now."""
        if self.transport is not None and not self.closed:
            self.transport.abort()

    def info(self) -> dict[str, Any]:
        """For logs."""
        return {"address": self.address, "client": self.client}


def mssp_content(world: World) -> dict[str, object]:
    """The MSSP variables that describe the world, counted from its content as it is now
    (builders' rooms and zones included): AREAS, ROOMS, MOBILES (kinds of creature),
    OBJECTS (kinds of item), HELPFILES (help pages and the commands' own), CLASSES,
    LEVELS (the cap), SKILLS (spells and skills), QUEST SYSTEM, EQUIPMENT SYSTEM."""
    content = world.content
    commands = sum(1 for spec in REGISTRY.specs.values() if spec.role is Role.PLAYER)
    return {
        "AREAS": len(content.zones),
        "ROOMS": len(world.rooms),
        "MOBILES": len(content.mobs),
        "OBJECTS": len(content.items),
        "HELPFILES": len(content.help) + commands,
        "CLASSES": len(content.classes),
        "LEVELS": LEVEL_CAP,
        "SKILLS": len(content.spells),
        "QUEST SYSTEM": "Automated" if content.quests else "None",
        "EQUIPMENT SYSTEM": "Level" if any(i.level > 1 for i in content.items.values())
                            else "None",
    }
