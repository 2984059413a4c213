"""The WebSocket and HTTP listener: a thin asyncio shell around two state machines.

Each TCP connection runs websockets' sans-I/O `ServerProtocol` (bytes in, events
out) and, once upgraded on `/ws`, our own `Session`. Plain HTTP requests get the
static web client under `/`, Prometheus metrics at `/metrics` and `/health`, and
A2A agent cards and requests under `/a2a/` (answered by `Server.a2a`).

Besides our own subprotocols it speaks the MUD community's (mudstandards.org):
text-mode sessions whose ANSI text goes both ways in binary frames, with GMCP in
text frames for gmcp/json.mudstandards.org (see `server/gateway/mudstandards.py`).

Writes are coalesced: whatever a connection has to send after one pass of the
event loop goes out in one `transport.write`, which keeps fan-out (a `say` heard
by a crowded room) cheap.

Hardening (docs/security.md): every bound answers the client and logs at most
`log_lines_per_minute` lines per connection (`netguard.LogBudget`).
- HTTP: the request head is read here, up to `MAX_HEAD` bytes (more: 431), and only
  then given to the protocol, so bytes after it (a body, a pipelined second request)
  are never mistaken for frames: the first request is answered and the connection
  closes (our responses say `Connection: close`). GET and HEAD only (else 405),
  but POST to the A2A paths (`/a2a/<agent>`, server/host/a2a.py), whose body is bounded
  (`a2a_max_body_bytes`: 413; no Content-Length: 411) and must come within
  `http_body_timeout` (408; server/gateway/httpbody.py); what the protocol cannot parse gets
  a 400.
- `/ws`: a browser's `Origin` must be this server's own (its `Host`) or one of
  `allowed_origins` (403 otherwise); no `Origin` (not a browser) is fine.
- Addresses: `X-Forwarded-For` is believed only from `trusted_proxies`; each
  address holds at most `max_connections_per_address` connections
  (`Server.per_address`; more get 429).
- Frames: a fragmented message holds at most `max_fragments` frames and
  `max_frame_bytes` bytes (more: close 1009), counted as they come.
- GMCP (mudstandards.org): declared packages are de-duplicated and bounded
  (`gmcp.Supports`, `gmcp_supports_max`); JSON nested too deep gets a refusal line.
- When we have said our last (an HTTP response, a close), we half-close and read
  until the client closes, at most `LINGER` seconds: closing with its input unread
  would reset the connection, and the client could lose our answer.
"""

from __future__ import annotations

import asyncio
import functools
import http
import mimetypes
import re
import struct
from collections.abc import Awaitable, Sequence
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from websockets.datastructures import Headers
from websockets.exceptions import InvalidMessage, NegotiationError
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import State as WsState
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol as WsSubprotocol

from server import netguard
from server.gateway import gmcp, httpbody, mudstandards
from server.gateway.session import Session
from server.host.a2a_protocol import PREFIX as A2A_PREFIX
from server.wire import ErrorCode, Subprotocol, WireError

if TYPE_CHECKING:
    from server.gateway.front import Front

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"  # server/static
SUBPROTOCOLS = [WsSubprotocol(s.value) for s in Subprotocol]
OURS = [s for s in SUBPROTOCOLS if not Subprotocol(s).mudstandards]
MUDSTANDARDS = [s for s in SUBPROTOCOLS if Subprotocol(s).mudstandards]
MAX_WRITE_BUFFER = 4 << 20  # a client that reads nothing is dropped past this
MAX_HEAD = 16 << 10  # an HTTP request line and headers, in bytes; more: 431
LINGER = 2.0  # seconds a client has to close after our last byte before it is dropped
METHODS = ("GET", "HEAD")  # and POST to A2A paths (server/gateway/httpbody.py, server/host/a2a.py)
TEXT_PLAIN = "text/plain; charset=utf-8"
TOO_MANY = b"Too many connections from your address.\n"
_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+")  # an HTTP method (RFC 9110 token)


def select_subprotocol(protocol: ServerProtocol, offered: Sequence[WsSubprotocol]
                       ) -> WsSubprotocol | None:
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


