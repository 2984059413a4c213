"""Batched events over real sockets (docs/protocol.md, `events`): a client that sends
`"batch": true` at login gets its events grouped into `events` messages, numbered on
from the events before them; one that does not gets `event` messages as ever.

The server waits 30 s before writing others' events to a bystander (`fanout_delay`), far
longer than a test: what others said is written when the bystander's own message is
answered, so which events share a message does not depend on timing.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import StartServer, session_of, ws_url
from wsclient import Client, events, expand_events

from server.app import Server

SUBPROTOCOLS = ["aegent.json", "aegent.msgpack"]


async def batched(server: Server, sub: str, name: str) -> Client:
    """A new character whose registration asked for batch, read frame by frame as sent
    (the client does not expand: the test looks at the `events` messages themselves)."""
    c = await Client.open(ws_url(server), sub)
    await c.recv()  # hello
    await c.send({"type": "register", "name": name, "password": "correct horse",
                  "class": "warrior", "batch": True, "id": "reg"})
    got = await c.until(lambda m: m.get("type") == "auth")
    assert got[-1]["ok"], got
    await c.until(lambda m: any(e["name"] == "vitals" for e in m.get("events", ())))
    return c


def numbers(msgs: list[Any]) -> list[int]:
    """The seq of every event in `msgs`, `events` messages expanded."""
    out = []
    for m in msgs:
        if m.get("type") == "events":
            out += [e["seq"] for e in expand_events(m)]
        elif m.get("type") == "event":
            out.append(m["seq"])
    return out


@pytest.mark.parametrize("sub", SUBPROTOCOLS)
async def test_a_bystander_gets_what_two_others_said_in_one_events_message(
        start_server: StartServer, sub: str) -> None:
    server = await start_server(fanout_delay=30.0)
    ann = await batched(server, sub, "Ann")
    assert session_of(server, "Ann").batch
    bob = await Client.open(ws_url(server), sub)  # without batch: as ever
    await bob.recv()
    await bob.register("Bob")
    cy = await batched(server, sub, "Cyd")
    before = await ann.command("look")  # Ann takes what waited for her (the arrivals)
    assert [m["type"] for m in before] == ["events", "result"]

    await bob.command("say one")
    # Cyd's own command: its events (and what waited for Cyd) in one `events`, then the result
    said = await cy.command("say two")
    assert [m["type"] for m in said] == ["events", "result"]
    assert [(e["name"], e["data"]["actor"], e["text"]) for e in said[0]["events"]
            if e["name"] == "said"] == [("said", "Bob", "Bob says, 'one'"),
                                       ("said", "Cyd", "You say, 'two'")]

    # Ann's ping is answered at once, and what Bob and Cyd said goes out before it.
    await ann.send({"type": "ping", "id": "p"})
    got = await ann.until(lambda m: m.get("type") == "pong")
    assert [m["type"] for m in got] == ["events", "pong"]
    [group] = got[:-1]
    assert [(e["type"], e["name"], e["text"]) for e in group["events"]] == [
        ("event", "said", "Bob says, 'one'"), ("event", "said", "Cyd says, 'two'")]
    assert all("seq" not in e for e in group["events"])
    assert group["seq"] == numbers(before)[-1] + 1  # numbered on from the events before
    everything = ann.seen[1:]  # all since hello, as sent
    assert "event" not in {m.get("type") for m in everything}
    seqs = numbers(everything)
    assert seqs == list(range(1, len(seqs) + 1))

    # Bob asked for nothing: `event` messages, one per event, numbered the same way.
    got = await bob.command("look")
    assert [e["data"]["text"] for e in events(got, "said")] == ["two"]
    assert "events" not in {m.get("type") for m in bob.seen}
    seqs = numbers(bob.seen)
    assert seqs == list(range(1, len(seqs) + 1))
    for c in (ann, bob, cy):
        await c.close()


@pytest.mark.parametrize("sub", SUBPROTOCOLS)
async def test_the_helper_client_expands_them_into_what_a_plain_client_reads(
        start_server: StartServer, sub: str) -> None:
    server = await start_server(fanout_delay=30.0)
    ann = await Client.open(ws_url(server), sub)
    bob = await Client.open(ws_url(server), sub)
    for c, name in ((ann, "Ann"), (bob, "Bob")):
        await c.recv()
        await c.register(name, batch=(c is ann))
    cy = await Client.open(ws_url(server), sub)
    await cy.recv()
    await cy.register("Cyd")
    for word in ("one", "two", "three"):
        await cy.command(f"say {word}")
    heard = {}
    for c in (ann, bob):
        got = await c.command("look")
        heard[c] = [(e["name"], e["data"], e["text"]) for e in events(got, "said")]
        seqs = numbers(c.seen)
        assert seqs == list(range(1, len(seqs) + 1))
    assert heard[ann] == heard[bob] and len(heard[ann]) == 3
    assert len(ann.batches) > 0 and bob.batches == []
    assert session_of(server, "Ann").batch and not session_of(server, "Bob").batch
    for c in (ann, bob, cy):
        await c.close()


@pytest.mark.parametrize("sub", SUBPROTOCOLS)
async def test_batch_must_be_a_boolean(start_server: StartServer, sub: str) -> None:
    server = await start_server()
    c = await Client.open(ws_url(server), sub)
    await c.recv()
    for msg in ({"type": "login", "name": "Ann", "password": "correct horse", "batch": "yes"},
                {"type": "register", "name": "Ann", "password": "correct horse",
                 "batch": 1}):
        await c.send({**msg, "id": "x"})
        [error] = await c.until(lambda m: m.get("type") == "error")
        assert (error["code"], error["id"]) == ("bad_field", "x")
        assert "batch" in error["message"]
    await c.register("Ann", batch=True)  # the session goes on
    assert session_of(server, "Ann").batch
    await c.close()
