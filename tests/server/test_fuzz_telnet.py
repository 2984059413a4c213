"""Property tests: whatever bytes a telnet client (or a proxy) sends, in whatever pieces.

- `TelnetCodec.receive` never raises, and what it holds stays within its bounds
  (line and subnegotiation buffers, option tables, terminal types), as does the
  GMCP package list the shell builds from its events;
- the same bytes split differently give the same events and the same answers;
- the PROXY header parser never raises, never holds more than one header, and a
  valid header split anywhere parses the same.

The byte strategies mix random bytes with telnet's own (IAC, SB ... SE, WILL/DO,
TTYPE answers, GMCP messages with deep nesting) so that the interesting states are
reached, not just the plain-text path.
"""

from __future__ import annotations

import ipaddress
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.gateway import gmcp
from server.gateway import proxy_protocol as pp
from server.gateway import telnet_protocol as tp
from server.gateway.telnet_protocol import (
    GMCP,
    IAC,
    SB,
    SE,
    TTYPE,
    TelnetCodec,
    TelnetEvent,
    command,
)

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
MAX_LINE = 48
MAX_SB = 4200  # room for a GMCP body nested 4000 deep
MAX_TYPES = 4
MAX_SUPPORTS = 5

OPTIONS = st.sampled_from([tp.ECHO, tp.SGA, TTYPE, tp.EOR, tp.NAWS, tp.CHARSET, tp.MSSP,
                           tp.MCCP2, GMCP, 0, 99, 255])
VERBS = st.sampled_from([tp.WILL, tp.WONT, tp.DO, tp.DONT])
gmcp_bodies = st.one_of(
    st.sampled_from([b'Core.Supports.Add ["Char 1","Room 1"]', b'Core.Supports.Set ["A 1"]',
                     b'Core.Supports.Remove ["Char"]', b'Core.Hello {"client":"x"}',
                     b"Core.Ping", b"Bad {nope"]),
    st.builds(lambda verb, names, n: verb + json.dumps(names).encode() + b"[" * n,
              st.sampled_from([b"Core.Supports.Add ", b"Core.Supports.Set "]),
              st.lists(st.text("abcdefgh ", max_size=6), max_size=6),
              st.sampled_from([0, 0, 0, 1, 40, 4000])),
)
ttype_answers = st.builds(lambda name: tp.subneg(TTYPE, b"\x00" + name),
                          st.binary(max_size=80) | st.sampled_from([b"MUDLET", b"ANSI"]))
tokens = st.one_of(
    st.binary(max_size=16),
    st.sampled_from([bytes([IAC]), bytes([IAC, IAC]), bytes([IAC, SB]), bytes([IAC, SE]),
                     b"\r", b"\n", b"\r\n", b"\r\x00", b"\x08", b"\x7f", command(tp.AYT),
                     command(tp.EC), command(tp.EL), command(tp.NOP), b"\xe2\x98\x83"]),
    st.builds(command, VERBS, OPTIONS),
    ttype_answers,
    st.lists(ttype_answers, min_size=4, max_size=10).map(b"".join),  # a burst of answers
    st.lists(gmcp_bodies, min_size=4, max_size=10).map(
        lambda bodies: b"".join(tp.subneg(GMCP, body) for body in bodies)),
    st.builds(lambda body: tp.subneg(GMCP, body), gmcp_bodies),
    st.builds(lambda body: tp.subneg(GMCP, body), gmcp_bodies),
    st.builds(tp.subneg, OPTIONS, st.binary(max_size=80)),
)
streams = st.lists(tokens, max_size=40).map(b"".join)


def codec() -> TelnetCodec:
    c = TelnetCodec(max_line=MAX_LINE, max_subnegotiation=MAX_SB, max_terminal_types=MAX_TYPES)
    c.start()
    c.receive(command(tp.WILL, TTYPE))  # the client agreed: asked for its terminal type
    c.data_to_send()
    return c


def check_bounds(c: TelnetCodec, supports: gmcp.Supports) -> None:
    held = c.footprint()
    assert held["line"] <= MAX_LINE and held["subnegotiation"] <= MAX_SB
    assert held["options"] <= 2 * 256
    assert held["terminal_types"] <= MAX_TYPES
    assert held["terminal_type_chars"] <= tp.MAX_TERMINAL_TYPE
    assert len(supports) <= MAX_SUPPORTS
    assert all(len(entry) <= gmcp.MAX_NAME for entry in supports)


def feed(c: TelnetCodec, supports: gmcp.Supports, chunk: bytes) -> list[TelnetEvent]:
    events = c.receive(chunk)
    for event in events:  # as the shell does with them
        if isinstance(event, tp.GmcpMessage) and not event.error:
            supports.update(event.package, event.data)
        elif isinstance(event, tp.Line):
            assert len(event.text.encode("utf-8")) <= MAX_LINE
    return events


