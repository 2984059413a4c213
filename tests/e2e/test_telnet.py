"""End to end over real sockets: the telnet port, with a raw client and with telnetlib3.

`Raw` is a client that speaks no telnet at all unless told to (it only sends the
bytes a test writes), reads every byte the server sends, and follows MCCP2 when
it starts. `telnetlib3` is a full telnet client library, negotiating as MUD
clients do.
"""

from __future__ import annotations

import asyncio
import re
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import telnetlib3
from conftest import StartServer, ws_url
from telnetlib3.stream_reader import TelnetReaderUnicode
from telnetlib3.stream_writer import TelnetWriterUnicode
from wsclient import Client, events

from server.app import Server
from server.gateway import telnet_protocol as tp
from server.gateway.telnet import TelnetConnection
from server.gateway.telnet_protocol import DO, IAC, SB, SE, WILL, command

TIMEOUT = 10.0
ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")
OFFERS = (b"".join(command(WILL, o) for o in tp.OFFER_WILL)
          + b"".join(command(DO, o) for o in tp.OFFER_DO))
MCCP2_START = bytes([IAC, SB, tp.MCCP2, IAC, SE])
ECHO = bytes([tp.ECHO])  # telnetlib3 keys options by bytes


def telnet_text(raw: bytes) -> tuple[str, list[bytes]]:
    """The text in a server stream, and its telnet commands (IAC ...), apart."""
    text = bytearray()
    commands: list[bytes] = []
    i = 0
    while i < len(raw):
        b = raw[i]
        if b != IAC:
            text.append(b)
            i += 1
        elif raw[i + 1:i + 2] == bytes([IAC]):
            text.append(IAC)
            i += 2
        elif raw[i + 1:i + 2] == bytes([SB]):
            end = raw.find(bytes([IAC, SE]), i)
            end = len(raw) if end < 0 else end + 2
            commands.append(raw[i:end])
            i = end
        elif raw[i + 1:i + 2] and raw[i + 1] in (tp.WILL, tp.WONT, tp.DO, tp.DONT):
            commands.append(raw[i:i + 3])
            i += 3
        else:
            commands.append(raw[i:i + 2])
            i += 2
    return text.decode("utf-8", "replace"), commands


class Raw:
    """A bare TCP client of the telnet port."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.wire = bytearray()  # everything received, as sent (compressed part included)
        self.raw = bytearray()  # everything received, decompressed
        self.decompressor: Any = None  # a zlib decompressobj
        self.seen = 0  # how much of the text `until` has consumed

    @classmethod
    async def open(cls, server: Server) -> Raw:
        r, w = await asyncio.open_connection("127.0.0.1", server.telnet_port)
        return cls(r, w)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def line(self, text: str, end: bytes = b"\n") -> None:
        await self.send(text.encode() + end)

    def _take(self, chunk: bytes) -> None:
        self.wire += chunk
        if self.decompressor is not None:
            self.raw += self.decompressor.decompress(chunk)
            return
        self.raw += chunk
        at = self.raw.find(MCCP2_START)
        if at >= 0:
            tail = bytes(self.raw[at + len(MCCP2_START):])
            del self.raw[at + len(MCCP2_START):]
            self.decompressor = zlib.decompressobj()
            self.raw += self.decompressor.decompress(tail)

    @property
    def text(self) -> str:
        return telnet_text(bytes(self.raw))[0]

    async def until(self, needle: str, timeout: float = TIMEOUT) -> str:
        """Read until `needle` appears in new text; return the new text up to its end."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            text = self.text
            at = text.find(needle, self.seen)
            if at >= 0:
                got = text[self.seen:at + len(needle)]
                self.seen = at + len(needle)
                return got
            chunk = await asyncio.wait_for(self.reader.read(65536),
                                           max(0.01, deadline - loop.time()))
            if not chunk:
                raise AssertionError(f"closed before {needle!r}; got {text[self.seen:]!r}")
            self._take(chunk)

    async def close(self) -> None:
        self.writer.close()
        with suppress(ConnectionError):
            await self.writer.wait_closed()


async def register_text(c: Raw, name: str, cls: str = "w") -> str:
    """The text-mode dialogue of a new character; returns the text up to the welcome."""
    await c.until("By what name are you known?")
    await c.line(name)
    await c.until("(y/n)")
    await c.line("y")
    await c.until("password")
    await c.line("a long secret")
    await c.until("retype")
    await c.line("a long secret")
    await c.until("class")
    await c.line(cls)
    return await c.until(f"Welcome, {name}")


def telnet_of(server: Server) -> list[TelnetConnection]:
    return [c for c in server.connections if isinstance(c, TelnetConnection)]


# ---- a client that never negotiates ------------------------------------------------------


