"""Telnet, sans I/O: bytes in, events out; calls in, bytes out.

`TelnetCodec` is the telnet state machine of one connection (RFC 854 and the
option RFCs), in the style of websockets' and h11's protocol objects: nothing in
here touches a socket, a clock or an event loop, so every edge case is a unit
test. `receive(data)` takes whatever arrived (any split of the stream) and
returns `TelnetEvent`s; the `send_*` methods and option requests queue output;
`data_to_send()` takes the bytes to write, compressed once MCCP2 is on.

Invariants:
- `receive` never raises, whatever the bytes: a line that is not UTF-8 or that
  is too long becomes an `Invalid` event with a readable message, and the next
  line works.
- Option negotiation follows RFC 1143's idea: each side of each option is NO,
  YES or WANTYES (asked, no answer yet). We answer a request only when it would
  change the state, and a refused request (DONT to our WILL, WONT to our DO) is
  remembered and never asked again, so no negotiation ever loops. Disabling is
  immediate (some clients never acknowledge a WONT); a late acknowledgement
  finds the option off and is ignored. A peer that keeps toggling one option
  gets answers for a while, then silence.
- Options we only use on request (ECHO, for passwords) are refused when the
  client asks for them unprompted.
- What a connection holds is bounded whatever the client sends: the line buffer
  (`max_line`), the subnegotiation buffer (`max_subnegotiation`), the option tables
  (256 options), the terminal types (`max_terminal_types` distinct names of at most
  `MAX_TERMINAL_TYPE` characters, only as answers to our own TTYPE SEND: an
  unsolicited answer is ignored), and GMCP bodies (JSON nested at most
  `wire.MAX_DEPTH` deep, read by `wire.loads`).

The module-level functions (`command`, `subneg`, `encode_text`, `gmcp`,
`mssp`) are the pure encoders the codec uses; tests use them to build input.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from server import wire
from server.wire import ErrorCode

# ---- bytes of RFC 854 ---------------------------------------------------------------

IAC = 255
DONT = 254
DO = 253
WONT = 252
WILL = 251
SB = 250
GA = 249
EL = 248
EC = 247
AYT = 246
AO = 245
IP = 244
BRK = 243
DM = 242
NOP = 241
SE = 240
EOR_CMD = 239  # the EOR command (RFC 885); the option below has the value 25

NUL = 0
BS = 8
LF = 10
CR = 13
DEL = 127

# ---- options ------------------------------------------------------------------------

BINARY = 0
ECHO = 1
SGA = 3
TTYPE = 24
EOR = 25
NAWS = 31
LINEMODE = 34
CHARSET = 42
MSSP = 70
MCCP2 = 86  # COMPRESS2
GMCP = 201

OPTION_NAMES = {BINARY: "BINARY", ECHO: "ECHO", SGA: "SGA", TTYPE: "TTYPE", EOR: "EOR",
                NAWS: "NAWS", LINEMODE: "LINEMODE", CHARSET: "CHARSET", MSSP: "MSSP",
                MCCP2: "COMPRESS2", GMCP: "GMCP"}

# TTYPE (RFC 1091), CHARSET (RFC 2066) and MSSP sub-commands
TTYPE_IS = 0
TTYPE_SEND = 1
CHARSET_REQUEST = 1
CHARSET_ACCEPTED = 2
CHARSET_REJECTED = 3
MSSP_VAR = 1
MSSP_VAL = 2

#: What the server offers on connect: WILL these (it does them)...
OFFER_WILL = (SGA, EOR, GMCP, MSSP, MCCP2)
#: ...and DO these (it wants the client to do them).
OFFER_DO = (NAWS, TTYPE, CHARSET)
#: Options the server does when the client asks (DO) first; ECHO is not here: the
#: server only echoes (that is, hides the input) when it asks, for a password.
ACCEPT_LOCAL = frozenset({BINARY, SGA, EOR, GMCP, MSSP, MCCP2, CHARSET})
#: Options the client may do when it offers them (WILL).
ACCEPT_REMOTE = frozenset({BINARY, SGA, NAWS, TTYPE, CHARSET, GMCP})

MAX_TTYPE_ASKS = 3  # MTTS: client name, terminal type, "MTTS <bits>" (the default bound)
MAX_TERMINAL_TYPE = 64  # a terminal type is cut to this many characters
MAX_REPLIES = 16  # answers per option before a toggling peer is ignored

_DATA_SPECIAL = re.compile(rb"[\x00\x08\n\r\x7f\xff]")
_UTF8_NAMES = {"UTF-8", "UTF8"}


def option_name(option: int) -> str:
    """A readable name for logs ("NAWS", or the number)."""
    return OPTION_NAMES.get(option, str(option))


# ---- events -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    """A line the client typed, decoded, without its line ending."""

    text: str


@dataclass(frozen=True, slots=True)
class Invalid:
    """Input that could not be a line; `message` is for the person who sent it."""

    code: str  # bad_frame (not UTF-8) or too_large
    message: str


@dataclass(frozen=True, slots=True)
class OptionEnabled:
    """An option is now on: `local` means the server does it (WILL), else the client."""

    option: int
    local: bool


@dataclass(frozen=True, slots=True)
class OptionDisabled:
    """The client turned off an option that was on."""

    option: int
    local: bool


@dataclass(frozen=True, slots=True)
class OptionRefused:
    """The client said no to an option we asked for; we will not ask again."""

    option: int
    local: bool


@dataclass(frozen=True, slots=True)
class WindowSize:
    """NAWS (RFC 1073): the client's window in columns and rows (0 means unknown)."""

    width: int
    height: int


