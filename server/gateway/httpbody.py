"""HTTP requests with a body (POST, for A2A): the head read, the body bounded.

websockets' handshake parser refuses any request with a body, which is right for
`/ws` and for the static files. The listener (server/gateway/ws.py) reads a POST head with
`parse_head` instead (websockets' own line and header parsers, the same limits: 8 KiB
a line, 128 headers), and `content_length` says what it cannot take at once (411
without a Content-Length, 501 for Transfer-Encoding, 413 past the limit); `read_post`
does both. A `Body` then collects exactly Content-Length bytes. Bytes after the body (a
pipelined request) are dropped, like after a GET: one request per connection.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field

from websockets.datastructures import Headers
from websockets.exceptions import InvalidHandshake, RequestLineTooLong
from websockets.http11 import Request, parse_headers, parse_line
from websockets.streams import StreamReader


class HeadRefused(ValueError):
    """A POST head the server will not read a body for: `status` says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _read(reader: StreamReader) -> Generator[None, None, Request]:
    line = yield from parse_line(reader.read_line, RequestLineTooLong)
    parts = line.split(b" ")
    if len(parts) != 3 or parts[2] not in (b"HTTP/1.1", b"HTTP/1.0"):
        raise ValueError("invalid HTTP request line")
    headers = yield from parse_headers(reader.read_line)
    # Path and headers only: not every websockets version we take has `Request.method`.
    return Request(parts[1].decode("ascii"), headers)


def parse_head(head: bytes) -> Request:
    """The request in a whole HTTP head (request line, headers, blank line).

    Raises:
        HeadRefused: (400) it is not a well-formed HTTP/1.x head.
    """
    reader = StreamReader()
    reader.feed_data(head)
    reader.feed_eof()
    parser = _read(reader)
    try:
        while True:
            next(parser)  # everything is fed: it never waits, it ends or raises
    except StopIteration as done:
        request: Request = done.value
        return request
    except (ValueError, EOFError, InvalidHandshake, UnicodeDecodeError) as exc:
        raise HeadRefused(400, f"Bad request: {str(exc)[:200]}.") from None


def content_length(headers: Headers, limit: int) -> int:
    """The body's length, checked against `limit`.

    Raises:
        HeadRefused: 501 for `Transfer-Encoding` (chunked bodies are not read), 411
            without one Content-Length of digits, 413 over `limit` bytes.
    """
    if "Transfer-Encoding" in headers:
        raise HeadRefused(501, "Transfer-Encoding is not supported; send a Content-Length.")
    values = set(headers.get_all("Content-Length"))
    if len(values) != 1:
        raise HeadRefused(411, "A request body needs one Content-Length.")
    text = values.pop().strip()
    if not text.isdigit() or not text.isascii() or len(text) > 18:
        raise HeadRefused(411, "Content-Length must be a number of bytes.")
    length = int(text)
    if length > limit:
        raise HeadRefused(413, f"The request body is over the limit of {limit} bytes.")
    return length


def read_post(head: bytes, limit: int) -> tuple[Request, int]:
    """The request of a POST head and its body's length (at most `limit`).

    Raises:
        HeadRefused: the status and the reason to answer with.
    """
    request = parse_head(head)
    return request, content_length(request.headers, limit)


@dataclass(slots=True)
class Body:
    """Collects a request body of `length` bytes as they come."""

    length: int
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0

    @property
    def done(self) -> bool:
        """Whether the whole body is in."""
        return self.size >= self.length

    def feed(self, data: bytes) -> bool:
        """Take bytes from the connection (those past the body are dropped); whether
        the body is whole now."""
        wanted = self.length - self.size
        if wanted > 0 and data:
            piece = data[:wanted]
            self.chunks.append(piece)
            self.size += len(piece)
        return self.done

    def data(self) -> bytes:
        """The body."""
        return b"".join(self.chunks)