async def test_a_client_that_never_negotiates_registers_and_plays(start_server: StartServer
                                                                   ) -> None:
    server = await start_server()
    c = await Raw.open(server)
    await register_text(c, "Dan")
    await c.line("look")
    room = await c.until("[Exits:")
    assert "Town Square" in room
    await c.line("say hello there", b"\r\n")
    await c.until("You say, 'hello there'")
    # bytes that are not UTF-8 get a clear answer, and the session goes on
    await c.send(b"say caf\xe9\r\n")
    error = await c.until("set your client to UTF-8.")
    assert "not UTF-8" in error and "0xe9" in error
    await c.send(b"x" * 9000 + b"\n")
    assert "over the limit" in await c.until("ignored.")
    await c.line("say still here")
    await c.until("You say, 'still here'")
    # the first offers are the only telnet it ever got: no GA, no ECHO, no NOP
    assert bytes(c.wire).startswith(OFFERS)
    assert IAC not in c.wire[len(OFFERS):]
    assert b"\r\n" in c.wire and re.search(rb"(?<!\r)\n", c.wire) is None  # CR LF only
    await c.close()


async def test_mssp_for_crawlers(start_server: StartServer) -> None:
    server = await start_server()
    c = await Raw.open(server)
    await c.send(command(DO, tp.MSSP))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while True:
        tables = [x for x in telnet_text(bytes(c.raw))[1] if x[:3] == bytes([IAC, SB, tp.MSSP])]
        if tables:
            break
        c._take(await asyncio.wait_for(c.reader.read(65536), deadline - loop.time()))
    fields: dict[str, list[str]] = {}
    name = ""
    for part in re.split(rb"([\x01\x02])", tables[0][3:-2])[1:]:
        if part in (b"\x01", b"\x02"):
            kind = part
            continue
        if kind == b"\x01":
            name = part.decode()
            fields[name] = []
        else:
            fields[name].append(part.decode())
    assert fields["NAME"] == ["Aegent Quest"]
    assert fields["PLAYERS"] == ["0"]
    assert fields["PORT"] == [str(server.telnet_port)]
    assert fields["UTF-8"] == ["1"] and fields["GMCP"] == ["1"] and fields["MCCP"] == ["1"]
    for key in ("UPTIME", "CODEBASE", "CRAWL DELAY", "HOSTNAME", "LANGUAGE", "ANSI", "WEBSITE"):
        assert key in fields, key
    # counted from the content, not written by hand
    content = server.world.content
    assert fields["ROOMS"] == [str(len(server.world.rooms))]
    assert fields["AREAS"] == [str(len(content.zones))]
    assert fields["MOBILES"] == [str(len(content.mobs))]
    assert fields["OBJECTS"] == [str(len(content.items))]
    assert fields["CLASSES"] == [str(len(content.classes))]
    assert int(fields["HELPFILES"][0]) > len(content.help) and int(fields["LEVELS"][0]) > 1
    await c.close()


async def test_mccp2_stream_decompresses_to_the_game(start_server: StartServer) -> None:
    server = await start_server()
    c = await Raw.open(server)
    await c.send(command(DO, tp.MCCP2))
    await register_text(c, "Zed")
    assert c.decompressor is not None
    compressed = bytes(c.wire[c.wire.find(MCCP2_START) + len(MCCP2_START):])
    assert b"Welcome, Zed" not in compressed  # it really is compressed
    await c.line("look")
    assert "Town Square" in await c.until("[Exits:")
    assert telnet_of(server)[0].codec.compressing
    await c.close()


# ---- a real telnet client -------------------------------------------------------------------

class Lib:
    """A telnetlib3 client and what it has read."""

    def __init__(self, reader: TelnetReaderUnicode, writer: TelnetWriterUnicode) -> None:
        self.reader, self.writer = reader, writer
        self.buf = ""

    async def until(self, needle: str, timeout: float = TIMEOUT) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while needle not in self.buf:
            chunk = await asyncio.wait_for(self.reader.read(65536),
                                           max(0.01, deadline - loop.time()))
            if not chunk:
                raise AssertionError(f"closed before {needle!r}; got {self.buf!r}")
            self.buf += chunk
        at = self.buf.index(needle) + len(needle)
        got, self.buf = self.buf[:at], self.buf[at:]
        return got

    def line(self, text: str) -> None:
        self.writer.write(text + "\r\n")

    def gmcp(self) -> dict[str, object]:
        data: dict[str, object] = self.writer.ctx.gmcp_data
        return data

    async def gmcp_until(self, package: str,
                         check: Callable[[dict[str, Any]], bool] = lambda d: True
                         ) -> dict[str, Any]:
        """Wait until the last GMCP message of `package` passes `check`; a copy of it.

        (telnetlib3 merges a package's updates into one dict, in place.)
        """
        for _ in range(int(TIMEOUT / 0.01)):
            got = self.gmcp().get(package)
            if isinstance(got, dict) and check(got):
                return dict(got)
            await asyncio.sleep(0.01)
        raise AssertionError(f"no matching GMCP {package}: {self.gmcp()}")


