"""A newcomer's first hour, played in the web client in headless Chromium.

The path is the one the game itself points to (content/zones/haven.yaml, `help newbie`):
register; read the notice board in the square (`look board`: Marta lost her cellar
key near the stables); take the paper map by the fountain; Marta's quest in the Crooked
Lantern (kill four cellar rats); the key in the stable yard; the first fights with the
stable's rats; the cellar under the trapdoor; the reward; the cistern's rats; level 2.
Every step is a command typed into the command line, as a player types it; the server
runs at 50 ticks a second instead of 10 (the game is the same, its clock five times
faster), so that the hour takes well under a minute.

At each step the page must show what happened: the log, the room panel's "Here" list
(the map, the key and the rats go, corpses come), the bars and the foe line. The test
leaves a screenshot of each step in test-artifacts/ (git-ignored) and writes
docs/img/web-client-first-hour.png, the README's picture of it, when that is missing or
AEGENT_UPDATE_SCREENSHOTS=1 is set.
"""

from __future__ import annotations

import os
import re
import shutil

import pytest
from conftest import StartServer
from needs import require
from playwright.async_api import Page, expect
from test_browser import (
    ARTIFACTS,
    CHROMIUM,
    DOCS_IMG,
    bar_value,
    base_url,
    chromium,
    command,
    create_character,
)

FIGHT_MS = 60_000  # one fight, resting included, at 50 Hz: a few seconds


@pytest.fixture(autouse=True)
def _needs_chromium() -> None:
    require("chromium", available=CHROMIUM.exists())


