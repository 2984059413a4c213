"""The web client in a real browser: Debian's Chromium, driven by Playwright for Python.

`make test` installs Chromium from Debian (`make browser`) and Playwright from PyPI (the
dev extra); Playwright's own browser download is never used. Without /usr/bin/chromium
these tests are skipped, saying how to install it, and under CI they fail instead
(tests/needs.py).

Screenshots land in test-artifacts/ (git-ignored). The README's, docs/img/web-client-*.png,
are written when missing or when AEGENT_UPDATE_SCREENSHOTS=1 is set, so ordinary runs
leave the tree clean (the first hour's comes from tests/e2e/test_first_hour_browser.py).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from conftest import StartServer, ws_url
from needs import require
from playwright.async_api import Browser, Page, async_playwright, expect
from wsclient import Client

from server.app import Server

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
DOCS_IMG = ROOT / "docs" / "img"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
         "--disable-quic", "--disable-background-networking", "--disable-component-update"]
PASSWORD = "correct horse"
WAIT_MS = 10_000

expect.set_options(timeout=WAIT_MS)


@pytest.fixture(autouse=True)
def _needs_chromium() -> None:
    """Each test here needs Debian's Chromium: skipped without it, failed under CI."""
    require("chromium", available=CHROMIUM.exists())


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, with no network of its own."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                           args=FLAGS)
        try:
            yield browser
        finally:
            await browser.close()


def base_url(server: Server) -> str:
    return f"http://127.0.0.1:{server.port}/"


async def command(page: Page, line: str) -> None:
    """Type a line into the command box and press Enter, as a player does."""
    box = page.get_by_role("textbox", name="Command")
    await box.fill(line)
    await box.press("Enter")


async def bar_value(page: Page, kind: str) -> int:
    value = await page.locator(f"#bar-{kind}").get_attribute("aria-valuenow")
    assert value is not None
    return int(value)


async def create_character(page: Page, name: str, cls: str) -> None:
    await page.get_by_label("create a new character").check()
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_label("Class").select_option(cls)
    await page.get_by_role("button", name="Create character").click()
    await expect(page.get_by_role("status")).to_contain_text(f"Playing as {name}")


async def unlabelled_controls(page: Page) -> list[str]:
    """Visible controls without an accessible name (a label, aria-label(ledby) or text)."""
    found: list[str] = await page.evaluate("""() => {
        const bad = [];
        for (const c of document.querySelectorAll('input, select, button, [role=progressbar]')) {
            if (!c.offsetParent && c.getAttribute('type') !== 'radio') continue;
            const named = (c.labels && c.labels.length) || c.getAttribute('aria-label')
                || c.getAttribute('aria-labelledby') || (c.textContent || '').trim();
            if (!named) bad.push(c.outerHTML.slice(0, 80));
        }
        return bad;
    }""")
    return found


