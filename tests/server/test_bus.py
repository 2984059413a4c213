"""The bus contract, run against both implementations (server/bus/).

Each test gets a gateway's bus and a world host's bus: the same `InProcBus` (with
`check=True`, so every message is encoded and decoded as over NATS), or two `NatsBus`
connections to a real nats-server with JetStream (tests/natsd.py), under a prefix of
the test's own. The last test stops and restarts that server under a connected client.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import natsd
import pytest
from natsd import NatsServer, nats_or_skip, nats_server

from server.bus import (
    MAX_MESSAGE_BYTES,
    Answer,
    Bus,
    BusError,
    BusMessageError,
    BusTimeout,
    BusUnavailable,
    Call,
    Command,
    Delivery,
    Disconnect,
    Enter,
    Gap,
    InProcBus,
    Input,
    LinkLost,
    Output,
    Reply,
    Request,
    Subscription,
    Tick,
    encode,
)
from server.bus.nats import NatsBus

__all__ = ["nats_server"]  # the module-scoped fixture, used through `pair`

_prefixes = itertools.count()
WAIT = 5.0


@dataclass
class Pair:
    """A gateway's bus and a world host's (the same object in process)."""

    gateway: Bus
    host: Bus
    errors: list[Exception] = field(default_factory=list)
    nats: bool = False


@pytest.fixture(params=["inproc", "nats"])
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[Pair]:
    errors: list[Exception] = []
    if request.param == "inproc":
        bus = InProcBus(f"t{next(_prefixes)}", check=True, on_error=errors.append)
        yield Pair(bus, bus, errors)
        await bus.close()
        return
    server: NatsServer = request.getfixturevalue("nats_server")
    prefix = f"t{next(_prefixes)}"
    gateway = await NatsBus.connect(server.url, prefix, name="gateway",
                                    on_error=errors.append, ack_timeout=2.0)
    host = await NatsBus.connect(server.url, prefix, name="host", on_error=errors.append,
                                 ack_timeout=2.0)
    try:
        yield Pair(gateway, host, errors, nats=True)
    finally:
        await gateway.close()
        await host.close()


async def until(predicate: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """Wait until `predicate()` holds (messages over NATS arrive a little later)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


async def take(sub: Subscription[Any], n: int) -> list[Any]:
    return [await asyncio.wait_for(sub.get(), WAIT) for _ in range(n)]


def inputs(n: int, gateway: str = "g1") -> list[Input]:
    """`n` inputs of every kind, numbered so that order shows."""
    kinds: list[Callable[[int], Input]] = [
        lambda i: Command(gateway, f"s{i % 7}", i, f"say {i}", id=i),
        lambda i: Call(gateway, f"s{i % 7}", i, "go", {"direction": "north", "n": i}),
        lambda i: LinkLost(gateway, f"s{i % 7}", i),
        lambda i: Tick(i),
    ]
    return [kinds[i % len(kinds)](i) for i in range(n)]


# ---- publish and subscribe --------------------------------------------------------------


async def test_inputs_reach_the_world_host_in_order(pair: Pair) -> None:
    sub = await pair.host.inputs()
    sent = inputs(300)
    for msg in sent:
        await pair.gateway.send(msg)
    assert await take(sub, len(sent)) == sent
    assert (sub.dropped, sub.malformed, pair.errors) == (0, 0, [])


async def test_outputs_reach_only_their_gateway_in_order(pair: Pair) -> None:
    g1, g1_again = await pair.gateway.deliveries("g1"), await pair.gateway.deliveries("g1")
    g2 = await pair.gateway.deliveries("g2")
    sent: list[Output] = []
    for i in range(100):
        gw = "g1" if i % 3 else "g2"
        sent.append(Delivery(gw, [i, i + 1], {"name": "said", "text": f"line {i}"}, tick=i))
        if i % 10 == 0:
            sent.append(Answer(gw, "s1", True, id=i))
        if i == 99:
            sent.append(Disconnect(gw, "s1", "taken over", "Bye."))
    for msg in sent:
        await pair.host.deliver(msg)
    mine = [m for m in sent if m.gateway == "g1"]
    assert await take(g1, len(mine)) == mine
    assert await take(g1_again, len(mine)) == mine  # every subscriber of a gateway
    theirs = [m for m in sent if m.gateway == "g2"]
    assert await take(g2, len(theirs)) == theirs
    await g2.close()
    await pair.host.deliver(Delivery("g2", [1], {}))  # nobody listens: it is dropped
    await pair.host.deliver(Delivery("g1", [1], {"last": True}))
    assert await take(g1, 1) == [Delivery("g1", [1], {"last": True})]
    assert g2.pending() == 0


