"""The WebSocket and HTTP listener: a thin asyncio shell around two state machines.

Each TCP connection runs websockets' sans-I/O `ServerProtocol` (bytes in, events
out) and, once upgraded on `/ws`, our own `Session`. Plain HTTP requests get the
static web client under `/`, Prometheus metrics at `/metrics` and `/health`.

Besides our own subprotocols it speaks the MUD community's (mudstandards.org):
text-mode sessions whose ANSI text goes both ways in binary frames, with GMCP in
text frames for gmcp/json.mudstandards.org (see `server/mudstandards.py`).

Writes are coalesced: whatever a connection has to send after one pass of the
event loop goes out in one `transport.write`, which keeps fan-out (a `say` heard
by a crowded room) cheap.
"""

from __future__ import annotations

import asyncio
import mimetypes
import struct
from collections.abc import Sequence
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING, Any

from websockets.datastructures import Headers
from websockets.exceptions import NegotiationError
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import State as WsState
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol as WsSubprotocol

from server import mudstandards
from server.session import Session
from server.wire import ErrorCode, Subprotocol, WireError

if TYPE_CHECKING:
    from server.app import Server

STATIC_DIR = Path(__file__).resolve().parent / "static"
SUBPROTOCOLS = [WsSubprotocol(s.value) for s in Subprotocol]
OURS = [s for s in SUBPROTOCOLS if not Subprotocol(s).mudstandards]
MUDSTANDARDS = [s for s in SUBPROTOCOLS if Subprotocol(s).mudstandards]
MAX_WRITE_BUFFER = 4 << 20  # a client that reads nothing is dropped past this


def _select(protocol: ServerProtocol, offered: Sequence[WsSubprotocol]) -> WsSubprotocol | None:
    """The first of ours the client offers, else the first mudstandards.org one; none: text."""
    if not offered:
        return None
    for group in (OURS, MUDSTANDARDS):
        for choice in offered:
            if choice in group:
                return choice
    raise NegotiationError("unsupported subprotocol; this server speaks "
                           + ", ".join(SUBPROTOCOLS))


def frame_header(opcode: int, length: int) -> bytes:
    """The header of a final, unmasked WebSocket frame (RFC 6455 section 5.2)."""
    if length < 126:
        return bytes((0x80 | opcode, length))
    if length < 65536:
        return struct.pack("!BBH", 0x80 | opcode, 126, length)
    return struct.pack("!BBQ", 0x80 | opcode, 127, length)


def http_response(status: int, reason: str, body: bytes, content_type: str,
                  extra: dict[str, str] | None = None) -> Response:
    """A complete HTTP/1.1 response that closes the connection."""
    headers = Headers([
        ("Date", formatdate(usegmt=True)),
        ("Connection", "close"),
        ("Content-Length", str(len(body))),
        ("Content-Type", content_type),
        ("Cache-Control", "no-cache"),
        ("X-Content-Type-Options", "nosniff"),
    ])
    for k, v in (extra or {}).items():
        headers[k] = v
    return Response(status, reason, headers, body)


