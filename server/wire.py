"""The wire format: subprotocols, codecs, client messages and error codes.

This module imports only the standard library and msgpack: it is the one server
module that agents/ (and anyone's client) may import. Structured messages are
maps with a `type` key; unknown keys are ignored so that both sides can grow.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from itertools import chain
from typing import Any, cast

import msgpack
import orjson

PROTOCOL_VERSION = 1
MAX_ID_LENGTH = 64


class Subprotocol(StrEnum):
    """The WebSocket subprotocols the server speaks."""

    TEXT = "aegent.text"
    JSON = "aegent.json"
    MSGPACK = "aegent.msgpack"
    # The MUD community's (mudstandards.org/websocket): text-mode sessions, other framing.
    MUD_TERMINAL = "terminal.mudstandards.org"
    MUD_GMCP = "gmcp.mudstandards.org"
    MUD_JSON = "json.mudstandards.org"

    @property
    def text_mode(self) -> bool:
        """Whether sessions on it speak lines of text (login dialogue, prompt), not messages."""
        return self not in (Subprotocol.JSON, Subprotocol.MSGPACK)

    @property
    def mudstandards(self) -> bool:
        """Whether it is one of the MUD community's (text in binary frames) rather than ours."""
        return self.value.endswith(".mudstandards.org")


class ErrorCode(StrEnum):
    """Stable error codes of the protocol itself (commands add the world's own)."""

    BAD_JSON = "bad_json"
    BAD_MSGPACK = "bad_msgpack"
    BAD_FRAME = "bad_frame"
    BAD_MESSAGE = "bad_message"
    UNKNOWN_TYPE = "unknown_type"
    MISSING_FIELD = "missing_field"
    BAD_FIELD = "bad_field"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    NOT_AUTHENTICATED = "not_authenticated"
    ALREADY_AUTHENTICATED = "already_authenticated"
    AUTH_FAILED = "auth_failed"
    NAME_TAKEN = "name_taken"
    BAD_NAME = "bad_name"
    BAD_PASSWORD = "bad_password"
    THROTTLED = "throttled"
    BANNED = "banned"
    UNKNOWN_CLASS = "unknown_class"
    BUSY = "busy"
    KEY_REVOKED = "key_revoked"  # the agent's API key was revoked: the connection closes
    FORBIDDEN_SCOPE = "forbidden_scope"  # the API key's scopes do not grant that command
    NOT_AN_AGENT = "not_an_agent"  # `usage` is for sessions logged in with an agent's key
    BUDGET_EXCEEDED = "budget_exceeded"  # a `usage` reservation does not fit a daily budget
    UNKNOWN_RESERVATION = "unknown_reservation"  # settled already, expired, or never made
    LOCKSTEP_OFF = "lockstep_off"  # `advance` on a server whose world runs on the clock
    WORLD_UNAVAILABLE = "world_unavailable"  # the world can't take input now: nothing was done
    INTERNAL = "internal_error"


class WireError(Exception):
    """A message that could not be read or is not allowed now."""

    def __init__(self, code: ErrorCode | str, message: str, id: Any = None) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message
        self.id = id


# ---- client -> server messages -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Register:
    """Create an account and its character, and log in."""

    name: str
    password: str = field(repr=False)
    cls: str | None = None
    id: Any = None
    batch: bool = False  # events grouped into `events` messages (`events_frame`)


@dataclass(frozen=True, slots=True)
class Login:
    """Log in with name and password, or with an agent's API key."""

    name: str | None = None
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    id: Any = None
    batch: bool = False  # events grouped into `events` messages (`events_frame`)


@dataclass(frozen=True, slots=True)
class Exists:
    """Ask whether a character of this name exists, before asking for its password (a
    login dialogue as telnet's: a password for an existing one, else the questions of a
    new one). Answered with `{"type": "exists", "name", "exists", "problem"?}`."""

    name: str
    id: Any = None


@dataclass(frozen=True, slots=True)
class Command:
    """A line, as a person types it."""

    line: str
    id: Any = None


@dataclass(frozen=True, slots=True)
class CallTool:
    """A structured command: a tool and its arguments."""

    tool: str
    args: dict[str, Any] = field(default_factory=dict)
    id: Any = None