@dataclass(frozen=True, slots=True)
class TerminalType:
    """TTYPE (RFC 1091) answer; asked up to three times for MTTS."""

    name: str


@dataclass(frozen=True, slots=True)
class Charset:
    """CHARSET (RFC 2066): the client accepted `name`, or rejected our offer."""

    name: str
    accepted: bool


@dataclass(frozen=True, slots=True)
class GmcpMessage:
    """A GMCP message from the client: `Package.Name` and its JSON data (or None).

    A body that is not JSON (or is nested too deep) comes as its text, with `error`
    saying why (not compared: events are equal whatever the parser's wording).
    """

    package: str
    data: Any
    error: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Subnegotiation:
    """Any other subnegotiation, unescaped."""

    option: int
    payload: bytes


TelnetEvent = (Line | Invalid | OptionEnabled | OptionDisabled | OptionRefused | WindowSize
               | TerminalType | Charset | GmcpMessage | Subnegotiation)


# ---- pure encoders --------------------------------------------------------------------


def command(verb: int, option: int | None = None) -> bytes:
    """IAC verb [option]."""
    return bytes([IAC, verb]) if option is None else bytes([IAC, verb, option])


def escape(data: bytes) -> bytes:
    """Double every IAC byte so that it reads as data."""
    return data.replace(b"\xff", b"\xff\xff")


def subneg(option: int, payload: bytes) -> bytes:
    """IAC SB option payload IAC SE, with IAC in the payload doubled."""
    return bytes([IAC, SB, option]) + escape(payload) + bytes([IAC, SE])


def encode_text(text: str) -> bytes:
    """Text for the network virtual terminal: UTF-8, CR LF line ends, IAC doubled."""
    text = text.replace("\r\n", "\n").replace("\r", "")
    return escape(text.replace("\n", "\r\n").encode("utf-8"))


def gmcp(package: str, data: Any = None) -> bytes:
    """A GMCP message: IAC SB 201 "Package.Name <json>" IAC SE."""
    body = package
    if data is not None:
        body += " " + json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return subneg(GMCP, body.encode("utf-8"))


def _mssp_value(value: object) -> bytes:
    raw = str(int(value) if isinstance(value, bool) else value).encode("utf-8")
    return bytes(b for b in raw if b not in (NUL, MSSP_VAR, MSSP_VAL, IAC))


def mssp(variables: Mapping[str, object]) -> bytes:
    """The MSSP table: IAC SB 70 (MSSP_VAR name (MSSP_VAL value)+)* IAC SE.

    A value that is a list or tuple gives the variable several values; booleans
    are written 1 and 0, as crawlers expect.
    """
    out = bytearray()
    for name, value in variables.items():
        out.append(MSSP_VAR)
        out += _mssp_value(name)
        values: Iterable[object] = value if isinstance(value, list | tuple) else (value,)
        for v in values:
            out.append(MSSP_VAL)
            out += _mssp_value(v)
    return subneg(MSSP, bytes(out))


