"""Raw clients over real sockets, for input a well-behaved client library will not send.

`RawWs` does the opening handshake with websockets' sans-I/O `ClientProtocol`, then
writes whatever frames or bytes a test wants and reads the server's frames back
through that same protocol object. `http_exchange` writes raw bytes to the HTTP
port and returns everything the server answers until it closes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable

from websockets.client import ClientProtocol
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

TIMEOUT = 10.0


def masked(*frames: Frame) -> bytes:
    """Frames as a client sends them (masked), back to back."""
    return b"".join(f.serialize(mask=True, extensions=[]) for f in frames)


class RawWs:
    """A WebSocket client that sends anything, and reads what the server sends."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 proto: ClientProtocol) -> None:
        self.reader = reader
        self.writer = writer
        self.proto = proto
        self.frames: list[Frame] = []  # data and control frames received, in order
        self.eof = False

    @classmethod
    async def open(cls, port: int, subprotocols: Iterable[str] = (),
                   headers: dict[str, str] | None = None) -> RawWs:
        """Connect and complete the handshake (AssertionError unless it is a 101)."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        proto = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}/ws"),
                               subprotocols=[Subprotocol(s) for s in subprotocols] or None,
                               max_size=None)
        request = proto.connect()
        for k, v in (headers or {}).items():
            request.headers[k] = v
        proto.send_request(request)
        self = cls(reader, writer, proto)
        self._flush()
        while proto.state is State.CONNECTING:
            await self._read()
        assert proto.state is State.OPEN, proto.handshake_exc
        return self

    def _flush(self) -> None:
        for chunk in self.proto.data_to_send():
            if chunk:
                self.writer.write(chunk)

    async def _read(self) -> None:
        data = await asyncio.wait_for(self.reader.read(65536), TIMEOUT)
        if not data:
            self.eof = True
            self.proto.receive_eof()
        else:
            self.proto.receive_data(data)
        for event in self.proto.events_received():
            if isinstance(event, Frame):
                self.frames.append(event)
            else:
                assert isinstance(event, Response)

    def write(self, data: bytes) -> None:
        """Raw bytes to the server (frames from `masked`)."""
        self.writer.write(data)

    async def until(self, pred: Callable[[Frame], bool]) -> Frame:
        """Read until a frame matches; AssertionError if the connection ends first."""
        checked = 0
        while True:
            for frame in self.frames[checked:]:
                if pred(frame):
                    return frame
            checked = len(self.frames)
            assert not self.eof, "the server closed the connection"
            await self._read()

    async def text_until(self, needle: str) -> str:
        """Read until a text or binary frame contains `needle`; that frame's text."""
        frame = await self.until(lambda f: f.opcode in (Opcode.TEXT, Opcode.BINARY)
                                 and needle in bytes(f.data).decode("utf-8", "replace"))
        return bytes(frame.data).decode("utf-8", "replace")

    async def closed(self) -> Close:
        """Read until the server's close frame, then until it closes TCP; the close."""
        frame = await self.until(lambda f: f.opcode is Opcode.CLOSE)
        while not self.eof:
            await self._read()
        await self.aclose()
        return Close.parse(frame.data)

    async def aclose(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


async def http_exchange(port: int, data: bytes) -> bytes:
    """Send raw bytes to the HTTP port; everything the server answers before it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), TIMEOUT)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def status_lines(answer: bytes) -> list[str]:
    """The status lines of every HTTP response in `answer`."""
    return [line.decode("latin-1") for line in answer.split(b"\r\n")
            if line.startswith(b"HTTP/1.")]


def head_and_body(answer: bytes) -> tuple[dict[str, str], bytes]:
    """The headers (lower-cased names) and body of a single response."""
    head, _, body = answer.partition(b"\r\n\r\n")
    headers: dict[str, str] = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers, body


async def wait_until(pred: Callable[[], bool]) -> None:
    """Return once `pred()` holds (checked every few ms, TimeoutError after TIMEOUT): for
    server state that no message announces, such as a closed connection's release."""

    async def poll() -> None:
        while not pred():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), TIMEOUT)
