"""The web client asks for batched events and shows every event of an `events` message
(docs/protocol.md, `events`), in Chromium (see tests/e2e/test_browser.py).

The server waits 30 s before writing others' events to a bystander (`fanout_delay`): what
two others said goes out with the answer to the page's own `look`, in one `events`
message, so the test does not depend on timing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import StartServer, session_of, ws_url
from needs import require
from playwright.async_api import WebSocket, expect
from test_browser import CHROMIUM, base_url, chromium, command, create_character
from wsclient import Client


@pytest.fixture(autouse=True)
def _needs_chromium() -> None:
    """Each test here needs Debian's Chromium: skipped without it, failed under CI."""
    require("chromium", available=CHROMIUM.exists())


async def test_the_page_asks_for_batches_and_shows_each_event(
        start_server: StartServer) -> None:
    server = await start_server(fanout_delay=30.0)
    others = await Client.registered(ws_url(server), ("Bob", "Cyd"))
    sent: list[dict[str, Any]] = []
    received: list[dict[str, Any]] = []

    def watch(ws: WebSocket) -> None:  # every frame of the page's connections, decoded
        ws.on("framesent", lambda payload: sent.append(json.loads(payload)))
        ws.on("framereceived", lambda payload: received.append(json.loads(payload)))

    async with chromium() as browser:
        page = await browser.new_page()
        page.on("websocket", watch)
        await page.goto(base_url(server))
        log = page.get_by_role("log")
        await create_character(page, "Ann", "mage")
        await expect(log).to_contain_text("Town Square")
        assert session_of(server, "Ann").batch
        assert [m.get("batch") for m in sent if m["type"] == "register"] == [True]

        for c, word in zip(others, ("one", "two"), strict=True):
            await c.command(f"say {word}")
        await command(page, "look")
        # Both lines in the log, as text a screen reader reads out (the log is live).
        await expect(log).to_contain_text("Bob says, 'one'")
        await expect(log).to_contain_text("Cyd says, 'two'")
        assert await log.get_attribute("aria-live") == "polite"
        entries = await log.locator(":scope > *").all_inner_texts()
        assert [t for t in entries if "says," in t] == ["Bob says, 'one'", "Cyd says, 'two'"]
        # They came in one `events` message (with the room the look showed).
        groups = [[e["name"] for e in m["events"]] for m in received if m["type"] == "events"
                  and any(e["name"] == "said" for e in m["events"])]
        assert groups == [["said", "said", "room"]]
        assert "event" not in {m["type"] for m in received}

        # Reconnected, the page logs back in asking for batch again.
        first = session_of(server, "Ann")
        server.sessions[first].abort("test: drop the link")
        await expect(log).to_contain_text("Reconnected as Ann", timeout=15_000)
        again = session_of(server, "Ann")
        assert again is not first and again.batch
        assert [m.get("batch") for m in sent if m.get("id") == "relogin"] == [True]
        await others[0].command("say three")
        await command(page, "look")
        await expect(log).to_contain_text("Bob says, 'three'")
    for c in others:
        await c.close()