def plain(status: int, text: str, extra: dict[str, str] | None = None) -> Response:
    """A short text/plain response with `status` (and its standard reason phrase)."""
    return http_response(status, http.HTTPStatus(status).phrase, text.encode("utf-8"),
                         TEXT_PLAIN, extra)


def not_allowed() -> Response:
    """405 for any method but GET and HEAD."""
    return plain(405, "Only GET and HEAD are allowed here.\n", {"Allow": ", ".join(METHODS)})


def head_end(buf: bytes | bytearray, start: int = 0) -> int | None:
    """Where the HTTP request head in `buf` ends (after its blank line), looking from
    `start`; None while it has not. A bare LF blank line ends it too (to be refused)."""
    ends = [i + n for i, n in ((buf.find(b"\r\n\r\n", start), 4), (buf.find(b"\n\n", start), 2))
            if i >= 0]
    return min(ends) if ends else None


def request_method(head: bytes) -> str | None:
    """The method of a request head whose request line has HTTP's shape, else None."""
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    parts = line.split(b" ")
    if len(parts) != 3 or parts[2] not in (b"HTTP/1.1", b"HTTP/1.0"):
        return None
    return parts[0].decode("ascii") if _TOKEN.fullmatch(parts[0]) else None


@functools.lru_cache(maxsize=16)
def _origins(spec: str) -> frozenset[str]:
    return frozenset(o.strip().rstrip("/").lower() for o in spec.split(",") if o.strip())


def _host_port(netloc: str, scheme: str) -> str:
    """`netloc` without the scheme's default port."""
    default = {"http": ":80", "ws": ":80", "https": ":443", "wss": ":443"}.get(scheme)
    return netloc[:-len(default)] if default and netloc.endswith(default) else netloc


def origin_refusal(headers: Headers, allowed: str) -> str | None:
    """Why a WebSocket handshake with these headers is refused for its `Origin`; None
    when it is allowed: no Origin (not a browser), this server's own (the Origin's
    host:port is the request's Host), one of `allowed` (comma-separated), or `*`."""
    sent = headers.get_all("Origin")
    if not sent:
        return None
    if len(sent) > 1:
        return "more than one Origin header"
    origin = sent[0].strip()
    accepted = _origins(allowed)
    wanted = origin.rstrip("/").lower()
    if "*" in accepted or wanted in accepted:
        return None
    hosts = headers.get_all("Host")
    if len(hosts) == 1:
        try:
            parts = urlsplit(wanted)
        except ValueError:
            parts = None
        if (parts is not None and parts.scheme in ("http", "https") and parts.netloc
                and _host_port(parts.netloc, parts.scheme)
                == _host_port(hosts[0].strip().lower(), parts.scheme)):
            return None
    return f"the Origin {origin[:100]!r} may not open a WebSocket on this server"