def read_gmcp(payload: bytes) -> GmcpMessage:
    """A GMCP subnegotiation's payload, "Package.Name <json>", as an event; never raises.

    The body is read by `wire.loads` (no nesting deeper than `wire.MAX_DEPTH`); a body
    it refuses comes as text, with the reason in `error`.
    """
    text = payload.decode("utf-8", "replace").strip()
    package, _, body = text.partition(" ")
    body = body.strip()
    if not body:
        return GmcpMessage(package, None)
    try:
        return GmcpMessage(package, wire.loads(body))
    except (ValueError, RecursionError) as err:  # RecursionError: belt and braces
        return GmcpMessage(package, body, error=str(err)[:200] or type(err).__name__)


# ---- option state ---------------------------------------------------------------------


class _Q(IntEnum):
    NO = 0
    YES = 1
    WANTYES = 2


@dataclass(slots=True)
class _Side:
    """One side (ours or theirs) of one option."""

    state: _Q = _Q.NO
    opposite: bool = False  # asked to turn off while a request to turn on is out
    refused: bool = False
    replies: int = 0


class _In(IntEnum):
    DATA = 0
    IAC = 1
    VERB = 2
    SB_OPTION = 3
    SB_DATA = 4
    SB_IAC = 5


class TelnetCodec:
    """The telnet side of one connection (server end).

    Args:
        max_line: the longest line in bytes; longer ones are dropped with an
            `Invalid` event (the session's message size limit).
        max_subnegotiation: the longest subnegotiation payload; longer ones are
            dropped whole.
        name: what to answer to Are-You-There.
        max_terminal_types: distinct terminal types kept (and TTYPE SENDs asked) at most.
    """

    def __init__(self, max_line: int = 8192, max_subnegotiation: int = 8192,
                 name: str = "Aegent Quest", max_terminal_types: int = MAX_TTYPE_ASKS) -> None:
        self.max_line = max_line
        self.max_subnegotiation = max_subnegotiation
        self.name = name
        self.max_terminal_types = max_terminal_types
        #: whether the client has sent any telnet command: a client that never does
        #: gets no IAC from us after the first offers (no GA, no ECHO, no NOP)
        self.telnet_seen = False
        self.terminal_types: list[str] = []
        self.charset = "UTF-8"
        self.dropped_subnegotiations = 0
        self._state = _In.DATA
        self._line = bytearray()
        self._overflow = 0  # > 0 while dropping an overlong line: its length so far
        self._cr = False  # the last data byte was CR (swallow the LF or NUL after it)
        self._verb = 0
        self._sb_option = 0
        self._sb = bytearray()
        self._sb_overflow = False
        self._local: dict[int, _Side] = {}
        self._remote: dict[int, _Side] = {}
        self._ttype_asks = 0
        self._ttype_waiting = False  # a TTYPE SEND is out: the next IS answers it
        self._ttype_done = False  # the MTTS cycle repeated, or the bound was hit
        self.ignored_terminal_types = 0  # answers nobody asked for
        self._charset_asked = False
        self._plain = bytearray()  # output not yet through the compressor
        self._out = bytearray()  # output ready for the wire
        self._compressor: Any = None  # zlib.compressobj() while MCCP2 is on

    # ---- options ------------------------------------------------------------------

    def _side(self, option: int, local: bool) -> _Side:
        table = self._local if local else self._remote
        side = table.get(option)
        if side is None:
            side = table[option] = _Side()
        return side

    def enabled(self, option: int, local: bool = True) -> bool:
        """Whether `option` is on (`local`: we do it; else the client does)."""
        table = self._local if local else self._remote
        side = table.get(option)
        return side is not None and side.state is _Q.YES

    def refused(self, option: int, local: bool = True) -> bool:
        """Whether the client refused `option` when we asked."""
        table = self._local if local else self._remote
        side = table.get(option)
        return side is not None and side.refused

    def enable(self, option: int, local: bool = True) -> bool:
        """Ask for `option` (WILL if `local`, else DO); False if it was refused before."""
        side = self._side(option, local)
        if side.refused:
            return False
        if side.state is _Q.NO:
            side.state = _Q.WANTYES
            self._emit(command(WILL if local else DO, option))
        side.opposite = False
        return True

    def disable(self, option: int, local: bool = True) -> None:
        """Turn `option` off (WONT if `local`, else DONT); effective at once."""
        side = self._side(option, local)
        if side.state is _Q.YES:
            side.state = _Q.NO
            self._emit(command(WONT if local else DONT, option))
            if local and option == MCCP2:
                self._stop_compression()
        elif side.state is _Q.WANTYES:
            side.opposite = True

    def start(self) -> None:
        """Queue the offers a new connection gets."""
        for option in OFFER_WILL:
            self.enable(option, local=True)
        for option in OFFER_DO:
            self.enable(option, local=False)

    def _negotiated(self, verb: int, option: int, events: list[TelnetEvent]) -> None:
        local = verb in (DO, DONT)
        positive = verb in (WILL, DO)
        yes = WILL if local else DO
        no = WONT if local else DONT
        side = self._side(option, local)
        state = side.state

        def reply(answer: int) -> None:
            side.replies += 1
            if side.replies <= MAX_REPLIES:
                self._emit(command(answer, option))

        if positive:
            if state is _Q.NO:
                if option in (ACCEPT_LOCAL if local else ACCEPT_REMOTE):
                    side.state = _Q.YES
                    reply(yes)
                    self._on_enabled(option, local, events)
                else:
                    reply(no)
            elif state is _Q.WANTYES:
                if side.opposite:
                    side.state, side.opposite = _Q.NO, False
                    reply(no)
                else:
                    side.state = _Q.YES
                    self._on_enabled(option, local, events)
        else:
            if state is _Q.YES:
                side.state = _Q.NO
                reply(no)
                if local and option == MCCP2:
                    self._stop_compression()
                events.append(OptionDisabled(option, local))
            elif state is _Q.WANTYES:
                side.state = _Q.NO
                if not side.opposite:
                    side.refused = True
                    events.append(OptionRefused(option, local))
                side.opposite = False

    def _on_enabled(self, option: int, local: bool, events: list[TelnetEvent]) -> None:
        if local and option == MCCP2:
            self._start_compression()
        elif not local and option == TTYPE and not self._ttype_waiting:
            self._ask_ttype()
        elif option == CHARSET and not self._charset_asked:
            self._charset_asked = True
            self._emit(subneg(CHARSET, bytes([CHARSET_REQUEST]) + b";UTF-8"))
        events.append(OptionEnabled(option, local))

    def _ask_ttype(self) -> None:
        if self._ttype_done or self._ttype_asks >= self.max_terminal_types:
            self._ttype_done = True
            return
        self._ttype_asks += 1
        self._ttype_waiting = True
        self._emit(subneg(TTYPE, bytes([TTYPE_SEND])))

    def footprint(self) -> dict[str, int]:
        """What this connection's input makes the codec hold, for bounds checks and tests."""
        return {"line": len(self._line), "subnegotiation": len(self._sb),
                "options": len(self._local) + len(self._remote),
                "terminal_types": len(self.terminal_types),
                "terminal_type_chars": max(map(len, self.terminal_types), default=0)}

    @property
    def gmcp(self) -> bool:
        """Whether GMCP is on (either side agreeing is enough)."""
        return self.enabled(GMCP, True) or self.enabled(GMCP, False)

    @property
    def compressing(self) -> bool:
        """Whether output goes through MCCP2 compression."""
        return self._compressor is not None

    # ---- input --------------------------------------------------------------------

    def receive(self, data: bytes) -> list[TelnetEvent]:
        """Take bytes from the client; return what they meant. Never raises."""
        events: list[TelnetEvent] = []
        i, n = 0, len(data)
        while i < n:
            state = self._state
            if state is _In.DATA:
                m = _DATA_SPECIAL.search(data, i)
                end = m.start() if m else n
                if end > i:
                    self._cr = False
                    self._add(data[i:end])
                    i = end
                    continue
                b = data[i]
                i += 1
                if b == IAC:
                    self._state = _In.IAC
                elif b == CR:
                    self._end_line(events)
                    self._cr = True
                elif b == LF:
                    if self._cr:
                        self._cr = False
                    else:
                        self._end_line(events)
                elif b == NUL:
                    self._cr = False  # CR NUL is a bare CR; a NUL on its own is nothing
                else:  # BS, DEL: erase, as a line-mode client would have
                    self._cr = False
                    self._erase()
            elif state is _In.IAC:
                b = data[i]
                i += 1
                self._state = _In.DATA
                if b == IAC:
                    self._cr = False
                    self._add(b"\xff")
                    continue
                if b < EOR_CMD:
                    # Not a telnet command: keep both as data (the line will then
                    # fail UTF-8 decoding and get a clear answer).
                    self._cr = False
                    self._add(b"\xff")
                    i -= 1
                    continue
                self.telnet_seen = True
                if b in (WILL, WONT, DO, DONT):
                    self._verb = b
                    self._state = _In.VERB
                elif b == SB:
                    self._state = _In.SB_OPTION
                elif b == AYT:
                    self._emit(encode_text(f"\n[{self.name}: yes]\n"))
                elif b == EC:
                    self._erase()
                elif b == EL and not self._overflow:
                    self._line.clear()
                # NOP, DM, BRK, IP, AO, GA, EOR and a stray SE carry nothing for us
            elif state is _In.VERB:
                self._state = _In.DATA
                self._negotiated(self._verb, data[i], events)
                i += 1
            elif state is _In.SB_OPTION:
                if data[i] == IAC:
                    # IAC SB IAC: no option byte (a broken client); read the IAC as
                    # the start of a command, so IAC SE brings plain reading back.
                    self.dropped_subnegotiations += 1
                    self._state = _In.IAC
                    i += 1
                    continue
                self._sb_option = data[i]
                self._sb.clear()
                self._sb_overflow = False
                self._state = _In.SB_DATA
                i += 1
            elif state is _In.SB_DATA:
                end = data.find(b"\xff", i)
                if end < 0:
                    end = n
                self._sb_add(data[i:end])
                i = end
                if i < n:
                    i += 1
                    self._state = _In.SB_IAC
            else:  # SB_IAC
                b = data[i]
                i += 1
                if b == IAC:
                    self._sb_add(b"\xff")
                    self._state = _In.SB_DATA
                elif b == SE:
                    self._state = _In.DATA
                    if self._sb_overflow:
                        self.dropped_subnegotiations += 1
                    else:
                        self._subnegotiation(self._sb_option, bytes(self._sb), events)
                    self._sb.clear()
                else:
                    # IAC <command> inside SB: the client forgot IAC SE. Drop the
                    # subnegotiation and read this as an ordinary command.
                    self.dropped_subnegotiations += 1
                    self._sb.clear()
                    self._state = _In.IAC
                    i -= 1
        return events

    def _add(self, chunk: bytes) -> None:
        if self._overflow:
            self._overflow += len(chunk)
        elif len(self._line) + len(chunk) > self.max_line:
            self._overflow = len(self._line) + len(chunk)
            self._line.clear()
        else:
            self._line += chunk

    def _erase(self) -> None:
        line = self._line
        if self._overflow or not line:
            return
        while line and 0x80 <= line[-1] < 0xC0:  # continuation bytes of one character
            line.pop()
        if line:
            line.pop()

    def _end_line(self, events: list[TelnetEvent]) -> None:
        if self._overflow:
            events.append(Invalid(ErrorCode.TOO_LARGE,
                                  f"That line was {self._overflow} bytes long, over the limit "
                                  f"of {self.max_line}; it was ignored."))
            self._overflow = 0
            return
        raw = bytes(self._line)
        self._line.clear()
        try:
            events.append(Line(raw.decode("utf-8")))
        except UnicodeDecodeError as err:
            events.append(Invalid(ErrorCode.BAD_FRAME,
                                  f"That line is not UTF-8 text (byte 0x{raw[err.start]:02x} at "
                                  f"position {err.start + 1}); it was ignored. Please set your "
                                  "client to UTF-8."))

    def _sb_add(self, chunk: bytes) -> None:
        if self._sb_overflow:
            return
        if len(self._sb) + len(chunk) > self.max_subnegotiation:
            self._sb_overflow = True
            self._sb.clear()
        else:
            self._sb += chunk

    def _subnegotiation(self, option: int, payload: bytes, events: list[TelnetEvent]) -> None:
        if option == NAWS and len(payload) == 4:
            events.append(WindowSize(payload[0] << 8 | payload[1], payload[2] << 8 | payload[3]))
        elif option == TTYPE and payload[:1] == bytes([TTYPE_IS]):
            self._terminal_type(payload[1:], events)
        elif option == CHARSET and payload:
            self._charset(payload, events)
        elif option == GMCP:
            events.append(read_gmcp(payload))
        else:
            events.append(Subnegotiation(option, payload))

    def _terminal_type(self, raw: bytes, events: list[TelnetEvent]) -> None:
        """MTTS: ask again after each new name, until a name repeats or the bound is hit."""
        if not self._ttype_waiting:
            self.ignored_terminal_types += 1  # unsolicited: nothing kept, nothing said
            return
        self._ttype_waiting = False
        name = "".join(c if " " <= c <= "~" else "?"
                       for c in raw[:MAX_TERMINAL_TYPE].decode("ascii", "replace"))
        if name in self.terminal_types:
            self._ttype_done = True  # the cycle came round: we know them all
            return
        self.terminal_types.append(name)
        events.append(TerminalType(name))
        if len(self.terminal_types) < self.max_terminal_types:
            self._ask_ttype()
        else:
            self._ttype_done = True

    def _charset(self, payload: bytes, events: list[TelnetEvent]) -> None:
        kind, rest = payload[0], payload[1:]
        if kind == CHARSET_ACCEPTED:
            name = rest.decode("ascii", "replace").strip()
            if name.upper() in _UTF8_NAMES:
                self.charset = "UTF-8"
            events.append(Charset(name, True))
        elif kind == CHARSET_REJECTED:
            events.append(Charset("", False))
        elif kind == CHARSET_REQUEST:
            # RFC 2066: when both ends ask at once, the server's request wins.
            if self._charset_asked:
                return
            if rest.startswith(b"[TTABLE]"):
                rest = rest[9:]
            if not rest:
                self._emit(subneg(CHARSET, bytes([CHARSET_REJECTED])))
                return
            names = [x.decode("ascii", "replace") for x in rest[1:].split(rest[:1])]
            for name in names:
                if name.strip().upper() in _UTF8_NAMES:
                    self._emit(subneg(CHARSET, bytes([CHARSET_ACCEPTED]) + name.encode()))
                    events.append(Charset(name, True))
                    return
            self._emit(subneg(CHARSET, bytes([CHARSET_REJECTED])))

    # ---- output -------------------------------------------------------------------

    def _emit(self, raw: bytes) -> None:
        self._plain += raw

    def send_text(self, text: str, prompt: bool = False) -> None:
        """Queue text (`\\n` line ends); with `prompt`, mark its end as a prompt."""
        self._emit(encode_text(text))
        if prompt:
            self.send_prompt_end()

    def send_prompt_end(self) -> None:
        """Mark the end of a prompt: IAC EOR if agreed, else IAC GA unless SGA is on.

        A client that never spoke telnet gets nothing: no IAC surprises.
        """
        if self.enabled(EOR):
            self._emit(command(EOR_CMD))
        elif self.telnet_seen and not self.enabled(SGA):
            self._emit(command(GA))

    def send_gmcp(self, package: str, data: Any = None) -> bool:
        """Queue a GMCP message if GMCP is on; return whether it was."""
        if not self.gmcp:
            return False
        self._emit(gmcp(package, data))
        return True

    def send_mssp(self, variables: Mapping[str, object]) -> None:
        """Queue the MSSP table (normally once MSSP is on)."""
        self._emit(mssp(variables))

    def send_nop(self) -> None:
        """Queue IAC NOP (a keepalive that needs no answer), for telnet clients only."""
        if self.telnet_seen:
            self._emit(command(NOP))

    def _start_compression(self) -> None:
        # IAC SB COMPRESS2 IAC SE goes out plain; every byte after it is compressed.
        self._emit(subneg(MCCP2, b""))
        self._out += self._plain
        self._plain.clear()
        self._compressor = zlib.compressobj()

    def _stop_compression(self) -> None:
        if self._compressor is None:
            return
        self._out += self._compressor.compress(bytes(self._plain))
        self._out += self._compressor.flush(zlib.Z_FINISH)
        self._plain.clear()
        self._compressor = None

    def finish(self) -> None:
        """Before closing: end the compressed stream cleanly (MCCP2)."""
        self._stop_compression()

    def data_to_send(self) -> bytes:
        """Take every byte queued so far, ready for the wire (one sync flush if compressing)."""
        if self._plain:
            if self._compressor is not None:
                self._out += self._compressor.compress(bytes(self._plain))
                self._out += self._compressor.flush(zlib.Z_SYNC_FLUSH)
            else:
                self._out += self._plain
            self._plain.clear()
        data = bytes(self._out)
        self._out.clear()
        return data
