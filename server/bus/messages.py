"""What crosses the bus: slotted dataclasses, encoded as versioned msgpack maps.

Only data crosses the bus: every message is a frozen slotted dataclass whose fields
are strings, numbers, booleans, None, lists and string-keyed maps of those (the JSON
data model), so it means the same in every process and can be written to the journal
as it is. Four families (docs/architecture.md, "The bus"):

- **inputs**, gateway (or the world host's own clock and admin) to world host, and
  the entries of the journal: `Command`, `Call`, `Enter`, `Leave`, `LinkLost`, `Tick`,
  `AdminInput`;
- **outputs**, world host to one gateway: `Delivery` (one event with its recipients),
  `Answer` (the result of one command), `Disconnect` (close one session);
- **requests** and their **replies**, for what needs an answer before play goes on
  (a login, a name check): `Request`, `Reply`.

An encoded message is one msgpack map: `v` (the format version, `VERSION`), `t` (the
type's name, a class's `TYPE`) and the fields by name. `decode` refuses, with a
`BusMessageError` that says what is wrong, anything that is not such a map: bytes that
are not msgpack, a newer version, an unknown type, a missing or mistyped field, more
than `MAX_MESSAGE_BYTES`. Keys it does not know are ignored, so a field can be added
without a new version; changing or removing one needs `VERSION + 1`.

On the live subjects (inputs, outputs), a payload may also be a *batch*: a msgpack array
of such maps, in order (`encode_many`, `decode_many`). A process sends what one pass of
its event loop has for one subscriber as one batch: one publish, one delivery and one
decode instead of one per message. Journal entries and requests are single messages.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Sequence
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar, TypeAlias, Union

import msgpack

from server import wire

VERSION = 1
"""The bus format. A process refuses messages of a newer version (upgrade it first)."""

MAX_MESSAGE_BYTES = 1024 * 1024
"""The largest encoded message: 1 MiB, nats-server's default `max_payload`. Encoding a
larger one raises `BusMessageError` in the sender, so it never reaches the wire."""

GATEWAY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""A gateway's id: one NATS subject token (no dots, spaces or wildcards)."""


class BusMessageError(ValueError):
    """A message that cannot be encoded or decoded: `code` is stable, the text says why.

    Codes: `too_large`, `bad_msgpack`, `bad_message`, `bad_version`, `unknown_type`,
    `missing_field`, `bad_field`, `not_data`.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# ---- inputs: journaled, in order, by the world host ---------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    """A line a player typed, for the character it plays (`character`, its id in the
    world). `id` is the client's message id, echoed in the `Answer`."""

    TYPE: ClassVar[str] = "command"
    gateway: str
    session: str
    character: int
    line: str
    id: Any = None
    n: int = 0  # the gateway's number for it within the session, echoed in the `Answer`


@dataclass(frozen=True, slots=True)
class Call:
    """A structured command: a tool and its arguments."""

    TYPE: ClassVar[str] = "call"
    gateway: str
    session: str
    character: int
    tool: str
    args: dict[str, Any] = field(default_factory=dict)
    id: Any = None
    n: int = 0  # the gateway's number for it within the session, echoed in the `Answer`


@dataclass(frozen=True, slots=True)
class Enter:
    """A character enters play through a session (after the world host accepted a
    login). `state` is the saved character when it comes back from storage, None when
    it is still in the world (link-dead, or taken over from another session). `kind`
    is `player` or `agent` (world.entities.Kind)."""

    TYPE: ClassVar[str] = "enter"
    gateway: str
    session: str
    name: str
    role: str
    cls: str
    created: bool = False
    state: dict[str, Any] | None = None
    kind: str = "player"


@dataclass(frozen=True, slots=True)
class Leave:
    """A character leaves play (`quit`, or idled out); `reason` is for the log."""

    TYPE: ClassVar[str] = "leave"
    gateway: str
    session: str
    character: int
    reason: str = "quit"


@dataclass(frozen=True, slots=True)
class LinkLost:
    """A session's connection is gone (its gateway's, or the whole gateway): its
    character stays in the world, link-dead, until it comes back or its grace ends."""

    TYPE: ClassVar[str] = "link_lost"
    gateway: str
    session: str
    character: int


