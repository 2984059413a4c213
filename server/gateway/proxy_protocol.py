"""The PROXY protocol (HAProxy's, v1 and v2), sans I/O: the header a reverse proxy puts
before a TCP stream to say whose connection it is.

A telnet listener behind HAProxy, nginx `stream` or an AWS NLB sees every connection
come from the proxy. When the peer is a trusted proxy (`Settings.trusted_proxies`),
the stream begins with one header, and the client's address is the header's source:

- v1, text: `PROXY TCP4 <src> <dst> <sport> <dport>\\r\\n` (also `TCP6`, and
  `PROXY UNKNOWN ...\\r\\n`), 107 bytes at most with its CR LF;
- v2, binary: the 12-byte signature, a version/command byte (PROXY or LOCAL), a
  family byte (AF_INET, AF_INET6, ...), a 2-byte length, then that many bytes: the
  addresses, then TLVs (skipped). At most `MAX_V2_LENGTH` bytes after the 16.

`ProxyParser.feed(data)` takes whatever arrived (any split) and returns `NEED_MORE`,
a `Header` (its `address` is None for LOCAL and UNKNOWN: keep the peer's address;
`rest` is what followed the header, the start of the client's stream) or a
`ProxyError`. The parser never holds more than one header's worth of bytes and never
raises; after a result other than `NEED_MORE` it is spent.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Final

V1_PREFIX = b"PROXY "
V1_MAX = 107  # the longest v1 header, "PROXY TCP6 <39> <39> 65535 65535\r\n"
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V2_HEADER = 16  # signature, version/command, family/transport, length
MAX_V2_LENGTH = 2048  # addresses and TLVs: a few hundred bytes from real proxies

_V2_LOCAL = 0x20
_V2_PROXY = 0x21
_AF_INET, _AF_INET6 = 0x1, 0x2
_ADDRESS_BYTES = {_AF_INET: 12, _AF_INET6: 36}  # src, dst, sport, dport


@dataclass(frozen=True, slots=True)
class Header:
    """A header read whole: the client's `address` and `port` (None: LOCAL or UNKNOWN,
    the peer's own address stands), the `version`, and the bytes after the header."""

    address: str | None
    port: int | None
    version: int
    rest: bytes


@dataclass(frozen=True, slots=True)
class ProxyError:
    """Not a PROXY header, or a broken one; `reason` is for the log."""

    reason: str


class _NeedMore:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_MORE"


NEED_MORE: Final = _NeedMore()
"""`feed` needs more bytes before it can say."""

Result = Header | ProxyError | _NeedMore


class ProxyParser:
    """Reads the PROXY header at the start of one connection."""

    __slots__ = ("_buf", "_done")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._done = False

    def feed(self, data: bytes) -> Result:
        """Take the next bytes of the stream; never raises."""
        if self._done:
            return ProxyError("the header was already read")
        self._buf += data
        result = parse(bytes(self._buf))
        if result is not NEED_MORE:
            self._done = True
            self._buf.clear()
        return result


def parse(data: bytes) -> Result:
    """The header at the start of `data` (see the module docstring)."""
    if data[:len(V2_SIGNATURE)] == V2_SIGNATURE[:len(data)]:
        return _v2(data) if len(data) >= len(V2_SIGNATURE) else NEED_MORE
    if data[:len(V1_PREFIX)] == V1_PREFIX[:len(data)]:
        return _v1(data) if len(data) >= len(V1_PREFIX) else NEED_MORE
    return ProxyError("no PROXY protocol header")


def _v1(data: bytes) -> Result:
    end = data.find(b"\r\n", 0, V1_MAX)
    if end < 0:
        if len(data) >= V1_MAX:
            return ProxyError(f"v1 header longer than {V1_MAX} bytes")
        return NEED_MORE
    rest = data[end + 2:]
    try:
        line = data[:end].decode("ascii")
    except UnicodeDecodeError:
        return ProxyError("v1 header is not ASCII")
    parts = line.split(" ")
    if len(parts) >= 2 and parts[1] == "UNKNOWN":
        return Header(None, None, 1, rest)
    if len(parts) != 6 or parts[1] not in ("TCP4", "TCP6"):
        return ProxyError(f"v1 header malformed: {line[:V1_MAX]!r}")
    version = 4 if parts[1] == "TCP4" else 6
    source = _address(parts[2], version)
    if source is None or _address(parts[3], version) is None:
        return ProxyError(f"v1 addresses are not {parts[1]}: {line!r}")
    sport, dport = _port(parts[4]), _port(parts[5])
    if sport is None or dport is None:
        return ProxyError(f"v1 ports malformed: {line!r}")
    return Header(source, sport, 1, rest)


def _address(text: str, version: int) -> str | None:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if ip.version != version:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def _port(text: str) -> int | None:
    if not text.isascii() or not text.isdigit() or len(text) > 5 or (
            len(text) > 1 and text[0] == "0"):
        return None
    port = int(text)
    return port if port <= 65535 else None


def _v2(data: bytes) -> Result:
    if len(data) < V2_HEADER:
        return NEED_MORE
    command, family, length = data[12], data[13], int.from_bytes(data[14:16], "big")
    if command not in (_V2_LOCAL, _V2_PROXY):
        return ProxyError(f"v2 version/command byte 0x{command:02x} unknown")
    if length > MAX_V2_LENGTH:
        return ProxyError(f"v2 header of {length} bytes, over {MAX_V2_LENGTH}")
    if len(data) < V2_HEADER + length:
        return NEED_MORE
    body, rest = data[V2_HEADER:V2_HEADER + length], data[V2_HEADER + length:]
    if command == _V2_LOCAL:
        return Header(None, None, 2, rest)  # the proxy's own connection (a health check)
    af = family >> 4
    need = _ADDRESS_BYTES.get(af)
    if need is None:
        return Header(None, None, 2, rest)  # AF_UNSPEC or AF_UNIX: no address to take
    if len(body) < need:
        return ProxyError(f"v2 address block of {len(body)} bytes, under {need}")
    size = need // 2 - 2  # 4 or 16
    source = ipaddress.ip_address(body[:size])
    if isinstance(source, ipaddress.IPv6Address) and source.ipv4_mapped is not None:
        source = source.ipv4_mapped
    port = int.from_bytes(body[2 * size:2 * size + 2], "big")
    return Header(str(source), port, 2, rest)


def v1(source: str, destination: str, sport: int, dport: int) -> bytes:
    """A v1 header (what a proxy sends; for tests and tools)."""
    family = "TCP6" if ipaddress.ip_address(source).version == 6 else "TCP4"
    return f"PROXY {family} {source} {destination} {sport} {dport}\r\n".encode("ascii")


def v2(source: str | None, destination: str = "", sport: int = 0, dport: int = 0,
       tlvs: bytes = b"") -> bytes:
    """A v2 header: PROXY from `source`, or LOCAL when `source` is None (for tests and tools)."""
    if source is None:
        return V2_SIGNATURE + bytes([_V2_LOCAL, 0]) + len(tlvs).to_bytes(2, "big") + tlvs
    src, dst = ipaddress.ip_address(source), ipaddress.ip_address(destination)
    af = _AF_INET if src.version == 4 else _AF_INET6
    body = src.packed + dst.packed + sport.to_bytes(2, "big") + dport.to_bytes(2, "big") + tlvs
    return (V2_SIGNATURE + bytes([_V2_PROXY, af << 4 | 0x1]) + len(body).to_bytes(2, "big")
            + body)
