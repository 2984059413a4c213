"""Clients move to another gateway when theirs goes away (docs/protocol.md, `hello`):
the agent client learns the world's gateways from `hello` (`gateway_urls`), tries its
own address again first, then the others in turn, and logs in there.

Two real servers stand in for two gateways here (one process serves a whole world
until issue #14's split; each has its own data, so the account exists on both)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from conftest import StartServer, ws_url

from agents.client import Backoff, Credentials, GameClient
from server.app import Server

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
