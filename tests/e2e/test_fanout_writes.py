"""Fan-out output over real sockets: what others cause waits to share a write, your own
answer does not (server/app.py `Server.mark`, docs/architecture.md)."""

from __future__ import annotations

from typing import Any

from conftest import StartServer, session_of, ws_url
from wsclient import Client, events

from server.app import Server


def count_writes(server: Server, name: str) -> list[bytes]:
    """Spy on the transport of `name`'s connection: every write it gets, in order."""
    conn: Any = server.sessions[session_of(server, name)]
    writes: list[bytes] = []
    real = conn.transport.write

    def write(data: bytes) -> None:
        writes.append(bytes(data))
        real(data)

    conn.transport.write = write
    return writes


async def players(server: Server, *names: str) -> list[Client]:
    out = []
    for name in names:
        c = await Client.open(ws_url(server), "aegent.json")
        await c.register(name)
        out.append(c)
    return out


async def test_what_others_say_shares_one_write(start_server: StartServer) -> None:
    # The window is far longer than Ann's three commands take (a few milliseconds), so
    # the test does not race it; it waits for the write itself, not for a time.
    server = await start_server(fanout_delay=1.0)
    ann, bob = await players(server, "Ann", "Bob")
    writes = count_writes(server, "Bob")
    # Three lines from Ann, each its own command and its own answer to her...
    for word in ("one", "two", "three"):
        await ann.command(f"say {word}")
    assert writes == [], "Bob's share was written before the window closed"
    # ...reach Bob as three events in one write to his socket.
    got = await bob.until(lambda m: m.get("name") == "said" and m["data"]["text"] == "three")
    assert [e["data"]["text"] for e in events(got, "said")] == ["one", "two", "three"]
    assert len(writes) == 1 and writes[0].count(b'"name":"said"') == 3
    for c in (ann, bob):
        await c.close()


async def test_your_own_command_takes_what_was_waiting(start_server: StartServer) -> None:
    # A delay far longer than the test: only Bob's own command can send his output.
    server = await start_server(fanout_delay=30.0)
    ann, bob = await players(server, "Ann", "Bob")
    await ann.command("say are you there?")
    got = await bob.command("look")  # answered at once, with Ann's line before it
    said = events(got, "said")
    assert [e["data"]["text"] for e in said] == ["are you there?"]
    assert got.index(said[0]) < got.index(events(got, "room")[0])
    assert got[-1]["type"] == "result" and got[-1]["ok"]
    for c in (ann, bob):
        await c.close()


async def test_with_no_delay_every_event_goes_at_once(start_server: StartServer) -> None:
    server = await start_server(fanout_delay=0.0)
    ann, bob = await players(server, "Ann", "Bob")
    writes = count_writes(server, "Bob")
    await ann.command("say one")
    await ann.command("say two")
    await bob.until(lambda m: m.get("name") == "said" and m["data"]["text"] == "two")
    assert len(writes) == 2
    for c in (ann, bob):
        await c.close()