@asynccontextmanager
async def telnetlib3_client(server: Server, cols: int = 80) -> AsyncIterator[Lib]:
    reader, writer = await telnetlib3.open_connection(
        "127.0.0.1", server.telnet_port, cols=cols, rows=25, connect_maxwait=2.0)
    assert isinstance(reader, TelnetReaderUnicode) and isinstance(writer, TelnetWriterUnicode)
    try:
        yield Lib(reader, writer)
    finally:
        writer.close()
        await writer.wait_closed()


async def test_a_telnet_client_negotiates_echo_naws_gmcp_and_mccp2(start_server: StartServer
                                                                  ) -> None:
    server = await start_server()
    async with telnetlib3_client(server, cols=40) as c:
        await c.until("By what name are you known?")
        c.line("Ann")
        await c.until("(y/n)")
        assert not c.writer.remote_option.enabled(ECHO)
        c.line("y")
        await c.until("password")
        # the server will echo (that is: hide) the password
        assert c.writer.remote_option.enabled(ECHO)
        c.line("a long secret")
        await c.until("retype")
        assert c.writer.remote_option.enabled(ECHO)
        c.line("a long secret")
        await c.until("class")
        assert not c.writer.remote_option.enabled(ECHO)
        c.line("m")
        await c.until("Welcome, Ann")
        # GMCP after login
        status = await c.gmcp_until("Char.Status")
        assert {k: status[k] for k in ("name", "level", "class")} == {
            "name": "Ann", "level": 1, "class": "mage"}
        vitals = await c.gmcp_until("Char.Vitals")
        assert vitals["hp"] == vitals["max_hp"] and "moves" in vitals
        room = await c.gmcp_until("Room.Info", lambda d: d["id"] == "haven:square")
        assert room["name"] == "Town Square" and room["zone"] == "haven"
        exits = room["exits"]
        assert isinstance(exits, dict)
        # NAWS 40: every line of the room fits in 40 columns
        c.line("look")
        text = ANSI_CODE.sub("", await c.until("[Exits:"))
        assert "Town Square" in text
        assert max(len(line) for line in text.split("\r\n")) <= 40
        assert max(len(line) for line in text.split("\r\n")) >= 30
        # moving sends Room.Info and (moves spent) Char.Vitals
        c.line("north")
        await c.gmcp_until("Room.Info", lambda d: d["num"] == exits["n"])
        await c.gmcp_until("Char.Vitals", lambda d: d["moves"] < vitals["moves"])
        # the server side: compressed, client known, MSSP refused and not asked again
        (conn,) = telnet_of(server)
        assert conn.codec.compressing
        assert conn.client == "telnetlib3" and conn.client_version
        assert conn.codec.refused(tp.MSSP)
        assert conn.session is not None and conn.session.width == 40
        assert conn.codec.charset == "UTF-8"


async def test_telnet_and_websocket_players_hear_each_other(start_server: StartServer) -> None:
    server = await start_server()
    ws = await Client.open(ws_url(server), "aegent.json")
    await ws.recv()
    await ws.register("Bea")
    async with telnetlib3_client(server) as tel:
        await tel.until("By what name are you known?")
        for answer, prompt in (("Tom", "(y/n)"), ("y", "password"), ("a long secret", "retype"),
                               ("a long secret", "class"), ("c", "Welcome, Tom")):
            tel.line(answer)
            await tel.until(prompt)
        await ws.until(lambda m: m.get("type") == "event" and m["name"] == "entered_game")
        tel.line("say hello from telnet")
        got = await ws.until(lambda m: m.get("type") == "event" and m["name"] == "said")
        assert events(got, "said")[-1]["data"] == {"actor": "Tom", "kind": "player",
                                                   "text": "hello from telnet"}
        await ws.command("say hello from the web")
        said = await tel.until("hello from the web'")
        assert "Bea says, 'hello from the web'" in ANSI_CODE.sub("", said)
        channel = await tel.gmcp_until("Comm.Channel.Text", lambda d: d["talker"] == "Bea")
        assert channel["message"] == "hello from the web"
        assert {**channel, "text": ANSI_CODE.sub("", channel["text"])} == {
            "channel": "say", "talker": "Bea", "message": "hello from the web",
            "text": "Bea says, 'hello from the web'"}
    await ws.close()
