"""The agent runtime asks for batched events and reads them as the events they hold
(agents/client.py, docs/protocol.md `events`), against a real server over real sockets.

What would break if the expansion did: every event a batched agent gets, from its login
to its last `observe`, has the seq that follows the one before (1, 2, 3...), exactly
what the server counted (`observe`'s `seq`); it reads the same events as an agent that
did not ask; `on_frame`, `Result.events` and the event stream see `event` messages only;
and a reconnection logs in with `batch` again.

The server waits 30 s before writing others' events to a bystander (`fanout_delay`):
they go out with the answer to its own command, so which share a message is not timing.
"""

from __future__ import annotations

import asyncio
from typing import Any

from conftest import StartServer, session_of, ws_url

from agents.client import Credentials, GameClient, expand_events
from agents.observation import Tracker

PASSWORD = "a long secret"


def said(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(e["name"], e["data"], e["text"]) for e in events if e["name"] == "said"]


async def test_a_batched_agent_reads_every_event_numbered_as_a_plain_one_does(
        start_server: StartServer) -> None:
    server = await start_server(fanout_delay=30.0)
    url = ws_url(server)
    batched = GameClient(url, Credentials("Ann", PASSWORD, "warrior"))
    plain = GameClient(url, Credentials("Bob", PASSWORD, "warrior"), batch=False)
    speakers = [GameClient(url, Credentials(n, PASSWORD, "mage")) for n in ("Cyd", "Dee")]
    frames: list[dict[str, Any]] = []
    batched.on_frame = frames.append
    everyone = [batched, plain, *speakers]
    try:
        for c in everyone:
            await c.connect()
        assert session_of(server, "Ann").batch and not session_of(server, "Bob").batch
        for c in (batched, plain):  # what waited for them (the arrivals), then a clean slate
            await c.command("look")
        for speaker, word in zip(speakers, ("one", "two"), strict=True):
            own = await speaker.command(f"say {word}")  # its own event came batched too
            assert own.ok and said(own.events)[-1][2] == f"You say, '{word}'"
        heard, counted = {}, {}
        for c in (batched, plain):
            result = await c.command("look")
            assert [e["name"] for e in result.events] == ["said", "said", "room"]
            heard[c] = said(result.events)
            observation = await c.observe()
            counted[c] = observation["seq"]
            got = await c.next_events(0)  # every event since the login, in order
            assert [e["seq"] for e in got] == list(range(1, observation["seq"] + 1))
            assert {e["type"] for e in got} == {"event"}
            tracker = Tracker(c.credentials.name)
            tracker.fold_all(got)
            assert tracker.obs.missed == 0 and tracker.obs.seq == observation["seq"]
        assert heard[batched] == heard[plain] == [
            ("said", {"actor": "Cyd", "kind": "player", "text": "one"}, "Cyd says, 'one'"),
            ("said", {"actor": "Dee", "kind": "player", "text": "two"}, "Dee says, 'two'")]
        assert batched.batches >= 3 and plain.batches == 0
        assert "events" not in {f["type"] for f in frames}
        assert [f["seq"] for f in frames if f["type"] == "event"] == list(
            range(1, counted[batched] + 1))
    finally:
        for c in everyone:
            await c.close()


async def test_a_reconnected_agent_asks_for_batch_again(start_server: StartServer) -> None:
    server = await start_server(fanout_delay=30.0)
    client = GameClient(ws_url(server), Credentials("Robin", PASSWORD, "cleric"))
    try:
        await client.connect()
        first = session_of(server, "Robin")
        assert first.batch
        server.sessions[first].abort("test: drop the link")
        got: list[dict[str, Any]] = []
        async with asyncio.timeout(20):
            while not any(e.get("type") == "reconnected" for e in got):
                got += await client.next_events(5)
        after = got[[e.get("type") for e in got].index("reconnected") + 1:]
        await client.connected.wait()
        again = session_of(server, "Robin")
        assert again is not first and again.batch  # logged in again, asking again
        before = client.batches
        result = await client.command("look")
        assert result.ok and [e["name"] for e in result.events] == ["room"]
        assert client.batches > before
        observation = await client.observe()
        after += await client.next_events(0)  # a new session numbers from 1 again
        assert [e["seq"] for e in after] == list(range(1, observation["seq"] + 1))
    finally:
        await client.close()


def test_expand_events_numbers_the_items_from_the_messages_seq() -> None:
    msg: dict[str, Any] = {"type": "events", "seq": 41, "events": [
        {"type": "event", "name": "said", "data": {"text": "a"}},
        "not a map",
        {"type": "event", "name": "said", "data": {"text": "b"}}]}
    assert [(e["name"], e["data"]["text"], e["seq"]) for e in expand_events(msg)] == [
        ("said", "a", 41), ("said", "b", 43)]
    assert expand_events({"type": "events", "seq": 1, "events": "nonsense"}) == []


def test_login_messages_ask_for_batch_unless_told_not_to() -> None:
    key = Credentials("k", api_key="aq_k_secret")
    assert key.login_message() == {"type": "login", "api_key": "aq_k_secret", "batch": True}
    assert Credentials("Ann", PASSWORD).login_message(batch=False) == {
        "type": "login", "name": "Ann", "password": PASSWORD}