def cut(data: bytes, points: list[int]) -> list[bytes]:
    marks = sorted({p % (len(data) + 1) for p in points})
    return [data[a:b] for a, b in zip([0, *marks], [*marks, len(data)], strict=True)]


@FUZZ
@given(streams, st.lists(st.integers(min_value=0), max_size=12))
def test_any_bytes_any_split_never_raise_and_stay_bounded(data: bytes, points: list[int]
                                                          ) -> None:
    c, supports = codec(), gmcp.Supports(MAX_SUPPORTS)
    for chunk in cut(data, points):
        feed(c, supports, chunk)
        check_bounds(c, supports)
        assert isinstance(c.data_to_send(), bytes)


@FUZZ
@given(streams, st.lists(st.integers(min_value=0), max_size=12))
def test_the_same_bytes_split_differently_give_the_same_events(data: bytes, points: list[int]
                                                                ) -> None:
    whole, whole_supports = codec(), gmcp.Supports(MAX_SUPPORTS)
    expected = feed(whole, whole_supports, data)
    split, split_supports = codec(), gmcp.Supports(MAX_SUPPORTS)
    got: list[TelnetEvent] = []
    for chunk in cut(data, points):
        got += feed(split, split_supports, chunk)
    assert got == expected
    assert split.data_to_send() == whole.data_to_send()
    assert list(split_supports) == list(whole_supports)
    assert split.terminal_types == whole.terminal_types


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(gmcp.SUPPORTS + ("Core.Hello",)),
                          st.one_of(st.lists(st.text(max_size=70) | st.integers(), max_size=20),
                                    st.none(), st.text(max_size=5))), max_size=30))
def test_supports_stays_within_its_limit(messages: list[tuple[str, object]]) -> None:
    supports = gmcp.Supports(MAX_SUPPORTS)
    for package, data in messages:
        before = len(supports)
        ignored = supports.update(package, data)
        assert ignored >= 0 and len(supports) <= MAX_SUPPORTS
        if package == "core.supports.remove":
            assert len(supports) <= before
    names = [entry.split(" ", 1)[0].lower() for entry in supports]
    assert len(names) == len(set(names))  # one entry per package


# ---- PROXY protocol ---------------------------------------------------------------------------


@FUZZ
@given(st.one_of(st.binary(max_size=300),
                 st.binary(max_size=120).map(lambda b: b"PROXY " + b),
                 st.binary(max_size=120).map(lambda b: pp.V2_SIGNATURE + b)),
       st.lists(st.integers(min_value=0), max_size=8))
def test_proxy_parser_never_raises_and_holds_one_header_at_most(data: bytes, points: list[int]
                                                                ) -> None:
    parser = pp.ProxyParser()
    fed = 0
    for chunk in cut(data, points):
        fed += len(chunk)
        result = parser.feed(chunk)
        if result is pp.NEED_MORE:
            assert fed < pp.V2_HEADER + pp.MAX_V2_LENGTH
            continue
        assert isinstance(result, pp.Header | pp.ProxyError)
        if isinstance(result, pp.Header):
            assert data.endswith(result.rest)
        break


addresses = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6))
ports = st.integers(0, 65535)


@FUZZ
@given(st.data(), st.sampled_from([1, 2]), addresses, ports, st.binary(max_size=64),
       st.binary(max_size=40), st.lists(st.integers(min_value=0), max_size=8))
def test_a_valid_proxy_header_split_anywhere_parses_the_same(
        data: st.DataObject, version: int,
        source: ipaddress.IPv4Address | ipaddress.IPv6Address, sport: int, tlvs: bytes,
        rest: bytes, points: list[int]) -> None:
    dest = data.draw(st.ip_addresses(v=source.version))
    if version == 1:
        header = pp.v1(str(source), str(dest), sport, 4001)
    else:
        header = pp.v2(str(source), str(dest), sport, 4001, tlvs=tlvs)
    mapped = source.ipv4_mapped if isinstance(source, ipaddress.IPv6Address) else None
    expected = pp.Header(str(mapped or source), sport, version, rest)
    assert pp.ProxyParser().feed(header + rest) == expected
    parser = pp.ProxyParser()
    pieces = cut(header + rest, points)
    for i, piece in enumerate(pieces):
        result = parser.feed(piece)
        if result is not pp.NEED_MORE:
            assert isinstance(result, pp.Header) and result.address == expected.address
            assert result.port == sport and result.version == version
            assert result.rest + b"".join(pieces[i + 1:]) == rest
            break
    else:
        raise AssertionError("the header never parsed")