class Connection(asyncio.Protocol):
    """One TCP connection: HTTP, then perhaps a WebSocket with a session."""

    def __init__(self, server: Front) -> None:
        settings = server.settings
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.proto = ServerProtocol(
            subprotocols=SUBPROTOCOLS,
            select_subprotocol=select_subprotocol,
            max_size=settings.max_frame_bytes,
        )
        self.session: Session | None = None
        self._pending: list[bytes] = []  # framed messages waiting for write_pending
        self.kind: Subprotocol | None = None  # once upgraded
        self.peer = ""  # the TCP peer (a proxy's address, when it is a trusted one)
        self.address = ""  # the client's: the peer, or whom a trusted proxy forwarded for
        self.client = ""  # mudstandards.org GMCP: from Core.Hello
        self.client_version = ""
        self.gmcp_supports = gmcp.Supports(settings.gmcp_supports_max)
        self.log_budget = netguard.LogBudget(settings.log_lines_per_minute, server.now)
        self._supports_budget = netguard.LogBudget(1, server.now)  # "list full": once a minute
        self.fragments: list[bytes] = []
        self.fragment_bytes = 0  # the sum of len(fragments), kept as they come
        self.fragment_opcode: Opcode | None = None
        self.ping_sent: float | None = None
        self.closed = False
        self.opened_at = 0.0
        self._head: bytearray | None = bytearray()  # the HTTP request head, until whole
        self._counted: str | None = None  # the address holding a place in per_address
        self._failed = False  # we failed the WebSocket: frames still queued are dropped
        self._eof_sent = False
        self._linger: asyncio.TimerHandle | None = None
        # A POST (A2A): its request while its body comes, then the answer being made.
        self._post_request: Request | None = None
        self._body: httpbody.Body | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._answering: asyncio.Future[Response] | None = None

    # ---- asyncio.Protocol ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        host = str(peer[0]) if isinstance(peer, tuple) else str(peer or "")
        self.peer = self.address = netguard.valid_address(host) or host
        self.opened_at = self.server.now()
        self.server.connections.add(self)
        settings = self.server.settings
        self.pacer = netguard.InputPacer(settings.input_bytes_per_second,
                                         settings.input_burst_bytes, self.server.now)
        self._head_timer = asyncio.get_running_loop().call_later(
            settings.http_head_timeout, self._head_timeout)
        if netguard.is_trusted(self.peer, self.server.trusted_proxies):
            return  # counted once its request says whose connection it is
        if not self._count(self.peer):
            self._head = None  # what the client sends now is read and dropped
            self._too_many()
            self.write_pending()

    def data_received(self, data: bytes) -> None:
        self.server.metrics.bytes_in.inc(len(data))
        try:
            if self._head is not None:
                self._read_head(data)
            elif self._body is not None:
                self._feed_body(data)
            elif self._post_request is not None:
                pass  # after the body: a pipelined request, dropped
            else:
                self.proto.receive_data(data)
                self._events()
        except Exception as exc:  # a bug here must cost one connection, not the server
            self._crashed(exc)
        pause = self.pacer.take(len(data))
        if pause > 0 and self.transport is not None and not self.closed:
            self.transport.pause_reading()  # over its rate: its bytes wait in the kernel
            asyncio.get_running_loop().call_later(pause, self._read_on)

    def _read_on(self) -> None:
        if self.transport is not None and not self.closed and not self.transport.is_closing():
            self.transport.resume_reading()

    def _head_timeout(self) -> None:
        """The request head did not come whole in time (a slow-loris): 408, closed."""
        if self._head is not None and not self.closed:
            self._head = None
            self._respond(plain(408, "The request took too long to arrive.\n"))
            self.write_pending()

    def eof_received(self) -> bool | None:
        self._head = None
        if self._post_request is not None:  # a POST: still answered, then closed
            if self._body is not None:
                self._stop_body()
                self._respond(plain(400, "The request body ended early.\n"))
                self.write_pending()
            return True
        try:
            self.proto.receive_eof()
            self._events()
        except Exception as exc:
            self._crashed(exc)
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._head_timer.cancel()
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        self.server.connections.discard(self)
        self._stop_body()
        if self._answering is not None:
            self._answering.cancel()  # the client is gone: stop waiting for its answer
        if self._counted is not None:
            self.server.per_address.release(self._counted)
            self._counted = None
        if self.session is not None:
            self.server.session_lost(self.session)

    def _crashed(self, exc: Exception) -> None:
        self.server.log.error("connection_crashed", address=self.address,
                              session=self.session.id if self.session else None,
                              exc_info=exc)
        self.abort("internal error")

    # ---- HTTP -----------------------------------------------------------------------

    def _read_head(self, data: bytes) -> None:
        """Collect the request head; once whole, let the protocol parse it and answer.

        Bytes after the head go to the protocol only if the WebSocket opened (frames
        sent without waiting for our 101); otherwise they are a body or another
        request, and are dropped: the response closes the connection."""
        head = self._head
        assert head is not None
        start = max(0, len(head) - 3)
        head += data
        end = head_end(head, start)
        if end is None or end > MAX_HEAD:
            if end is not None or len(head) > MAX_HEAD:
                self._head = None
                self._refuse(plain(431, f"The request's headers are over the limit of "
                                        f"{MAX_HEAD} bytes.\n"), "head_too_large")
                self.write_pending()
            return
        self._head = None
        if request_method(bytes(head[:end])) == "POST":
            self._post(bytes(head[:end]), bytes(head[end:]))
            return
        self.proto.receive_data(bytes(head[:end]))
        events = self.proto.events_received()
        if events and isinstance(events[0], Request):
            self._request(events[0])
        else:
            self._unreadable(bytes(head[:end]))
        rest = bytes(head[end:])
        if rest and self.proto.state is WsState.OPEN:
            self.proto.receive_data(rest)
        self._events()

    def _unreadable(self, head: bytes) -> None:
        """The protocol could not parse the head: a 405 or a 400 goes before its EOF."""
        exc = self.proto.handshake_exc
        if not isinstance(exc, InvalidMessage):
            return  # it answered itself (414, 431)
        method = request_method(head)
        if method is not None and method not in METHODS:
            response = not_allowed()
        else:
            why = str(exc.__cause__ or exc)[:200]
            response = plain(400, f"Bad request: {why}.\n")
        self._log("info", "http_refused", status=response.status_code, method=method)
        self._pending.append(response.serialize())

    def _request(self, request: Request) -> None:
        if request.method not in METHODS:
            self._refuse(not_allowed(), "http_refused", method=request.method[:16])
            return
        if not self._settle_address(request):
            return
        path = request.path.split("?", 1)[0]
        head_only = request.method == "HEAD"
        if path == "/ws":
            self._upgrade(request, head_only)
        elif path.startswith(A2A_PREFIX):  # an agent's card (server/host/a2a.py)
            self._later(self.server.a2a.get(path, request.headers), head_only)
        else:
            self._respond(self._http(path, request), head_only)

    def _post(self, head: bytes, rest: bytes) -> None:
        """A POST: only to A2A paths (else 405), with a Content-Length of at most
        `a2a_max_body_bytes` (411, 413, 501 otherwise); its body is read within
        `http_body_timeout` (408), then `Server.a2a` answers it."""
        settings = self.server.settings
        try:
            request = httpbody.parse_head(head)
            if not request.path.startswith(A2A_PREFIX):
                self._refuse(not_allowed(), "http_refused", method="POST")
                self.write_pending()
                return
            length = httpbody.content_length(request.headers, settings.a2a_max_body_bytes)
        except httpbody.HeadRefused as exc:
            self._refuse(plain(exc.status, exc.message + "\n"), "http_refused", method="POST")
            self.write_pending()
            return
        if not self._settle_address(request):
            self.write_pending()
            return
        self._post_request = request
        self._body = httpbody.Body(length)
        self._body_timer = asyncio.get_running_loop().call_later(
            settings.http_body_timeout, self._body_timeout)
        self._feed_body(rest)

    def _feed_body(self, data: bytes) -> None:
        body, request = self._body, self._post_request
        assert body is not None and request is not None
        if not body.feed(data):
            return
        self._stop_body()
        path = request.path.split("?", 1)[0]
        self._later(self.server.a2a.post(path, request.headers, body.data(), self.address))

    def _stop_body(self) -> None:
        self._body = None
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _body_timeout(self) -> None:
        """The body did not come whole in time: 408, closed."""
        if self._body is not None and not self.closed:
            self._stop_body()
            self._respond(plain(408, "The request body took too long to arrive.\n"))
            self.write_pending()

    def _later(self, answer: Awaitable[Response], head_only: bool = False) -> None:
        """Respond once `answer` (database work, an agent's reply) is ready."""
        task = asyncio.ensure_future(answer)
        self._answering = task
        task.add_done_callback(functools.partial(self._answered, head_only=head_only))

    def _answered(self, task: asyncio.Future[Response], head_only: bool) -> None:
        self._answering = None
        if task.cancelled() or self.closed:
            return
        exc = task.exception()
        if exc is not None:
            self.server.log.error("http_answer_failed", address=self.address, exc_info=exc)
            response = plain(500, "Something went wrong; it has been logged.\n")
        else:
            response = task.result()
        self._respond(response, head_only)
        self.write_pending()

    def _upgrade(self, request: Request, head_only: bool) -> None:
        why = origin_refusal(request.headers, self.server.settings.allowed_origins)
        if why is not None:
            self._refuse(plain(403, f"Forbidden: {why}. (Origin is checked so that other "
                                    f"web sites cannot play as their visitors.)\n"),
                         "ws_origin_refused", reason=why, head_only=head_only)
            return
        response = self.proto.accept(request)
        if response.status_code != 101:
            self._respond(response, head_only)
            return
        self.proto.send_response(response)
        sub = self.proto.subprotocol
        kind = Subprotocol(sub) if sub else Subprotocol.TEXT
        self.kind = kind
        self.session = self.server.open_session(self, kind)
        self.session.gmcp_enabled = kind in mudstandards.OOB
        if self.session.gmcp_enabled:
            self.session.gmcp_feed = self.server.gmcp_feed(self.gmcp_supports)

    def _settle_address(self, request: Request) -> bool:
        """Who the client is (a trusted proxy's X-Forwarded-For, else the peer), counted
        in `per_address` in place of the peer; False (429 sent) when it is full."""
        networks = self.server.trusted_proxies
        address = self.peer
        if netguard.is_trusted(self.peer, networks):
            forwarded = request.headers.get_all("X-Forwarded-For")
            address = netguard.forwarded_client(forwarded, networks) or self.peer
        self.address = address
        if self._counted == address:
            return True
        if self._counted is not None:
            self.server.per_address.release(self._counted)
            self._counted = None
        if self._count(address):
            return True
        self._too_many()
        return False

    def _count(self, address: str) -> bool:
        if not self.server.per_address.acquire(address):
            return False
        self._counted = address
        return True

    def _too_many(self) -> None:
        response = plain(429, TOO_MANY.decode())
        if self.server.refusals_logged.allow():  # a connect flood is one line a minute,
            self._refuse(response, "too_many_connections",  # not one per connection
                         limit=self.server.per_address.limit)
        else:
            self._respond(response)

    def _refuse(self, response: Response, event: str, head_only: bool = False,
                **fields: Any) -> None:
        self._log("info", event, status=response.status_code, **fields)
        self._respond(response, head_only)

    def _respond(self, response: Response, head_only: bool = False) -> None:
        """Send an HTTP response (for HEAD: its headers only); the connection closes."""
        if head_only:
            response = Response(response.status_code, response.reason_phrase,
                                response.headers, b"")
        self.proto.send_response(response)

    def _http(self, path: str, request: Request) -> Response:
        if path == "/metrics":
            from server.metrics import CONTENT_TYPE, authorized

            if not authorized(self.server.settings.metrics_token,
                              request.headers.get("Authorization")):  # metrics_token set
                return http_response(401, "Unauthorized", b"A bearer token is needed.\n",
                                     TEXT_PLAIN, {"WWW-Authenticate": 'Bearer realm="metrics"'})
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
        return http_response(404, "Not Found", b"Not found.\n", TEXT_PLAIN)

    # ---- WebSocket frames -----------------------------------------------------------

    def _events(self) -> None:
        for event in self.proto.events_received():
            if isinstance(event, Frame):
                self._frame(event)
        self.write_pending()
        if self.proto.state is WsState.CLOSED and self.transport is not None:
            self.transport.close()

    def _frame(self, frame: Frame) -> None:
        op = frame.opcode
        if op is Opcode.PONG:
            self.ping_sent = None
            return
        if op in (Opcode.PING, Opcode.CLOSE) or self._failed:
            return  # the protocol answers these itself
        message = self._message(frame)
        if message is None or self.session is None:
            return
        op, data = message
        payload: str | bytes
        if op is Opcode.TEXT:
            try:
                payload = data.decode("utf-8")
            except UnicodeDecodeError:
                self._fail(1007, "invalid UTF-8 in a text frame")
                return
        else:
            payload = data
        if isinstance(payload, str) and self.kind in mudstandards.OOB:
            self._oob(self.session, payload)
            return
        self.server.receive(self.session, payload)

    def _message(self, frame: Frame) -> tuple[Opcode, bytes] | None:
        """A whole message once its last frame is in; None before (or on failure).

        A fragmented message is bounded as it comes: in bytes (`max_frame_bytes`, a
        running total) and in frames (`max_fragments`: empty ones count too)."""
        if frame.opcode is not Opcode.CONT:
            if frame.fin:
                return frame.opcode, bytes(frame.data)
            self.fragments, self.fragment_opcode = [bytes(frame.data)], frame.opcode
            self.fragment_bytes = len(frame.data)
            return None
        if self.fragment_opcode is None:
            self._fail(1002, "continuation frame without a message to continue")
            return None
        settings = self.server.settings
        self.fragments.append(bytes(frame.data))
        self.fragment_bytes += len(frame.data)
        if self.fragment_bytes > settings.max_frame_bytes:
            self._fail(1009, f"message too big: over {settings.max_frame_bytes} bytes")
            return None
        if len(self.fragments) > settings.max_fragments:
            self._fail(1009, f"message too big: over {settings.max_fragments} fragments")
            return None
        if not frame.fin:
            return None
        message = self.fragment_opcode, b"".join(self.fragments)
        self.fragments, self.fragment_bytes, self.fragment_opcode = [], 0, None
        return message

    def _fail(self, code: int, reason: str) -> None:
        """Close the WebSocket for a protocol breach; frames after it are dropped."""
        self._failed = True
        self.fragments, self.fragment_bytes, self.fragment_opcode = [], 0, None
        self._log("info", "ws_failed", code=code, reason=reason)
        self.proto.fail(code, reason)

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
            self._log("info", "ws_client", client=self.client, version=self.client_version,
                      subprotocol=str(self.kind))
        elif name in gmcp.SUPPORTS:
            ignored = self.gmcp_supports.update(package, data)
            if ignored and self._supports_budget.allow():
                self._log("info", "gmcp_supports_ignored", package=package, ignored=ignored,
                          kept=len(self.gmcp_supports), limit=self.gmcp_supports.limit)
            self.server.gmcp_heard(session, package, data)
        elif name == "core.ping":
            self._send_gmcp("Core.Ping")
        else:  # a request (Char.Items.Inv...) is answered; anything else is ignored
            session.gmcp_request(package, data)
            self.server.gmcp_heard(session, package, data)

    def _log(self, level: str, event: str, **fields: Any) -> None:
        """Log a line caused by the client, within the connection's budget; the first
        line over it in a minute becomes one `log_suppressed` line."""
        who = {"session": self.session.id if self.session else None, "address": self.address}
        self.log_budget.write(self.server.log, level, event, who, **fields)

    # ---- outgoing ---------------------------------------------------------------

    def send_frames(self, frames: list[str | bytes]) -> None:
        """Frame messages from the session (written out by `write_pending`)."""
        if self.proto.state is not WsState.OPEN:
            return
        stream = self.kind is not None and self.kind.mudstandards
        if stream:
            self._drain_gmcp()  # as on telnet: GMCP first, then the text it goes with
            inline: list[tuple[int, gmcp.Message]] = []
            if self.session is not None:  # Comm.Channel.Start/End: around their line
                inline, self.session.gmcp_inline = self.session.gmcp_inline, []
            for f in frames:
                if isinstance(f, str):  # mudstandards.org: the ANSI text is in binary frames
                    pos = 0
                    for offset, (package, data) in inline:
                        if offset > pos:
                            self.proto.send_binary(mudstandards.terminal_bytes(f[pos:offset]))
                            pos = offset
                        self._send_gmcp(package, data)
                    inline = []
                    if pos == 0 or pos < len(f):
                        self.proto.send_binary(mudstandards.terminal_bytes(f[pos:]))
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
        if session is None:
            return
        for package, data in session.take_gmcp():
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
        if not chunks or self.transport is None or self.transport.is_closing() or self._eof_sent:
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
            self._finish()

    def _finish(self) -> None:
        """We have said our last: half-close, then read (and drop) what the client still
        sends until it closes, or `LINGER` seconds; a close with unread input would
        reset the connection and could lose what we just wrote."""
        assert self.transport is not None
        self._eof_sent = True
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        try:
            self.transport.write_eof()
        except OSError:  # the peer reset it before our half-close: nothing left to do
            self.abort("reset by peer")
            return
        self._linger = asyncio.get_running_loop().call_later(LINGER, self.abort, "linger")

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
