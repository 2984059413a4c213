"""End to end over real sockets: the three subprotocols, play, persistence, bad input."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

import pytest
from conftest import StartServer, ws_url
from websockets.exceptions import ConnectionClosed
from wsclient import Client, auth_of, events

from server.host.accounts import ADDRESS_FACTOR

SUBPROTOCOLS = ["aegent.json", "aegent.msgpack"]


@pytest.mark.parametrize("sub", SUBPROTOCOLS)
async def test_register_look_move_and_results_by_id(start_server: StartServer, sub: str
                                                     ) -> None:
    server = await start_server()
    c = await Client.open(ws_url(server), sub)
    hello = await c.recv()
    assert hello["type"] == "hello" and hello["protocol"] == 1
    assert "warrior" in hello["classes"]
    got = await c.register("Ann", cls="mage")
    auth = next(m for m in got if m["type"] == "auth")
    assert auth["ok"] and auth["character"]["name"] == "Ann"
    assert auth["character"]["class"] == "mage"
    room = events(got, "room")[0]["data"]
    assert room["id"] == "haven:square"
    for key in ("id", "name", "description", "exits", "characters", "items"):
        assert key in room
    vitals = events(got, "vitals")[0]["data"]
    for key in ("hp", "max_hp", "mana", "max_mana", "moves", "max_moves", "level", "xp",
                "xp_next", "position", "fighting"):
        assert key in vitals

    got = await c.command("look")
    assert [m["type"] for m in got] == ["event", "result"]
    assert got[0]["name"] == "room" and got[0]["text"].startswith("Town Square") or got[0]["text"]
    assert got[-1]["ok"] is True

    north = room["exits"]["north"]
    got = await c.call("go", direction="north")
    assert events(got, "room")[0]["data"]["id"] == north
    assert got[-1] == {"type": "result", "id": got[-1]["id"], "ok": True}

    got = await c.command("go nowhere")
    assert got[-1]["ok"] is False and got[-1]["error"]["code"] == "bad_args"
    got = await c.command("dance wildly")
    assert got[-1]["error"]["code"] == "unknown_command"
    await c.close()


async def test_say_is_heard_across_subprotocols(start_server: StartServer) -> None:
    server = await start_server()
    ann = await Client.open(ws_url(server), "aegent.json")
    bob = await Client.open(ws_url(server), "aegent.msgpack")
    await ann.recv()
    await bob.recv()
    await ann.register("Ann")
    await bob.register("Bob", cls="cleric")
    got = await ann.until(lambda m: m.get("type") == "event" and m["name"] == "entered_game")
    assert got[-1]["data"]["actor"] == "Bob"

    txt = await Client.open(ws_url(server), None)  # no subprotocol: text
    await txt.until(lambda m: "By what name" in m)
    await txt.send("Cat")
    await txt.until(lambda m: "(y/n)" in m)
    await txt.send("y")
    await txt.until(lambda m: "password" in m.lower())
    await txt.send("tabby cat 9")
    await txt.until(lambda m: "retype" in m)
    await txt.send("tabby cat 9")
    await txt.until(lambda m: "class" in m)
    await txt.send("r")
    welcome = await txt.until(lambda m: "Welcome, Cat" in m)
    assert "Town Square" in "".join(welcome)

    await ann.command("say hello, world")
    heard = await bob.until(lambda m: m.get("type") == "event" and m["name"] == "said")
    assert heard[-1]["data"] == {"actor": "Ann", "kind": "player", "text": "hello, world"}
    assert heard[-1]["text"] == "Ann says, 'hello, world'"
    line = await txt.until(lambda m: "hello, world" in m)
    assert "Ann" in line[-1] and "\x1b[" in line[-1]  # text mode is coloured

    await txt.send("tell ann hi from text")
    told = await ann.until(lambda m: m.get("type") == "event" and m["name"] == "told")
    assert told[-1]["data"]["actor"] == "Cat" and told[-1]["data"]["text"] == "hi from text"
    await txt.send("who")
    who = await txt.until(lambda m: "characters online" in m)
    assert all(n in who[-1] for n in ("Ann", "Bob", "Cat"))
    for c in (ann, bob, txt):
        await c.close()


async def test_tools_ping_and_unknown_message(start_server: StartServer) -> None:
    server = await start_server()
    c = await Client.open(ws_url(server), "aegent.json")
    await c.recv()
    await c.send({"type": "ping", "id": 9})
    assert await c.recv() == {"type": "pong", "id": 9}
    await c.register("Dee")
    await c.send({"type": "tools", "id": "t"})
    tools = (await c.until(lambda m: m.get("type") == "tools"))[-1]
    names = {t["name"] for t in tools["tools"]}
    assert {"go", "look", "say", "tell", "shout", "emote", "who", "score", "help", "quit",
            "password"} <= names
    assert "stats" not in names  # admin only
    go = next(t for t in tools["tools"] if t["name"] == "go")
    assert go["parameters"]["required"] == ["direction"]
    assert "north" in go["parameters"]["properties"]["direction"]["enum"]
    await c.close()


async def _bad(c: Client, payload: Any) -> dict[str, Any]:
    await c.send(payload)
    msg: dict[str, Any] = (await c.until(lambda m: m.get("type") in ("error", "result")))[-1]
    return msg


async def test_bad_input_gets_clear_errors_and_others_go_on(start_server: StartServer) -> None:
    server = await start_server(max_message_bytes=2048)
    bad = await Client.open(ws_url(server), "aegent.json")
    good = await Client.open(ws_url(server), "aegent.msgpack")
    await bad.recv()
    await good.recv()
    await bad.register("Eve")
    await good.register("Fay")

    assert (await _bad(bad, "{not json"))["code"] == "bad_json"
    assert (await _bad(bad, b"\x01\x02"))["code"] == "bad_frame"
    assert (await _bad(bad, {"type": "teleport"}))["code"] == "unknown_type"
    assert (await _bad(bad, {"line": "look"}))["code"] == "missing_field"
    assert (await _bad(bad, {"type": "command", "id": 5}))["code"] == "missing_field"
    assert (await _bad(bad, {"type": "command", "line": 42}))["code"] == "bad_field"
    assert (await _bad(bad, {"type": "call", "tool": "go", "args": [1]}))["code"] == "bad_field"
    assert (await _bad(bad, [1, 2, 3]))["code"] == "bad_message"
    r = await _bad(bad, {"type": "call", "tool": "go", "args": {"direction": 5}, "id": 1})
    assert r["type"] == "result" and r["error"]["code"] == "bad_args"
    r = await _bad(bad, {"type": "call", "tool": "fly", "args": {}, "id": 2})
    assert r["error"]["code"] == "unknown_command"
    r = await _bad(bad, {"type": "command", "line": "say " + "x" * 4000, "id": 3})
    assert r["code"] == "too_large"
    r = await _bad(bad, {"type": "login", "name": "Eve", "password": "whatever1", "id": 4})
    assert r["code"] == "already_authenticated"

    assert (await _bad(good, b"\xc1"))["code"] == "bad_msgpack"
    assert (await _bad(good, "text frame"))["code"] == "bad_frame"

    # A flood: far more than burst + queue at once. Some run, the rest are refused
    # with rate_limited, and the connection and the others go on.
    n = 120
    for i in range(n):
        await bad.send({"type": "command", "line": "look", "id": 1000 + i})
    outcomes: dict[int, str] = {}
    while len(outcomes) < n:
        msg = await bad.recv()
        if msg.get("type") == "result" or (msg.get("type") == "error" and "id" in msg):
            outcomes[msg["id"]] = "ok" if msg.get("ok") else msg.get("code") or msg["error"]["code"]
    assert "rate_limited" in outcomes.values()
    assert list(outcomes.values()).count("ok") >= 16

    got = await good.command("say still here")
    assert events(got, "said")[0]["data"]["text"] == "still here"

    # An oversized frame (over max_frame_bytes) closes only that connection.
    big = await Client.open(ws_url(server), "aegent.json")
    await big.recv()
    await big.send("x" * (server.settings.max_frame_bytes + 10))
    with pytest.raises(ConnectionClosed):
        for _ in range(5):
            await big.recv(timeout=5)
    assert big.ws.close_code == 1009
    got = await good.command("say after the big one")
    assert got[-1]["ok"] is True
    for c in (bad, good):
        await c.close()


async def test_wrong_password_and_throttling(start_server: StartServer) -> None:
    server = await start_server(login_fail_limit=3, login_fail_delay=60.0)
    c = await Client.open(ws_url(server), "aegent.json")
    await c.recv()
    await c.register("Gus")
    await c.close()
    c = await Client.open(ws_url(server), "aegent.json")
    await c.recv()
    codes = []
    for _ in range(4):
        got = await c.login("Gus", "wrong password")
        codes.append(got[-1]["error"]["code"])
    assert codes == ["auth_failed"] * 3 + ["throttled"]
    # The address, over every name, may fail ADDRESS_FACTOR times as often (people share
    # addresses), then it waits too (tests/e2e/test_auth_attacks.py: the rest).
    codes = []
    for n in range(3 * ADDRESS_FACTOR - 2):
        got = await c.login(f"Nobody{'abcdefghijklmnop'[n]}", "wrong password")
        codes.append(got[-1]["error"]["code"])
    assert codes == ["auth_failed"] * (3 * ADDRESS_FACTOR - 3) + ["throttled"]
    await c.close()


async def test_register_refusals(start_server: StartServer) -> None:
    server = await start_server()
    c = await Client.open(ws_url(server), "aegent.json")
    await c.recv()
    assert (await c.register("Al"))[-1]["error"]["code"] == "bad_name"
    assert (await c.register("North"))[-1]["error"]["code"] == "bad_name"
    assert (await c.register("Hal", password="short"))[-1]["error"]["code"] == "bad_password"
    assert (await c.register("Hal", cls="bard"))[-1]["error"]["code"] == "unknown_class"
    assert auth_of(await c.register("Hal"))["ok"] is True
    d = await Client.open(ws_url(server), "aegent.json")
    await d.recv()
    assert (await d.register("hal"))[-1]["error"]["code"] == "name_taken"
    await c.close()
    await d.close()


async def test_takeover_and_linkdead(start_server: StartServer) -> None:
    server = await start_server(linkdead_grace=0.5, housekeeping_interval=0.1)
    a1 = await Client.open(ws_url(server), "aegent.json")
    watcher = await Client.open(ws_url(server), "aegent.json")
    await a1.recv()
    await watcher.recv()
    await a1.register("Ivy")
    await watcher.register("Jon")
    await a1.command("say first")
    a2 = await Client.open(ws_url(server), "aegent.json")
    await a2.recv()
    got = await a2.login("Ivy")
    assert got[-1]["type"] == "event" and got[-1]["name"] == "vitals"
    # The old connection is told and closed; the character stayed in the world.
    old = await a1.until(lambda m: m.get("type") == "event" and m["name"] == "message")
    assert "elsewhere" in old[-1]["data"]["text"]
    assert len([c for c in server.world.characters.values() if c.name == "Ivy"]) == 1
    # Dropping the connection leaves a link-dead character for the grace period...
    await a2.ws.transport.abort() if False else a2.ws.transport.abort()  # type: ignore[func-returns-value]
    lost = await watcher.until(lambda m: m.get("type") == "event" and m["name"] == "link_lost")
    assert lost[-1]["data"]["actor"] == "Ivy"
    # ...after which it leaves the game, saved.
    left = await watcher.until(lambda m: m.get("type") == "event" and m["name"] == "left_game")
    assert left[-1]["data"] == {"actor": "Ivy", "kind": "player", "reason": "linkdead"}
    assert server.world.find_online("Ivy") is None
    await watcher.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None (the SQLite file under the data dir), or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    from pg import scratch_database

    url: str = request.getfixturevalue("postgres_url")
    cm = scratch_database(url)
    scratch: str = cm.__enter__()
    request.addfinalizer(lambda: cm.__exit__(None, None, None))
    return scratch


async def test_restart_restores_characters(start_server: StartServer, database_url: str | None
                                           ) -> None:
    server = await start_server(database_url=database_url)
    c = await Client.open(ws_url(server), "aegent.msgpack")
    await c.recv()
    await c.register("Kit", cls="rogue")
    await c.command("north")
    got = await c.command("look")
    where = events(got, "room")[0]["data"]["id"]
    assert where != "haven:square"
    await c.command("quit")
    await asyncio.sleep(0.1)
    # Someone else stays online through the restart: shutdown saves them too.
    s = await Client.open(ws_url(server), "aegent.json")
    await s.recv()
    await s.register("Liz")
    await s.command("east")
    liz_room = server.world.find_online("Liz").room  # type: ignore[union-attr]
    await server.shutdown("restart test")
    note = await s.until(lambda m: m.get("type") == "event" and m["name"] == "message")
    assert "shutting down" in note[-1]["data"]["text"]

    again = await start_server(server.settings.with_overrides(port=0))
    for name, room in (("Kit", where), ("Liz", liz_room)):
        c = await Client.open(ws_url(again), "aegent.json")
        await c.recv()
        got = await c.login(name)
        assert auth_of(got)["ok"] is True
        assert events(got, "room")[0]["data"]["id"] == room
        await c.close()


async def test_http_index_metrics_and_health(start_server: StartServer) -> None:
    server = await start_server()
    base = f"http://127.0.0.1:{server.port}"

    def get(path: str) -> tuple[int, str, str]:
        with urllib.request.urlopen(base + path, timeout=5) as r:
            return r.status, r.headers["Content-Type"], r.read().decode()

    status, ctype, body = await asyncio.to_thread(get, "/")
    assert status == 200 and ctype.startswith("text/html") and 'role="log"' in body
    c = await Client.open(ws_url(server), "aegent.json")
    await c.recv()
    await c.register("Max")
    await c.command("look")
    await c.command("fly away")
    status, ctype, body = await asyncio.to_thread(get, "/metrics")
    assert status == 200 and ctype.startswith("text/plain")
    assert "aegent_tick_duration_seconds_bucket" in body
    assert 'aegent_sessions{kind="aegent.json"} 1.0' in body
    assert 'aegent_commands_total{command="look"} 1.0' in body
    assert 'aegent_errors_total{code="unknown_command"} 1.0' in body
    assert "aegent_bytes_in_total" in body and "aegent_bytes_out_total" in body
    status, _, body = await asyncio.to_thread(get, "/health")
    assert json.loads(body)["ok"] is True
    with pytest.raises(urllib.error.HTTPError) as exc:
        await asyncio.to_thread(get, "/nope")
    assert exc.value.code == 404
    exc.value.close()
    await c.close()


async def test_admin_stats(start_server: StartServer) -> None:
    server = await start_server()
    c = await Client.open(ws_url(server), "aegent.json")
    await c.recv()
    await c.register("Ned")
    got = await c.command("stats")
    assert got[-1]["error"]["code"] == "forbidden"
    await asyncio.to_thread(server.repo.set_role, "Ned", "admin")
    await c.command("quit")
    c = await Client.open(ws_url(server), "aegent.json")
    await c.recv()
    await c.login("Ned")
    got = await c.command("stats")
    stats = events(got, "stats_shown")[0]["data"]["stats"]
    assert {"tick_p50_ms", "tick_p99_ms", "sessions", "rss_mib"} <= set(stats)
    await c.close()


async def test_password_change(start_server: StartServer) -> None:
    server = await start_server()
    c = await Client.open(ws_url(server), "aegent.json")
    await c.recv()
    await c.register("Pia", password="first password")
    got = await c.command("password wrongpass newpassword")
    assert got[-1]["ok"] is True  # the command ran; the check is the server's
    note = await c.until(lambda m: m.get("type") == "event" and m["name"] == "message")
    assert "not that" in note[-1]["data"]["text"]
    got = await c.command("password short")
    assert got[-1]["error"]["code"] == "bad_args"
    await c.command("password 'first password' second-password")
    note = await c.until(lambda m: m.get("type") == "event" and m["name"] == "message")
    assert note[-1]["data"]["text"] == "Password changed."
    await c.command("quit")
    d = await Client.open(ws_url(server), "aegent.json")
    await d.recv()
    assert auth_of(await d.login("Pia", "first password"))["ok"] is False
    assert auth_of(await d.login("Pia", "second-password"))["ok"] is True
    await d.close()