@dataclass(frozen=True, slots=True)
class Tools:
    """Ask for the tool list (`all`: also the tools the API key's scopes do not grant,
    each marked with `allowed`; a fixed list for MCP bridges)."""

    id: Any = None
    all: bool = False


@dataclass(frozen=True, slots=True)
class Ping:
    """Ask for a pong."""

    id: Any = None


@dataclass(frozen=True, slots=True)
class Observe:
    """Ask for an `observation`: a full snapshot and the actions that make sense now."""

    id: Any = None


MAX_ADVANCE_TICKS = 10**9
"""`advance` asks for at most this many ticks on the wire; the server's own bound
(`advance_max_ticks`) is lower."""


@dataclass(frozen=True, slots=True)
class Advance:
    """Lockstep only (server/host/lockstep.py): run `ticks` world ticks now, then answer with
    a `result` once their output has gone out to every session."""

    ticks: int = 1
    id: Any = None


USAGE_OPS = ("reserve", "settle", "report")
MAX_USAGE_TOKENS = 100_000_000  # more tokens than any one model call uses


@dataclass(frozen=True, slots=True)
class Usage:
    """An agent's accounting of one model call (docs/protocol.md, `usage`).

    `reserve` holds `max_tokens` (the worst case) for `model` in the agent's budgets;
    `settle` releases `reservation` and records the real token counts; `report`
    records a call made without a reservation.
    """

    op: str
    model: str | None = None
    max_tokens: int = 0
    reservation: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    id: Any = None


def usage_data(msg: Usage) -> dict[str, Any]:
    """`msg` as the map `parse_message` reads back (a gateway sends it on to the world
    host)."""
    data = {f.name: getattr(msg, f.name) for f in fields(msg)}
    return {"type": "usage", **{k: v for k, v in data.items() if v is not None}}


ClientMessage = (Register | Login | Exists | Command | CallTool | Tools | Ping | Observe | Usage
                 | Advance)


MIN_ID_INT, MAX_ID_INT = -(2**63), 2**63 - 1
"""Integer ids are signed 64-bit, so that both codecs (and every client's) can send them
back; JavaScript clients should keep to ±2**53 or use strings."""


def _id(msg: dict[str, Any]) -> Any:
    """The message's `id`, checked before anything is done with the message: it is echoed
    in every reply, so a value the codecs cannot encode back (a huge integer, a float, a
    map, a long string) is refused here, not after the command ran. Booleans are not ids.
    """
    value = msg.get("id")
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) > MAX_ID_LENGTH:
            raise WireError(ErrorCode.BAD_FIELD, f"'id' is longer than {MAX_ID_LENGTH}")
        if not value.isascii():  # lone surrogates: the decoders refuse them already
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise WireError(ErrorCode.BAD_FIELD, "'id' is not valid Unicode") from None
        return value
    if type(value) is int and MIN_ID_INT <= value <= MAX_ID_INT:
        return value
    raise WireError(ErrorCode.BAD_FIELD, f"'id' must be a string of at most {MAX_ID_LENGTH} "
                    "characters or an integer from -2**63 to 2**63-1")


def _str(msg: dict[str, Any], key: str, mid: Any, *, required: bool = True) -> str | None:
    value = msg.get(key)
    if value is None:
        if required:
            raise WireError(ErrorCode.MISSING_FIELD, f"'{key}' is required", mid)
        return None
    if not isinstance(value, str):
        raise WireError(ErrorCode.BAD_FIELD, f"'{key}' must be a string", mid)
    return value


def _tokens(msg: dict[str, Any], key: str, mid: Any, *, required: bool = True) -> int:
    value = msg.get(key)
    if value is None:
        if required:
            raise WireError(ErrorCode.MISSING_FIELD, f"'{key}' is required", mid)
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not (
            0 <= value <= MAX_USAGE_TOKENS):
        raise WireError(ErrorCode.BAD_FIELD,
                        f"'{key}' must be a whole number from 0 to {MAX_USAGE_TOKENS}", mid)
    return value


