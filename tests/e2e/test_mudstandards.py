"""End to end over real sockets: generic web MUD clients on the mudstandards.org subprotocols.

`Mud` is such a client: it offers terminal/gmcp/json.mudstandards.org, sends its
lines as BINARY frames, reads the ANSI stream from BINARY frames and keeps every
TEXT frame (GMCP, plain or in JSON envelopes) apart.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from conftest import StartServer, ws_url
from websockets.asyncio.client import ClientConnection, connect
from wsclient import Client, events

from server.app import Server
from server.gateway.ws import Connection

TIMEOUT = 10.0
ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")
TERMINAL, GMCP, JSON = ("terminal.mudstandards.org", "gmcp.mudstandards.org",
                        "json.mudstandards.org")


class Mud:
    """A generic WebSocket MUD client."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.stream = ""  # the text of every binary frame, in order
        self.binary_frames = 0
        self.oob: list[str] = []  # every text frame, in order
        self.seen = 0  # how much of the stream `until` has consumed

    @classmethod
    async def open(cls, server: Server, *offer: str) -> Mud:
        ws = await connect(ws_url(server), subprotocols=list(offer),  # type: ignore[arg-type]
                           open_timeout=TIMEOUT, max_size=None)
        return cls(ws)

    @property
    def subprotocol(self) -> str | None:
        return self.ws.subprotocol

    async def _recv(self, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        raw = await asyncio.wait_for(self.ws.recv(), max(0.01, deadline - loop.time()))
        if isinstance(raw, bytes):
            self.binary_frames += 1
            self.stream += raw.decode("utf-8")
        else:
            self.oob.append(raw)

    async def until(self, needle: str, timeout: float = TIMEOUT) -> str:
        """Read until `needle` appears in new text; return the new text up to its end."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            at = self.stream.find(needle, self.seen)
            if at >= 0:
                got = self.stream[self.seen:at + len(needle)]
                self.seen = at + len(needle)
                return got
            await self._recv(deadline)

    async def oob_until(self, decode: Any, package: str, pred: Any = None,
                        timeout: float = TIMEOUT) -> Any:
        """Read until a text frame (any so far) carries `package` matching `pred`; its data."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        checked = 0
        while True:
            for frame in self.oob[checked:]:
                name, data = decode(frame)
                if name == package and (pred is None or pred(data)):
                    return data
            checked = len(self.oob)
            await self._recv(deadline)

    async def line(self, text: str) -> None:
        await self.ws.send(text.encode("utf-8") + b"\r\n")  # a BINARY frame

    async def close(self) -> None:
        await self.ws.close()


def gmcp_frame(frame: str) -> tuple[str, Any]:
    """A gmcp.mudstandards.org text frame: 'Package.Name <JSON>'."""
    package, _, body = frame.partition(" ")
    assert re.fullmatch(r"[A-Z][A-Za-z]*(\.[A-Z][A-Za-z]*)+", package), frame
    return package, json.loads(body) if body else None


def envelope_frame(frame: str) -> tuple[str, Any]:
    """A json.mudstandards.org text frame: an envelope of proto gmcp."""
    env = json.loads(frame)
    assert set(env) == {"proto", "id", "data"} and env["proto"] == "gmcp", frame
    assert all(isinstance(v, str) for v in env.values())
    return env["id"], json.loads(env["data"]) if env["data"] else None


async def register(c: Mud, name: str, cls: str = "w", asked: bool = False) -> str:
    """The text-mode dialogue of a new character (`asked`: the name question is read)."""
    if not asked:
        await c.until("By what name are you known?")
    for answer, prompt in ((name, "(y/n)"), ("y", "password"), ("a long secret", "retype"),
                           ("a long secret", "class"), (cls, f"Welcome, {name}")):
        await c.line(answer)
        await c.until(prompt)
    return c.stream[:c.seen]


def connection_of(server: Server, name: str) -> Connection:
    (conn,) = [c for c in server.connections if isinstance(c, Connection)
               and c.session is not None and c.session.character is not None
               and c.session.character.name == name]
    return conn


# ---- every one of the three ---------------------------------------------------------------


@pytest.mark.parametrize("sub", [TERMINAL, GMCP, JSON])
async def test_a_generic_client_registers_and_plays(start_server: StartServer, sub: str
                                                   ) -> None:
    server = await start_server()
    c = await Mud.open(server, sub)
    assert c.subprotocol == sub
    await register(c, "Gus")
    await c.line("look")
    room = await c.until("[Exits:")
    assert "Town Square" in ANSI_CODE.sub("", room)
    assert ANSI_CODE.search(room), "the room comes with ANSI colour"
    await c.line("say hello there")
    said = ANSI_CODE.sub("", await c.until("hello there'"))
    assert "You say, 'hello there'" in said
    # the terminal stream: UTF-8 with CR LF line ends, in binary frames only
    assert "\r\n" in c.stream and re.search(r"(?<!\r)\n", c.stream) is None
    assert c.binary_frames >= 5
    if sub == TERMINAL:
        assert c.oob == [], "terminal.mudstandards.org has no out-of-band channel"
        # text frames from a terminal client are input too
        await c.ws.send("say typed as text")
        await c.until("You say, 'typed as text'")
    else:
        assert c.oob, "GMCP comes in text frames"
    # the session is counted under its own subprotocol
    assert f'aegent_sessions{{kind="{sub}"}} 1.0' in server.metrics.render().decode()
    await c.close()


async def test_our_own_subprotocols_come_first(start_server: StartServer) -> None:
    server = await start_server()
    for offer, chosen in (((GMCP, "aegent.json"), "aegent.json"),
                          ((JSON, TERMINAL, "aegent.text"), "aegent.text"),
                          ((JSON, GMCP), JSON),
                          (("v1.evennia.com", TERMINAL), TERMINAL)):
        c = await Mud.open(server, *offer)
        assert c.subprotocol == chosen
        await c.close()


# ---- gmcp.mudstandards.org --------------------------------------------------------------


async def test_gmcp_in_text_frames(start_server: StartServer) -> None:
    server = await start_server()
    c = await Mud.open(server, GMCP)
    await c.until("By what name are you known?")
    await c.ws.send('Core.Hello {"client":"PyMud","version":"1.2"}')
    await c.ws.send('Core.Supports.Set ["Char 1","Room 1"]')
    await register(c, "Ann", "m", asked=True)
    status = await c.oob_until(gmcp_frame, "Char.Status")
    assert {k: status[k] for k in ("name", "level", "class")} == {
        "name": "Ann", "level": 1, "class": "mage"}
    vitals = await c.oob_until(gmcp_frame, "Char.Vitals")
    assert vitals["hp"] == vitals["max_hp"] and "moves" in vitals
    room = await c.oob_until(gmcp_frame, "Room.Info", lambda d: d["id"] == "haven:square")
    assert room["name"] == "Town Square" and isinstance(room["exits"], dict)
    conn = connection_of(server, "Ann")
    assert (conn.client, conn.client_version) == ("PyMud", "1.2")
    assert list(conn.gmcp_supports) == ["Char 1", "Room 1"]
    # moving: Room.Info and Char.Vitals (moves spent) as text frames, the room as binary
    await c.line("north")
    await c.oob_until(gmcp_frame, "Room.Info", lambda d: d["num"] == room["exits"]["n"])
    await c.oob_until(gmcp_frame, "Char.Vitals", lambda d: d["moves"] < vitals["moves"])
    await c.until("[Exits:")
    # Core.Ping is answered; a package we do not take is ignored
    await c.ws.send("Core.Ping")
    assert await c.oob_until(gmcp_frame, "Core.Ping") is None
    await c.ws.send('IRE.Rift.Request {"x":1}')
    # malformed GMCP gets a clear line, and the session goes on
    await c.ws.send('Core.Hello {"client": oops}')
    error = ANSI_CODE.sub("", await c.until("not valid JSON"))
    assert "The data of GMCP Core.Hello is not valid JSON" in error
    await c.ws.send("!!! hello")
    assert "is not a GMCP package name" in await c.until("'Core.Hello'.")
    await c.line("say still here")
    said = ANSI_CODE.sub("", await c.until("still here'"))
    assert "IRE.Rift" not in said and "You say, 'still here'" in said
    assert conn.client == "PyMud"
    await c.close()


# ---- json.mudstandards.org --------------------------------------------------------------


async def test_json_envelopes_in_text_frames(start_server: StartServer) -> None:
    server = await start_server()
    c = await Mud.open(server, JSON)
    await c.until("By what name are you known?")
    await c.ws.send(json.dumps({"proto": "gmcp", "id": "Core.Hello",
                                "data": json.dumps({"client": "Mudterm", "version": "0.2.0"})}))
    await register(c, "Kit", "c", asked=True)
    status = await c.oob_until(envelope_frame, "Char.Status")
    assert {k: status[k] for k in ("name", "level", "class")} == {
        "name": "Kit", "level": 1, "class": "cleric"}
    vitals = await c.oob_until(envelope_frame, "Char.Vitals")
    assert vitals["hp"] == vitals["max_hp"]
    room = await c.oob_until(envelope_frame, "Room.Info", lambda d: d["id"] == "haven:square")
    assert room["name"] == "Town Square"
    conn = connection_of(server, "Kit")
    assert (conn.client, conn.client_version) == ("Mudterm", "0.2.0")
    await c.line("say anyone?")
    channel = await c.oob_until(envelope_frame, "Comm.Channel.Text")
    assert {**channel, "text": ANSI_CODE.sub("", channel["text"])} == {
        "channel": "say", "talker": "Kit", "message": "anyone?", "text": "You say, 'anyone?'"}
    await c.ws.send('{"proto":"gmcp","id":"Core.Ping","data":""}')
    assert await c.oob_until(envelope_frame, "Core.Ping") is None
    # another protocol's envelope is ignored; malformed ones get a clear line
    await c.ws.send('{"proto":"coffeemud","id":"login","data":"..."}')
    await c.ws.send("look")  # text frames are envelopes, not input
    assert "not valid JSON" in await c.until("such as")
    await c.ws.send('{"id":"Core.Hello","data":"{}"}')
    assert "That envelope has no 'proto'" in await c.until("such as")
    await c.ws.send('{"proto":"gmcp","id":"Core.Hello","data":"{oops"}')
    assert "The data of GMCP Core.Hello is not valid JSON" in await c.until("not valid JSON")
    await c.ws.send('{"proto":"gmcp","id":"Core.Hello","data":{"client":"x"}}')
    assert "'data' must be a string" in await c.until("must be a string")
    await c.ws.send(json.dumps({"proto": "gmcp", "id": "Core.Hello", "data": "x" * 9000}))
    assert "over the limit" in await c.until("ignored")
    await c.line("say still here")
    said = ANSI_CODE.sub("", await c.until("still here'"))
    assert "coffeemud" not in said and "You say, 'still here'" in said
    assert conn.client == "Mudterm"
    errors = server.metrics.render().decode()
    assert 'aegent_errors_total{code="bad_json"} 2.0' in errors
    await c.close()


# ---- with everyone else ----------------------------------------------------------------------


@pytest.mark.parametrize("sub", [TERMINAL, GMCP, JSON])
async def test_they_hear_a_player_on_aegent_json(start_server: StartServer, sub: str) -> None:
    server = await start_server()
    ws = await Client.open(ws_url(server), "aegent.json")
    await ws.recv()
    await ws.register("Bea")
    c = await Mud.open(server, sub)
    await register(c, "Tom", "r")
    await ws.until(lambda m: m.get("type") == "event" and m["name"] == "entered_game")
    await ws.command("say hello from the web")
    heard = ANSI_CODE.sub("", await c.until("hello from the web'"))
    assert "Bea says, 'hello from the web'" in heard
    if sub != TERMINAL:
        decode = gmcp_frame if sub == GMCP else envelope_frame
        channel = await c.oob_until(decode, "Comm.Channel.Text", lambda d: d["talker"] == "Bea")
        assert {**channel, "text": ANSI_CODE.sub("", channel["text"])} == {
            "channel": "say", "talker": "Bea", "message": "hello from the web",
            "text": "Bea says, 'hello from the web'"}
    await c.line("say hello from a mud client")
    got = await ws.until(lambda m: m.get("type") == "event" and m["name"] == "said")
    assert events(got, "said")[-1]["data"] == {"actor": "Tom", "kind": "player",
                                               "text": "hello from a mud client"}
    await c.close()
    await ws.close()
