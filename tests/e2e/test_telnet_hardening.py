"""Attacks on the telnet port over real sockets, each answered and bounded.

A bare TCP client floods the server with what used to grow its memory or its log
(Core.Supports.Add, terminal-type answers nobody asked for, GMCP nested 4000 deep,
input that logs), opens more connections than one address may hold, and plays a
reverse proxy that speaks the PROXY protocol (v1 and v2). After each flood the
client sends a name and waits for the answer: the server has read everything
before it by then.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Callable, MutableMapping
from contextlib import suppress
from typing import Any

from conftest import StartServer
from structlog.testing import capture_logs

from server.app import Server
from server.gateway import proxy_protocol as pp
from server.gateway import telnet_protocol as tp
from server.gateway.telnet import TOO_MANY, TelnetConnection
from server.gateway.telnet_protocol import DO, GMCP, TTYPE, WILL, command, subneg

TIMEOUT = 10.0
OFFERS = (b"".join(command(WILL, o) for o in tp.OFFER_WILL)
          + b"".join(command(DO, o) for o in tp.OFFER_DO))
TTYPE_SEND = subneg(TTYPE, bytes([tp.TTYPE_SEND]))
INPUT_LOGS = ("telnet_", "gmcp_", "log_suppressed", "proxy_", "too_many_connections")


class Peer:
    """A bare TCP client of the telnet port that records every byte it gets."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.raw = bytearray()
        self.seen = 0

    @classmethod
    async def open(cls, server: Server) -> Peer:
        return cls(*await asyncio.open_connection("127.0.0.1", server.telnet_port))

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def until(self, needle: bytes) -> bytes:
        """Read until `needle` appears in new bytes; the new bytes up to its end."""
        async with asyncio.timeout(TIMEOUT):
            while (at := self.raw.find(needle, self.seen)) < 0:
                chunk = await self.reader.read(65536)
                if not chunk:
                    raise AssertionError(f"closed before {needle!r}; got {bytes(self.raw)!r}")
                self.raw += chunk
        got = bytes(self.raw[self.seen:at + len(needle)])
        self.seen = at + len(needle)
        return got

    async def until_closed(self) -> bytes:
        """Everything up to the server's end of the stream."""
        async with asyncio.timeout(TIMEOUT):
            while chunk := await self.reader.read(65536):
                self.raw += chunk
        return bytes(self.raw)

    async def close(self) -> None:
        self.writer.close()
        with suppress(ConnectionError):
            await self.writer.wait_closed()


async def wait_for(check: Callable[[], bool]) -> None:
    """Until `check()` holds (server state that no byte on the wire announces)."""
    async with asyncio.timeout(TIMEOUT):
        while not check():
            await asyncio.sleep(0.01)


async def answered(c: Peer) -> None:
    """Send a name at the login prompt and wait for its question: all before it was read."""
    await c.send(b"Ann\r\n")
    await c.until(b"(y/n)")


def telnet_of(server: Server) -> list[TelnetConnection]:
    return [c for c in server.connections if isinstance(c, TelnetConnection)]