def _usage(msg: dict[str, Any], mid: Any) -> Usage:
    op = _str(msg, "op", mid) or ""
    if op not in USAGE_OPS:
        raise WireError(ErrorCode.BAD_FIELD, f"'op' must be one of {', '.join(USAGE_OPS)}", mid)
    model = _str(msg, "model", mid, required=op != "settle")
    if model is not None and not (0 < len(model) <= 200):
        raise WireError(ErrorCode.BAD_FIELD, "'model' must be 1 to 200 characters", mid)
    if model is not None and clean_text(model, newlines=False) != model:  # stored, then shown
        raise WireError(ErrorCode.BAD_FIELD, "'model' must have no control characters", mid)
    if op == "reserve":
        return Usage(op, model, max_tokens=_tokens(msg, "max_tokens", mid), id=mid)
    reservation = _str(msg, "reservation", mid, required=op == "settle")
    if reservation is not None and not (0 < len(reservation) <= MAX_ID_LENGTH):
        raise WireError(ErrorCode.BAD_FIELD, f"'reservation' must be 1 to {MAX_ID_LENGTH} "
                        "characters", mid)
    prompt = _tokens(msg, "prompt_tokens", mid)
    cached = _tokens(msg, "cached_tokens", mid, required=False)
    if cached > prompt:
        raise WireError(ErrorCode.BAD_FIELD, "'cached_tokens' cannot be more than "
                        "'prompt_tokens' (cached tokens are part of the prompt)", mid)
    return Usage(op, model, reservation=reservation if op == "settle" else None,
                 prompt_tokens=prompt, completion_tokens=_tokens(msg, "completion_tokens", mid),
                 cached_tokens=cached, id=mid)


def parse_message(msg: Any) -> ClientMessage:
    """Turn a decoded map into a client message.

    Raises:
        WireError: not a map, no or unknown `type`, a missing or mistyped field.
    """
    if not isinstance(msg, dict):
        raise WireError(ErrorCode.BAD_MESSAGE, "a message must be a map with a 'type'")
    mid = _id(msg)
    kind = msg.get("type")
    if kind is None:
        raise WireError(ErrorCode.MISSING_FIELD, "'type' is required", mid)
    if kind == "command":
        return Command(line=_str(msg, "line", mid) or "", id=mid)
    if kind == "call":
        tool = _str(msg, "tool", mid) or ""
        args = msg.get("args", {})
        if args is None:
            args = {}
        if not isinstance(args, dict):
            raise WireError(ErrorCode.BAD_FIELD, "'args' must be a map", mid)
        return CallTool(tool=tool, args=args, id=mid)
    if kind == "ping":
        return Ping(id=mid)
    if kind == "tools":
        every = msg.get("all", False)
        if not isinstance(every, bool):
            raise WireError(ErrorCode.BAD_FIELD, "'all' must be true or false", mid)
        return Tools(id=mid, all=every)
    if kind == "observe":
        return Observe(id=mid)
    if kind == "login":
        batch = _batch(msg, mid)
        api_key = _str(msg, "api_key", mid, required=False)
        if api_key is not None:
            return Login(api_key=api_key, id=mid, batch=batch)
        return Login(name=_str(msg, "name", mid), password=_str(msg, "password", mid), id=mid,
                     batch=batch)
    if kind == "usage":
        return _usage(msg, mid)
    if kind == "exists":
        return Exists(name=_str(msg, "name", mid) or "", id=mid)
    if kind == "advance":
        ticks = msg.get("ticks", 1)
        if isinstance(ticks, bool) or not isinstance(ticks, int) or not (
                1 <= ticks <= MAX_ADVANCE_TICKS):
            raise WireError(ErrorCode.BAD_FIELD, "'ticks' must be a whole number from 1 to "
                            f"{MAX_ADVANCE_TICKS}", mid)
        return Advance(ticks=ticks, id=mid)
    if kind == "register":
        return Register(
            name=_str(msg, "name", mid) or "",
            password=_str(msg, "password", mid) or "",
            cls=_str(msg, "class", mid, required=False),
            id=mid,
            batch=_batch(msg, mid),
        )
    shown = repr(kind[:40]) if isinstance(kind, str) else f"({type(kind).__name__})"
    raise WireError(ErrorCode.UNKNOWN_TYPE, f"unknown message type {shown}", mid)


# ---- codecs ----------------------------------------------------------------------

