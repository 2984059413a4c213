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
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from server import telnet_protocol as tp
from server.session import Session
from server.wire import Subprotocol

if TYPE_CHECKING:
    from server.app import Server

MAX_WRITE_BUFFER = 4 << 20  # a client that reads nothing is dropped past this
MIN_WIDTH = 20  # narrower NAWS reports are taken as this
CODEBASE = "Aegent Quest 0.1"


class TelnetConnection(asyncio.Protocol):
    """One telnet connection and its text session."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.codec = tp.TelnetCodec(max_line=server.settings.max_message_bytes,
                                    name=server.content.name)
        self.session: Session | None = None
        self.address = ""
        self.ping_sent: float | None = None  # telnet keepalives (IAC NOP) need no answer
        self.closed = False
        self.opened_at = 0.0
        self.client = ""  # from GMCP Core.Hello, or the first TTYPE answer
        self.client_version = ""
        self.gmcp_supports: list[str] = []
        self._echo = False  # we said WILL ECHO: the client's typing is hidden

    # ---- asyncio.Protocol ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.address = str(peer[0]) if isinstance(peer, tuple) else str(peer or "")
        self.opened_at = self.server.now()
        self.server.connections.add(self)
        self.codec.start()
        self.write_pending()
        self.session = self.server.open_session(self, Subprotocol.TEXT)

    def data_received(self, data: bytes) -> None:
        self.server.metrics.bytes_in.inc(len(data))
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

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections.discard(self)
        if self.session is not None:
            self.server.session_lost(self.session)

    # ---- incoming -----------------------------------------------------------------

    def _event(self, event: tp.TelnetEvent) -> None:
        session = self.session
        if session is None:
            return
        if isinstance(event, tp.Line):
            if self._echo:  # the client shows nothing while we echo: give it the line end
                self.codec.send_text("\n")
            self.server.receive(session, event.text)
        elif isinstance(event, tp.Invalid):
            self.server.refuse_input(session, event.code, event.message)
        elif isinstance(event, tp.WindowSize):
            session.width = max(event.width, MIN_WIDTH) if event.width else None
        elif isinstance(event, tp.OptionEnabled | tp.OptionDisabled):
            self._option(session, event)
        elif isinstance(event, tp.TerminalType):
            if not self.client:
                self.client = event.name
            if event.name.upper() == "DUMB":
                session.ansi = False
            self.server.log.info("telnet_terminal", session=session.id, terminal=event.name)
        elif isinstance(event, tp.GmcpMessage):
            self._gmcp(session, event)
        elif isinstance(event, tp.Charset):
            self.server.log.info("telnet_charset", session=session.id, charset=event.name,
                                 accepted=event.accepted)

    def _option(self, session: Session, event: tp.OptionEnabled | tp.OptionDisabled) -> None:
        on = isinstance(event, tp.OptionEnabled)
        if event.option == tp.GMCP:
            session.gmcp_enabled = self.codec.gmcp
        elif event.option == tp.MSSP and event.local and on:
            self.codec.send_mssp(self.mssp())
        elif event.option == tp.NAWS and not on:
            session.width = None
        self.server.log.debug("telnet_option", session=session.id,
                              option=tp.option_name(event.option), local=event.local, on=on)

    def _gmcp(self, session: Session, event: tp.GmcpMessage) -> None:
        data = event.data
        package = event.package.lower()
        if package == "core.hello" and isinstance(data, dict):
            self.client = str(data.get("client", ""))[:64]
            self.client_version = str(data.get("version", ""))[:64]
            self.server.log.info("telnet_client", session=session.id, client=self.client,
                                 version=self.client_version)
        elif package in ("core.supports.set", "core.supports.add") and isinstance(data, list):
            if package == "core.supports.set":
                self.gmcp_supports = []
            self.gmcp_supports.extend(str(x)[:64] for x in data[:64])
        elif package == "core.ping":
            self.codec.send_gmcp("Core.Ping")

    def _sync_echo(self) -> None:
        """Hide the client's typing while the session waits for a password."""
        want = self.session is not None and self.session.password_expected
        if want and not self._echo and self.codec.telnet_seen:
            self._echo = self.codec.enable(tp.ECHO)
        elif not want and self._echo:
            self._echo = False
            self.codec.disable(tp.ECHO)

    def mssp(self) -> dict[str, object]:
        """The MSSP table for MUD listing crawlers."""
        server, settings = self.server, self.server.settings
        variables: dict[str, object] = {
            "NAME": server.content.name,
            "PLAYERS": len(server.by_character),
            "UPTIME": int(server.started_at),
            "CODEBASE": CODEBASE,
            "PORT": server.telnet_port,
            "CRAWL DELAY": -1,
            "LANGUAGE": "English",
            "FAMILY": "Custom",
            "GENRE": "Fantasy",
            "STATUS": "Alpha",
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
        """Queue text from the session: each frame ends with a prompt (GA or EOR after it)."""
        self._send_gmcp()
        self._sync_echo()
        for frame in frames:
            text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
            self.codec.send_text(text, prompt=True)

    def _send_gmcp(self) -> None:
        session = self.session
        if session is None or not session.gmcp_out:
            return
        out, session.gmcp_out = session.gmcp_out, []
        for package, data in out:
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