async def test_play_in_the_browser(start_server: StartServer) -> None:
    server = await start_server()
    bob = await Client.open(ws_url(server), "aegent.json")
    await bob.recv()
    await bob.register("Bob", cls="cleric")

    async with chromium() as browser:
        context = await browser.new_context(viewport={"width": 1100, "height": 700})
        page = await context.new_page()
        await page.goto(base_url(server))
        log = page.get_by_role("log")
        assert await log.get_attribute("aria-live") == "polite"
        await expect(log).to_contain_text("Welcome to Aegent Quest")  # the hello's motd
        assert await unlabelled_controls(page) == []

        # A new character through the form; the class list comes from the hello message.
        assert "Mage" in await page.get_by_label("Class").inner_text()
        await create_character(page, "Ann", "mage")
        await expect(log).to_contain_text("Town Square")
        await expect(page.locator("#room-name")).to_have_text("Town Square")
        await expect(page.locator("#room-here")).to_contain_text("Bob")
        await expect(page.locator("#map .map-room")).to_have_count(1)
        await expect(page.locator("#bar-hp")).not_to_have_attribute("aria-valuenow", "0")
        full_moves = await bar_value(page, "moves")
        assert full_moves > 0
        assert await page.locator("#bar-moves").get_attribute("aria-valuemax") == str(full_moves)
        assert await page.get_by_role("textbox", name="Command").evaluate(
            "el => el === document.activeElement")
        assert await unlabelled_controls(page) == []

        # Walk north: the map gains a room, the room panel changes, moves go down. The
        # lowest value the bar shows is kept: regeneration may bring it back up in the
        # next tick (every 3 s), sometimes before the page is looked at again.
        await page.evaluate("""() => {
            const bar = document.querySelector('#bar-moves');
            window.lowestMoves = Number(bar.getAttribute('aria-valuenow'));
            new MutationObserver((records) => {  // each value, also one set over at once
                const seen = records.map(r => Number(r.oldValue));
                seen.push(Number(bar.getAttribute('aria-valuenow')));
                window.lowestMoves = Math.min(window.lowestMoves, ...seen);
            }).observe(bar, {attributes: true, attributeOldValue: true,
                             attributeFilter: ['aria-valuenow']});
        }""")
        await command(page, "north")
        await expect(log).to_contain_text("> north")  # local echo
        await expect(page.locator("#room-name")).to_have_text("Temple Steps")
        await expect(page.locator("#map .map-room")).to_have_count(2)
        await expect(page.locator('#map .map-room.here[data-room="haven:temple_steps"]')
                     ).to_have_count(1)
        await expect(page.locator("#map-summary")).to_contain_text("2 rooms explored")
        await page.wait_for_function("max => window.lowestMoves < max", arg=full_moves,
                                     timeout=WAIT_MS)
        await expect(page.locator("#room-exits")).to_contain_text("south")

        # Talking, and an error from a result.
        await command(page, "say hello")
        await expect(log).to_contain_text("You say, 'hello'")
        await command(page, "fly away")
        await expect(page.locator("#log .error").last).to_contain_text("Unknown command")

        # History: up recalls the last commands, down comes back to the draft.
        box = page.get_by_role("textbox", name="Command")
        await box.fill("draft")
        await box.press("ArrowUp")
        await expect(box).to_have_value("fly away")
        await box.press("ArrowUp")
        await expect(box).to_have_value("say hello")
        await box.press("ArrowDown")
        await box.press("ArrowDown")
        await expect(box).to_have_value("draft")
        await box.fill("")

        # Colour off: no colour left in the log; the choice is remembered.
        said = page.locator("#log .ev-said").last
        plain = await log.evaluate("el => getComputedStyle(el).color")
        assert await said.evaluate("el => getComputedStyle(el).color") != plain
        toggle = page.get_by_role("button", name="Colour")
        await toggle.click()
        await expect(toggle).to_have_attribute("aria-pressed", "false")
        assert await said.evaluate("el => getComputedStyle(el).color") == plain
        coloured = await page.evaluate("""() => [...document.querySelectorAll('#log *')]
            .filter(e => getComputedStyle(e).color !== getComputedStyle(
                document.getElementById('log')).color).length""")
        assert coloured == 0
        other = await context.new_page()
        await other.goto(base_url(server))
        await expect(other.get_by_role("button", name="Colour")
                     ).to_have_attribute("aria-pressed", "false")
        await other.close()
        await toggle.click()
        await expect(toggle).to_have_attribute("aria-pressed", "true")

        # ANSI escapes become classes (escaped text, no markup from the server's strings).
        html = await page.evaluate(
            "aegentClient.ansiHtml('\\x1b[1;31mred\\x1b[0m <b>plain</b> \\x1b[32mgreen')")
        assert html == ('<span class="ansi-fg-1 ansi-bold">red</span> &lt;b&gt;plain&lt;/b&gt; '
                        '<span class="ansi-fg-2">green</span>')

        # Auto-scroll: stays at the bottom, unless the reader scrolled up.
        await page.evaluate("for (let i = 0; i < 80; i++) aegentClient.print('filler ' + i)")
        at_bottom = ("() => { const el = document.getElementById('log');"
                     " return el.scrollHeight - el.scrollTop - el.clientHeight < 40; }")
        await page.wait_for_function(at_bottom, timeout=WAIT_MS)
        await log.evaluate("el => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }")
        await bob.command("shout Is anyone at the temple?")
        await expect(log).to_contain_text("Bob shouts, 'Is anyone at the temple?'")
        assert await log.evaluate("el => el.scrollTop") == 0
        jump = page.get_by_role("button", name="jump to the latest")
        await expect(jump).to_be_visible()
        await jump.click()
        await page.wait_for_function(at_bottom, timeout=WAIT_MS)
        await expect(jump).to_be_hidden()

        # A bit more play for the screenshot: a round trip east, Bob greets Ann.
        await command(page, "south")
        await expect(page.locator("#room-name")).to_have_text("Town Square")
        for way, room in [("east", "Market Row"), ("west", "Town Square"),
                          ("south", "Lantern Street"), ("north", "Town Square")]:
            await command(page, way)
            await expect(page.locator("#room-name")).to_contain_text(room.split()[0])
        await expect(page.locator("#map .map-room")).to_have_count(4)
        await bob.command("say Welcome to Haven, Ann!")
        await expect(log).to_contain_text("Bob says, 'Welcome to Haven, Ann!'")
        await command(page, "emote waves back.")
        await expect(log).to_contain_text("Ann waves back.")
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "web-client-mid-play.png"
        await page.screenshot(path=str(shot), animations="disabled")
        docs_shot = DOCS_IMG / shot.name
        if not docs_shot.exists() or os.environ.get("AEGENT_UPDATE_SCREENSHOTS") == "1":
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, docs_shot)
    await bob.close()


