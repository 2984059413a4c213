"""Attacks on the WebSocket and HTTP listener, over real sockets: each is answered.

A fragment flood is closed with 1009 while others play on; what GMCP lets a client
grow is bounded; deeply nested JSON gets a refusal line; pipelined or odd HTTP gets
one clear answer; a foreign browser Origin gets 403; X-Forwarded-For is believed
from trusted proxies only; one address holds a bounded number of connections.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
from conftest import StartServer, ws_url
from rawws import RawWs, head_and_body, http_exchange, masked, status_lines, wait_until
from structlog.testing import capture_logs
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.frames import Frame, Opcode
from wsclient import Client

from server.app import Server
from server.config import Settings
from server.gateway.ws import Connection

GMCP, JSON_OOB = "gmcp.mudstandards.org", "json.mudstandards.org"
LogLines = list[MutableMapping[str, Any]]


@pytest.fixture
def logs() -> Iterator[LogLines]:
    """Every structlog line logged during the test; none may be a connection crash."""
    with capture_logs() as captured:
        yield captured
    assert not [e for e in captured if e["event"] == "connection_crashed"]


def named(logs: LogLines, event: str) -> LogLines:
    return [e for e in logs if e["event"] == event]


def only_connection(server: Server) -> Connection:
    (conn,) = [c for c in server.connections if isinstance(c, Connection)]
    return conn


async def ping_pong(client: Client) -> None:
    """A normal client's ping is answered."""
    mid = client.next_id()
    await client.send({"type": "ping", "id": mid})
    await client.until(lambda m: m.get("type") == "pong" and m.get("id") == mid)


async def json_client(server: Server) -> Client:
    client = await Client.open(ws_url(server), "aegent.json")
    await client.until(lambda m: m.get("type") == "hello")
    return client


# ---- 1: fragments ---------------------------------------------------------------------


async def test_fragment_flood_is_closed_with_1009(start_server: StartServer,
                                                  logs: LogLines) -> None:
    server = await start_server(max_fragments=50)
    other = await json_client(server)
    attacker = await RawWs.open(server.port)
    # one unfinished text frame, then 5,000 empty unfinished continuations: each frame was
    # costing a sum over every held fragment, and empty ones never reached the size limit
    attacker.write(masked(Frame(Opcode.TEXT, b"x", fin=False),
                          *[Frame(Opcode.CONT, b"", fin=False)] * 5000))
    await ping_pong(other)
    close = await attacker.closed()
    assert close.code == 1009 and close.reason.startswith("message too big")
    assert "50 fragments" in close.reason
    await ping_pong(other)
    await other.close()


async def test_fragments_under_the_limit_make_one_message(start_server: StartServer,
                                                          logs: LogLines) -> None:
    server = await start_server(max_fragments=4)
    ws = await RawWs.open(server.port, ["aegent.json"])
    await ws.text_until('"hello"')
    ws.write(masked(Frame(Opcode.TEXT, b'{"type":', fin=False),
                    Frame(Opcode.CONT, b'"ping",', fin=False),
                    Frame(Opcode.PING, b"p"),
                    Frame(Opcode.CONT, b'"id":', fin=False),
                    Frame(Opcode.CONT, b"7}", fin=True)))
    assert json.loads(await ws.text_until('"pong"')) == {"type": "pong", "id": 7}
    await ws.aclose()


async def test_continuation_without_a_message_is_1002(start_server: StartServer,
                                                      logs: LogLines) -> None:
    server = await start_server()
    ws = await RawWs.open(server.port)
    ws.write(masked(Frame(Opcode.CONT, b"look", fin=True)))
    assert (await ws.closed()).code == 1002


# ---- 2, 3: GMCP on mudstandards.org -----------------------------------------------------


async def test_gmcp_supports_are_deduplicated_and_bounded(start_server: StartServer,
                                                          logs: LogLines) -> None:
    server = await start_server(gmcp_supports_max=8)
    ws = await RawWs.open(server.port, [GMCP])
    await ws.text_until("By what name")
    for _ in range(50):  # the same package again and again is one entry
        ws.write(masked(Frame(Opcode.TEXT, b'Core.Supports.Add ["Char 1", "char 2"]')))
    for n in range(40):  # new names past the bound are ignored
        names = json.dumps([f"Pkg{n}x{i} 1" for i in range(5)])
        ws.write(masked(Frame(Opcode.TEXT, f"Core.Supports.Add {names}".encode())))
    ws.write(masked(Frame(Opcode.TEXT, b"Core.Ping")))
    await ws.text_until("Core.Ping")  # everything before it was read
    conn = only_connection(server)
    assert len(conn.gmcp_supports) == 8
    assert list(conn.gmcp_supports)[0] == "char 2"  # one entry per package, the last one
    assert len(named(logs, "gmcp_supports_ignored")) == 1
    ws.write(masked(Frame(Opcode.TEXT, b'Core.Supports.Remove ["Char"]'),
                    Frame(Opcode.TEXT, b'Core.Supports.Set ["Room 1"]'),
                    Frame(Opcode.TEXT, b"Core.Ping")))
    await ws.until(lambda f: f.opcode is Opcode.TEXT and f.data == b"Core.Ping"
                   and sum(x.data == b"Core.Ping" for x in ws.frames) == 2)
    assert list(conn.gmcp_supports) == ["Room 1"]
    await ws.aclose()


