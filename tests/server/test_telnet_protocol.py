"""The telnet codec, sans I/O: raw bytes in, events and bytes out.

Edge cases of RFC 854 and the option RFCs: IAC IAC, sequences split across
reads (at every byte boundary), line endings, refused options (never asked
again), NAWS/TTYPE/CHARSET/GMCP parsing, bytes that are not UTF-8, overlong
lines, MCCP2 and MSSP output.
"""

from __future__ import annotations

import json
import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from server.gateway import telnet_protocol as tp
from server.gateway.telnet_protocol import (
    CHARSET,
    DO,
    DONT,
    ECHO,
    EOR,
    GA,
    GMCP,
    IAC,
    MCCP2,
    MSSP,
    NAWS,
    SB,
    SE,
    SGA,
    TTYPE,
    WILL,
    WONT,
    Charset,
    GmcpMessage,
    Invalid,
    Line,
    OptionDisabled,
    OptionEnabled,
    OptionRefused,
    TelnetCodec,
    TelnetEvent,
    TerminalType,
    WindowSize,
    command,
    subneg,
)

OFFERS = (b"".join(command(WILL, o) for o in tp.OFFER_WILL)
          + b"".join(command(DO, o) for o in tp.OFFER_DO))


def started() -> TelnetCodec:
    """A codec that has sent its offers (taken off the output)."""
    codec = TelnetCodec(max_line=64)
    codec.start()
    assert codec.data_to_send() == OFFERS
    return codec


def lines(events: list[TelnetEvent]) -> list[str]:
    return [e.text for e in events if isinstance(e, Line)]


# ---- lines ----------------------------------------------------------------------------


def test_line_endings_cr_lf_lf_cr_nul_and_bare_cr() -> None:
    codec = TelnetCodec()
    events = codec.receive(b"one\r\ntwo\nthree\r\x00four\rfive\r\n")
    assert lines(events) == ["one", "two", "three", "four", "five"]
    assert codec.data_to_send() == b""  # a plain client gets no telnet back


def test_a_line_ending_split_across_reads_is_one_line_end() -> None:
    codec = TelnetCodec()
    assert lines(codec.receive(b"look\r")) == ["look"]
    assert codec.receive(b"\n") == []  # the LF of CR LF, not an empty line
    assert lines(codec.receive(b"\r")) == [""]
    assert codec.receive(b"\x00") == []
    assert lines(codec.receive(b"\n")) == [""]  # LF on its own after CR NUL: a new line


def test_iac_iac_is_a_literal_255() -> None:
    codec = TelnetCodec()
    events = codec.receive(b"a\xff\xffb\r\n")
    # 0xFF is data, and data that is not UTF-8 gets a clear answer naming the byte
    assert len(events) == 1 and isinstance(events[0], Invalid)
    assert events[0].code == "bad_frame" and "0xff" in events[0].message
    # IAC IAC in a subnegotiation is a 255 in the payload
    events = codec.receive(subneg(NAWS, bytes([0, 255, 0, 24])))
    assert bytes([IAC, SB, NAWS, 0, IAC, IAC, 0, 24, IAC, SE]) == subneg(NAWS, b"\x00\xff\x00\x18")
    assert events == [WindowSize(255, 24)]


def test_invalid_utf8_gets_a_clear_error_and_the_next_line_works() -> None:
    codec = TelnetCodec()
    events = codec.receive(b"caf\xe9 au lait\r\nsay hi\r\n")
    assert isinstance(events[0], Invalid)
    assert "not UTF-8" in events[0].message and "0xe9" in events[0].message
    assert "position 4" in events[0].message
    assert events[1] == Line("say hi")


def test_utf8_split_across_reads_decodes() -> None:
    codec = TelnetCodec()
    data = "say héllo ☃\r\n".encode()
    events: list[TelnetEvent] = []
    for i in range(len(data)):
        events += codec.receive(data[i:i + 1])
    assert events == [Line("say héllo ☃")]