async def test_fight_in_the_browser(start_server: StartServer) -> None:
    """A fight as a player sees it: hits dealt, hits taken and misses each with their own
    look (a shape, a weight and a colour, so that no colour is needed), the foe's state
    in words after each blow and on the foe line, hp falling, the room panel's foe."""
    server = await start_server(tick_hz=50.0)  # rounds every 0.4 s instead of 2 s
    async with chromium() as browser:
        context = await browser.new_context(viewport={"width": 1100, "height": 700})
        page = await context.new_page()
        await page.goto(base_url(server))
        log = page.get_by_role("log")
        await create_character(page, "Ivo", "warrior")
        await expect(log).to_contain_text("Town Square")
        await command(page, "south")
        await expect(page.locator("#room-name")).to_have_text("Lantern Street")
        # A tough rat, so the fight lasts long enough to be seen (and photographed).
        rat = server.world.spawn_mob("haven:cellar_rat", "haven:south_street")
        rat.hp = rat.max_hp = 500
        await expect(page.locator("#room-here")).to_contain_text("rat")
        full_hp = await bar_value(page, "hp")
        await command(page, "kill rat")
        await expect(log).to_contain_text("You attack")
        for kind in ("dealt", "taken", "miss"):
            await expect(page.locator(f"#log .blow-{kind}").first).to_be_visible(timeout=30_000)
        await page.wait_for_function(
            f"() => Number(document.querySelector('#bar-hp')"
            f".getAttribute('aria-valuenow')) < {full_hp}", timeout=WAIT_MS)
        styles = await blow_styles(page)
        assert {k: v["cue"] for k, v in styles.items()} == {
            "dealt": "\u25b6", "taken": "\u25c0", "miss": "\u25cb"}
        assert {v["hidden"] for v in styles.values()} == {"true"}  # the words say it
        assert len({v["color"] for v in styles.values()}) == 3
        assert styles["taken"]["weight"] == "700" and styles["miss"]["style"] == "italic"
        dealt = page.locator("#log .blow-dealt").first
        await expect(dealt).to_contain_text(re.compile(
            r"You hit a cellar rat for \d+ damage\.( A critical hit!)? A cellar rat "
            r"(is in excellent condition|has a few scratches|is wounded)\."))
        foe = page.locator("#foe")
        await expect(foe).to_have_text(re.compile(r"Foe: a cellar rat \((excellent|a few "
                                                  r"scratches|wounded|badly wounded|awful)\)"))
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "web-client-mid-fight.png"
        await page.screenshot(path=str(shot), animations="disabled")
        docs_shot = DOCS_IMG / shot.name
        if not docs_shot.exists() or os.environ.get("AEGENT_UPDATE_SCREENSHOTS") == "1":
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, docs_shot)

        # Without colour: the same colour for all, the shapes and the weights stay.
        await page.get_by_role("button", name="Colour").click()
        plain = await blow_styles(page)
        assert len({v["color"] for v in plain.values()}) == 1
        assert {k: v["cue"] for k, v in plain.items()} == {k: v["cue"] for k, v in styles.items()}
        assert plain["taken"]["weight"] == "700" and plain["miss"]["style"] == "italic"
        await page.get_by_role("button", name="Colour").click()

        # Fleeing can fail (the odds are dexterity and levels): a player tries again, and
        # so does this test, once the failed try's lag (0.2 s at 50 Hz) is over.
        for _ in range(20):
            await command(page, "flee")
            try:
                await expect(foe).to_be_hidden(timeout=1_000)
                break
            except AssertionError:
                continue
        await expect(foe).to_be_hidden(timeout=WAIT_MS)