class Connection(asyncio.Protocol):
    """One TCP connection: HTTP, then perhaps a WebSocket with a session."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.proto = ServerProtocol(
            subprotocols=SUBPROTOCOLS,
            select_subprotocol=_select,
            max_size=server.settings.max_frame_bytes,
        )
        self.session: Session | None = None
        self._pending: list[bytes] = []  # framed messages waiting for write_pending
        self.kind: Subprotocol | None = None  # once upgraded
        self.address = ""
        self.client = ""  # mudstandards.org GMCP: from Core.Hello
        self.client_version = ""
        self.gmcp_supports: list[str] = []
        self.fragments: list[bytes] = []
        self.fragment_opcode: Opcode | None = None
        self.ping_sent: float | None = None
        self.closed = False
        self.opened_at = 0.0

    # ---- asyncio.Protocol ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.address = str(peer[0]) if isinstance(peer, tuple) else str(peer or "")
        self.opened_at = self.server.now()
        self.server.connections.add(self)

    def data_received(self, data: bytes) -> None:
        self.server.metrics.bytes_in.inc(len(data))
        try:
            self.proto.receive_data(data)
            self._events()
        except Exception as exc:  # a bug here must cost one connection, not the server
            self.server.log.error("connection_crashed", address=self.address,
                                  session=self.session.id if self.session else None,
                                  exc_info=exc)
            self.abort("internal error")

    def eof_received(self) -> bool | None:
        self.proto.receive_eof()
        self._events()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections.discard(self)
        if self.session is not None:
            self.server.session_lost(self.session)

    # ---- incoming ---------------------------------------------------------------

    def _events(self) -> None:
        for event in self.proto.events_received():
            if isinstance(event, Request):
                self._request(event)
            elif isinstance(event, Frame):
                self._frame(event)
        self.write_pending()
        if self.proto.state is WsState.CLOSED and self.transport is not None:
            self.transport.close()

    def _request(self, request: Request) -> None:
        path = request.path.split("?", 1)[0]
        if path == "/ws":
            response = self.proto.accept(request)
            if response.status_code == 101:
                self.proto.send_response(response)
                sub = self.proto.subprotocol
                kind = Subprotocol(sub) if sub else Subprotocol.TEXT
                self.kind = kind
                self.session = self.server.open_session(self, kind)
                self.session.gmcp_enabled = kind in mudstandards.OOB
            else:
                self.proto.send_response(response)
            return
        self.proto.send_response(self._http(path, request))

    def _http(self, path: str, request: Request) -> Response:
        if path == "/metrics":
            from server.metrics import CONTENT_TYPE

            return http_response(200, "OK", self.server.metrics.render(), CONTENT_TYPE)
        if path == "/health":
            body = self.server.health_json().encode()
            return http_response(200, "OK", body, "application/json")
        if path == "/":
            path = "/index.html"
        target = (STATIC_DIR / path.lstrip("/")).resolve()
        if STATIC_DIR in target.parents and target.is_file():
            ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            if ctype.startswith("text/") or ctype == "application/javascript":
                ctype += "; charset=utf-8"
            return http_response(200, "OK", target.read_bytes(), ctype)
        return http_response(404, "Not Found", b"Not found.\n", "text/plain; charset=utf-8")

    def _frame(self, frame: Frame) -> None:
        op = frame.opcode
        if op is Opcode.PONG:
            self.ping_sent = None
            return
        if op in (Opcode.PING, Opcode.CLOSE):
            return  # the protocol answers these itself
        if op is Opcode.CONT:
            self.fragments.append(bytes(frame.data))
            if sum(len(f) for f in self.fragments) > self.server.settings.max_frame_bytes:
                self.proto.fail(1009, "message too big")
                return
            if not frame.fin:
                return
            data = b"".join(self.fragments)
            op = self.fragment_opcode or Opcode.TEXT
            self.fragments, self.fragment_opcode = [], None
        else:
            if not frame.fin:
                self.fragments, self.fragment_opcode = [bytes(frame.data)], op
                return
            data = bytes(frame.data)
        if self.session is None:
            return
        payload: str | bytes
        if op is Opcode.TEXT:
            try:
                payload = data.decode("utf-8")
            except UnicodeDecodeError:
                self.proto.fail(1007, "invalid UTF-8 in a text frame")
                return
        else:
            payload = bytes(data)
        if isinstance(payload, str) and self.kind in mudstandards.OOB:
            self._oob(self.session, payload)
            return
        self.server.receive(self.session, payload)

    def _oob(self, session: Session, text: str) -> None:
        """A TEXT frame on gmcp/json.mudstandards.org: GMCP in; unreadable ones get a line."""
        assert self.kind is not None
        limit = self.server.settings.max_message_bytes
        if len(text.encode("utf-8")) > limit:
            self.server.refuse_input(session, ErrorCode.TOO_LARGE, f"That text frame is over the "
                                     f"limit of {limit} bytes and was ignored.")
            return
        try:
            msg = mudstandards.decode_oob(self.kind, text)
        except WireError as err:
            self.server.refuse_input(session, err.code, err.message)
            return
        if msg is None:
            return  # an envelope of another protocol: not ours to read
        package, data = msg
        name = package.lower()
        if name == "core.hello" and isinstance(data, dict):
            self.client = str(data.get("client", data.get("Client", "")))[:64]
            self.client_version = str(data.get("version", data.get("Version", "")))[:64]
            self.server.log.info("ws_client", session=session.id, client=self.client,
                                 version=self.client_version, subprotocol=str(self.kind))
        elif name in ("core.supports.set", "core.supports.add") and isinstance(data, list):
            if name == "core.supports.set":
                self.gmcp_supports = []
            self.gmcp_supports.extend(str(x)[:64] for x in data[:64])
        elif name == "core.ping":
            self._send_gmcp("Core.Ping")
        # anything else is a package we do not take: ignored, as GMCP wants

    # ---- outgoing ---------------------------------------------------------------

    def send_frames(self, frames: list[str | bytes]) -> None:
        """Frame messages from the session (written out by `write_pending`)."""
        if self.proto.state is not WsState.OPEN:
            return
        stream = self.kind is not None and self.kind.mudstandards
        if stream:
            self._drain_gmcp()  # as on telnet: GMCP first, then the text it goes with
        if stream:
            for f in frames:
                if isinstance(f, str):  # mudstandards.org: the ANSI text is in binary frames
                    self.proto.send_binary(mudstandards.terminal_bytes(f))
                else:
                    self.proto.send_binary(f)
            return
        # The hot path: data frames from server to client are unmasked and unfragmented,
        # so their bytes are a small header and the payload. Framing them here skips a
        # Frame object per message; the protocol still owns the handshake, control
        # frames and closing (its bytes go out after these, in the same write).
        out = self._pending
        for f in frames:
            if isinstance(f, str):
                data = f.encode("utf-8")
                out.append(frame_header(0x1, len(data)))
            else:
                data = f
                out.append(frame_header(0x2, len(data)))
            out.append(data)

    def _drain_gmcp(self) -> None:
        session = self.session
        if session is None or not session.gmcp_out:
            return
        out, session.gmcp_out = session.gmcp_out, []
        for package, data in out:
            self._send_gmcp(package, data)

    def _send_gmcp(self, package: str, data: Any = None) -> None:
        """Queue a GMCP message as a TEXT frame (gmcp/json.mudstandards.org only)."""
        if self.kind in mudstandards.OOB and self.proto.state is WsState.OPEN:
            assert self.kind is not None
            frame = mudstandards.encode_oob(self.kind, package, data)
            self.proto.send_text(frame.encode("utf-8"))

    def write_pending(self) -> None:
        """Write whatever the protocol has to send (GMCP included), in one write."""
        if self.kind in mudstandards.OOB and self.proto.state is WsState.OPEN:
            self._drain_gmcp()
        chunks = self.proto.data_to_send()
        if self._pending:
            chunks = self._pending + chunks
            self._pending = []
        if not chunks or self.transport is None or self.transport.is_closing():
            return
        eof = False
        if chunks[-1] == b"":
            eof = True
            chunks = [c for c in chunks if c]
        data = b"".join(chunks)
        if data:
            self.server.metrics.bytes_out.inc(len(data))
            self.transport.write(data)
            if self.transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
                self.abort("too slow: output is not being read")
                return
        if eof:
            self.transport.close()

    def ping(self, now: float) -> None:
        """Send a keepalive ping (a missed pong closes the connection next time)."""
        if self.proto.state is not WsState.OPEN:
            return
        self.ping_sent = now
        self.proto.send_ping(b"aq")
        self.write_pending()

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake; the TCP connection goes a moment later."""
        if self.proto.state is WsState.OPEN:
            self.proto.send_close(code, reason)
            self.write_pending()
        loop = asyncio.get_running_loop()
        loop.call_later(2.0, self.abort, "close timeout")

    def abort(self, why: str = "") -> None:
        """Drop the TCP connection now."""
        if self.transport is not None and not self.closed:
            self.transport.abort()

    def info(self) -> dict[str, Any]:
        """For logs."""
        if self.client:
            return {"address": self.address, "client": self.client}
        return {"address": self.address}
