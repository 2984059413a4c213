"""Cluster mode end to end: a real nats-server, `aegent world` and two `aegent gateway`
processes, and clients on real sockets (docs/architecture.md, "Processes").

Players on different gateways share one world; a world host killed with SIGKILL comes
back with what it answered, while the gateways keep every connection, hold what is
typed meanwhile, and answer `world_unavailable` when the world does not come back in
time; a client whose gateway dies goes on through another.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from clusterproc import Cluster
from daemons import end
from natsd import nats_or_skip
from wsclient import Client, auth_of, events

from agents.client import Backoff, Credentials, GameClient


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with nats_or_skip() as nats:
        made = Cluster(nats.url, tmp_path)
        try:
            yield made
        finally:
            made.stop()


async def joined(url: str, name: str, subprotocol: str = "aegent.msgpack") -> Client:
    c = await Client.open(url, subprotocol)
    hello = await c.recv()
    assert hello["type"] == "hello" and hello["classes"], hello
    got = await c.register(name)
    assert auth_of(got)["ok"] is True, got
    return c


def texts(msgs: list[object]) -> list[str]:
    return [str(e.get("text", "")) for e in events(msgs)]  # type: ignore[arg-type]


async def test_players_on_two_gateways_share_one_world(cluster: Cluster) -> None:
    await asyncio.to_thread(cluster.start_world)
    g1 = await asyncio.to_thread(cluster.start_gateway, "g1")
    g2 = await asyncio.to_thread(cluster.start_gateway, "g2")
    ann = await joined(g1.url, "Ann")
    bob = await joined(g2.url, "Bob", "aegent.json")
    try:
        said = await bob.command("say hello across the gateways")
        assert said[-1]["ok"] is True
        heard = await ann.until(lambda m: m.get("type") == "event" and m["name"] == "said")
        assert "Bob says, 'hello across the gateways'" in texts(heard)

        wrong = await ann.command("frobnicate")
        assert wrong[-1]["ok"] is False and wrong[-1]["error"]["code"] == "unknown_command"

        await ann.send({"type": "tools", "id": "t"})
        tools = await ann.until(lambda m: m.get("type") == "tools")
        assert {"look", "say", "go"} <= {t["name"] for t in tools[-1]["tools"]}

        await ann.send({"type": "observe", "id": "o"})
        seen = await ann.until(lambda m: m.get("type") == "observation")
        assert seen[-1]["character"]["name"] == "Ann" and seen[-1]["room"]["id"]
    finally:
        await ann.close()
        await bob.close()


async def test_telnet_through_a_gateway_logs_in_plays_and_quits(cluster: Cluster) -> None:
    await asyncio.to_thread(cluster.start_world)
    g1 = await asyncio.to_thread(cluster.start_gateway, "g1")
    reader, writer = await asyncio.open_connection("127.0.0.1", g1.telnet_port)
    seen = b""

    async def until(text: bytes) -> bytes:
        nonlocal seen
        while text not in seen:
            seen += await asyncio.wait_for(reader.read(4096), 10)
        got, seen = seen, seen[seen.index(text) + len(text):]
        return got

    try:
        await until(b"By what name")
        writer.write(b"Tess\r\n")
        await until(b"(y/n)")
        writer.write(b"y\r\n")
        await until(b"password")
        writer.write(b"a long secret\r\n")
        await until(b"retype")
        writer.write(b"a long secret\r\n")
        await until(b"Choose a class")
        writer.write(b"w\r\n")
        await until(b"Welcome, Tess")
        writer.write(b"score\r\n")
        shown = await until(b"Warrior")
        assert b"Tess" in shown
        prompt = await until(b"HP")  # the prompt: the gateway's view of the character
        assert b">" in prompt + await until(b">")
        writer.write(b"quit\r\n")
        bye = await until(b"Goodbye")
        assert b"Goodbye" in bye
        rest = await asyncio.wait_for(reader.read(), 10)  # the gateway closes it
        assert isinstance(rest, bytes)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def test_a_killed_world_host_comes_back_and_no_connection_drops(
        cluster: Cluster) -> None:
    await asyncio.to_thread(cluster.start_world)
    g1 = await asyncio.to_thread(cluster.start_gateway, "g1")
    c = await joined(g1.url, "Kit")
    try:
        moved = await c.command("north")
        assert moved[-1]["ok"] is True  # answered: the world host journaled it first
        there = events(moved, "room")[-1]["data"]["id"]

        await asyncio.to_thread(cluster.kill_world)
        paused = await c.until(lambda m: m.get("type") == "event" and "pausing" in
                               str(m.get("text", "")))
        assert paused
        mid = c.next_id()
        await c.send({"type": "command", "line": "look", "id": mid})  # waits for the world
        await asyncio.to_thread(cluster.start_world)
        got = await c.until(lambda m: m.get("type") == "result" and m.get("id") == mid, 30)
        assert got[-1]["ok"] is True, got[-1]
        assert events(got, "room")[-1]["data"]["id"] == there  # the move was not lost
        again = await c.command("south")  # and play goes on
        assert again[-1]["ok"] is True
    finally:
        await c.close()


async def test_a_command_waits_at_most_world_wait_then_world_unavailable(
        cluster: Cluster) -> None:
    await asyncio.to_thread(cluster.start_world)
    g1 = await asyncio.to_thread(cluster.start_gateway, "g1", AEGENT_WORLD_WAIT="1")
    c = await joined(g1.url, "Wren")
    try:
        await asyncio.to_thread(cluster.kill_world)
        await c.until(lambda m: m.get("type") == "event" and "pausing" in
                      str(m.get("text", "")))
        got = await c.command("look")
        assert got[-1]["ok"] is False
        assert got[-1]["error"]["code"] == "world_unavailable"

        other = await Client.open(g1.url, "aegent.json")
        try:
            await other.recv()
            await other.send({"type": "login", "name": "Wren", "password": "correct horse",
                              "id": 1})
            refused = await other.until(lambda m: m.get("type") == "auth")
            assert refused[-1]["ok"] is False
            assert refused[-1]["error"]["code"] == "world_unavailable"
        finally:
            await other.close()
    finally:
        await c.close()


async def test_a_client_whose_gateway_dies_goes_on_through_another(
        cluster: Cluster) -> None:
    await asyncio.to_thread(cluster.start_world)
    g1 = await asyncio.to_thread(cluster.start_gateway, "g1")
    g2 = await asyncio.to_thread(cluster.start_gateway, "g2")
    client = GameClient([g1.url, g2.url], Credentials("Roam", "a long secret", "warrior"),
                        backoff=Backoff(base=0.05, cap=0.2))
    await client.connect()
    try:
        assert (await client.command("north")).ok
        await asyncio.to_thread(end, g1.process, kill=True)
        async with asyncio.timeout(20):  # g1 refuses now: g2 takes the client
            while not any(e.get("type") == "reconnected"
                          for e in await client.next_events(5)):
                pass
        assert client.url == g2.url
        result = await client.command("look")  # on g2 now, the same character, moved
        assert result.ok, result
        rooms = [e for e in result.events if e.get("name") == "room"]
        assert rooms and rooms[-1]["data"]["name"] != "Town Square"
    finally:
        await client.close()


async def test_aegent_cluster_starts_prints_restarts_and_stops(tmp_path: Path) -> None:
    """`aegent cluster --gateways 2`: one line per gateway; players on both share the
    world; a world host killed with SIGKILL is started again (within 5 s) and the
    player goes on; SIGTERM stops them all."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil
    from serverproc import FAST

    with nats_or_skip():  # skips (or fails under CI) where nats-server is missing
        pass
    env = {**os.environ, **FAST, "AEGENT_PARENT_PID": str(os.getpid())}
    with (tmp_path / "cluster.log").open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "server.cli", "cluster", "--gateways",
                                 "2", "--data-dir", str(tmp_path / "data")], env=env,
                                stdout=subprocess.PIPE, stderr=err)
    try:
        assert proc.stdout is not None
        lines = [await asyncio.to_thread(proc.stdout.readline) for _ in range(2)]
        urls = [line.decode().split()[2] for line in lines]
        assert [line.decode().split(":")[0] for line in lines] == ["gateway 1", "gateway 2"]
        ann = await joined(urls[0], "Ann")
        bob = await joined(urls[1], "Bob")
        try:
            said = await bob.command("say one world")
            assert said[-1]["ok"] is True
            heard = await ann.until(lambda m: m.get("type") == "event" and m["name"] == "said")
            assert "Bob says, 'one world'" in texts(heard)

            world = next(p for p in psutil.Process(proc.pid).children(recursive=True)
                         if "world" in p.cmdline())
            world.kill()
            killed = time.monotonic()
            await ann.until(lambda m: m.get("type") == "event" and "goes on" in
                            str(m.get("text", "")), 30)
            assert time.monotonic() - killed < 15  # restarted within 5 s, then its start
            again = await ann.command("look")
            assert again[-1]["ok"] is True
        finally:
            await ann.close()
            await bob.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.to_thread(proc.wait, 60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        finally:
            if proc.stdout is not None:
                proc.stdout.close()
    assert code == 0
    log = (tmp_path / "cluster.log").read_text()
    assert "child_restarted" in log


async def test_logging_in_on_another_gateway_takes_the_character_over(
        cluster: Cluster) -> None:
    await asyncio.to_thread(cluster.start_world)
    g1 = await asyncio.to_thread(cluster.start_gateway, "g1")
    g2 = await asyncio.to_thread(cluster.start_gateway, "g2")
    first = await joined(g1.url, "Tam")
    second = await Client.open(g2.url, "aegent.msgpack")
    try:
        await second.recv()
        got = await second.login("Tam")
        assert auth_of(got)["ok"] is True
        told = await first.until(lambda m: m.get("type") == "event"
                                 and "elsewhere" in str(m.get("text", "")))
        assert told
        with pytest.raises(Exception):  # noqa: B017  # the gateway closes the old one
            await first.recv(10)
        assert (await second.command("look"))[-1]["ok"] is True
    finally:
        await first.close()
        await second.close()


async def test_a_restarted_gateway_leaves_its_old_players_link_dead(cluster: Cluster) -> None:
    await asyncio.to_thread(cluster.start_world)
    g1 = await asyncio.to_thread(cluster.start_gateway, "g1")
    g2 = await asyncio.to_thread(cluster.start_gateway, "g2")
    watcher = await joined(g2.url, "Una")
    lost = await joined(g1.url, "Vic")
    try:
        assert (await lost.command("look"))[-1]["ok"] is True  # played: stays link-dead
        await asyncio.to_thread(end, g1.process, kill=True)
        await asyncio.to_thread(cluster.start_gateway, "g1")  # the same name, a new run
        got = await watcher.until(lambda m: m.get("type") == "event"
                                  and m["name"] == "link_lost", 20)
        assert "Vic" in texts(got)[-1]
    finally:
        await watcher.close()
        with contextlib.suppress(Exception):
            await lost.close()


async def test_gmcp_lists_come_from_the_world_host(cluster: Cluster) -> None:
    """A MUD client on a gateway gets GMCP's item and player lists, which the world host
    makes (the gateway has no world): the room's items at login, an item moving from the
    room to the inventory, a player from another gateway arriving, a request answered."""
    from test_mudlet import MUDLET, Mudlet
    from test_telnet import Raw, register_text

    from server.gateway import telnet_protocol as tp
    from server.gateway.telnet_protocol import DO, IAC

    await asyncio.to_thread(cluster.start_world)
    g1 = await asyncio.to_thread(cluster.start_gateway, "g1")
    g2 = await asyncio.to_thread(cluster.start_gateway, "g2")
    r, w = await asyncio.open_connection("127.0.0.1", g1.telnet_port)
    raw = Raw(r, w)
    ann = Mudlet(raw)
    try:
        await raw.send(bytes([IAC, DO, tp.GMCP]))
        await ann.send("Core.Supports.Set", MUDLET)
        await register_text(raw, "Ann")
        assert (await ann.next("Char.Status"))["name"] == "Ann"
        square = await ann.next("Room.Info")
        assert square["name"] == "Town Square" and square["area"] == "Haven"
        room = await ann.next("Char.Items.List", lambda d: d["location"] == "room")
        (paper,) = [i for i in room["items"] if i["keyword"] == "map"]
        assert await ann.next("Room.Players") == [{"name": "Ann", "fullname": "Ann"}]

        await raw.line("get map")
        assert (await ann.next("Char.Items.Remove"))["item"] == paper
        assert (await ann.next("Char.Items.Add"))["item"]["id"] == paper["id"]

        bob = await joined(g2.url, "Bob", "aegent.json")
        assert await ann.next("Room.AddPlayer") == {"name": "Bob", "fullname": "Bob"}
        await bob.close()

        await ann.send("Char.Items.Inv")
        inv = await ann.next("Char.Items.List", lambda d: d["location"] == "inv")
        assert paper["id"] in {i["id"] for i in inv["items"]}
    finally:
        await raw.close()


async def test_a2a_through_a_gateway_reaches_an_agent_on_another(cluster: Cluster) -> None:
    """An agent logs in with its API key on one gateway; its owner's A2A client asks it
    through the other gateway's HTTP port: the card, then a message and its answer."""
    import httpx
    from test_a2a import SDK_TIMEOUT, a2a_client, ask, make_agent

    from agents.runner import Agent
    from agents.scripted import ScriptedPolicy

    await asyncio.to_thread(cluster.start_world)
    g1 = await asyncio.to_thread(cluster.start_gateway, "g1")
    g2 = await asyncio.to_thread(cluster.start_gateway, "g2")
    base = f"http://127.0.0.1:{g1.port}"
    ann = await joined(g1.url, "Ann", "aegent.json")
    key = await make_agent(ann, "Scout", "movement,communication")
    on = await ann.command("agent a2a Scout on")
    assert on[-1]["ok"] is True, on
    online = asyncio.Event()
    agent = Agent(g2.url, Credentials("Scout", api_key=key), ScriptedPolicy(seed=1),
                  register=False, min_interval=0.05, on_registered=lambda _: online.set())
    stop = asyncio.Event()
    task = asyncio.create_task(agent.run(stop))
    try:
        await asyncio.wait_for(online.wait(), SDK_TIMEOUT)
        async with httpx.AsyncClient(timeout=SDK_TIMEOUT) as http:
            card = await http.get(base + "/a2a/Scout/.well-known/agent-card.json")
        assert card.status_code == 200 and card.json()["name"] == "Scout"
        async with a2a_client(base + "/a2a/Scout", key) as client:
            reply = await ask(client, "How are you doing?")
        assert reply.parts[0].text.startswith("Level 1 warrior"), reply
    finally:
        stop.set()
        await asyncio.wait_for(task, SDK_TIMEOUT)
        await ann.close()


async def test_commands_sent_as_the_world_host_dies_are_done_after_its_restart(
        cluster: Cluster) -> None:
    """Sent at once after the kill, before the gateway can know: the command goes nowhere,
    and the gateway sends it again once its session is logged in on the new host (whose
    journal says it was not done); the player gets its answer, not an error."""
    await asyncio.to_thread(cluster.start_world)
    g1 = await asyncio.to_thread(cluster.start_gateway, "g1")
    c = await joined(g1.url, "Zed")
    try:
        assert (await c.command("look"))[-1]["ok"] is True
        await asyncio.to_thread(cluster.kill_world)
        ids = [c.next_id() for _ in range(3)]
        for mid, line in zip(ids, ("north", "look", "south"), strict=True):
            await c.send({"type": "command", "line": line, "id": mid})
        await asyncio.to_thread(cluster.start_world)
        got = await c.until(lambda m: m.get("type") == "result" and m.get("id") == ids[-1], 30)
        results = {m["id"]: m for m in got if m.get("type") == "result"}
        assert all(results[mid]["ok"] is True for mid in ids), results
        rooms = [e["data"]["name"] for e in events(got, "room")]
        assert rooms[-1] == "Town Square" and "Temple Steps" in rooms  # each done, in order
    finally:
        await c.close()


async def test_a_world_host_stopped_for_a_deploy_keeps_its_players(cluster: Cluster) -> None:
    """SIGTERM (a deploy): the world host saves everyone and stops; the next one takes
    them back where they stood, and the gateway's players go on without logging in."""
    await asyncio.to_thread(cluster.start_world)
    g1 = await asyncio.to_thread(cluster.start_gateway, "g1")
    c = await joined(g1.url, "Dee")
    try:
        moved = await c.command("north")
        there = events(moved, "room")[-1]["data"]["id"]
        assert cluster.world is not None
        await asyncio.to_thread(end, cluster.world)  # SIGTERM, and wait for it
        await c.until(lambda m: m.get("type") == "event" and "pausing" in
                      str(m.get("text", "")))
        await asyncio.to_thread(cluster.start_world)
        await c.until(lambda m: m.get("type") == "event" and "goes on" in
                      str(m.get("text", "")), 30)
        look = await c.command("look")
        assert look[-1]["ok"] is True
        assert events(look, "room")[-1]["data"]["id"] == there
    finally:
        await c.close()


async def test_a_world_host_on_another_machine_takes_the_world_from_jetstream_and_the_database(
        tmp_path: Path) -> None:
    """The world host dies with its machine: a new one, with an empty data folder but the
    same database and NATS, starts from the snapshot in the database and the journal in
    JetStream; the gateway's player goes on where the acknowledged move left him."""
    with nats_or_skip() as nats:
        shared = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
        made = Cluster(nats.url, tmp_path, env={"DATABASE_URL": shared})
        try:
            await asyncio.to_thread(made.start_world, 30.0, "machine-a")
            g1 = await asyncio.to_thread(made.start_gateway, "g1")
            c = await joined(g1.url, "Moe")
            try:
                moved = await c.command("north")
                assert moved[-1]["ok"] is True
                there = events(moved, "room")[-1]["data"]["id"]
                await asyncio.to_thread(made.kill_world)
                await asyncio.to_thread(made.start_world, 30.0, "machine-b")
                look = await c.command("look")
                assert look[-1]["ok"] is True, look[-1]
                assert events(look, "room")[-1]["data"]["id"] == there
                assert not (tmp_path / "machine-b" / "aegent.sqlite3").exists()
                log = made.log("world-2").read_text()
                assert "world_recovered" in log, log[-2000:]
            finally:
                await c.close()
        finally:
            made.stop()
