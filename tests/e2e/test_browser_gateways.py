"""The web client moves on to another gateway from hello's `gateways`, in Chromium.

Two servers stand for two gateways of one world: each has its own data folder (so its
own world, from the same content) and the same account. The page comes from A, whose
`gateway_urls` lists A and B; A stops; the page tries A again, then says it tries B,
and plays on B (docs/protocol.md, `hello`). B takes pages from A's origin
(`allowed_origins`), as every gateway of a cluster must take the others'.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import StartServer, ws_url
from daemons import free_port
from needs import require
from playwright.async_api import expect
from test_browser import CHROMIUM, PASSWORD, base_url, chromium, command, create_character
from wsclient import Client

from server.app import Server

TRIES = 3
"""Starts of the pair at most (A's port, picked before A starts, may be taken meanwhile)."""


@pytest.fixture(autouse=True)
def _needs_chromium() -> None:
    """Each test here needs Debian's Chromium: skipped without it, failed under CI."""
    require("chromium", available=CHROMIUM.exists())


async def two_gateways(start_server: StartServer, tmp_path: Path) -> tuple[Server, Server]:
    """A, whose `gateway_urls` lists A and B, and B, which takes pages from A's origin.

    B needs A's port before A starts: it is picked free, and when it was taken in
    between, the pair starts again on another one.
    """
    for attempt in range(TRIES):
        port_a = free_port()
        b = await start_server(data_dir=tmp_path / f"b{attempt}",
                               allowed_origins=f"http://127.0.0.1:{port_a}")
        try:
            a = await start_server(port=port_a,
                                   gateway_urls=f"ws://127.0.0.1:{port_a}/ws, {ws_url(b)}")
        except OSError:
            await b.shutdown("port taken")
            if attempt == TRIES - 1:
                raise
            continue
        return a, b
    raise AssertionError("unreachable")


def playing(server: Server, name: str) -> bool:
    return any(s.character is not None and s.character.name == name for s in server.sessions)


async def test_moves_on_to_the_next_gateway(start_server: StartServer, tmp_path: Path) -> None:
    a, b = await two_gateways(start_server, tmp_path)
    url_a, url_b = ws_url(a), ws_url(b)
    # On B: Cat exists (link-dead once this client goes), and Dan stands in the square.
    cat = await Client.open(url_b, "aegent.json")
    await cat.recv()
    await cat.register("Cat", password=PASSWORD, cls="rogue")
    await cat.close()
    dan = await Client.open(url_b, "aegent.json")
    await dan.recv()
    await dan.register("Dan")

    async with chromium() as browser:
        page = await browser.new_page()
        await page.goto(base_url(a))
        await create_character(page, "Cat", "rogue")
        log = page.get_by_role("log")
        assert await page.evaluate("aegentClient.addresses") == [url_a, url_b]
        await expect(page.locator("#room-here")).not_to_contain_text("Dan")

        await a.shutdown("test: gateway A goes away")
        await expect(log).to_contain_text("The connection was lost")
        await expect(log).to_contain_text(f"Trying another server: {url_b}")
        await expect(log).to_contain_text("Reconnected as Cat")
        await expect(page.get_by_role("status")).to_contain_text("Playing as Cat")
        # A again first (the address it had), then the next one: B.
        assert await page.evaluate("aegentClient.attempts") == [url_a, url_a, url_b]
        assert await page.evaluate("aegentClient.address") == url_b
        assert playing(b, "Cat")

        # B's world: Dan is here, and what Cat says, Dan hears.
        await command(page, "look")
        await expect(page.locator("#room-here")).to_contain_text("Dan")
        await expect(page.locator("#log .ev-room").last).to_contain_text("Town Square")
        await command(page, "say hello from B")
        await expect(log).to_contain_text("You say, 'hello from B'")
        await dan.until(lambda m: m.get("type") == "event" and m["name"] == "said"
                        and m["data"].get("text") == "hello from B")
    await dan.close()


async def test_keeps_only_websocket_urls_and_at_most_16(start_server: StartServer) -> None:
    server = await start_server()
    async with chromium() as browser:
        page = await browser.new_page()
        await page.goto(base_url(server))
        await expect(page.get_by_role("status")).to_have_text("Connected.")
        # One server, an empty list: the page's own address only (as before gateways).
        home = ws_url(server)
        assert await page.evaluate("aegentClient.addresses") == [home]
        kept = await page.evaluate("""() => aegentClient.gatewayList([
            "ws://one.example/ws", "wss://two.example:8443/ws#frag", "ws://one.example/ws",
            "http://three.example/ws", "javascript:alert(1)", "ws://user:pw@four.example/ws",
            "not a url", 42, null, {"href": "ws://five.example/ws"},
            "ws://six.example/" + "x".repeat(3000),
            ...Array.from({length: 20}, (_, i) => `ws://g${i}.example/ws`)])""")
        assert kept == ["ws://one.example/ws", "wss://two.example:8443/ws"] + [
            f"ws://g{i}.example/ws" for i in range(14)]
        assert await page.evaluate("aegentClient.gatewayList('ws://one.example/ws')") == []