class Album:
    """The screenshots of one run, numbered in the order they were taken."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.n = 0
        ARTIFACTS.mkdir(exist_ok=True)

    async def shot(self, name: str) -> None:
        self.n += 1
        await self.page.screenshot(path=str(ARTIFACTS / f"first-hour-{self.n}-{name}.png"),
                                   animations="disabled")


async def fight(page: Page, deaths: int) -> None:
    """`kill rat` and wait for the rat to die: `deaths` is how many have died by then."""
    await command(page, "kill rat")
    await expect(page.locator("#log .ev-died")).to_have_count(deaths, timeout=FIGHT_MS)
    await expect(page.locator("#log .ev-died").last).to_have_text(
        "A cellar rat is dead, slain by you!")
    await expect(page.locator("#foe")).to_be_hidden()


async def rest(page: Page) -> None:
    """Rest until the hit points are full again, then stand up."""
    await command(page, "rest")
    await page.wait_for_function(
        "() => { const b = document.querySelector('#bar-hp');"
        " return b.getAttribute('aria-valuenow') === b.getAttribute('aria-valuemax'); }",
        timeout=FIGHT_MS)
    await command(page, "stand")
    await expect(page.locator("#vitals-extra")).to_contain_text("standing")


async def test_the_first_hour_in_the_browser(start_server: StartServer) -> None:
    server = await start_server(tick_hz=50.0)
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        album = Album(page)
        await page.goto(base_url(server))
        log = page.get_by_role("log")
        here = page.locator("#room-here")
        room = page.locator("#room-name")

        # Register: the form, then the town square.
        await expect(log).to_contain_text("New here? Type 'help newbie'.")
        await create_character(page, "Wren", "warrior")
        await expect(log).to_contain_text("Welcome, Wren!")
        await expect(room).to_have_text("Town Square")
        assert await bar_value(page, "hp") > 0

        # The notice board, as `help newbie` says.
        await command(page, "look board")
        await expect(log).to_contain_text("Lost, one brass cellar key, last seen near the stables")
        await album.shot("notice-board")

        # The map by the fountain: taken, it leaves the "Here" list.
        await expect(here).to_contain_text("a paper map of Haven")
        await command(page, "get map")
        await expect(log).to_contain_text("You get a paper map of Haven.")
        await expect(here).not_to_contain_text("map")
        await command(page, "look map")
        await expect(log).to_contain_text("drawn an arrow toward the stables")

        # Marta's quest in the Crooked Lantern.
        await command(page, "west")
        await expect(room).to_have_text("The Crooked Lantern")
        await expect(here).to_contain_text("Marta the landlady")
        await command(page, "quest list")
        await expect(log).to_contain_text("Rats in the Cellar")
        await command(page, "quest accept rats")
        await expect(page.locator("#log .ev-quest_accepted")).to_contain_text(
            "Rats in the Cellar")
        await album.shot("marta")

        # The key, in the stable yard's mud.
        await command(page, "south")
        await expect(room).to_have_text("Stable Yard")
        await expect(here).to_contain_text("a brass cellar key")
        await command(page, "get key")
        await expect(log).to_contain_text("You get a brass cellar key.")
        await expect(here).not_to_contain_text("key")

        # The first fight: the stable's two rats. Each blow says how hurt the rat is.
        await command(page, "consider rat")
        await expect(page.locator("#log .ev-considered")).to_contain_text("Easy!")
        await fight(page, 1)
        await expect(here).to_contain_text("the corpse of a cellar rat")
        await expect(log).to_contain_text("Quest 'Rats in the Cellar': 1/4.")
        await rest(page)
        await fight(page, 2)
        await album.shot("first-fights")
        await rest(page)

        # The cellar, under the trapdoor the key opens.
        await command(page, "north")
        await expect(room).to_have_text("The Crooked Lantern")
        await command(page, "unlock trapdoor")
        await expect(log).to_contain_text("You unlock the trapdoor")
        await command(page, "open trapdoor")
        await expect(page.locator("#room-exits")).not_to_contain_text("locked")
        await command(page, "down")
        await expect(room).to_have_text("Tavern Cellar")
        await fight(page, 3)
        await rest(page)
        await command(page, "kill rat")
        await expect(page.locator("#log .blow").first).to_be_visible(timeout=FIGHT_MS)
        await album.shot("cellar-fight")
        await expect(page.locator("#log .ev-died")).to_have_count(4, timeout=FIGHT_MS)
        await expect(log).to_contain_text("Quest 'Rats in the Cellar': 4/4.")
        await rest(page)

        # The reward.
        await command(page, "up")
        await expect(room).to_have_text("The Crooked Lantern")
        await command(page, "quest complete")
        await expect(page.locator("#log .ev-quest_completed")).to_contain_text(
            "Rats in the Cellar")
        await expect(log).to_contain_text("a meat pie")

        # Level 2: the cistern's rats make up the rest.
        await command(page, "down")
        await command(page, "east")
        await expect(room).to_have_text("Old Cistern")
        deaths = 4
        for _ in range(4):
            if await page.locator("#log .ev-level_gained").count():
                break
            deaths += 1
            await fight(page, deaths)
            await rest(page)
        await expect(page.locator("#log .ev-level_gained")).to_contain_text(
            "You are now level 2")
        await expect(page.locator("#vitals-extra")).to_contain_text("Level 2")
        assert "You are DEAD" not in await log.inner_text()
        await expect(page.locator("#map-summary")).to_contain_text("5 rooms explored")
        await expect(page.locator("#map .map-room")).to_have_count(2)  # this level: 1 down
        await command(page, "score")
        await expect(page.locator("#log .ev-score_shown")).to_contain_text("level 2")
        await album.shot("level-2")

        # The "Here" list, followed event by event, is what a fresh look shows.
        shown = await here.locator("li").all_inner_texts()
        assert re.search(r"the corpse of a cellar rat", " ".join(shown))
        await command(page, "look")
        await expect(page.locator("#log .ev-room")).to_have_count(9)
        assert await here.locator("li").all_inner_texts() == shown

        readme = DOCS_IMG / "web-client-first-hour.png"
        if not readme.exists() or os.environ.get("AEGENT_UPDATE_SCREENSHOTS") == "1":
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ARTIFACTS / f"first-hour-{album.n}-level-2.png", readme)