def test_an_overlong_line_is_refused_and_bounded_and_the_next_line_works() -> None:
    codec = TelnetCodec(max_line=100)
    events = codec.receive(b"x" * 60)
    events += codec.receive(b"y" * 10_000)
    assert len(codec._line) <= 100  # nothing piles up while the line is dropped
    events += codec.receive(b"\r\nlook\r\n")
    assert isinstance(events[0], Invalid) and events[0].code == "too_large"
    assert "10060 bytes" in events[0].message and "100" in events[0].message
    assert events[1:] == [Line("look")]
    # exactly the limit is fine
    assert codec.receive(b"z" * 100 + b"\n") == [Line("z" * 100)]


def test_erase_character_and_line() -> None:
    codec = TelnetCodec()
    # BS and DEL erase one character (a whole UTF-8 one), IAC EC too; IAC EL the line
    data = b"sax\x08y h\xc3\xa9\x7fi" + bytes([IAC, tp.EC]) + b"o\r\n"
    assert lines(codec.receive(data)) == ["say ho"]
    assert lines(codec.receive(b"garbage" + bytes([IAC, tp.EL]) + b"look\n")) == ["look"]


def test_other_commands_are_stripped_and_ayt_is_answered() -> None:
    codec = TelnetCodec(name="Test MUD")
    data = (b"lo" + command(tp.NOP) + command(tp.DM) + b"o" + command(tp.IP)
            + command(GA) + command(tp.EOR_CMD) + b"k\r\n")
    assert codec.receive(data) == [Line("look")]
    assert codec.data_to_send() == b""
    assert codec.receive(command(tp.AYT)) == []
    assert codec.data_to_send() == b"\r\n[Test MUD: yes]\r\n"


def test_iac_before_a_byte_that_is_no_command_is_data() -> None:
    codec = TelnetCodec()
    events = codec.receive(b"\xffabc\r\nok\r\n")
    assert isinstance(events[0], Invalid) and "0xff" in events[0].message
    assert events[1] == Line("ok")


def test_a_subnegotiation_without_se_is_dropped_and_reading_goes_on() -> None:
    codec = started()
    events = codec.receive(bytes([IAC, SB, NAWS, 0, 80]) + command(WILL, NAWS) + b"hi\r\n")
    assert OptionEnabled(NAWS, False) in events and Line("hi") in events
    assert codec.dropped_subnegotiations == 1


def test_an_oversized_subnegotiation_is_dropped() -> None:
    codec = TelnetCodec()
    codec.max_subnegotiation = 16
    events = codec.receive(subneg(GMCP, b"Core.Hello " + b"x" * 100) + b"ok\n")
    assert events == [Line("ok")]
    assert codec.dropped_subnegotiations == 1


# ---- any split of the stream ------------------------------------------------------------

STREAM = (
    b"na" + command(WILL, NAWS) + b"me\r\n"
    + subneg(NAWS, bytes([0, 100, 0, 40]))
    + command(DO, SGA) + command(DONT, MSSP) + command(DO, EOR)
    + b"pass\xe2\x98\x83word\r\x00"
    + command(WILL, TTYPE) + subneg(TTYPE, b"\x00MUDLET")
    + b"x\xff\xffy\n"
    + subneg(GMCP, b'Core.Hello {"client":"Mudlet","version":"4.17"}')
    + command(tp.NOP) + b"last\r\n"
)


def test_the_same_events_and_answers_for_any_split_of_the_stream() -> None:
    whole = started()
    expected = whole.receive(STREAM)
    expected_out = whole.data_to_send()
    assert lines(expected) == ["name", "pass☃word", "last"]
    assert WindowSize(100, 40) in expected and TerminalType("MUDLET") in expected
    assert OptionRefused(MSSP, True) in expected
    assert GmcpMessage("Core.Hello", {"client": "Mudlet", "version": "4.17"}) in expected
    assert any(isinstance(e, Invalid) for e in expected)  # the 255 in "x\xffy"
    for cut in range(1, len(STREAM)):
        codec = started()
        got = codec.receive(STREAM[:cut]) + codec.receive(STREAM[cut:])
        assert got == expected, cut
        assert codec.data_to_send() == expected_out, cut
    codec = started()
    got = []
    for i in range(len(STREAM)):
        got += codec.receive(STREAM[i:i + 1])
    assert got == expected
    assert codec.data_to_send() == expected_out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=12))