async def test_reconnects_and_logs_back_in(start_server: StartServer) -> None:
    server = await start_server()
    async with chromium() as browser:
        page = await browser.new_page()
        await page.goto(base_url(server))
        await create_character(page, "Cat", "rogue")
        log = page.get_by_role("log")
        await command(page, "north")
        await expect(page.locator("#room-name")).to_have_text("Temple Steps")

        # Drop Cat's connection from the server side, as a network failure would.
        dropped = 0
        for session, conn in list(server.sessions.items()):
            if session.character is not None and session.character.name == "Cat":
                conn.abort("test: drop the link")
                dropped += 1
        assert dropped == 1
        await expect(log).to_contain_text("The connection was lost")
        await expect(log).to_contain_text("Reconnected as Cat", timeout=15_000)
        await expect(page.get_by_role("status")).to_contain_text("Playing as Cat")
        # Same character, same place, same map; commands work again.
        await expect(page.locator("#room-name")).to_have_text("Temple Steps")
        await expect(page.locator("#map .map-room")).to_have_count(2)
        await command(page, "say still here")
        await expect(log).to_contain_text("You say, 'still here'")
        # The password lives in memory only.
        stored = await page.evaluate("() => JSON.stringify(localStorage)")
        assert PASSWORD not in stored

        # Quitting is a clean goodbye: the client does not reconnect by itself.
        await command(page, "quit")
        await expect(page.get_by_role("status")).to_contain_text("Disconnected")
        await expect(page.get_by_role("button", name="Connect again")).to_be_visible()


async def test_phone_width_keyboard_login(start_server: StartServer) -> None:
    server = await start_server()
    dee = await Client.open(ws_url(server), "aegent.json")
    await dee.recv()
    await dee.register("Dee", password=PASSWORD)
    await dee.command("quit")
    await dee.close()

    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 390, "height": 844},
                                      is_mobile=True, has_touch=True)
        await page.goto(base_url(server))
        # Keyboard only: the name field has focus, Tab to the password, Enter logs in.
        name = page.get_by_label("Name")
        await expect(name).to_be_focused()
        await page.keyboard.type("Dee")
        await page.keyboard.press("Tab")
        await expect(page.get_by_label("Password")).to_be_focused()
        await page.keyboard.type("wrong password")
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("alert")).to_contain_text("Wrong name or password")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("status")).to_contain_text("Playing as Dee")
        await expect(page.get_by_role("textbox", name="Command")).to_be_focused()
        await page.keyboard.type("look")
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("log")).to_contain_text("> look")

        # One column: nothing wider than the screen, the panels under the output.
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        log_box = await page.locator("#log").bounding_box()
        room_box = await page.locator("#room").bounding_box()
        map_box = await page.locator("#minimap").bounding_box()
        assert log_box and room_box and map_box
        assert room_box["y"] >= log_box["y"] + log_box["height"]
        assert map_box["y"] >= room_box["y"] + room_box["height"]
        assert await unlabelled_controls(page) == []
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "web-client-phone.png"), full_page=True)

        # The scrollback is long but capped.
        cap = await page.evaluate("aegentClient.maxEntries")
        assert cap >= 5000
        await page.evaluate("n => { for (let i = 0; i < n; i++) aegentClient.print('line ' + i) }",
                            cap + 50)
        assert await page.locator("#log > .entry").count() == cap
        await expect(page.locator("#log > .entry").last).to_have_text(f"line {cap + 49}")


