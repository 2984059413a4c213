"""The PROXY protocol header parser (v1 and v2), sans I/O: bytes in, the client's address out.

Valid headers from each family, split at every byte; broken, overlong and missing
headers; what follows a header is handed back untouched.
"""

from __future__ import annotations

import pytest

from server.gateway import proxy_protocol as pp
from server.gateway.proxy_protocol import NEED_MORE, Header, ProxyError, ProxyParser

V1_TCP4 = b"PROXY TCP4 203.0.113.7 10.0.0.1 51234 4001\r\n"
V1_TCP6 = b"PROXY TCP6 2001:db8::7 2001:db8::1 51234 4001\r\n"
V1_LONGEST = (b"PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
              b"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n")  # the spec's worst case
V1_TCP6_LONGEST = V1_LONGEST.replace(b"UNKNOWN", b"TCP6")
# AWS NLB style: PROXY, AF_INET, with a TLV (type 0xEA, the VPC endpoint id)
V2_TCP4 = pp.v2("198.51.100.9", "10.0.0.1", 40000, 4001, tlvs=b"\xea\x00\x05vpce1")
V2_TCP6 = pp.v2("2001:db8::9", "2001:db8::1", 40000, 4001)


def whole(data: bytes) -> pp.Result:
    return ProxyParser().feed(data)


@pytest.mark.parametrize(("header", "address", "port", "version"), [
    (V1_TCP4, "203.0.113.7", 51234, 1),
    (V1_TCP6, "2001:db8::7", 51234, 1),
    (V1_TCP6_LONGEST, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, 1),
    (V1_LONGEST, None, None, 1),
    (b"PROXY TCP6 ::ffff:192.0.2.1 ::1 1 2\r\n", "192.0.2.1", 1, 1),
    (b"PROXY UNKNOWN\r\n", None, None, 1),
    (b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", None, None, 1),
    (V2_TCP4, "198.51.100.9", 40000, 2),
    (V2_TCP6, "2001:db8::9", 40000, 2),
    (pp.v2(None), None, None, 2),  # LOCAL: a health check from the proxy itself
    (pp.V2_SIGNATURE + b"\x21\x00\x00\x00", None, None, 2),  # PROXY, AF_UNSPEC
])
def test_valid_headers_at_any_split(header: bytes, address: str | None, port: int | None,
                                    version: int) -> None:
    assert len(V1_LONGEST) == pp.V1_MAX
    expected = Header(address, port, version, b"IAC\xff\xfb\x18hello\r\n")
    stream = header + expected.rest
    assert whole(stream) == expected
    for cut in range(len(stream)):
        parser = ProxyParser()
        first = parser.feed(stream[:cut])
        if first is NEED_MORE:
            assert parser.feed(stream[cut:]) == expected, cut
        else:
            assert cut >= len(header) and first == Header(address, port, version,
                                                          stream[len(header):cut])


@pytest.mark.parametrize("data", [
    b"GET / HTTP/1.1\r\n",  # no header at all
    b"look\r\n",
    b"\xff\xfb\x18",
    b"PROXY TCP4 203.0.113.7 10.0.0.1 51234\r\n",  # a field missing
    b"PROXY TCP4 2001:db8::7 10.0.0.1 1 2\r\n",  # family and address disagree
    b"PROXY TCP4 203.0.113.7 10.0.0.1 70000 2\r\n",  # port out of range
    b"PROXY TCP4 203.0.113.7 10.0.0.1 01 2\r\n",  # leading zero
    b"PROXY TCP4 203.0.113.7 10.0.0.1 +1 2\r\n",
    b"PROXY TCP4  203.0.113.7 10.0.0.1 1 2\r\n",  # two spaces
    b"PROXY UDP4 203.0.113.7 10.0.0.1 1 2\r\n",
    b"PROXY TCP4 203.0.113.\xff 10.0.0.1 1 2\r\n",
    b"PROXY " + b"x" * 200 + b"\r\n",  # too long (no CR LF in 107 bytes)
    pp.V2_SIGNATURE + b"\x11\x11\x00\x0c" + bytes(12),  # version 1 in a v2 header
    pp.V2_SIGNATURE + b"\x22\x11\x00\x0c" + bytes(12),  # command 2
    pp.V2_SIGNATURE + b"\x21\x11\x00\x04" + bytes(4),  # AF_INET, 4 bytes of addresses
    pp.V2_SIGNATURE + b"\x21\x11\xff\xff",  # 65535 bytes announced: over the maximum
])
def test_broken_or_missing_headers_are_errors(data: bytes) -> None:
    result = whole(data)
    assert isinstance(result, ProxyError) and result.reason
    # byte by byte: an error as soon as the bytes cannot be a header, never more buffered
    parser = ProxyParser()
    for i in range(len(data)):
        got = parser.feed(data[i:i + 1])
        if got is not NEED_MORE:
            assert isinstance(got, ProxyError)
            break
    else:
        raise AssertionError("no error")


def test_the_parser_holds_at_most_one_header() -> None:
    parser = ProxyParser()
    assert parser.feed(b"PROXY TCP4 " + b"1" * 95) is NEED_MORE  # 106 bytes
    assert isinstance(parser.feed(b"1"), ProxyError)  # the 107th, and no CR LF
    v2 = ProxyParser()
    assert v2.feed(pp.V2_SIGNATURE + b"\x21\x11" + pp.MAX_V2_LENGTH.to_bytes(2, "big")
                   + bytes(pp.MAX_V2_LENGTH - 1)) is NEED_MORE
    assert isinstance(v2.feed(bytes(1) + b"rest"), Header)
    assert isinstance(v2.feed(b"more"), ProxyError)  # spent: one header per connection