def test_receive_never_raises(chunks: list[bytes]) -> None:
    codec = TelnetCodec(max_line=32, max_subnegotiation=32)
    codec.start()
    for chunk in chunks:
        for event in codec.receive(chunk):
            if isinstance(event, Line):
                assert len(event.text.encode()) <= 32
        assert isinstance(codec.data_to_send(), bytes)
    # whatever came before, ending a subnegotiation and a line brings plain reading back
    events = codec.receive(bytes([IAC, SE]) + b"\r\nstill here\r\n")
    assert events[-1] == Line("still here")


# ---- negotiation ---------------------------------------------------------------------------


def test_offers_are_answered_once_and_agreements_are_not_answered() -> None:
    codec = started()
    events = codec.receive(command(DO, SGA) + command(DO, EOR) + command(WILL, NAWS))
    assert events == [OptionEnabled(SGA, True), OptionEnabled(EOR, True),
                      OptionEnabled(NAWS, False)]
    assert codec.data_to_send() == b""  # DO answers our WILL: nothing to say back
    assert codec.receive(command(DO, SGA)) == []  # already on: no reply, no loop
    assert codec.data_to_send() == b""


def test_refused_options_are_remembered_and_never_asked_again() -> None:
    codec = started()
    events = codec.receive(command(DONT, MSSP) + command(WONT, TTYPE) + command(DONT, MCCP2))
    assert events == [OptionRefused(MSSP, True), OptionRefused(TTYPE, False),
                      OptionRefused(MCCP2, True)]
    assert codec.data_to_send() == b""  # a refusal is not answered
    assert codec.enable(MSSP) is False and codec.enable(TTYPE, local=False) is False
    codec.start()  # even offering everything again asks nothing refused
    out = codec.data_to_send()
    assert command(WILL, MSSP) not in out and command(DO, TTYPE) not in out
    assert out == b""  # the rest are still waiting for an answer: not asked twice
    assert codec.refused(MSSP) and not codec.enabled(MSSP)


def test_echo_for_passwords_and_no_loop_on_acknowledgements() -> None:
    codec = started()
    codec.receive(command(DO, SGA))  # a telnet client
    assert codec.enable(ECHO) is True
    assert codec.data_to_send() == command(WILL, ECHO)
    assert codec.receive(command(DO, ECHO)) == [OptionEnabled(ECHO, True)]
    assert codec.data_to_send() == b""
    codec.disable(ECHO)
    assert codec.data_to_send() == command(WONT, ECHO) and not codec.enabled(ECHO)
    assert codec.receive(command(DONT, ECHO)) == []  # the acknowledgement
    assert codec.data_to_send() == b""
    # a client that refuses is not asked at the next password
    assert codec.enable(ECHO) is True
    assert codec.data_to_send() == command(WILL, ECHO)
    assert codec.receive(command(DONT, ECHO)) == [OptionRefused(ECHO, True)]
    assert codec.enable(ECHO) is False and codec.data_to_send() == b""


def test_unasked_for_echo_and_unknown_options_are_refused() -> None:
    codec = started()
    codec.receive(command(DO, ECHO) + command(DO, 99) + command(WILL, 98))
    assert codec.data_to_send() == command(WONT, ECHO) + command(WONT, 99) + command(DONT, 98)
    assert not codec.enabled(ECHO)


def test_the_client_may_turn_an_option_off_and_we_acknowledge_once() -> None:
    codec = started()
    codec.receive(command(WILL, NAWS))
    assert codec.receive(command(WONT, NAWS)) == [OptionDisabled(NAWS, False)]
    assert codec.data_to_send() == command(DONT, NAWS)
    assert codec.receive(command(WONT, NAWS)) == []  # already off
    assert codec.data_to_send() == b""