async def here_items(page: Page) -> list[str]:
    """The "Here" panel's lines, as they read."""
    found: list[str] = await page.locator("#room-here li").all_inner_texts()
    return found


async def test_the_here_panel_follows_the_room(start_server: StartServer) -> None:
    """Items taken and dropped, people coming, going, resting, a death and its corpse
    rotting away: the panel follows each event, with no `look` in between."""
    server = await start_server()
    bob = await Client.open(ws_url(server), "aegent.json")
    await bob.recv()
    await bob.register("Bob", cls="cleric")
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1100, "height": 700})
        await page.goto(base_url(server))
        await create_character(page, "Ann", "warrior")
        here = page.locator("#room-here")
        await expect(here).to_contain_text("a paper map of Haven")
        await expect(here).to_contain_text("Bob (player, level 1)")

        await command(page, "get map")
        await expect(page.get_by_role("log")).to_contain_text("You get a paper map of Haven")
        await expect(here).not_to_contain_text("map")
        await command(page, "drop map")
        await expect(here).to_contain_text("a paper map of Haven")
        await bob.command("get map")
        await expect(here).not_to_contain_text("map")
        await bob.command("drop map")
        await expect(here).to_contain_text("a paper map of Haven")

        await bob.command("north")
        await expect(here).not_to_contain_text("Bob")
        await bob.command("south")
        await expect(here).to_contain_text("Bob (player, level 1)")
        await bob.command("rest")
        await expect(here).to_contain_text("Bob (player, level 1, resting)")
        await bob.command("stand")
        await expect(here).to_contain_text("Bob (player, level 1)")
        await bob.command("quit")
        await expect(here).not_to_contain_text("Bob")

        # A fight in Lantern Street: the rat dies, its corpse appears, then rots away.
        await command(page, "south")
        await expect(page.locator("#room-name")).to_have_text("Lantern Street")
        rat = server.world.spawn_mob("haven:cellar_rat", "haven:south_street")
        rat.hp = 1
        await expect(here).to_contain_text("a cellar rat (creature, level 1)")
        await command(page, "kill rat")
        await expect(here).to_contain_text("the corpse of a cellar rat", timeout=20_000)
        assert "a cellar rat (creature, level 1)" not in await here_items(page)
        [corpse] = [it for it in server.world.rooms["haven:south_street"].items
                    if it.name == "the corpse of a cellar rat"]
        corpse.decay_at = server.world.time
        await expect(page.get_by_role("log")).to_contain_text("crumbles into dust",
                                                              timeout=20_000)
        await expect(here).not_to_contain_text("corpse")
        # What the panel shows is what a fresh look shows.
        before = await here_items(page)
        await command(page, "look")
        await expect(page.locator("#log .ev-room")).to_have_count(3)
        assert await here_items(page) == before

        # Doors: the exit buttons follow them too.
        await command(page, "south")
        await expect(page.locator("#room-name")).to_have_text("Gate Yard")
        gate = page.locator('#room-exits button[data-dir="south"]')
        await expect(gate).to_have_text("south (gate closed)")
        await command(page, "open gate")
        await expect(gate).to_have_text("south")
        await expect(page.locator("#map .map-exit.door")).to_have_count(0)
        await command(page, "close gate")
        await expect(gate).to_have_text("south (gate closed)")
        await expect(page.locator("#map .map-exit.door")).to_have_count(1)


