"""GMCP as Mudlet and its mapper use it, end to end over a real telnet socket.

Ann plays on a raw telnet connection that turned GMCP on and declared what Mudlet
declares (Core.Hello, Core.Supports.Set, and Comm.Channel added as a chat script
adds it); Bob plays from the web (aegent.json). Ann
walks, picks up and drops the map, sees Bob come and go and hears him speak: each
step shows in her GMCP as a mapper or an IRE script expects it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from conftest import StartServer, ws_url
from test_telnet import ANSI_CODE, TIMEOUT, Raw, register_text, telnet_text
from wsclient import Client

from server.gateway import gmcp
from server.gateway import telnet_protocol as tp
from server.gateway.telnet_protocol import DO, IAC, SB

MUDLET = ["Char 1", "Char.Skills 1", "Char.Items 1", "Room 1", "IRE.Rift 1",
          "IRE.Composer 1"]  # what Mudlet declares on its own


class Mudlet:
    """A raw telnet client with GMCP on, reading the messages in order."""

    def __init__(self, raw: Raw) -> None:
        self.raw = raw
        self.read = 0  # how many GMCP messages `next` has consumed

    def messages(self) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        for cmd in telnet_text(bytes(self.raw.raw))[1]:
            if cmd[:3] == bytes([IAC, SB, tp.GMCP]):
                package, _, body = cmd[3:-2].decode("utf-8").partition(" ")
                out.append((package, json.loads(body) if body else None))
        return out

    async def next(self, package: str, check: Callable[[Any], bool] = lambda d: True) -> Any:
        """The data of the next (not yet read) message of `package` passing `check`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        while True:
            got = self.messages()
            for i in range(self.read, len(got)):
                if got[i][0] == package and check(got[i][1]):
                    self.read = i + 1
                    return got[i][1]
            chunk = await asyncio.wait_for(self.raw.reader.read(65536),
                                           max(0.01, deadline - loop.time()))
            assert chunk, f"closed before {package}; got {got[self.read:]}"
            self.raw._take(chunk)

    async def send(self, package: str, data: Any = None) -> None:
        await self.raw.send(tp.gmcp(package, data))


async def test_mudlet_walks_takes_drops_and_meets_someone(start_server: StartServer) -> None:
    server = await start_server()
    raw = await Raw.open(server)
    ann = Mudlet(raw)
    await raw.send(bytes([IAC, DO, tp.GMCP]))
    await ann.send("Core.Hello", {"client": "Mudlet", "version": "4.17.2"})
    await ann.send("Core.Supports.Set", MUDLET)
    await ann.send("Core.Supports.Add", ["Comm.Channel 1"])  # as chat capture scripts do
    await register_text(raw, "Ann")

    assert (await ann.next("Char.Status"))["name"] == "Ann"
    channels = await ann.next("Comm.Channel.List")
    assert {c["name"] for c in channels} >= {"say", "tell", "shout"}
    square = await ann.next("Room.Info")
    assert square["num"] == gmcp.room_number("haven:square")
    assert square["name"] == "Town Square" and square["area"] == "Haven"
    assert square["environment"] in ("indoors", "outdoors")
    assert set(square["exits"]) >= {"n", "s", "e", "w"}
    assert all(isinstance(num, int) for num in square["exits"].values())
    inv = await ann.next("Char.Items.List", lambda d: d["location"] == "inv")
    room = await ann.next("Char.Items.List", lambda d: d["location"] == "room")
    (paper,) = [i for i in room["items"] if i["keyword"] == "map"]
    assert paper["name"] == "a paper map of Haven" and "t" in paper["attrib"]
    assert paper["id"] not in {i["id"] for i in inv["items"]}
    assert await ann.next("Room.Players") == [{"name": "Ann", "fullname": "Ann"}]

    # pick the map up, put it down: by its id, from one list to the other
    await raw.line("get map")
    removed = await ann.next("Char.Items.Remove")
    added = await ann.next("Char.Items.Add")
    assert removed == {"location": "room", "item": paper}
    assert added["location"] == "inv" and added["item"]["id"] == paper["id"]
    await raw.line("drop map")
    assert (await ann.next("Char.Items.Remove"))["item"]["id"] == paper["id"]
    assert await ann.next("Char.Items.Add") == {"location": "room", "item": paper}

    # walk: the mapper's numbers lead where the exits said
    await raw.line("north")
    steps = await ann.next("Room.Info")
    assert steps["num"] == square["exits"]["n"]
    assert steps["exits"]["s"] == square["num"]
    await raw.line("south")
    assert (await ann.next("Room.Info"))["num"] == square["num"]
    room = await ann.next("Char.Items.List", lambda d: d["location"] == "room")
    assert paper in room["items"]

    # someone arrives, speaks and goes
    bob = await Client.open(ws_url(server), "aegent.json")
    await bob.recv()
    await bob.register("Bob")
    assert await ann.next("Room.AddPlayer") == {"name": "Bob", "fullname": "Bob"}
    await bob.command("say hello, Ann")
    said = await ann.next("Comm.Channel.Text")
    assert said["channel"] == "say" and said["talker"] == "Bob"
    assert said["message"] == "hello, Ann"
    assert ANSI_CODE.sub("", said["text"]) == "Bob says, 'hello, Ann'"  # the line, as IRE's
    # Start and End go around the line itself, in the text (for Mudlet's capture scripts)
    stream = bytes(raw.raw)
    start = stream.rindex(tp.gmcp("Comm.Channel.Start", "say"))
    end = stream.rindex(tp.gmcp("Comm.Channel.End", "say"))
    assert start < stream.rindex(b"says, 'hello, Ann'") < end
    await bob.command("east")
    assert await ann.next("Room.RemovePlayer") == "Bob"

    # a request is answered with a list
    await ann.send("Char.Items.Inv")
    assert await ann.next("Char.Items.List", lambda d: d["location"] == "inv") == inv
    await bob.close()
    await raw.close()