def test_a_peer_that_keeps_toggling_gets_answers_then_silence() -> None:
    codec = started()
    for _ in range(100):
        codec.receive(command(WILL, NAWS) + command(WONT, NAWS))
    out = codec.data_to_send()
    assert out.count(command(DONT, NAWS)) + out.count(command(DO, NAWS)) == tp.MAX_REPLIES


def test_a_disable_while_asking_is_queued() -> None:
    codec = TelnetCodec()
    codec.receive(command(tp.NOP))
    codec.enable(ECHO)
    codec.disable(ECHO)  # changed our mind before the answer
    assert codec.data_to_send() == command(WILL, ECHO)
    codec.receive(command(DO, ECHO))
    assert codec.data_to_send() == command(WONT, ECHO) and not codec.enabled(ECHO)


# ---- subnegotiations -------------------------------------------------------------------------


def test_naws() -> None:
    codec = started()
    events = codec.receive(command(WILL, NAWS) + subneg(NAWS, bytes([0, 40, 0, 25])))
    assert events[-1] == WindowSize(40, 25)
    assert codec.receive(subneg(NAWS, bytes([1, 44, 0, 0]))) == [WindowSize(300, 0)]


def test_ttype_is_asked_again_for_mtts_until_it_repeats() -> None:
    codec = started()
    codec.receive(command(WILL, TTYPE))
    send = subneg(TTYPE, bytes([tp.TTYPE_SEND]))
    assert codec.data_to_send() == send
    assert codec.receive(subneg(TTYPE, b"\x00MUDLET")) == [TerminalType("MUDLET")]
    assert codec.data_to_send() == send
    assert codec.receive(subneg(TTYPE, b"\x00XTERM-256COLOR")) == [TerminalType("XTERM-256COLOR")]
    assert codec.data_to_send() == send
    assert codec.receive(subneg(TTYPE, b"\x00MTTS 137")) == [TerminalType("MTTS 137")]
    assert codec.data_to_send() == b""  # three asks at most
    assert codec.terminal_types == ["MUDLET", "XTERM-256COLOR", "MTTS 137"]

    plain = started()
    plain.receive(command(WILL, TTYPE) + subneg(TTYPE, b"\x00xterm"))
    plain.data_to_send()
    assert plain.receive(subneg(TTYPE, b"\x00xterm")) == []  # a repeat ends the cycle
    assert plain.data_to_send() == b""


def test_charset_request_accepted_and_rejected() -> None:
    codec = started()
    codec.receive(command(WILL, CHARSET))
    assert codec.data_to_send() == subneg(CHARSET, b"\x01;UTF-8")
    assert codec.receive(subneg(CHARSET, b"\x02UTF-8")) == [Charset("UTF-8", True)]
    other = started()
    other.receive(command(WILL, CHARSET))
    other.data_to_send()
    assert other.receive(subneg(CHARSET, b"\x03")) == [Charset("", False)]


def test_charset_request_from_the_client() -> None:
    codec = TelnetCodec()
    codec.receive(subneg(CHARSET, b"\x01[TTABLE]\x01 ISO-8859-1 utf-8"))
    assert codec.data_to_send() == subneg(CHARSET, b"\x02utf-8")
    codec = TelnetCodec()
    codec.receive(subneg(CHARSET, b"\x01;ISO-8859-1;CP437"))
    assert codec.data_to_send() == subneg(CHARSET, b"\x03")


def test_gmcp_from_the_client() -> None:
    codec = started()
    events = codec.receive(subneg(GMCP, b'Core.Supports.Set ["Char 1", "Room 1"]')
                           + subneg(GMCP, b"Core.Ping") + subneg(GMCP, b"Bad.Json {nope"))
    assert events == [GmcpMessage("Core.Supports.Set", ["Char 1", "Room 1"]),
                      GmcpMessage("Core.Ping", None), GmcpMessage("Bad.Json", "{nope")]


# ---- output -------------------------------------------------------------------------------------


def test_text_is_utf8_with_cr_lf_and_iac_doubled() -> None:
    assert tp.encode_text("a\nb\r\nc ☃") == b"a\r\nb\r\nc \xe2\x98\x83"
    assert tp.escape(b"\xff\x01\xff") == b"\xff\xff\x01\xff\xff"


