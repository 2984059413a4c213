"""Property-based fuzzing of the WebSocket listener over real sockets.

Random byte streams and random frames after a valid handshake (in every
subprotocol), and random HTTP requests before one, sent to a running server:
no input may raise out of `Connection` (the server logs `connection_crashed` when
one does), every HTTP answer is a well-formed response, and the server still
answers a normal client afterwards. The pure helpers the listener relies on get
properties of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator, MutableMapping
from typing import Any

import pytest
from conftest import StartServer, ws_url
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rawws import TIMEOUT, RawWs, masked, status_lines
from structlog.testing import capture_logs
from websockets.datastructures import Headers
from websockets.frames import Frame, Opcode
from wsclient import Client

from server import netguard
from server.app import Server
from server.gateway.ws import head_end, origin_refusal, request_method

LogLines = list[MutableMapping[str, Any]]
FUZZ = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
SUBPROTOCOLS = [None, "aegent.text", "aegent.json", "aegent.msgpack",
                "terminal.mudstandards.org", "gmcp.mudstandards.org", "json.mudstandards.org"]


@pytest.fixture
def logs() -> Iterator[LogLines]:
    with capture_logs() as captured:
        yield captured


@pytest.fixture
async def server(start_server: StartServer) -> AsyncIterator[Server]:
    """One server for every example of a test (small bounds, so that they are hit)."""
    yield await start_server(max_fragments=8, max_frame_bytes=8192, gmcp_supports_max=4,
                             log_lines_per_minute=3,
                             max_connections_per_address=0)


def crashes(logs: LogLines, since: int) -> LogLines:
    return [e for e in logs[since:] if e["event"] == "connection_crashed"]


async def answered(server: Server) -> None:
    """A normal client connects and its ping is answered."""
    client = await Client.open(ws_url(server), "aegent.json")
    await client.until(lambda m: m.get("type") == "hello")
    await client.send({"type": "ping", "id": 1})
    await client.until(lambda m: m.get("type") == "pong")
    await client.close()


async def send_and_drain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                         data: bytes) -> bytes:
    """Write `data` and EOF; everything the server sends until it closes."""
    try:
        writer.write(data)
        if writer.can_write_eof():
            writer.write_eof()
        await writer.drain()
        return await asyncio.wait_for(reader.read(), TIMEOUT)
    except ConnectionResetError:
        return b""
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


# ---- frames after the handshake ---------------------------------------------------------

opcodes = st.sampled_from([Opcode.CONT, Opcode.TEXT, Opcode.BINARY, Opcode.CLOSE,
                           Opcode.PING, Opcode.PONG])
payloads = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=100).map(str.encode),
    st.sampled_from([b"Core.Hello {\"client\":\"x\"}", b'Core.Supports.Add ["A 1","B 1"]',
                     b"Core.Hello " + b"[" * 3000, b'{"proto":"gmcp","id":"Core.Ping"}',
                     b'{"type":"ping"}', b'{"type":"login"}', b"\x81\xa4type\xa4ping",
                     b"look", b"\x03\xe8bye", b"\x03\xe8\xff", b"x" * 5000]),
)


@st.composite
def frames(draw: st.DrawFn) -> bytes:
    """One frame, well-formed or not (reserved bits, control frames too long...)."""
    frame = Frame(draw(opcodes), draw(payloads), fin=draw(st.booleans()),
                  rsv1=draw(st.booleans()) and draw(st.booleans()))
    if frame.opcode in (Opcode.CLOSE, Opcode.PING, Opcode.PONG) and len(frame.data) > 125:
        frame.data = frame.data[:125]
    if frame.opcode is Opcode.CLOSE and len(frame.data) == 1:
        frame.data = b""
    mask = draw(st.integers(0, 9)) > 0  # now and then an unmasked one (a client must mask)
    try:
        data = frame.serialize(mask=mask, extensions=[])
    except Exception:  # websockets will not write it (a bad close code): raw bytes then
        data = bytes(frame.data)
    return data


streams = st.lists(st.one_of(frames(), st.binary(min_size=1, max_size=64)), max_size=12)


@FUZZ
@given(subprotocol=st.sampled_from(SUBPROTOCOLS), chunks=streams)
async def test_random_frames_after_the_handshake(server: Server, logs: LogLines,
                                                 subprotocol: str | None,
                                                 chunks: list[bytes]) -> None:
    since = len(logs)
    ws = await RawWs.open(server.port, [subprotocol] if subprotocol else [])
    await send_and_drain(ws.reader, ws.writer, b"".join(chunks))
    assert not crashes(logs, since)
    await answered(server)


# ---- HTTP requests ------------------------------------------------------------------

methods = st.one_of(st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS",
                                     "CONNECT", "get", "PRI"]),
                    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ!#$%&'*+-.^_`|~", min_size=1, max_size=8))
paths = st.one_of(st.sampled_from(["/", "/ws", "/health", "/metrics", "/index.html",
                                   "/../etc/passwd", "/%2e%2e/", "*", "/ws?x=1", "//"]),
                  st.text(max_size=40).map(lambda t: "/" + t))
header_names = st.sampled_from(["Host", "Origin", "Upgrade", "Connection", "Content-Length",
                                "Transfer-Encoding", "X-Forwarded-For", "Sec-WebSocket-Key",
                                "Sec-WebSocket-Version", "Sec-WebSocket-Protocol", "X"])
header_values = st.one_of(st.sampled_from(["websocket", "Upgrade", "13", "0", "5", "chunked",
                                           "dGhlIHNhbXBsZSBub25jZQ==", "http://evil.example",
                                           "aegent.json", "127.0.0.1, garbage", ""]),
                          st.text(max_size=30))


@st.composite
def http_requests(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=400))
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2"]))
    line = f"{draw(methods)} {draw(paths)} {version}"
    headers = [f"{draw(header_names)}: {draw(header_values)}"
               for _ in range(draw(st.integers(0, 6)))]
    end = draw(st.sampled_from(["\r\n", "\n"]))
    text = end.join([line, *headers]) + end + end + draw(st.text(max_size=40))
    if draw(st.booleans()):  # a pipelined second request
        text += "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    return text.encode("utf-8", "surrogatepass")


@FUZZ
@given(request=http_requests())
async def test_random_http_requests(server: Server, logs: LogLines, request: bytes) -> None:
    since = len(logs)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    answer = await send_and_drain(reader, writer, request)
    assert not crashes(logs, since)
    if answer:
        assert answer.startswith(b"HTTP/1.1 ")
        statuses = status_lines(answer.split(b"\r\n\r\n", 1)[0])
        assert len(statuses) == 1
    await answered(server)


# ---- the pure helpers -------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 200))
def test_head_end_finds_the_first_blank_line(buf: bytes, start: int) -> None:
    end = head_end(buf, start)
    if end is None:
        assert b"\r\n\r\n" not in buf[start:] and b"\n\n" not in buf[start:]
    else:
        assert buf[:end].endswith(b"\n\n") or buf[:end].endswith(b"\r\n\r\n")
        shorter = head_end(buf[:end - 1], start)
        assert shorter is None or shorter < end


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=100))
def test_request_method_never_raises(head: bytes) -> None:
    method = request_method(head)
    assert method is None or (method and " " not in method)


header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(header_text, st.sampled_from(["http://h:1", "https://h", "null"])),
                max_size=3),
       st.text(max_size=30), st.lists(st.one_of(header_text, st.just("h:1")), max_size=2))
def test_origin_refusal_never_raises(origins: list[str], allowed: str, hosts: list[str]) -> None:
    headers = Headers([("Origin", o) for o in origins] + [("Host", h) for h in hosts])
    why = origin_refusal(headers, allowed)
    assert why is None or isinstance(why, str)
    if not origins or allowed.strip() == "*":
        assert why is None


addresses = st.one_of(st.ip_addresses().map(str), st.text(max_size=20),
                      st.sampled_from(["1.2.3.4:80", "[2001:db8::1]:443", "unknown", ""]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(addresses, max_size=4).map(", ".join), max_size=3))
def test_forwarded_client_is_an_untrusted_address_or_none(values: list[str]) -> None:
    networks = netguard.parse_networks("10.0.0.0/8, 127.0.0.1, ::1")
    client = netguard.forwarded_client(values, networks)
    assert client is None or (netguard.valid_address(client) == client
                              and not netguard.is_trusted(client, networks))


# ---- a client that resets before our answer ends ------------------------------------------


async def test_a_client_that_resets_at_once_is_no_crash(server: Server, logs: LogLines) -> None:
    """A request, then a reset (SO_LINGER 0) before the answer: the half-close after our
    answer finds the socket gone (ENOTCONN). That is the client's doing, not a crash: no
    `connection_crashed` with its traceback (the soak saw 13 a second under attack)."""
    import socket
    import struct

    since = len(logs)
    requests = [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"POST / HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /ws HTTP/1.1\r\nHost: x\r\nOrigin: http://evil.example\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"]
    for _ in range(10):
        for request in requests:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            sock = writer.get_extra_info("socket")
            writer.write(request)
            await writer.drain()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()  # RST, at once
    # And after the handshake: a close frame, then a reset before our close and EOF.
    close = masked(Frame(Opcode.CLOSE, b"\x03\xe8bye"))
    for _ in range(40):
        ws = await RawWs.open(server.port)
        ws.write(close)
        await ws.writer.drain()
        sock = ws.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        ws.writer.transport.abort()
    await answered(server)  # every one of those handled by now
    assert crashes(logs, since) == []


async def test_a_socket_gone_before_our_half_close_is_no_crash(server: Server,
                                                                logs: LogLines) -> None:
    """The race above, made certain: the kernel answers our half-close (shutdown) with
    ENOTCONN because the peer's reset came in first. The connection just goes."""
    import errno

    since = len(logs)
    before = set(server.connections)
    ws = await RawWs.open(server.port)
    [conn] = [c for c in server.connections if c not in before]
    link: Any = conn  # a ws.Connection: its asyncio transport
    transport = link.transport

    def gone() -> None:
        raise OSError(errno.ENOTCONN, "Transport endpoint is not connected")

    transport.write_eof = gone
    ws.write(masked(Frame(Opcode.CLOSE, b"\x03\xe8bye")))  # the server answers, then EOF
    await ws.until(lambda f: f.opcode is Opcode.CLOSE)
    for _ in range(500):  # dropped, not crashed (polled: no event says so)
        if conn not in server.connections:
            break
        await asyncio.sleep(0.01)
    assert conn not in server.connections
    await ws.aclose()
    assert crashes(logs, since) == []