MAX_DEPTH = 32
"""Arrays and objects nest at most this deep in anything a client sends (JSON, msgpack,
GMCP bodies); deeper input is refused before it is parsed, never a RecursionError."""


def too_deep(text: str | bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON `text` opens more than `limit` arrays or objects at once (brackets in
    strings are skipped). Cheap for the usual case: only text with more than `limit`
    opening brackets is scanned."""
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", "replace")
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            if depth > limit:
                return True
        elif c in "]}":
            depth -= 1
    return False


def loads(text: str | bytes) -> Any:
    """Strict JSON (RFC 8259), refusing input nested deeper than `MAX_DEPTH`.

    orjson rather than `json.loads`: it refuses what the encoders cannot send back, so
    nothing read here can break a reply later: lone UTF-16 surrogates (`"\\ud800"`,
    which no UTF-8 encoder takes), `NaN` and `Infinity`, numbers that overflow a double.
    Integers beyond 64 bits come back as floats (`id` refuses those).

    Raises:
        ValueError: not JSON, or nested too deep.
    """
    if too_deep(text):
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    return orjson.loads(text)


def decode_json(data: str | bytes) -> Any:
    """Decode one JSON text frame.

    Raises:
        WireError: `bad_json` (or `bad_frame` for a binary frame).
    """
    if isinstance(data, bytes | bytearray):
        raise WireError(ErrorCode.BAD_FRAME, "aegent.json takes text frames")
    try:
        return loads(data)
    except ValueError as exc:
        raise WireError(ErrorCode.BAD_JSON, f"invalid JSON: {exc}") from None


def decode_msgpack(data: str | bytes) -> Any:
    """Decode one msgpack binary frame into the JSON data model.

    msgpack itself bounds every declared length by the frame's size (a header claiming
    2**32 entries or a 4 GB string in a small frame is refused before anything is
    allocated) and nesting at 1024; on top of that, nesting deeper than `MAX_DEPTH`,
    map keys that are not strings, `bin` and `ext` values (timestamps included) are
    refused, so a message means the same in both codecs and can be encoded back.

    Raises:
        WireError: `bad_msgpack` (or `bad_frame` for a text frame).
    """
    if isinstance(data, str):
        raise WireError(ErrorCode.BAD_FRAME, "aegent.msgpack takes binary frames")
    # msgpack itself refuses any bin or ext value with a byte in it (and bytes keys,
    # which are bin): only empty ones can pass, and those show as a type byte followed
    # by a zero length (a scan in C). Then nothing needs walking but the nesting, and
    # that only if the frame has more container type bytes than MAX_DEPTH.
    try:
        value = msgpack.unpackb(data, raw=False, strict_map_key=True, max_bin_len=0,
                                max_ext_len=0)
        empty = _may_hold_empty_bin(data)
    except Exception:  # msgpack raises several unrelated types; looked at the slow way
        try:
            value = msgpack.unpackb(data, raw=False, strict_map_key=True)
        except Exception as exc:
            raise WireError(ErrorCode.BAD_MSGPACK,
                            f"invalid msgpack: {type(exc).__name__}") from None
        empty = True  # a bin or an ext: `_not_plain` says where
    if empty:
        problem = _not_plain(value, 0)
    elif len(data) - len(data.translate(None, _CONTAINER_TYPE_BYTES)) > MAX_DEPTH:
        problem = _too_deep(value)
    else:
        problem = None
    if problem is not None:
        raise WireError(ErrorCode.BAD_MSGPACK, f"invalid msgpack: {problem}")
    return value


_EMPTY_BIN_EXT = re.compile(rb"[\xc4-\xc9]\x00")
"""A bin 8/16/32 or ext 8/16/32 type byte followed by a zero: where an empty one may be."""
_CONTAINER_TYPE_BYTES = bytes(range(0x80, 0xA0)) + bytes((0xDC, 0xDD, 0xDE, 0xDF))
"""fixmap, fixarray, array 16/32 and map 16/32: one of these starts every container."""


def _may_hold_empty_bin(data: bytes) -> bool:
    """Whether `data` may hold an empty bin or ext value: one of their type bytes followed
    by a zero (the length's first byte), the only ones `max_bin_len=0, max_ext_len=0` let
    through (fixext is never empty). One scan in C; a number or text holding those two
    bytes only costs a walk."""
    return _EMPTY_BIN_EXT.search(data) is not None


def _too_deep(value: Any) -> str | None:
    """Whether decoded (plain) msgpack `value` nests deeper than `MAX_DEPTH`: level by
    level, the maps and the lists of a level apart, each level's items gathered and
    their types looked at in C; only a level that mixes containers with other values is
    sorted in Python. (A list of fifty events, or of a room's hundred and fifty people,
    is one pass in C per level.)"""
    dicts: list[Any] = [value] if type(value) is dict else []
    lists: list[Any] = [value] if type(value) is list else []
    depth = 0
    while dicts or lists:
        depth += 1
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        items = list(chain(chain.from_iterable(map(dict.values, dicts)),
                           chain.from_iterable(lists)))
        kinds = set(map(type, items))
        has_dict, has_list = dict in kinds, list in kinds
        if not (has_dict or has_list):
            return None
        if len(kinds) == 1:  # all maps, or all lists
            dicts, lists = (items, []) if has_dict else ([], items)
        else:
            dicts = [x for x in items if type(x) is dict] if has_dict else []
            lists = [x for x in items if type(x) is list] if has_list else []
    return None


def _not_plain(value: Any, depth: int) -> str | None:
    """What makes decoded msgpack `value` more than JSON's data model, or None. Recursion
    stops at `MAX_DEPTH`, so this is cheap and bounded."""
    if isinstance(value, dict):
        depth += 1
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        for key, item in value.items():
            if not isinstance(key, str):
                return "map keys must be strings"
            problem = _not_plain(item, depth)
            if problem is not None:
                return problem
    elif isinstance(value, list):
        depth += 1
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        for item in value:
            problem = _not_plain(item, depth)
            if problem is not None:
                return problem
    elif value is not None and not isinstance(value, str | int | float):  # bool is an int
        return f"{type(value).__name__} values are not part of the protocol"
    return None


_ORJSON_OPTS = orjson.OPT_NON_STR_KEYS


def _batch(msg: dict[str, Any], mid: Any) -> bool:
    """A login's or registration's `batch`: whether the client takes `events` messages."""
    batch = msg.get("batch", False)
    if not isinstance(batch, bool):
        raise WireError(ErrorCode.BAD_FIELD, "'batch' must be true or false", mid)
    return batch


EVENTS_FRAME_BYTES = 256 * 1024
"""An `events` message is closed once the events in it reach this many bytes (the next
ones start another), so no client gets a frame past its size limit from batching."""


def events_frame(frames: Sequence[str | bytes], seq: int) -> str | bytes:
    """One `events` message holding `frames` (events encoded without `seq`, all in one
    codec): `{"type":"events","seq":N,"events":[...]}`, `seq` being the first one's; the
    others follow it one by one. Made by joining the encoded events, not by encoding
    them again."""
    if not frames or isinstance(frames[0], str):
        texts = cast("Sequence[str]", frames)
        return f'{{"type":"events","seq":{seq},"events":[{",".join(texts)}]}}'
    n = len(frames)
    if n < 16:
        head = bytes((0x90 | n,))
    elif n < 0x10000:
        head = b"\xdc" + n.to_bytes(2, "big")
    else:
        head = b"\xdd" + n.to_bytes(4, "big")
    return b"".join((_EVENTS_HEAD, _pack_int(seq), _EVENTS_KEY, head,
                     *cast("Sequence[bytes]", frames)))


_EVENTS_HEAD = b"\x83\xa4type\xa6events\xa3seq"
_EVENTS_KEY = b"\xa6events"


def encode_json(msg: dict[str, Any]) -> str:
    """Encode one message as compact JSON (UTF-8 text, no ASCII escaping).

    orjson, because this runs once per distinct frame on the fan-out path; values it
    does not know become their `str()`, as with the standard library's `default=str`.
    """
    return orjson.dumps(msg, default=str, option=_ORJSON_OPTS).decode("utf-8")


def encode_msgpack(msg: dict[str, Any]) -> bytes:
    """Encode one message as msgpack."""
    out: bytes = msgpack.packb(msg, use_bin_type=True, default=str)
    return out


def decode_any(subprotocol: Subprotocol, data: str | bytes) -> Any:
    """Decode a structured frame for `subprotocol` (json or msgpack)."""
    if subprotocol is Subprotocol.MSGPACK:
        return decode_msgpack(data)
    return decode_json(data)


def encode_any(subprotocol: Subprotocol, msg: dict[str, Any]) -> str | bytes:
    """Encode a structured message for `subprotocol` (json or msgpack)."""
    if subprotocol is Subprotocol.MSGPACK:
        return encode_msgpack(msg)
    return encode_json(msg)


def with_seq(frame: str | bytes, seq: int) -> str | bytes:
    """`frame` (one encoded map) with a `seq` key added at its end, without decoding it.

    Event frames are encoded once and shared by every recipient; the per-session
    sequence number is spliced in: `,"seq":N}` in place of the closing brace for
    JSON (so `"type"` stays first), and for msgpack a map header one larger, the old
    entries, then the key and the number.
    """
    if isinstance(frame, str):
        return f'{frame[:-1]},"seq":{seq}}}' if frame != "{}" else f'{{"seq":{seq}}}'
    head = frame[0]
    body = memoryview(frame)
    if 0x80 <= head <= 0x8E:  # a fixmap of up to 14 entries: one more still fits
        return b"".join((_FIXMAP[head - 0x80 + 1], body[1:], _SEQ_KEY, _pack_int(seq)))
    if head == 0x8F:  # a fixmap of 15 becomes a map 16
        return b"".join((b"\xde\x00\x10", body[1:], _SEQ_KEY, _pack_int(seq)))
    if head == 0xDE:
        n = int.from_bytes(frame[1:3], "big") + 1
        return b"".join((b"\xde", n.to_bytes(2, "big"), body[3:], _SEQ_KEY, _pack_int(seq)))
    n = int.from_bytes(frame[1:5], "big") + 1  # 0xdf: a map 32
    return b"".join((b"\xdf", n.to_bytes(4, "big"), body[5:], _SEQ_KEY, _pack_int(seq)))


_FIXMAP = tuple(bytes((0x80 + n,)) for n in range(16))
_SEQ_KEY = b"\xa3seq"


def _pack_int(n: int) -> bytes:
    """A non-negative integer in msgpack (by hand for the usual sizes: it is on a hot path)."""
    if n < 0x80:
        return bytes((n,))
    if n < 0x10000:
        return b"\xcd" + n.to_bytes(2, "big")
    if n < 0x100000000:
        return b"\xce" + n.to_bytes(4, "big")
    out: bytes = msgpack.packb(n)
    return out


# ---- text that people write -------------------------------------------------------

UNSAFE_TEXT = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
    r"\u2066-\u2069\ud800-\udfff\U000e0000-\U000e007f]")
"""What never reaches another person from text someone wrote: C0 controls (but tab and
newline), DEL, C1 controls, bidirectional marks, embeddings, overrides and isolates
(U+061C, U+200E/F, U+202A-U+202E, U+2066-U+2069), the line and paragraph separators,
lone surrogates (no codec can send them) and the invisible tag characters
(U+E0000-U+E007F, which LLMs read as ASCII). world/text.py mirrors this definition
(world/ imports nothing from server/); a test checks that both agree on every code point."""


def clean_text(text: str, newlines: bool = True) -> str:
    """`text` without the characters of `UNSAFE_TEXT`; a tab becomes a space, and so does a
    newline unless `newlines` (multi-line text such as descriptions)."""
    if text.isprintable():  # the usual case: nothing to take out
        return text
    text = UNSAFE_TEXT.sub("", text).replace("\t", " ")
    return text if newlines else text.replace("\n", " ")


# ---- server -> client builders (plain maps, so clients need no classes) -----------


def error(code: str, message: str, id: Any = None) -> dict[str, Any]:
    """An `error` message."""
    msg: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if id is not None:
        msg["id"] = id
    return msg


def result(id: Any, ok: bool, code: str | None = None, message: str | None = None
           ) -> dict[str, Any]:
    """A `result` message for a command or call with an id."""
    msg: dict[str, Any] = {"type": "result", "id": id, "ok": ok}
    if not ok:
        msg["error"] = {"code": code, "message": message}
    return msg