@dataclass(frozen=True, slots=True)
class Tick:
    """A tick boundary: the world ran `World.tick()` for tick number `tick`."""

    TYPE: ClassVar[str] = "tick"
    tick: int


@dataclass(frozen=True, slots=True)
class AdminInput:
    """An admin request with an effect on the world (a ban's kick, a reload, a
    broadcast), by `actor` (an account name, or "" for the console)."""

    TYPE: ClassVar[str] = "admin"
    actor: str
    action: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SessionIn:
    """What a gateway's session asks of the world host besides commands, never
    journaled as it is (the host journals what it does about it: an `Enter`, a
    `LinkLost`...). `op`: `auth` (args: kind, name, password, cls, id, address,
    subprotocol: a login, a registration, a name check or an API key), `observe` (id),
    `usage` (message: an agent's `usage` message), `advance` (ticks, id), `lost` (the
    connection is gone), `resume` (name, role, agent: a session playing when the host
    restarted, logged in again on the gateway's word). Secrets are never in a repr."""

    TYPE: ClassVar[str] = "session_in"
    gateway: str
    session: str
    op: str
    args: dict[str, Any] = field(default_factory=dict, repr=False)


# ---- outputs: world host to one gateway ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event, once, with the characters on `gateway` that receive it; the gateway
    renders it per viewer and encodes it per codec. `tick` is the world's tick and
    `seq` the journal sequence number of the input that caused it (0: none yet)."""

    TYPE: ClassVar[str] = "delivery"
    gateway: str
    recipients: list[int]
    event: dict[str, Any]
    tick: int = 0
    seq: int = 0


@dataclass(frozen=True, slots=True)
class Answer:
    """The end of one command of `session`: its result (`ok`, or the refusal's stable
    `code` and `message`). Sent at once, after the command's own deliveries."""

    TYPE: ClassVar[str] = "answer"
    gateway: str
    session: str
    ok: bool
    id: Any = None
    code: str | None = None
    message: str | None = None
    n: int = 0  # the `n` of the command answered
    view: dict[str, Any] | None = None  # the actor's numbers after it (the prompt's)


@dataclass(frozen=True, slots=True)
class Disconnect:
    """Close one session (taken over from elsewhere, banned, shut down), telling its
    player `message`."""

    TYPE: ClassVar[str] = "disconnect"
    gateway: str
    session: str
    reason: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class SessionOut:
    """Something for one session of `gateway` that is not an event: `op` is `send` (msg:
    a structured message), `say` (spans: a line of text), `auth_ok` (character: the
    view of it, role, id, created, agent), `auth_failed` (code, message, id),
    `name_checked` (exists, problem, id), `limits` (rate, burst, queue, max_message)."""

    TYPE: ClassVar[str] = "session_out"
    gateway: str
    session: str
    op: str
    args: dict[str, Any] = field(default_factory=dict)