async def test_core_hello_in_a_loop_logs_within_the_budget(start_server: StartServer,
                                                           logs: LogLines) -> None:
    server = await start_server(log_lines_per_minute=5)
    ws = await RawWs.open(server.port, [GMCP])
    await ws.text_until("By what name")
    hello = masked(Frame(Opcode.TEXT, b'Core.Hello {"client":"Loop","version":"1"}'))
    ws.write(hello * 200 + masked(Frame(Opcode.TEXT, b"Core.Ping")))
    await ws.text_until("Core.Ping")
    assert len(named(logs, "ws_client")) == 5
    assert len(named(logs, "log_suppressed")) == 1
    assert only_connection(server).client == "Loop"
    await ws.aclose()


@pytest.mark.parametrize("subprotocol, frame", [
    (GMCP, "Core.Hello " + "[" * 4000),
    (JSON_OOB, json.dumps({"proto": "gmcp", "id": "Core.Hello", "data": "[" * 4000})),
    (JSON_OOB, "[" * 4000),
])
async def test_deeply_nested_gmcp_json_is_refused_with_a_line(
        start_server: StartServer, logs: LogLines, subprotocol: str, frame: str) -> None:
    server = await start_server()
    ws = await RawWs.open(server.port, [subprotocol])
    await ws.text_until("By what name")
    ws.write(masked(Frame(Opcode.TEXT, frame.encode())))
    assert "nested deeper than" in await ws.text_until("nested deeper than")
    ws.write(masked(Frame(Opcode.BINARY, b"Ann\r\n")))  # the session goes on
    await ws.text_until("Ann")
    await ws.aclose()


# ---- 4: HTTP --------------------------------------------------------------------------


async def test_pipelined_requests_get_the_first_answer_then_a_clean_close(
        start_server: StartServer, logs: LogLines) -> None:
    server = await start_server()
    get = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    answer = await http_exchange(server.port, get + get)
    assert status_lines(answer) == ["HTTP/1.1 200 OK"]
    headers, body = head_and_body(answer)
    assert headers["connection"] == "close" and len(body) == int(headers["content-length"])
    # and the same after an upgrade request that is answered with an error
    bad_upgrade = b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n"
    answer = await http_exchange(server.port, bad_upgrade + get)
    assert status_lines(answer) == ["HTTP/1.1 426 Upgrade Required"]


@pytest.mark.parametrize("request_bytes", [
    b"POST / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    b"DELETE /ws HTTP/1.1\r\nHost: x\r\n\r\n",
    b"PUT /index.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
])
async def test_methods_other_than_get_and_head_get_405(
        start_server: StartServer, logs: LogLines, request_bytes: bytes) -> None:
    server = await start_server()
    answer = await http_exchange(server.port, request_bytes)
    assert status_lines(answer) == ["HTTP/1.1 405 Method Not Allowed"]
    headers, body = head_and_body(answer)
    assert headers["allow"] == "GET, HEAD" and b"GET" in body