def input_logs(logs: list[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if str(e["event"]).startswith(INPUT_LOGS)]


# ---- what a connection holds ----------------------------------------------------------------


async def test_repeated_core_supports_add_is_bounded(start_server: StartServer) -> None:
    server = await start_server(gmcp_supports_max=8)
    c = await Peer.open(server)
    await c.until(b"known?")
    flood = b"".join(subneg(GMCP, b"Core.Supports.Add [%s]" % b",".join(
        b'"Pkg%d.Sub%d 1"' % (i, j) for j in range(64))) for i in range(300))
    with capture_logs() as logs:
        await c.send(flood)
        await answered(c)
    (conn,) = telnet_of(server)
    assert len(conn.gmcp_supports) == 8  # not 300 * 64
    assert [e["event"] for e in input_logs(logs)] == ["gmcp_supports_ignored"]  # once a minute
    await c.send(subneg(GMCP, b'Core.Supports.Set ["Char 1", "Room 1"]') + b"n\r\n")
    await c.until(b"known?")
    assert list(conn.gmcp_supports) == ["Char 1", "Room 1"]
    await c.close()


async def test_terminal_type_floods_are_bounded_and_logged_once(start_server: StartServer
                                                                ) -> None:
    server = await start_server(terminal_types_max=4)
    c = await Peer.open(server)
    await c.until(b"known?")
    with capture_logs() as logs:
        await c.send(command(WILL, TTYPE))
        await c.until(TTYPE_SEND)
        # answers nobody asked for, never the same twice, each over 100 bytes
        await c.send(b"".join(subneg(TTYPE, b"\x00T%d-" % i + b"x" * 100) for i in range(2000)))
        await answered(c)
    (conn,) = telnet_of(server)
    assert len(conn.codec.terminal_types) == 4
    assert all(len(t) == tp.MAX_TERMINAL_TYPE for t in conn.codec.terminal_types)
    assert conn.codec.ignored_terminal_types == 2000 - 4
    assert [e["terminal"] for e in logs if e["event"] == "telnet_terminal"] == ["T0-" + "x" * 61]
    assert len(input_logs(logs)) <= 2  # that line, and the TTYPE option turned on
    await c.close()


async def test_a_gmcp_body_nested_4000_deep_does_not_drop_the_connection(
        start_server: StartServer) -> None:
    server = await start_server()
    c = await Peer.open(server)
    await c.until(b"known?")
    with capture_logs() as logs:
        await c.send(subneg(GMCP, b"Core.Supports.Add " + b"[" * 4000))
        await c.send(subneg(GMCP, b"Core.Hello " + b'{"a":' * 1500))
        await answered(c)  # still connected, still playing
    assert not [e for e in logs if e["event"] == "connection_crashed"]
    assert [e["event"] for e in input_logs(logs)] == ["gmcp_bad_body", "gmcp_bad_body"]
    (conn,) = telnet_of(server)
    assert len(conn.gmcp_supports) == 0 and conn.client == ""
    await c.close()


async def test_log_lines_from_input_are_budgeted_per_connection(start_server: StartServer
                                                                ) -> None:
    server = await start_server(log_lines_per_minute=5)
    c = await Peer.open(server)
    await c.until(b"known?")
    flood = (b"caf\xe9\r\n" * 50  # not UTF-8
             + subneg(tp.CHARSET, b"\x02UTF-8") * 50  # charset accepted, again and again
             + subneg(GMCP, b'Core.Hello {"client":"x","version":"1"}') * 50
             + subneg(GMCP, b"Bad.Json {nope") * 50
             + subneg(99, b"whatever") * 50  # an option nobody knows
             + command(DO, 99) * 50)  # refused
    with capture_logs() as logs:
        await c.send(flood)
        await answered(c)
    caused = input_logs(logs)
    assert len(caused) == 5 + 1
    assert [e["event"] for e in caused].count("log_suppressed") == 1
    assert caused[-1]["event"] == "log_suppressed" and caused[-1]["per_minute"] == 5
    assert c.raw.count(b"set your client to UTF-8") == 50  # every bad line is still answered
    # another connection has its own budget
    other = await Peer.open(server)
    await other.until(b"known?")
    with capture_logs() as more:
        await other.send(b"caf\xe9\r\n")
        await other.until(b"UTF-8.")
    assert [e["event"] for e in input_logs(more)] == ["telnet_invalid_input"]
    await c.close()
    await other.close()


async def test_nothing_of_a_connection_outlives_it(start_server: StartServer) -> None:
    server = await start_server()
    c = await Peer.open(server)
    await c.until(b"known?")
    await c.send(command(WILL, TTYPE) + subneg(TTYPE, b"\x00MUDLET")
                 + subneg(GMCP, b'Core.Supports.Set ["Char 1"]'))
    await answered(c)
    (conn,) = telnet_of(server)
    session = conn.session
    assert session is not None
    refs: list[weakref.ref[Any]] = [weakref.ref(conn), weakref.ref(conn.codec)]
    sid = session.id
    del conn, session
    await c.close()
    await wait_for(lambda: not telnet_of(server) and all(s.id != sid for s in server.sessions))
    await wait_for(lambda: not server.per_address.count("127.0.0.1"))
    gc.collect()
    assert [r() for r in refs] == [None, None]


# ---- connections per address ------------------------------------------------------------------


async def test_connections_per_address_are_limited(start_server: StartServer) -> None:
    server = await start_server(max_connections_per_address=2)
    first, second = await Peer.open(server), await Peer.open(server)
    await first.until(b"known?")
    await second.until(b"known?")
    with capture_logs() as logs:
        third = await Peer.open(server)
        assert await third.until_closed() == TOO_MANY  # no offers, no session: told, closed
        await third.close()
    assert [e["event"] for e in input_logs(logs)] == ["too_many_connections"]
    assert server.per_address.count("127.0.0.1") == 2
    await first.close()
    await wait_for(lambda: server.per_address.count("127.0.0.1") == 1)  # a place is free
    again = await Peer.open(server)
    assert (await again.until(b"known?")).startswith(OFFERS)
    await second.close()
    await again.close()
    await wait_for(lambda: len(server.per_address) == 0)


# ---- PROXY protocol -----------------------------------------------------------------------------


async def test_proxy_v1_header_sets_the_address_before_the_session(start_server: StartServer
                                                                   ) -> None:
    server = await start_server(trusted_proxies="127.0.0.1")
    c = await Peer.open(server)
    await wait_for(lambda: bool(telnet_of(server)))
    (conn,) = telnet_of(server)
    assert conn.session is None and not server.sessions  # held until the header is in
    await c.send(pp.v1("203.0.113.7", "127.0.0.1", 51234, server.telnet_port)[:20])
    await c.send(pp.v1("203.0.113.7", "127.0.0.1", 51234, server.telnet_port)[20:] + b"Ann\r\n")
    greeting = await c.until(b"(y/n)")
    assert greeting.startswith(OFFERS) and b"PROXY" not in greeting
    assert conn.address == "203.0.113.7"
    assert conn.session is not None and conn.session.address == "203.0.113.7"
    assert server.per_address.count("203.0.113.7") == 1
    assert server.per_address.count("127.0.0.1") == 0
    await c.close()
    await wait_for(lambda: len(server.per_address) == 0)


async def test_proxy_v2_header_with_tlvs_and_ipv6(start_server: StartServer) -> None:
    server = await start_server(trusted_proxies="127.0.0.0/8,::1")
    c = await Peer.open(server)
    header = pp.v2("2001:db8::7", "2001:db8::1", 40000, 4001, tlvs=b"\xea\x00\x05vpce1")
    await c.send(header + command(DO, tp.SGA))
    assert (await c.until(b"known?")).startswith(OFFERS)
    (conn,) = telnet_of(server)
    assert conn.address == "2001:db8::7" and conn.codec.enabled(tp.SGA)
    local = await Peer.open(server)  # LOCAL (a health check): the proxy's own address
    await local.send(pp.v2(None))
    await local.until(b"known?")
    assert sorted(c.address for c in telnet_of(server)) == ["127.0.0.1", "2001:db8::7"]
    await c.close()
    await local.close()


async def test_a_trusted_peer_without_a_valid_header_is_closed(start_server: StartServer
                                                               ) -> None:
    server = await start_server(trusted_proxies="127.0.0.1")
    for data in (b"Ann\r\n", b"PROXY TCP4 bogus\r\n", b"PROXY TCP4 " + b"1" * 200,
                 pp.V2_SIGNATURE + b"\x21\x11\xff\xff"):
        c = await Peer.open(server)
        with capture_logs() as logs:
            await c.send(data)
            assert await c.until_closed() == b""  # not a byte of telnet, not a session
            await c.close()
        (line,) = input_logs(logs)
        assert line["event"] == "proxy_header_invalid" and line["reason"]
        assert not server.sessions
    await wait_for(lambda: not telnet_of(server))
    assert len(server.per_address) == 0


async def test_an_untrusted_peer_never_gets_its_header_read(start_server: StartServer) -> None:
    server = await start_server(trusted_proxies="10.9.9.9")
    c = await Peer.open(server)
    assert (await c.until(b"known?")).startswith(OFFERS)  # greeted at once, as always
    await c.send(pp.v1("203.0.113.7", "127.0.0.1", 1, 2))  # just a (bad) name line
    await c.until(b"known?")
    (conn,) = telnet_of(server)
    assert conn.address == "127.0.0.1" and conn.proxy is None
    await c.close()


async def test_connections_per_address_count_the_proxied_address(start_server: StartServer
                                                                 ) -> None:
    server = await start_server(trusted_proxies="127.0.0.1", max_connections_per_address=1)
    peers = []
    for source in ("203.0.113.7", "203.0.113.8"):  # one each: both welcome
        peer = await Peer.open(server)
        await peer.send(pp.v1(source, "127.0.0.1", 1000, 4001))
        await peer.until(b"known?")
        peers.append(peer)
    extra = await Peer.open(server)
    await extra.send(pp.v1("203.0.113.7", "127.0.0.1", 1001, 4001) + b"Ann\r\n")
    assert await extra.until_closed() == TOO_MANY
    await extra.close()
    assert server.per_address.count("203.0.113.7") == 1
    assert server.per_address.count("127.0.0.1") == 0
    for peer in peers:
        await peer.close()