async def blow_styles(page: Page) -> dict[str, dict[str, str]]:
    """For each kind of blow in the log: its cue, colour, weight and style."""
    found: dict[str, dict[str, str]] = await page.evaluate("""() => {
        const out = {};
        for (const kind of ['dealt', 'taken', 'miss']) {
            const e = document.querySelector('#log .blow-' + kind);
            if (!e) continue;
            const s = getComputedStyle(e);
            const cue = e.querySelector('.cue');
            out[kind] = {cue: cue.textContent.trim(), hidden: cue.getAttribute('aria-hidden'),
                         color: s.color, weight: s.fontWeight, style: s.fontStyle,
                         text: e.textContent};
        }
        return out;
    }""")
    return found


async def test_the_log_keeps_its_place_across_resizes(start_server: StartServer) -> None:
    server = await start_server()
    at_bottom = ("() => { const el = document.getElementById('log');"
                 " return el.scrollHeight - el.scrollTop - el.clientHeight < 40; }")
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1100, "height": 700})
        await page.goto(base_url(server))
        await create_character(page, "Eve", "cleric")
        await page.evaluate("for (let i = 0; i < 300; i++) aegentClient.print("
                            "'filler line ' + i + ' ' + 'word '.repeat(i % 20))")
        await page.wait_for_function(at_bottom, timeout=WAIT_MS)
        jump = page.get_by_role("button", name="jump to the latest")

        # At the end: a resize to a phone, and back, keeps the latest in view.
        for width, height in [(390, 844), (1100, 700), (700, 400)]:
            await page.set_viewport_size({"width": width, "height": height})
            await page.wait_for_function(at_bottom, timeout=WAIT_MS)
            await expect(page.locator("#log > .entry").last).to_be_in_viewport()
            await expect(jump).to_be_hidden()

        # Reading old text: a resize keeps you there, and the button in view.
        log = page.get_by_role("log")
        await log.evaluate("el => { el.scrollTop = 200; }")
        await expect(jump).to_be_visible()
        for width, height in [(390, 844), (1100, 700)]:
            await page.set_viewport_size({"width": width, "height": height})
            await expect(jump).to_be_visible()
            await expect(jump).to_be_in_viewport()
            assert not await page.evaluate(at_bottom)
        await jump.click()
        await page.wait_for_function(at_bottom, timeout=WAIT_MS)
        await expect(jump).to_be_hidden()


async def test_quit_then_connect_again_on_a_phone(start_server: StartServer) -> None:
    """After `quit` nothing of the character is left to type into or read; after
    "Connect again" the whole login form is on a phone's screen."""
    server = await start_server()
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 390, "height": 844},
                                      is_mobile=True, has_touch=True)
        await page.goto(base_url(server))
        await create_character(page, "Fay", "mage")
        await expect(page.locator("#vitals")).to_be_visible()
        await page.evaluate("for (let i = 0; i < 100; i++) aegentClient.print('line ' + i)")
        await command(page, "look")
        await command(page, "quit")
        await expect(page.get_by_role("status")).to_contain_text("Disconnected")
        await expect(page.get_by_role("textbox", name="Command")).to_be_hidden()
        await expect(page.locator("#vitals")).to_be_hidden()
        for kind in ("hp", "mana", "moves", "xp"):
            assert await bar_value(page, kind) == 0
            await expect(page.locator(f"#{kind}-value")).to_have_text("–")
        await expect(page.locator("#room-name")).to_have_text("Nowhere yet")
        await expect(page.locator("#room-here li")).to_have_count(0)
        await expect(page.locator("#map .map-room")).to_have_count(0)
        await expect(page.locator("#map-summary")).to_have_text("No rooms explored yet.")
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "web-client-phone-quit.png"))

        again = page.get_by_role("button", name="Connect again")
        await again.click()
        form = page.get_by_role("form", name="Enter the world")
        await expect(form).to_be_visible()
        # The form as it was left (create a new character, with its class), then log in.
        for control in (page.get_by_label("Name"), page.get_by_label("Password"),
                        page.get_by_label("Class"),
                        page.get_by_role("button", name="Create character")):
            await expect(control).to_be_in_viewport()
        await page.get_by_label("log in").check()
        await expect(page.get_by_role("button", name="Log in")).to_be_in_viewport()
        await page.screenshot(path=str(ARTIFACTS / "web-client-phone-connect-again.png"))
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
