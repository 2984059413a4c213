"""What one connection may make the server read: bytes paced per connection, and a
request head that must come whole in time (docs/security.md, "Connections and HTTP")."""

from __future__ import annotations

import asyncio

from conftest import StartServer
from rawws import http_exchange, status_lines
from wsclient import Client

from server.netguard import InputPacer


def test_the_pacer_lets_a_burst_through_then_the_rate() -> None:
    now = [0.0]
    pacer = InputPacer(rate=1000, burst=4000, clock=lambda: now[0])
    assert pacer.take(4000) == 0.0  # the burst
    assert pacer.take(500) == 0.5  # 500 bytes over: half a second at 1,000 B/s
    now[0] = 1.0  # a second later, 1,000 bytes of allowance came back
    assert pacer.take(500) == 0.0
    assert InputPacer(rate=0, burst=0, clock=lambda: 0.0).take(10**9) == 0.0  # off


async def test_a_request_head_that_never_ends_gets_408(start_server: StartServer) -> None:
    server = await start_server(http_head_timeout=0.2)
    answer = await http_exchange(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n")
    assert status_lines(answer) == ["HTTP/1.1 408 Request Timeout"]


async def test_a_flood_is_read_at_the_paced_rate_and_others_play_on(
        start_server: StartServer) -> None:
    rate, burst = 20_000, 20_000
    server = await start_server(input_bytes_per_second=rate, input_burst_bytes=burst)
    flood = b"\xff\xfa\xc9Core.Supports.Add [\"A.b 1\"]\xff\xf0" * 20_000  # 600 KB of GMCP
    _, writer = await asyncio.open_connection("127.0.0.1", server.telnet_port)
    writer.write(flood)
    read_before = server.metrics.bytes_in._value.get()  # noqa: SLF001
    other = await Client.open(f"ws://127.0.0.1:{server.port}/ws", "aegent.json")
    try:
        await other.recv()
        await other.send({"type": "ping", "id": 1})
        await other.until(lambda m: m.get("type") == "pong")
        # Whatever time that took, the flood can have been read only at its pace: far from
        # all of its 600 KB (the pong came in well under the 30 s that would take).
        read = server.metrics.bytes_in._value.get() - read_before  # noqa: SLF001
        assert read < len(flood) / 2
    finally:
        writer.close()
        await other.close()
