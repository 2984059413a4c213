"""Clients move to another gateway when theirs goes away (docs/protocol.md, `hello`):
the agent client and `aegent play` learn the world's gateways from `hello`
(`gateway_urls`), try their own address again first, then the others in turn, and log
in there.

Two real servers stand in for two gateways here (one process serves a whole world
until issue #14's split; each has its own data, so the account exists on both)."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path

from conftest import StartServer, ws_url

from agents.client import Backoff, Credentials, GameClient, split_urls
from server import play
from server.app import Server
from server.play import Terminal

CREDS = Credentials("Roamer", "a long secret", "warrior")


async def account_on(server: Server) -> None:
    client = GameClient(ws_url(server), CREDS)
    await client.connect()
    await client.close()


def quick() -> Backoff:
    return Backoff(base=0.05, cap=0.2)


async def test_hello_lists_the_gateways_and_the_client_moves_on_when_its_own_goes(
        start_server: StartServer, tmp_path: Path) -> None:
    b = await start_server(data_dir=tmp_path / "b")
    a = await start_server(data_dir=tmp_path / "a",
                           gateway_urls=f"{ws_url(b)}, ws://127.0.0.1:1/ws")
    await account_on(b)
    client = GameClient(ws_url(a), CREDS, backoff=quick())
    try:
        await client.connect()
        assert client.hello["gateways"] == [ws_url(b), "ws://127.0.0.1:1/ws"]
        assert client.urls == [ws_url(a), ws_url(b), "ws://127.0.0.1:1/ws"]
        await a.shutdown("gateway going away")
        async with asyncio.timeout(20):  # a's address refuses now: b takes the client
            while not any(e.get("type") == "reconnected"
                          for e in await client.next_events(5)):
                pass
        assert client.url == ws_url(b) and client.reconnects == 1
        result = await client.command("look")
        assert result.ok and any(e.get("name") == "room" for e in result.events)
        assert b.world.find_online("Roamer") is not None
    finally:
        await client.close()


async def test_the_first_address_that_answers_is_used(start_server: StartServer) -> None:
    server = await start_server()
    client = GameClient(["ws://127.0.0.1:1/ws", ws_url(server)], CREDS, backoff=quick())
    try:
        auth = await client.connect()
        assert auth["ok"] and client.url == ws_url(server)
    finally:
        await client.close()


def test_only_websocket_addresses_are_kept_and_not_too_many() -> None:
    client = GameClient(["ws://a/ws", "http://b/", "wss://c/ws", "ws://a/ws"], CREDS)
    assert client.urls == ["ws://a/ws", "wss://c/ws"]
    many = GameClient([f"ws://g{i}/ws" for i in range(40)], CREDS)
    assert len(many.urls) == 16


async def until(text: io.StringIO, wanted: str, timeout: float = 20.0) -> None:
    """Wait until the terminal shows `wanted` (the client writes as messages come)."""
    async with asyncio.timeout(timeout):
        while wanted not in text.getvalue():
            await asyncio.sleep(0.02)


async def test_aegent_play_reconnects_to_another_gateway_and_logs_in_again(
        start_server: StartServer, tmp_path: Path) -> None:
    b = await start_server(data_dir=tmp_path / "b")
    a = await start_server(data_dir=tmp_path / "a", gateway_urls=ws_url(b))
    await account_on(b)  # Roamer, as on a below
    read_end, write_end = os.pipe()
    out = io.StringIO()
    with os.fdopen(read_end, "r") as inp, os.fdopen(write_end, "w") as typed:
        term = Terminal(out, inp, color=False)
        game = asyncio.create_task(play.play(ws_url(a), term, backoff=(0.05, 0.2)))
        typed.write("Roamer\ny\na long secret\na long secret\nwarrior\nsay first\n")
        typed.flush()
        await until(out, "You say, 'first'")
        await a.shutdown("gateway going away")
        await until(out, f"Reconnected to {ws_url(b)}.")
        assert "The connection was lost; reconnecting" in out.getvalue()
        assert f"Trying another server: {ws_url(b)}" in out.getvalue()
        typed.write("say second\n")
        typed.flush()
        await until(out, "You say, 'second'")
        assert b.world.find_online("Roamer") is not None
        typed.write("quit\n")
        typed.flush()
        assert await asyncio.wait_for(game, 20) == 0
    assert "a long secret" not in out.getvalue()


async def test_aegent_play_does_not_reconnect_when_closed_on_purpose(
        start_server: StartServer) -> None:
    server = await start_server()
    read_end, write_end = os.pipe()
    out = io.StringIO()
    with os.fdopen(read_end, "r") as inp, os.fdopen(write_end, "w") as typed:
        game = asyncio.create_task(play.play(ws_url(server), Terminal(out, inp, False),
                                             backoff=(0.05, 0.2)))
        typed.write("Quitter\ny\na long secret\na long secret\nwarrior\nquit\n")
        typed.flush()
        assert await asyncio.wait_for(game, 20) == 0
    assert "reconnecting" not in out.getvalue() and "Goodbye" in out.getvalue()


def test_server_flags_split_into_addresses() -> None:
    assert split_urls("ws://a/ws, ws://b/ws,") == ["ws://a/ws", "ws://b/ws"]