# ---- request and reply ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    """Something a gateway needs answered by the world host before it goes on:
    `op` names it (`login`, `register`, `exists`, ...), `args` are its data. Secrets
    in `args` (a password) are never shown in a repr."""

    TYPE: ClassVar[str] = "request"
    gateway: str
    session: str
    op: str
    args: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class Reply:
    """The answer to a `Request`: `ok` with `data`, or a stable error `code` and a
    `message` for the player (`busy` when the world host has too many requests in
    flight, `internal_error` when its handler failed)."""

    TYPE: ClassVar[str] = "reply"
    ok: bool
    data: dict[str, Any] = field(default_factory=dict)
    code: str | None = None
    message: str | None = None


Input: TypeAlias = Command | Call | Enter | Leave | LinkLost | Tick | AdminInput | SessionIn
Output: TypeAlias = Delivery | Answer | Disconnect | SessionOut
Message: TypeAlias = Input | Output | Request | Reply

INPUTS: tuple[type[Input], ...] = (Command, Call, Enter, Leave, LinkLost, Tick, AdminInput,
                                   SessionIn)
OUTPUTS: tuple[type[Output], ...] = (Delivery, Answer, Disconnect, SessionOut)
TYPES: dict[str, type[Any]] = {
    cls.TYPE: cls for cls in (*INPUTS, *OUTPUTS, Request, Reply)
}


# ---- encoding ---------------------------------------------------------------------


def encode(msg: Message) -> bytes:
    """`msg` as one msgpack map (`v`, `t`, then its fields).

    Raises:
        BusMessageError: `not_data` (a field holds something that is not plain data:
            an object, bytes, a map with non-string keys), `too_large` (over
            `MAX_MESSAGE_BYTES`), `unknown_type` (not a bus message).
    """
    cls = type(msg)
    if TYPES.get(getattr(cls, "TYPE", "")) is not cls:
        raise BusMessageError("unknown_type", f"{cls.__name__} is not a bus message")
    body: dict[str, Any] = {"v": VERSION, "t": cls.TYPE}
    for name in _names(cls):
        body[name] = getattr(msg, name)
    try:
        data: bytes = msgpack.packb(body, use_bin_type=True, strict_types=False)
    except (TypeError, ValueError, OverflowError) as exc:
        raise BusMessageError("not_data", f"{cls.TYPE}: {exc}") from None
    if len(data) > MAX_MESSAGE_BYTES:
        raise BusMessageError("too_large", f"{cls.TYPE} is {len(data)} bytes encoded, "
                              f"more than the bus's {MAX_MESSAGE_BYTES}")
    # bytes would go out as msgpack bin, which `decode` refuses (not the JSON data
    # model): looked for only when a bin header byte occurs at all (a scan in C)
    if (b"\xc4" in data or b"\xc5" in data or b"\xc6" in data) and _has_bytes(body):
        raise BusMessageError("not_data", f"{cls.TYPE}: bytes values are not bus data")
    return data


def decode(data: bytes) -> Message:
    """The message encoded in `data`, checked field by field.

    Raises:
        BusMessageError: with a code and a sentence that names the problem (see the
            class); never anything else.
    """
    return _message(_unpack(data))


def encode_many(msgs: Sequence[Message]) -> tuple[list[bytes], list[BusMessageError]]:
    """`msgs` as few payloads as fit `MAX_MESSAGE_BYTES`, in order: one message alone is
    encoded as by `encode`, several as a msgpack array of their maps (a batch: one
    publish, one delivery, one decode on the other side for what one pass of a process
    has for one subscriber). A message that does not encode is left out, its error in
    the second list; the others still go."""
    payloads: list[bytes] = []
    errors: list[BusMessageError] = []
    group: list[bytes] = []
    size = 0
    for msg in msgs:
        try:
            data = encode(msg)
        except BusMessageError as exc:
            errors.append(exc)
            continue
        if group and size + len(data) > MAX_MESSAGE_BYTES - _ARRAY_HEADER_MAX:
            payloads.append(_batch(group))
            group, size = [], 0
        group.append(data)
        size += len(data)
    if group:
        payloads.append(_batch(group))
    return payloads, errors


def decode_many(data: bytes) -> list[Message | BusMessageError]:
    """The messages of a payload, as `encode_many` makes them (one message, or a batch),
    in order: each one that does not decode is its error instead (a payload that is not
    msgpack at all is one error)."""
    try:
        body = _unpack(data)
    except BusMessageError as exc:
        return [exc]
    if not isinstance(body, list):
        try:
            return [_message(body)]
        except BusMessageError as exc:
            return [exc]
    out: list[Message | BusMessageError] = []
    for item in body:
        try:
            out.append(_message(item))
        except BusMessageError as exc:
            out.append(exc)
    return out


_ARRAY_HEADER_MAX = 5
"""The longest msgpack array header (array 32: a type byte and four of length)."""


def _batch(group: list[bytes]) -> bytes:
    """One encoded message as it is; several behind a msgpack array header."""
    n = len(group)
    if n == 1:
        return group[0]
    if n < 16:
        head = bytes((0x90 | n,))
    elif n < 1 << 16:
        head = b"\xdc" + n.to_bytes(2, "big")
    else:  # cannot happen within MAX_MESSAGE_BYTES (a message is 17 bytes at least)
        head = b"\xdd" + n.to_bytes(4, "big")
    return head + b"".join(group)


def _unpack(data: bytes) -> Any:
    """`data` as plain msgpack: one message's map, or a batch's list of them."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise BusMessageError("bad_message", f"expected bytes, got {type(data).__name__}")
    if len(data) > MAX_MESSAGE_BYTES:
        raise BusMessageError("too_large", f"{len(data)} bytes, more than the bus's "
                              f"{MAX_MESSAGE_BYTES}")
    try:
        return wire.decode_msgpack(bytes(data))
    except wire.WireError as exc:
        raise BusMessageError("bad_msgpack", exc.message) from None


