"""Text safety end to end: what one player writes reaches the others without control,
bidi-override or other invisible characters, in every output mode (ANSI text over
WebSocket and telnet, aegent.json and aegent.msgpack event data and text, GMCP).

Real server, real sockets: a speaker sends hostile text on every channel, by line
and by structured call, and a builder writes it into a room and an item; listeners
in each mode then look for any of those characters in everything they received.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from conftest import FAST_HASH, StartServer, ws_url
from test_telnet import Raw, register_text, telnet_text
from wsclient import Client, auth_of, events

from server.app import Server
from server.config import Settings
from server.gateway import telnet_protocol as tp
from server.gateway.telnet_protocol import DO, IAC, SB
from server.host import accounts
from server.host.storage import SqlRepository

EVIL = "\x07\x1b[2J\u009b31m\u202eevil\u2066x\x7f"
"""A bell, a clear-screen escape, a C1 CSI, a right-to-left override, an isolate and DEL."""
CLEAN = "[2J31mevilx"
"""What is left of `EVIL`: the printable characters, in order."""
UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\U000e0000-\U000e007f]")
OUR_COLOURS = re.compile(r"\x1b\[[0-9;]*m")  # the server's own ANSI colour codes
PASSWORD = "correct horse"


def strings(value: Any) -> Iterator[str]:
    """Every string in a decoded message (keys and values, at any depth)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from strings(v)


def unsafe_in(text: str) -> list[str]:
    """The unsafe characters in `text`, once the server's own colour codes and line ends
    are taken out."""
    return UNSAFE.findall(OUR_COLOURS.sub("", text.replace("\r\n", "\n")))


def gmcp_messages(raw: bytes) -> list[tuple[str, Any]]:
    """The GMCP messages in a telnet stream, as (package, decoded data)."""
    out: list[tuple[str, Any]] = []
    for cmd in telnet_text(raw)[1]:
        if cmd[:3] == bytes([IAC, SB, tp.GMCP]):
            package, _, body = cmd[3:-2].decode("utf-8").partition(" ")
            out.append((package, json.loads(body) if body else None))
    return out


def containing(text: str) -> Callable[[Any], bool]:
    return lambda m: isinstance(m, str) and text in m


def answering(mid: str) -> Callable[[Any], bool]:
    return lambda m: isinstance(m, dict) and m.get("id") == mid


async def joined(server: Server, name: str, sub: str | None) -> Client:
    c = await Client.open(ws_url(server), sub)
    if sub is None:  # text mode: the login dialogue
        await c.until(lambda m: "By what name" in m)
        for answer, prompt in ((name, "(y/n)"), ("y", "password"), (PASSWORD, "retype"),
                               (PASSWORD, "class")):
            await c.send(answer)
            await c.until(containing(prompt))
        await c.send("w")
        await c.until(lambda m: f"Welcome, {name}" in m)
        return c
    await c.recv()
    assert auth_of(await c.register(name))["ok"]
    return c


async def make_account(settings: Settings, name: str, role: str) -> None:
    """An account with `role` made straight in the database."""
    hasher = accounts.Hasher(FAST_HASH["argon2_time_cost"], FAST_HASH["argon2_memory_kib"], 1)
    password_hash = await hasher.hash(PASSWORD)
    hasher.close()

    def work() -> None:
        repo = SqlRepository(settings.resolved_database_url)
        repo.migrate()
        repo.create_account(name, password_hash, role)
        repo.close()

    await asyncio.to_thread(work)


async def login(server: Server, name: str) -> Client:
    c = await Client.open(ws_url(server), "aegent.json")
    await c.recv()
    assert auth_of(await c.login(name, PASSWORD))["ok"]
    return c


async def ok(c: Client, line: str) -> list[Any]:
    got = await c.command(line)
    assert got[-1]["ok"], (line, got[-1])
    return got