async def test_head_gets_the_headers_without_a_body(start_server: StartServer,
                                                   logs: LogLines) -> None:
    server = await start_server()
    got = await http_exchange(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head = await http_exchange(server.port, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status_lines(head) == ["HTTP/1.1 200 OK"]
    got_headers, got_body = head_and_body(got)
    head_headers, head_body = head_and_body(head)
    assert head_body == b"" and len(got_body) > 0
    assert head_headers["content-length"] == got_headers["content-length"] == str(len(got_body))


@pytest.mark.parametrize("request_bytes, status", [
    (b"hello there\r\n\r\n", "400 Bad Request"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", "400 Bad Request"),
    (b"GET / HTTP/1.1\n\n", "400 Bad Request"),
    (b"GET /\xff HTTP/1.1\r\n\r\n", "400 Bad Request"),
    (b"GET / HTTP/1.1\r\nX: " + b"a" * 20000, "431 Request Header Fields Too Large"),
])
async def test_malformed_requests_get_an_answer(
        start_server: StartServer, logs: LogLines, request_bytes: bytes, status: str) -> None:
    server = await start_server()
    answer = await http_exchange(server.port, request_bytes)
    assert status_lines(answer) == [f"HTTP/1.1 {status}"]


# ---- 5: Origin ------------------------------------------------------------------------


async def _opens(server: Server, origin: str | None) -> int:
    """The status of a WebSocket handshake sent with `origin` (101: opened)."""
    try:
        ws = await connect(ws_url(server), origin=origin,  # type: ignore[arg-type]
                           open_timeout=10)
    except InvalidStatus as exc:
        assert b"Origin" in exc.response.body
        return exc.response.status_code
    await ws.close()
    return 101


async def test_foreign_origins_are_refused(start_server: StartServer, logs: LogLines) -> None:
    server = await start_server(allowed_origins="https://play.example.com, http://b.test:8080")
    assert await _opens(server, "https://evil.example") == 403
    assert await _opens(server, "https://play.example.com.evil.example") == 403
    assert await _opens(server, f"http://localhost:{server.port}") == 403  # Host is 127.0.0.1
    assert await _opens(server, "null") == 403
    assert await _opens(server, None) == 101  # not a browser
    assert await _opens(server, f"http://127.0.0.1:{server.port}") == 101  # same origin
    assert await _opens(server, "https://play.example.com") == 101  # configured
    assert await _opens(server, "http://B.test:8080") == 101
    assert await _opens(server, "http://b.test") == 403


async def test_any_origin_with_a_star(start_server: StartServer, logs: LogLines) -> None:
    server = await start_server(allowed_origins="*")
    assert await _opens(server, "https://evil.example") == 101


# ---- 6: X-Forwarded-For ----------------------------------------------------------------


async def _address_seen(server: Server, forwarded: str) -> str:
    """The address the server takes for a client whose handshake says `forwarded`."""
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    client = Client(await connect(ws_url(server), subprotocols=["aegent.json"],  # type: ignore[list-item]
                                  additional_headers=headers, open_timeout=10), "aegent.json")
    await client.until(lambda m: m.get("type") == "hello")
    (session,) = server.sessions
    address = session.address
    assert server.sessions[session].address == address
    await client.close()
    await wait_until(lambda: not server.sessions)
    return address


async def test_forwarded_for_is_ignored_from_other_peers(start_server: StartServer,
                                                         logs: LogLines) -> None:
    server = await start_server(trusted_proxies="10.0.0.0/8")
    assert await _address_seen(server, "203.0.113.7") == "127.0.0.1"


async def test_forwarded_for_is_believed_from_trusted_proxies(start_server: StartServer,
                                                              logs: LogLines) -> None:
    server = await start_server(trusted_proxies="127.0.0.0/8, 10.0.0.0/8")
    assert await _address_seen(server, "203.0.113.7") == "203.0.113.7"
    # the rightmost entry that is not a trusted proxy; what the client wrote further
    # left is not believed
    assert await _address_seen(server, "198.51.100.1, 203.0.113.7, 10.1.2.3") == "203.0.113.7"
    assert await _address_seen(server, "203.0.113.7:5000") == "203.0.113.7"
    assert await _address_seen(server, "[2001:db8::1]:443") == "2001:db8::1"
    assert await _address_seen(server, "not-an-address") == "127.0.0.1"
    assert await _address_seen(server, "198.51.100.1, garbage") == "127.0.0.1"
    assert await _address_seen(server, "") == "127.0.0.1"


def test_a_bad_trusted_proxies_setting_fails_at_startup(settings: Settings) -> None:
    with pytest.raises(ValueError, match="trusted_proxies"):
        Server(settings.with_overrides(trusted_proxies="10.0.0.0/8, proxy.example"))


# ---- 7: connections per address ---------------------------------------------------------


async def test_connections_per_address_are_bounded(start_server: StartServer,
                                                   logs: LogLines) -> None:
    server = await start_server(max_connections_per_address=3)
    clients = [await json_client(server) for _ in range(3)]
    with pytest.raises(InvalidStatus) as refused:
        await connect(ws_url(server), open_timeout=10)
    assert refused.value.response.status_code == 429
    assert refused.value.response.body == b"Too many connections from your address.\n"
    answer = await http_exchange(server.port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status_lines(answer) == ["HTTP/1.1 429 Too Many Requests"]
    await ping_pong(clients[0])  # those already in play on
    await clients[0].close()
    await wait_until(lambda: server.per_address.count("127.0.0.1") == 2)
    clients[0] = await json_client(server)
    await ping_pong(clients[0])
    for c in clients:
        await c.close()
    await wait_until(lambda: server.per_address.count("127.0.0.1") == 0)


async def test_players_behind_a_trusted_proxy_count_by_their_own_address(
        start_server: StartServer, logs: LogLines) -> None:
    server = await start_server(max_connections_per_address=2, trusted_proxies="127.0.0.1")

    async def via_proxy(client_address: str) -> Client:
        ws = await connect(ws_url(server), subprotocols=["aegent.json"],  # type: ignore[list-item]
                           additional_headers={"X-Forwarded-For": client_address},
                           open_timeout=10)
        client = Client(ws, "aegent.json")
        await client.until(lambda m: m.get("type") == "hello")
        return client

    clients = [await via_proxy(f"203.0.113.{n}") for n in range(1, 6)]  # more than 2
    clients += [await via_proxy("198.51.100.9") for _ in range(2)]
    with pytest.raises(InvalidStatus) as refused:
        await via_proxy("198.51.100.9")
    assert refused.value.response.status_code == 429
    assert server.per_address.count("127.0.0.1") == 0
    for c in clients:
        await c.close()
    await wait_until(lambda: len(server.per_address) == 0)