def _message(body: Any) -> Message:
    """The message a decoded map holds, checked field by field."""
    if not isinstance(body, dict):
        raise BusMessageError("bad_message", "a bus message is a map with 'v' and 't'")
    version = body.get("v")
    if type(version) is not int:
        raise BusMessageError("bad_version", "'v' (the bus format version) is missing or "
                              "not an integer")
    if version != VERSION:
        newer = "newer than" if version > VERSION else "older than"
        raise BusMessageError("bad_version", f"format version {version} is {newer} this "
                              f"process's {VERSION}: run the same version everywhere")
    kind = body.get("t")
    cls = TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        shown = repr(kind[:40]) if isinstance(kind, str) else f"({type(kind).__name__})"
        raise BusMessageError("unknown_type", f"unknown message type {shown}")
    values: dict[str, Any] = {}
    for name, (check, required) in _schema(cls).items():
        if name not in body:
            if required:
                raise BusMessageError("missing_field", f"{kind}: '{name}' is required")
            continue
        value = body[name]
        problem = check(value)
        if problem is not None:
            raise BusMessageError("bad_field", f"{kind}: '{name}' must be {problem}")
        values[name] = value
    try:
        msg: Message = cls(**values)
    except (TypeError, ValueError) as exc:  # a check of the class itself
        raise BusMessageError("bad_field", f"{kind}: {exc}") from None
    return msg


def _has_bytes(value: Any) -> bool:
    if isinstance(value, bytes | bytearray | memoryview):
        return True
    if isinstance(value, dict):
        return any(_has_bytes(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_bytes(v) for v in value)
    return False


# ---- the schema, from the dataclasses' annotations -------------------------------------

Check: TypeAlias = typing.Callable[[Any], "str | None"]
_SCHEMAS: dict[type, dict[str, tuple[Check, bool]]] = {}
_NAMES: dict[type, tuple[str, ...]] = {}


def _names(cls: type) -> tuple[str, ...]:
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def _schema(cls: type) -> dict[str, tuple[Check, bool]]:
    """For each field of `cls`: a check of a decoded value (None if fine, else what it
    must be) and whether the field is required (has no default)."""
    schema = _SCHEMAS.get(cls)
    if schema is None:
        hints = typing.get_type_hints(cls)
        schema = {}
        for f in fields(cls):
            required = f.default is MISSING and f.default_factory is MISSING
            schema[f.name] = (_check_for(hints[f.name]), required)
        _SCHEMAS[cls] = schema
    return schema


def _check_for(hint: Any) -> Check:
    """A check for the annotations the messages use: str, int, bool, Any, X | None,
    list[int], list[str], dict[str, Any]."""
    if hint is Any:
        return lambda v: None
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        inner = _check_for(options[0]) if len(options) == 1 else _check_for(Any)
        return lambda v: None if v is None else (
            None if inner(v) is None else f"{inner(v)} or nil")
    if hint is bool:
        return lambda v: None if isinstance(v, bool) else "true or false"
    if hint is int:
        return lambda v: None if type(v) is int else "an integer"
    if hint is str:
        return lambda v: None if isinstance(v, str) else "a string"
    if origin is list:
        (item,) = typing.get_args(hint)
        if item in (int, str):  # the types of the items, taken in C: a crowd's recipients
            wanted = {item}
            return lambda v: None if type(v) is list and (not v or set(map(type, v)) == wanted) \
                else f"a list of {_plural(item)}"
        each = _check_for(item)
        return lambda v: None if isinstance(v, list) and all(each(i) is None for i in v) \
            else f"a list of {_plural(item)}"
    if origin is dict:
        return lambda v: None if isinstance(v, dict) else "a map"
    raise TypeError(f"no bus check for {hint!r}")  # a programming error, found at import


def _plural(hint: Any) -> str:
    """How an item type reads in an error message."""
    return {int: "integers", str: "strings"}.get(hint, str(hint))


for _cls in TYPES.values():  # every message's schema is built (and checked) at import
    _schema(_cls)