async def test_controls_and_bidi_overrides_reach_no_one_in_any_mode(
        start_server: StartServer) -> None:
    server = await start_server()
    tom = await Raw.open(server)  # telnet, with GMCP
    await tom.send(bytes([IAC, DO, tp.GMCP]))
    await register_text(tom, "Tom")
    mal = await joined(server, "Mal", "aegent.json")
    ann = await joined(server, "Ann", "aegent.json")
    bob = await joined(server, "Bob", "aegent.msgpack")
    cat = await joined(server, "Cat", None)  # ANSI text over WebSocket
    await ok(ann, "follow mal")
    await ok(mal, "group ann")

    await ok(mal, "say " + EVIL)
    await ok(mal, "emote " + EVIL)
    await ok(mal, "shout " + EVIL)
    await ok(mal, "gtell " + EVIL)
    for who in ("ann", "bob", "cat", "tom"):
        await ok(mal, f"tell {who} {EVIL}")
    got = await mal.call("say", text=EVIL + "\ttab\nline")  # the structured face
    assert got[-1]["ok"], got[-1]
    await ok(mal, "say over")

    heard = await ann.until(lambda m: m.get("type") == "event" and m["name"] == "said"
                            and m["data"]["text"] == "over")
    said = [m["data"]["text"] for m in events(heard, "said")]
    assert said == [CLEAN, CLEAN + " tab line", "over"]
    for name in ("emoted", "shouted", "told", "group_told"):
        assert [m["data"]["text"] for m in events(heard, name)] == [CLEAN], name
    await bob.until(lambda m: m.get("type") == "event" and m["name"] == "said"
                    and m["data"]["text"] == "over")
    await cat.until(lambda m: "'over'" in m)
    await tom.until("'over'")

    for c in (ann, bob):
        bad = [s for m in c.seen for s in strings(m) if unsafe_in(s)]
        assert bad == [], (c.subprotocol, bad)
        texts = [m.get("text", "") for m in events(c.seen)]
        assert any(CLEAN in t for t in texts)
    seen = "\n".join(cat.seen)
    assert unsafe_in(seen) == [] and f"says, '{CLEAN}'" in OUR_COLOURS.sub("", seen)
    assert unsafe_in(tom.text) == [] and f"'{CLEAN}'" in OUR_COLOURS.sub("", tom.text)
    channel = [d for p, d in gmcp_messages(bytes(tom.raw)) if p == "Comm.Channel.Text"]
    assert {"channel": "say", "talker": "Mal", "message": CLEAN} in [
        {k: d[k] for k in ("channel", "talker", "message")} for d in channel]
    assert [s for d in channel for s in strings(d) if unsafe_in(s)] == []
    for c in (mal, ann, bob, cat):
        await c.close()
    await tom.close()


async def test_builders_text_is_cleaned_for_everyone(start_server: StartServer,
                                                    settings: Settings) -> None:
    await make_account(settings, "Bea", "builder")
    await make_account(settings, "Lou", "builder")
    server = await start_server()
    bea = await login(server, "Bea")
    lou = await login(server, "Lou")
    tom = await Raw.open(server)  # telnet, with GMCP
    await tom.send(bytes([IAC, DO, tp.GMCP]))
    await register_text(tom, "Tom")
    await ok(bea, "zone create tower The Tower")
    await ok(bea, "rname " + EVIL)
    await ok(bea, "rdesc A hall. " + EVIL)
    await ok(bea, "create item bell a " + EVIL + " bell")
    # JSON escapes: no line holds these characters, the decoded value does
    await ok(bea, r'set tower:bell keywords ["bell", "\u001b[2J\u202eb\u0007"]')
    await ok(bea, "spawn tower:bell")
    await ok(bea, "drop bell")
    await ok(lou, "goto bea")
    await ok(bea, "teleport tom here")
    await tom.until("A hall.")
    await tom.until("[Exits:")
    got = await ok(lou, "look")
    shown = events(got, "room")[-1]
    assert shown["data"]["name"] == CLEAN
    assert shown["data"]["description"] == "A hall. " + CLEAN
    assert {"name": f"a {CLEAN} bell", "keyword": "bell"} in [
        {k: i[k] for k in ("name", "keyword")} for i in shown["data"]["items"]]
    got = await ok(lou, "examine tower:bell")
    bad = [s for m in lou.seen for s in strings(m) if unsafe_in(s)]
    assert bad == []
    assert "[2Jb" in json.dumps(got, ensure_ascii=False)  # the keyword, without its controls
    assert unsafe_in(tom.text) == [] and CLEAN in tom.text
    info = [d for p, d in gmcp_messages(bytes(tom.raw)) if p == "Room.Info"]
    assert info[-1]["name"] == CLEAN
    for c in (bea, lou):
        await c.close()
    await tom.close()


async def test_a_model_name_with_controls_is_refused(start_server: StartServer) -> None:
    """An agent's `usage` names its model, which is stored and shown to its owner and to
    admins (`aegent usage`): a name with control characters is refused, not stored."""
    server = await start_server()
    ann = await joined(server, "Ann", "aegent.json")
    got = await ok(ann, "agent create Scout")
    key = events(got, "agent_managed")[0]["data"]["key"]
    scout = await Client.open(ws_url(server), "aegent.msgpack")
    await scout.recv()
    await scout.send({"type": "login", "api_key": key, "id": "login"})
    assert auth_of(await scout.until(lambda m: m.get("type") == "auth"))["ok"]
    for model, code in (("gpt\x1b[2J-4o", "bad_field"), ("gpt\u202e-4o", "bad_field"),
                        ("gpt-4o", None)):
        await scout.send({"type": "usage", "id": model, "op": "report", "model": model,
                          "prompt_tokens": 10, "completion_tokens": 1})
        answer = (await scout.until(answering(model)))[-1]
        if code is None:
            assert answer["type"] == "usage" and answer["ok"], answer
        else:
            assert answer["type"] == "error" and answer["code"] == code, answer
    for c in (ann, scout):
        await c.close()