async def test_batches_arrive_as_their_messages_in_order(pair: Pair) -> None:
    """`send_many` and `deliver_many` put what one pass has for one subscriber in as few
    payloads as fit; the subscriber gets the messages one by one, in order, after any
    sent singly before them."""
    sub, out = await pair.host.inputs(), await pair.gateway.deliveries("g1")
    await pair.gateway.send(Tick(0))
    batch = inputs(40)
    await pair.gateway.send_many(batch)
    await pair.gateway.send_many([Tick(41)])  # a batch of one is a message
    assert await take(sub, 42) == [Tick(0), *batch, Tick(41)]
    outputs: list[Output] = [Delivery("g1", list(range(i, i + 75)), {"name": "said", "n": i})
                             for i in range(30)]
    outputs.insert(10, Answer("g1", "s1", True, id=10, n=3))
    await pair.host.deliver_many("g1", outputs)
    assert await take(out, len(outputs)) == outputs
    assert (sub.malformed, out.malformed, pair.errors) == (0, 0, [])


async def test_a_batch_over_the_size_bound_is_split_and_one_bad_message_left_out(pair: Pair
                                                                                 ) -> None:
    out = await pair.gateway.deliveries("g1")
    big = [Delivery("g1", [i], {"text": "x" * (MAX_MESSAGE_BYTES // 3)}) for i in range(5)]
    bad = Delivery("g1", [99], {"blob": object()})
    with pytest.raises(BusMessageError, match="1 of 6 messages not sent"):
        await pair.host.deliver_many("g1", [*big[:2], bad, *big[2:]])
    assert await take(out, 5) == big  # in three payloads, in order, without the bad one
    with pytest.raises(BusMessageError, match="for gateway 'g2' in a batch for 'g1'"):
        await pair.host.deliver_many("g1", [Answer("g2", "s1", True)])
    with pytest.raises(BusMessageError, match="Tick is not an output"):
        await pair.host.deliver_many("g1", [Tick(1)])  # type: ignore[list-item]


# ---- request and reply ---------------------------------------------------------------------


async def test_request_and_reply(pair: Pair) -> None:
    with pytest.raises(BusUnavailable, match="no world host is serving requests"):
        await pair.gateway.request(Request("g1", "s1", "exists", {"name": "ann"}), timeout=1)
    release = asyncio.Event()

    async def handler(req: Request) -> Reply:
        if req.op == "crash":
            raise RuntimeError("boom")
        if req.op == "hang":
            await release.wait()
        return Reply(True, {"op": req.op, "echo": req.args, "session": req.session})

    serving = await pair.host.serve(handler, concurrency=2)
    reply = await pair.gateway.request(Request("g1", "s1", "login", {"name": "ann"}))
    assert reply == Reply(True, {"op": "login", "echo": {"name": "ann"}, "session": "s1"})

    crashed = await pair.gateway.request(Request("g1", "s1", "crash"))
    assert (crashed.ok, crashed.code) == (False, "internal_error")
    assert "RuntimeError" in (crashed.message or "")

    with pytest.raises(BusTimeout, match="no reply to 'hang' within 0.2 s"):
        await pair.gateway.request(Request("g1", "s1", "hang"), timeout=0.2)
    second = asyncio.ensure_future(pair.gateway.request(Request("g1", "s2", "hang")))
    await until(lambda: _in_flight(serving) == 2, "two requests in flight")
    busy = await pair.gateway.request(Request("g1", "s3", "login"))
    assert (busy.ok, busy.code) == (False, "busy")
    release.set()
    assert (await asyncio.wait_for(second, WAIT)).ok
    await serving.close()


def _in_flight(serving: Any) -> int:
    count: int = serving.in_flight
    return count


@dataclass
class Gate:
    """Holds a handler's requests until `release` is set; counts those that got in."""

    release: asyncio.Event = field(default_factory=asyncio.Event)
    entered: int = 0


async def test_serve_answers_busy_past_its_bound_counted_as_requests_are_taken(
        pair: Pair) -> None:
    n, k = 3, 2
    gate = Gate()

    async def handler(req: Request) -> Reply:
        gate.entered += 1
        await gate.release.wait()
        if req.op == "crash":
            raise RuntimeError("boom")
        return Reply(True, {"session": req.session})

    serving = await pair.host.serve(handler, concurrency=n)
    await _burst(pair, gate, n, k)

    # a handler that raises, or a caller that gave up, gives its place back
    gate = Gate()
    timed_out = asyncio.ensure_future(
        pair.gateway.request(Request("g1", "late", "hold"), timeout=0.2))
    held = [asyncio.ensure_future(pair.gateway.request(Request("g1", f"h{i}", op)))
            for i, op in enumerate(["crash"] + ["hold"] * (n - 2))]
    await until(lambda: gate.entered == n, f"{n} requests in the handler")
    with pytest.raises(BusTimeout):
        await timed_out
    gate.release.set()
    replies = await asyncio.wait_for(asyncio.gather(*held), WAIT)
    assert [r.code for r in replies] == ["internal_error"] + [None] * (n - 2)
    await until(lambda: _in_flight(serving) == 0, "every place given back")

    gate = Gate()
    await _burst(pair, gate, n, k)  # the whole bound again: nothing leaked
    await until(lambda: _in_flight(serving) == 0, "every place given back")
    await serving.close()


async def _burst(pair: Pair, gate: Gate, n: int, k: int) -> None:
    """Send `n + k` requests at once to a handler (bound `n`) held by `gate`: `k` are
    answered busy at once, the `n` others once the gate opens."""
    tasks = [asyncio.ensure_future(pair.gateway.request(Request("g1", f"s{i}", "hold")))
             for i in range(n + k)]
    await until(lambda: gate.entered > n
                or (gate.entered == n and sum(t.done() for t in tasks) == k),
                f"{n} requests taken and {k} answered")
    assert gate.entered == n  # not one more got in
    early = [t.result() for t in tasks if t.done()]
    assert [(r.ok, r.code) for r in early] == [(False, "busy")] * k
    gate.release.set()
    replies = await asyncio.wait_for(asyncio.gather(*tasks), WAIT)
    assert sorted(r.code or "ok" for r in replies) == ["busy"] * k + ["ok"] * n
    assert gate.entered == n


# ---- the journal -----------------------------------------------------------------------------


async def test_journal_appends_in_order_and_replays_from_a_sequence_number(pair: Pair) -> None:
    journal = pair.host.journal
    entries = inputs(60) + [Enter("g1", "s1", "Ann", "player", "mage", state={"hp": 3})]
    seqs = [await journal.append(e) for e in entries]
    assert seqs == list(range(1, len(entries) + 1))
    assert await journal.bounds() == (1, len(entries))
    assert [(s, e) async for s, e in journal.replay()] == list(zip(seqs, entries, strict=True))
    assert [s async for s, _ in journal.replay(40)] == list(range(40, len(entries) + 1))
    assert [e async for _, e in journal.replay(10, 12)] == entries[9:12]
    assert [e async for e in journal.replay(len(entries) + 1)] == []
    # a replay sees what was there when it began; appends go on meanwhile
    replay = journal.replay(59)
    first = await anext(replay)
    await journal.append(Tick(999))
    assert [first[0]] + [s async for s, _ in replay] == [59, 60, 61]
    with pytest.raises(BusMessageError, match="not an input"):
        await journal.append(Answer("g1", "s1", True))  # type: ignore[arg-type]


async def test_an_append_retried_with_its_key_is_stored_once(pair: Pair) -> None:
    journal = pair.host.journal
    assert await journal.append(Tick(1), key="host-a:1") == 1
    assert await journal.append(Tick(2), key="host-a:2") == 2
    assert await journal.append(Tick(1), key="host-a:1") == 1  # a retry: not stored again
    assert await journal.append(Tick(3)) == 3
    assert [e async for _, e in journal.replay()] == [Tick(1), Tick(2), Tick(3)]


# ---- bounds ------------------------------------------------------------------------------------


async def test_a_slow_subscriber_drops_the_newest_and_sees_a_gap(pair: Pair) -> None:
    sub = await pair.gateway.deliveries("g1", limit=5)
    sent = [Delivery("g1", [i], {"n": i}) for i in range(20)]
    for msg in sent:  # the publisher is never held up
        await asyncio.wait_for(pair.host.deliver(msg), 1)
    await until(lambda: sub.received + sub.dropped == 20, "all 20 handled")
    assert (sub.received, sub.dropped) == (5, 15)
    assert await take(sub, 6) == sent[:5] + [Gap(15)]
    late = Delivery("g1", [99], {"n": 99})
    await pair.host.deliver(late)
    assert await take(sub, 1) == [late]


async def test_a_message_over_the_size_bound_is_refused_before_it_is_sent(pair: Pair) -> None:
    sub = await pair.host.inputs()
    with pytest.raises(BusMessageError) as refused:
        await pair.gateway.send(Command("g1", "s1", 1, "x" * MAX_MESSAGE_BYTES))
    assert refused.value.code == "too_large"
    await pair.gateway.send(Tick(1))
    assert await take(sub, 1) == [Tick(1)]


# ---- malformed messages ------------------------------------------------------------------------


async def test_malformed_bus_messages_are_refused_with_a_clear_error(pair: Pair) -> None:
    sub = await pair.host.inputs()
    subjects = pair.gateway.subjects
    await pair.gateway.publish_raw(subjects.inputs, b"\xc1 not msgpack")
    await pair.gateway.publish_raw(subjects.inputs, encode(Answer("g1", "s1", True)))
    await pair.gateway.publish_raw(subjects.inputs, b"\x82\xa1v\x09\xa1t\xa4tick")
    await pair.gateway.send(Tick(7))
    assert await take(sub, 1) == [Tick(7)]  # the good one still comes, after the bad
    assert sub.malformed == 3
    texts = [str(e) for e in pair.errors]
    assert texts[0].startswith("bad_msgpack: invalid msgpack")
    assert "type 'answer' does not belong on" in texts[1]
    assert "format version 9 is newer than this process's 1" in texts[2]
    # a batch with a bad message in it: the good ones still come, the bad one is counted
    good, wrong = encode(Tick(8)), encode(Answer("g1", "s1", True))
    await pair.gateway.publish_raw(subjects.inputs, b"\x93" + good + wrong + encode(Tick(9)))
    assert await take(sub, 2) == [Tick(8), Tick(9)]
    assert sub.malformed == 4
    with pytest.raises(BusMessageError, match="Delivery is not an input"):
        await pair.gateway.send(Delivery("g1", [1], {}))  # type: ignore[arg-type]
    with pytest.raises(BusMessageError, match="Tick is not an output"):
        await pair.host.deliver(Tick(1))  # type: ignore[arg-type]
    with pytest.raises(BusMessageError, match="not_data"):
        await pair.gateway.send(Call("g1", "s1", 1, "go", {"x": object()}))


# ---- NATS: the server goes away and comes back ---------------------------------------------


async def test_nats_client_reconnects_after_the_server_restarts() -> None:
    with nats_or_skip() as server:
        errors: list[Exception] = []
        bus = await NatsBus.connect(server.url, "restart", reconnect_wait=0.05,
                                    ack_timeout=0.5, on_error=errors.append)
        try:
            await _restart(server, bus, errors)
        finally:
            await bus.close()


async def _restart(server: NatsServer, bus: NatsBus, errors: list[Exception]) -> None:
    sub = await bus.inputs()
    out = await bus.deliveries("g1")
    assert await bus.journal.append(Tick(1)) == 1

    server.stop(kill=True)  # as a crash: the store stays, the port is free
    await until(lambda: not bus.connected, "the client to notice")
    with pytest.raises(BusUnavailable, match="reconnecting"):
        await bus.journal.append(Tick(2), key="k2")  # not acknowledged: retried below
    with pytest.raises(BusUnavailable, match="reconnecting"):
        await bus.send(Tick(2))  # refused at once, not buffered to go out later
    with pytest.raises(BusUnavailable, match="reconnecting"):
        await bus.request(Request("g1", "s1", "login"))
    assert any("reconnecting" in str(e) for e in errors)

    await asyncio.to_thread(server.start)
    await until(lambda: bus.connected and bus.reconnects >= 1, "the client to reconnect")
    await bus.send(Tick(3))  # the subscriptions came back with the connection
    await bus.deliver(Delivery("g1", [1], {"back": True}))
    assert await take(sub, 1) == [Tick(3)]
    assert await take(out, 1) == [Delivery("g1", [1], {"back": True})]
    # the world host retries its unacknowledged append with the same key, once
    # JetStream is back (it may need a moment after the server)
    assert await _retry(lambda: bus.journal.append(Tick(2), key="k2")) == 2
    assert await bus.journal.append(Tick(4), key="k4") == 3  # the stream survived
    assert [e async for _, e in bus.journal.replay()] == [Tick(1), Tick(2), Tick(4)]


async def _retry(call: Callable[[], Awaitable[int]], tries: int = 20) -> int:
    for attempt in range(tries):
        try:
            return await call()
        except BusError:
            if attempt == tries - 1:
                raise
            await asyncio.sleep(0.1)
    raise AssertionError("unreachable")


def test_without_nats_server_the_tests_skip_or_fail_under_ci(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(natsd, "find_nats_server", lambda: None)
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="make nats"), nats_or_skip():
        pass
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="under CI"), nats_or_skip():
        pass
