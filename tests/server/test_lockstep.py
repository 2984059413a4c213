"""Lockstep (server/host/lockstep.py): with `lockstep` the world ticks only on `advance`.

Real servers on real sockets: a server on the clock refuses `advance`; a lockstep one
never ticks by itself, runs the ticks asked for and answers once their output has gone
out, sends others' events at once whatever `fanout_delay` says, and bounds what one
`advance` may ask. The manual `TickLoop` and the wire message are checked on their own.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from conftest import StartServer, ws_url
from wsclient import Client

from server import wire
from server.host.clock import TickLoop

MSGPACK = "aegent.msgpack"


def is_answer(mid: Any) -> Any:
    return lambda m: m.get("type") in ("result", "error") and m.get("id") == mid


async def player(url: str, name: str) -> Client:
    c = await Client.open(url, MSGPACK)
    await c.recv()  # hello
    got = await c.register(name)
    assert got[-1]["type"] == "event", got
    return c


async def test_a_server_on_the_clock_refuses_advance(start_server: StartServer) -> None:
    server = await start_server()
    ann = await player(ws_url(server), "Ann")
    await ann.send({"type": "advance", "ticks": 5, "id": 1})
    answer = (await ann.until(is_answer(1)))[-1]
    assert answer["type"] == "error" and answer["code"] == "lockstep_off"
    assert "AEGENT_LOCKSTEP" in answer["message"]


async def test_the_world_ticks_only_when_asked(start_server: StartServer) -> None:
    server = await start_server(lockstep=True)
    ann = await player(ws_url(server), "Ann")
    await ann.send({"type": "ping", "id": "p"})
    await ann.until(lambda m: m.get("type") == "pong")
    assert server.world.time == 0 and server.ticker.stats.ticks == 0

    await ann.send({"type": "advance", "ticks": 25, "id": "a"})
    answer = (await ann.until(is_answer("a")))[-1]
    assert answer == {"type": "result", "id": "a", "ok": True, "tick": 25}
    assert server.world.time == 25 and server.ticker.stats.ticks == 25
    await ann.send({"type": "advance", "id": "b"})  # one tick by default
    assert (await ann.until(is_answer("b")))[-1]["tick"] == 26


async def test_the_output_of_the_ticks_comes_before_the_result(
        start_server: StartServer) -> None:
    server = await start_server(lockstep=True)
    ann = await player(ws_url(server), "Ann")
    server.world.spawn_mob("haven:pigeon", "haven:temple_steps")  # the square is safe
    await ann.send({"type": "command", "line": "north", "id": "n"})
    await ann.until(is_answer("n"))
    await ann.send({"type": "command", "line": "kill pigeon", "id": "k"})
    assert (await ann.until(is_answer("k")))[-1]["ok"] is True
    await ann.send({"type": "advance", "ticks": 600, "id": "a"})
    got = await ann.until(is_answer("a"))
    names = [m["name"] for m in got if m.get("type") == "event"]
    # The combat rounds run in the ticks: the fight was over before the answer came.
    assert "died" in names and "xp_gained" in names


async def test_others_events_go_out_at_once(start_server: StartServer) -> None:
    # fanout_delay would hold Bob's copy of what Ann says for 30 s on a server on the
    # clock; in lockstep nothing waits.
    server = await start_server(lockstep=True, fanout_delay=30.0)
    url = ws_url(server)
    ann, bob = await player(url, "Ann"), await player(url, "Bob")
    await ann.send({"type": "command", "line": "say hello there", "id": 1})
    await ann.until(is_answer(1))
    said = await bob.until(lambda m: m.get("type") == "event" and m["name"] == "said",
                           timeout=10.0)
    assert said[-1]["data"]["text"] == "hello there"


async def test_what_one_advance_may_ask(start_server: StartServer) -> None:
    server = await start_server(lockstep=True, advance_max_ticks=10)
    url = ws_url(server)
    stranger = await Client.open(url, MSGPACK)
    await stranger.recv()
    await stranger.send({"type": "advance", "id": 0})
    assert (await stranger.until(is_answer(0)))[-1]["code"] == "not_authenticated"

    ann = await player(url, "Ann")
    for n, ticks in enumerate((11, 0, -1, "5", True, 2.5)):
        await ann.send({"type": "advance", "ticks": ticks, "id": n})
        answer = (await ann.until(is_answer(n)))[-1]
        assert answer["type"] == "error" and answer["code"] == "bad_field", ticks
    assert server.world.time == 0


async def test_one_advance_at_a_time(start_server: StartServer) -> None:
    server = await start_server(lockstep=True)
    url = ws_url(server)
    ann, bob = await player(url, "Ann"), await player(url, "Bob")
    await ann.send({"type": "advance", "ticks": 3000, "id": "long"})
    await bob.send({"type": "advance", "ticks": 1, "id": "short"})
    refused = (await bob.until(is_answer("short")))[-1]
    assert refused["type"] == "error" and refused["code"] == "busy"
    assert (await ann.until(is_answer("long")))[-1]["tick"] == 3000
    await bob.send({"type": "advance", "ticks": 1, "id": "again"})
    assert (await bob.until(is_answer("again")))[-1]["tick"] == 3001


def test_the_wire_message() -> None:
    assert wire.parse_message({"type": "advance"}) == wire.Advance(1)
    assert wire.parse_message({"type": "advance", "ticks": 50, "id": 3}) == wire.Advance(50, 3)
    with pytest.raises(wire.WireError, match="ticks"):
        wire.parse_message({"type": "advance", "ticks": wire.MAX_ADVANCE_TICKS + 1})


async def test_a_manual_tick_loop_ticks_only_on_advance() -> None:
    ticks: list[int] = []
    readings = iter(range(1000))
    loop = TickLoop(lambda: ticks.append(len(ticks)), hz=1000.0,
                    clock=lambda: float(next(readings)), manual=True)
    running = asyncio.create_task(loop.run())
    await asyncio.sleep(0)  # it runs: it waits, and never ticks by itself
    assert ticks == [] and not running.done()
    loop.advance(3)
    assert ticks == [0, 1, 2] and loop.stats.ticks == 3
    assert list(loop.stats.durations) == [1.0, 1.0, 1.0]  # a reading before, one after
    loop.stop()
    await asyncio.wait_for(running, 5.0)
    assert ticks == [0, 1, 2]