def test_gmcp_encoding() -> None:
    data = {"hp": 10, "name": "Ann ☃"}
    raw = tp.gmcp("Char.Vitals", data)
    assert raw[:3] == bytes([IAC, SB, GMCP]) and raw[-2:] == bytes([IAC, SE])
    package, _, body = raw[3:-2].decode().partition(" ")
    assert package == "Char.Vitals" and json.loads(body) == data
    assert tp.gmcp("Core.Ping") == bytes([IAC, SB, GMCP]) + b"Core.Ping" + bytes([IAC, SE])
    codec = started()
    assert codec.send_gmcp("Char.Vitals", data) is False  # not agreed: nothing
    assert codec.data_to_send() == b""
    codec.receive(command(DO, GMCP))
    assert codec.send_gmcp("Char.Vitals", data) is True
    assert codec.data_to_send() == raw


def test_mssp_bytes() -> None:
    raw = tp.mssp({"NAME": "Aegent Quest", "PLAYERS": 3, "ANSI": True, "PORT": [4000, 4001]})
    assert raw == (bytes([IAC, SB, MSSP]) + b"\x01NAME\x02Aegent Quest\x01PLAYERS\x023"
                   b"\x01ANSI\x021\x01PORT\x024000\x024001" + bytes([IAC, SE]))
    # the separators cannot hide in a value
    assert tp.mssp({"X": "a\x01b\x02c\x00d"}) == (bytes([IAC, SB, MSSP]) + b"\x01X\x02abcd"
                                                 + bytes([IAC, SE]))


def test_prompt_end_marker() -> None:
    silent = started()
    silent.send_text("> ", prompt=True)
    assert silent.data_to_send() == b"> "  # never spoke telnet: no GA
    ga = started()
    ga.receive(command(DONT, SGA))
    ga.send_prompt_end()
    assert ga.data_to_send() == command(GA)
    sga = started()
    sga.receive(command(DO, SGA))
    sga.send_prompt_end()
    assert sga.data_to_send() == b""
    eor = started()
    eor.receive(command(DO, SGA) + command(DO, EOR))
    eor.send_text("> ", prompt=True)
    assert eor.data_to_send() == b"> " + command(tp.EOR_CMD)


def test_nop_only_for_telnet_clients() -> None:
    codec = started()
    codec.send_nop()
    assert codec.data_to_send() == b""
    codec.receive(command(DO, SGA))
    codec.send_nop()
    assert codec.data_to_send() == command(tp.NOP)


def test_mccp2_compresses_everything_after_the_start_marker() -> None:
    codec = started()
    codec.send_text("before\n")
    codec.receive(command(DO, MCCP2) + command(DO, GMCP))
    assert codec.compressing
    codec.send_text("Town Square\nA fountain.\n", prompt=True)
    codec.send_gmcp("Room.Info", {"id": "haven:square"})
    wire = codec.data_to_send()
    marker = subneg(MCCP2, b"")
    plain, _, compressed = wire.partition(marker)
    assert plain == b"before\r\n"
    d = zlib.decompressobj()
    text = d.decompress(compressed)
    assert text == b"Town Square\r\nA fountain.\r\n" + command(GA) + tp.gmcp(
        "Room.Info", {"id": "haven:square"})
    codec.send_text("more\n")
    assert d.decompress(codec.data_to_send()) == b"more\r\n"  # one sync flush per write
    codec.finish()
    d.decompress(codec.data_to_send())
    assert d.eof and not codec.compressing


def test_mccp2_stops_when_the_client_says_dont() -> None:
    codec = started()
    codec.receive(command(DO, MCCP2))
    wire = codec.data_to_send()
    assert wire.endswith(subneg(MCCP2, b""))
    assert codec.receive(command(DONT, MCCP2)) == [OptionDisabled(MCCP2, True)]
    codec.send_text("plain again\n")
    tail = codec.data_to_send()
    d = zlib.decompressobj()
    assert d.decompress(tail) == command(WONT, MCCP2)
    assert d.eof and d.unused_data == b"plain again\r\n"
