"""Hardening of the telnet codec and the GMCP package list, sans I/O.

Each test replays an attack against the real codec (or `gmcp.Supports`): floods of
terminal-type answers nobody asked for, an MTTS cycle that never repeats, GMCP
bodies nested thousands deep, `Core.Supports.Add` repeated forever.
"""

from __future__ import annotations

from server import wire
from server.gateway import gmcp
from server.gateway import telnet_protocol as tp
from server.gateway.telnet_protocol import (
    GMCP,
    TTYPE,
    WILL,
    GmcpMessage,
    Line,
    TelnetCodec,
    TerminalType,
    command,
    subneg,
)

SEND = subneg(TTYPE, bytes([tp.TTYPE_SEND]))


def is_(name: bytes) -> bytes:
    return subneg(TTYPE, b"\x00" + name)


def started(**kwargs: int) -> TelnetCodec:
    codec = TelnetCodec(**kwargs)  # type: ignore[arg-type]
    codec.start()
    codec.data_to_send()
    return codec


# ---- terminal types ------------------------------------------------------------------------


def test_unsolicited_terminal_types_are_ignored() -> None:
    codec = started()
    flood = b"".join(is_(b"TERM-%d" % i) for i in range(1000))
    assert codec.receive(flood) == []  # never asked: nothing kept, nothing said
    assert codec.terminal_types == [] and codec.ignored_terminal_types == 1000
    assert codec.data_to_send() == b""
    # asked: each answer is taken and asked again (MTTS) up to the bound, no further
    codec.receive(command(WILL, TTYPE))
    assert codec.data_to_send() == SEND
    events = codec.receive(flood)
    assert events == [TerminalType("TERM-0"), TerminalType("TERM-1"), TerminalType("TERM-2")]
    assert codec.terminal_types == ["TERM-0", "TERM-1", "TERM-2"]
    assert codec.data_to_send() == SEND * 2  # the bound (3) is reached on the third
    assert codec.ignored_terminal_types == 1000 + 997


def test_a_cycle_that_never_repeats_stops_at_the_bound() -> None:
    codec = started(max_terminal_types=5)
    codec.receive(command(WILL, TTYPE))
    names = []
    for i in range(100):
        if codec.data_to_send() != SEND:
            break
        name = b"T%d-" % i + b"x" * 500  # long, and never the same twice
        names.append(codec.receive(is_(name)))
    assert len(names) == 5
    assert len(codec.terminal_types) == 5
    assert all(len(t) == tp.MAX_TERMINAL_TYPE for t in codec.terminal_types)
    assert codec.receive(is_(b"more")) == [] and codec.data_to_send() == b""
    # turning TTYPE off and on again asks nothing more
    codec.receive(command(tp.WONT, TTYPE) + command(WILL, TTYPE))
    assert SEND not in codec.data_to_send()


def test_the_mtts_cycle_ends_at_the_first_name_seen_again() -> None:
    codec = started(max_terminal_types=8)
    codec.receive(command(WILL, TTYPE))
    assert codec.data_to_send() == SEND
    assert codec.receive(is_(b"MUDLET")) == [TerminalType("MUDLET")]
    assert codec.data_to_send() == SEND
    assert codec.receive(is_(b"ANSI")) == [TerminalType("ANSI")]
    assert codec.data_to_send() == SEND
    assert codec.receive(is_(b"MUDLET")) == []  # back to the start: we know them all
    assert codec.data_to_send() == b""
    assert codec.terminal_types == ["MUDLET", "ANSI"]


def test_terminal_types_are_printable_ascii() -> None:
    codec = started()
    codec.receive(command(WILL, TTYPE))
    assert codec.receive(is_(b"X\x1b[31m\xc3\xa9\n")) == [TerminalType("X?[31m???")]


# ---- GMCP bodies ------------------------------------------------------------------------------


def test_a_deeply_nested_gmcp_body_is_refused_not_raised() -> None:
    codec = started()
    body = b"Core.Supports.Add " + b"[" * 4000
    events = codec.receive(subneg(GMCP, body) + b"still here\r\n")
    assert len(events) == 2 and events[1] == Line("still here")
    msg = events[0]
    assert isinstance(msg, GmcpMessage) and msg.package == "Core.Supports.Add"
    assert msg.data == "[" * 4000 and "deeper" in msg.error
    ok = codec.receive(subneg(GMCP, b'Core.Hello ' + b'{"a":' * wire.MAX_DEPTH + b"1"
                              + b"}" * wire.MAX_DEPTH))
    assert isinstance(ok[0], GmcpMessage) and ok[0].error == "" and isinstance(ok[0].data, dict)


def test_a_gmcp_body_that_is_not_json_says_why() -> None:
    (msg,) = started().receive(subneg(GMCP, b"Bad.Json {nope"))
    assert msg == GmcpMessage("Bad.Json", "{nope")
    assert isinstance(msg, GmcpMessage) and msg.error
    (huge,) = started().receive(subneg(GMCP, b"Char.Number " + b"9" * 6000))
    assert isinstance(huge, GmcpMessage) and huge.error  # int too long: an error, not a crash


# ---- Core.Supports ------------------------------------------------------------------------------


def test_supports_set_add_remove() -> None:
    s = gmcp.Supports(limit=64)
    assert s.update("Core.Supports.Set", ["Char 1", "Room 1"]) == 0
    assert list(s) == ["Char 1", "Room 1"] and "char" in s and "CHAR" in s
    assert s.update("core.supports.add", ["Char 2", "Comm.Channel 1", "Char 2"]) == 0
    assert list(s) == ["Char 2", "Room 1", "Comm.Channel 1"]  # one entry per package
    assert s.update("Core.Supports.Remove", ["Room", "Nope 1"]) == 0
    assert list(s) == ["Char 2", "Comm.Channel 1"]
    assert s.update("Core.Supports.Set", ["IRE.Rift 1"]) == 0
    assert list(s) == ["IRE.Rift 1"]
    assert s.update("Core.Hello", {"client": "x"}) == 0 and len(s) == 1


def test_repeated_supports_add_is_bounded() -> None:
    s = gmcp.Supports(limit=8)
    ignored = 0
    for i in range(500):
        ignored += s.update("Core.Supports.Add", [f"Pkg{i}.Sub{j} 1" for j in range(64)])
    assert len(s) == 8 and ignored == 500 * 64 - 8
    assert s.update("Core.Supports.Add", ["Pkg0.Sub0 2"]) == 0  # a known one: updated
    assert "Pkg0.Sub0 2" in list(s)
    assert s.update("Core.Supports.Add", "[[[[") == 1  # not a list
    assert s.update("Core.Supports.Add", [1, None, "", "x" * 1000]) == 4  # full: x ignored
    s.update("Core.Supports.Set", ["y" * 1000])
    assert list(s) == ["y" * gmcp.MAX_NAME]
