"""Property-based fuzzing of the structured codecs, the message parser and the session.

For any text, any bytes, and any nested structure (hypothesis' recursive strategies,
with the values that once broke things mixed in: deep nesting, lone surrogates, huge
integers, NaN, msgpack headers that claim gigabytes):

* `decode_json`, `decode_msgpack` and `parse_message` raise nothing but `WireError`;
* what they accept can be encoded back by both codecs (an `id` is echoed in replies);
* `Session.receive_frame` never raises: a bad frame is answered with an `error`, the
  session stays open, and every frame it sends decodes.

The session plays in a real `World` of the starter content (`WorldGame` below runs its
commands and hands it their events, as `server.app.Server` does), so accepted commands
really run and their events really get encoded.
"""

from __future__ import annotations

import json
import math
from typing import Any

import msgpack
from helpers import new_world
from hypothesis import example, given, settings
from hypothesis import strategies as st

from server import wire
from server.gateway.session import Session
from server.wire import ErrorCode, Subprotocol, WireError
from world.commands.registry import Call
from world.entities import Character
from world.world import World

CODES = {str(c) for c in ErrorCode}
FUZZ = settings(max_examples=150, deadline=None, database=None)

# ---- strategies --------------------------------------------------------------------

_EDGE_INTS = st.sampled_from([2**63 - 1, -(2**63), 2**63, 2**64 - 1, 2**64, -(2**63) - 1,
                              10**30, 0, -1])
_EDGE_FLOATS = st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -0.0])
_KEYS = st.sampled_from(["type", "id", "line", "tool", "args", "name", "password", "class",
                         "api_key", "all", "op", "model", "max_tokens", "reservation",
                         "prompt_tokens", "completion_tokens", "cached_tokens", "text",
                         "target", "direction"]) | st.text(max_size=8)
_TYPES = st.sampled_from(["command", "call", "ping", "tools", "observe", "login", "register",
                          "usage", "teleport"])
_SURROGATES = st.sampled_from(["\ud800", "say \udc00", "a\udfff b"])
"""Lone UTF-16 surrogates: a Python str may hold them, no UTF-8 encoder takes them."""
_LINES = st.tuples(st.sampled_from(["", "say ", "look", "go ", "kill ", "get ", "tell ",
                                    "emote ", "help ", "score", "inventory"]),
                   st.text(max_size=20)).map("".join)

_scalars = (st.none() | st.booleans() | st.integers() | _EDGE_INTS
            | st.floats() | _EDGE_FLOATS | st.text(max_size=30) | st.binary(max_size=8)
            | _TYPES | _LINES | _SURROGATES)


def _deep(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


values = st.recursive(
    _scalars | st.integers(wire.MAX_DEPTH - 2, wire.MAX_DEPTH + 3).map(_deep),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=12,
)
"""Anything msgpack can carry (and more than JSON can), nesting right around MAX_DEPTH."""

messages = st.fixed_dictionaries(
    {"type": _TYPES | values},
    optional={"id": _EDGE_INTS | _SURROGATES | values, "line": _LINES | _SURROGATES | values,
              "tool": st.sampled_from(
        ["say", "look", "go", "get", "kill", "fly"]) | values, "args": st.dictionaries(
        _KEYS, values, max_size=3) | values, "name": values, "password": values,
        "class": values, "api_key": values, "all": values, "op": values, "model": values},
)
"""Maps shaped like client messages, each field sometimes right and sometimes anything."""

_JSON_TOKENS = st.sampled_from([
    "[", "]", "{", "}", ",", ":", '"type"', '"id"', '"command"', '"ping"', '"line"',
    '"say hi"', '"\\ud800"', '"\\udc00x"', '"\\ud83d\\ude00"', '"\\u0000"', '"\\\\"', '"\\',
    "1e400", "-1e400", "18446744073709551616", "9223372036854775808", "-0", "1.5", "NaN",
    "Infinity", "true", "null", " ", "\n", "9" * 30,
])
json_texts = (st.lists(_JSON_TOKENS, max_size=60).map("".join) | st.text(max_size=100)
              | st.integers(30, 3000).map(lambda n: "[" * n + "]" * n)
              | st.integers(30, 1500).map(lambda n: '{"a":' * n + "1" + "}" * n))
"""Text that is mostly almost-JSON: brackets, escapes, numbers at and past the limits."""

_MSGPACK_TOKENS = st.sampled_from([
    b"\x81", b"\x82", b"\x91", b"\x92", b"\xa4type", b"\xa2id", b"\xa4ping", b"\xc0",
    b"\xc1", b"\xc2", b"\xc3", b"\x01", b"\xff", b"\xcf\xff\xff\xff\xff\xff\xff\xff\xff",
    b"\xd3\x80\x00\x00\x00\x00\x00\x00\x00", b"\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00",
    b"\xdf\xff\xff\xff\xff", b"\xdd\xff\xff\xff\xff", b"\xdb\xff\xff\xff\xff",
    b"\xc6\xff\xff\xff\xff", b"\xc9\xff\xff\xff\xff\x01", b"\xd4\x01\x00",
    b"\xd6\xff\x00\x00\x00\x00", b"\xc4\x02ab", b"\xa2\xed\xa0", b"\xde\x00\x10",
])
msgpack_frames = (st.lists(_MSGPACK_TOKENS, max_size=40).map(b"".join) | st.binary(max_size=80)
                  | st.integers(30, 1500).map(lambda n: b"\x91" * n + b"\xc0")
                  | st.sampled_from([31, 32, 33, 500, 1000, 1020]).map(
                      lambda n: b"\x81\xa4type" + b"\x91" * n + b"\xc0"))
"""Bytes that are mostly almost-msgpack: headers claiming huge lengths, deep arrays, ext."""


# ---- properties of the codecs and the parser ---------------------------------------


def _encodes_back(value: Any) -> None:
    """Both codecs can send `value` back, as an echoed field would be."""
    wire.encode_json({"type": "error", "id": value})
    wire.encode_msgpack({"type": "error", "id": value})


@FUZZ
@given(json_texts)
def test_decode_json_raises_only_wire_error(text: str) -> None:
    try:
        value = wire.decode_json(text)
    except WireError as err:
        assert err.code == "bad_json"
        return
    _encodes_back(value)


@FUZZ
@given(msgpack_frames)
def test_decode_msgpack_raises_only_wire_error(data: bytes) -> None:
    try:
        value = wire.decode_msgpack(data)
    except WireError as err:
        assert err.code == "bad_msgpack"
        return
    _encodes_back(value)


@FUZZ
@given(values)
def test_msgpack_of_any_structure_decodes_or_is_refused(value: Any) -> None:
    try:
        data = msgpack.packb(value, use_bin_type=True)
    except (OverflowError, ValueError):  # not representable: no client can send it
        return
    try:
        decoded = wire.decode_msgpack(data)
    except WireError as err:
        assert err.code == "bad_msgpack"
        return
    _encodes_back(decoded)


@FUZZ
@given(messages | values)
def test_parse_message_raises_only_wire_error_and_ids_encode(msg: Any) -> None:
    try:
        parsed = wire.parse_message(msg)
    except WireError as err:
        assert err.code in CODES
        _encodes_back(err.id)
        return
    _encodes_back(parsed.id)


# ---- the session, playing in a real world ------------------------------------------


class WorldGame:
    """The session's `GamePort` over a real `World`: commands run in it, and the events
    they cause for the player go to the session, then a `result` (as the server does)."""

    def __init__(self) -> None:
        self.world: World = new_world(seed=3)
        self.hero: Character = self.world.enter("Hero", "warrior")
        self.world.drain()

    def run(self, session: Session, msg: wire.Command | wire.CallTool | wire.Observe) -> None:
        if isinstance(msg, wire.Observe):
            refusal = self.world.perform_line(self.hero, "look")
        elif isinstance(msg, wire.Command):
            refusal = self.world.perform_line(self.hero, msg.line)
        else:
            refusal = self.world.perform(self.hero, Call(msg.tool, msg.args))
        for delivery in self.world.drain():
            if delivery.recipient is self.hero:
                session.deliver(delivery.event)
        if msg.id is not None:
            session.send(wire.result(msg.id, refusal is None,
                                     refusal.code if refusal else None,
                                     refusal.message if refusal else None))

    def tool_list(self, session: Session, every: bool = False) -> list[dict[str, Any]]:
        return [{"name": "look", "description": "Look around.", "parameters": {}}]

    def class_names(self) -> dict[str, str]:
        return {"warrior": "Warrior"}


def _playing(sub: Subprotocol) -> Session:
    game = WorldGame()
    session = Session("fuzz", sub, game, now=0.0, address="127.0.0.1")
    session.auth_succeeded(game.hero, "player")
    session.outbox()
    return session


def _check_receive(session: Session, frame: str | bytes) -> None:
    """Feed one frame; the session must not raise, must stay playing, and must answer."""
    session.receive_frame(frame, 1.0)
    assert session.playing
    out = session.outbox()
    for raw in out:  # every frame it sends can be read by a client
        if session.subprotocol is Subprotocol.MSGPACK:
            assert isinstance(raw, bytes)
            msg = msgpack.unpackb(raw, raw=False)
        else:
            assert isinstance(raw, str)
            msg = json.loads(raw)
        assert isinstance(msg, dict) and "type" in msg
        if msg["type"] == "error":
            assert msg["code"] in CODES


@FUZZ
@given(json_texts)
def test_session_json_any_text(text: str) -> None:
    _check_receive(_playing(Subprotocol.JSON), text)


@FUZZ
@given(msgpack_frames)
def test_session_msgpack_any_bytes(data: bytes) -> None:
    _check_receive(_playing(Subprotocol.MSGPACK), data)


@FUZZ
@given(messages, st.sampled_from([Subprotocol.JSON, Subprotocol.MSGPACK]))
def test_session_any_message(msg: dict[str, Any], sub: Subprotocol) -> None:
    try:
        frame: str | bytes = (msgpack.packb(msg, use_bin_type=True) if sub is Subprotocol.MSGPACK
                              else json.dumps(msg))
    except (OverflowError, ValueError, TypeError, RecursionError):  # no client can send it
        return
    session = _playing(sub)
    session.receive_frame(frame, 1.0)
    assert session.playing
    replies = [wire.decode_any(sub, raw) for raw in session.outbox()]
    try:
        parsed = wire.parse_message(wire.decode_any(sub, frame))
    except WireError as err:  # refused: exactly one error, with the id only if readable
        assert [r["type"] for r in replies] == ["error"]
        assert replies[0]["code"] == err.code
        return
    if isinstance(parsed, wire.Command | wire.CallTool) and parsed.id is not None:
        results = [r for r in replies if r["type"] == "result"]
        assert [r["id"] for r in results] == [parsed.id]  # it ran, and its id came back


def _plain(value: Any, depth: int = 0) -> bool:
    """The reference: `value` is within JSON's data model and MAX_DEPTH deep (a plain
    walk of everything, what decode_msgpack skips when the frame's bytes allow)."""
    if isinstance(value, dict | list):
        if depth + 1 > wire.MAX_DEPTH:
            return False
        if isinstance(value, dict):
            return all(isinstance(k, str) for k in value) and all(
                _plain(v, depth + 1) for v in value.values())
        return all(_plain(v, depth + 1) for v in value)
    return value is None or isinstance(value, str | int | float)


def _wide_deep(depth: int, width: int, kind: type) -> Any:
    """`depth` levels, each a list (or map) of `width` entries, one of them the next."""
    value: Any = "bottom"
    for _ in range(depth):
        entries = [value, *range(width - 1)]
        value = entries if kind is list else {str(i): v for i, v in enumerate(entries)}
    return value


_unpackable = st.recursive(
    _scalars | st.builds(msgpack.ExtType, st.integers(0, 127), st.binary(max_size=4))
    | st.integers(wire.MAX_DEPTH - 2, wire.MAX_DEPTH + 3).map(_deep)
    | st.sampled_from(["Zoë", "ő", "\u00c4\u00c5\u00c6", "\u0100"]),  # 0xc4-0xc6 in UTF-8
    lambda inner: st.lists(inner, max_size=6)
    | st.dictionaries(_KEYS | st.binary(max_size=3), inner, max_size=6),
    max_leaves=40,
)


@FUZZ
@given(_unpackable)
@example([msgpack.ExtType(1, b"x" * n) for n in (0, 1, 2, 3, 4, 8, 16, 17, 300, 70000)])
@example({"a": [msgpack.ExtType(5, b"abc")]})
@example({"t": msgpack.Timestamp(1, 5)})
@example(["ok", b""])
@example({"x": b"y" * 300})
@example({"x": [b"y" * 70000]})
@example({b"key": 1})
@example({"deep": _deep(wire.MAX_DEPTH)})
@example([[{"k": ["x"]}] * 3] * 20)
@example(_wide_deep(wire.MAX_DEPTH + 1, 16, list))  # array 16 and map 16 headers
@example(_wide_deep(wire.MAX_DEPTH + 1, 16, dict))
def test_decode_msgpack_refuses_exactly_what_is_not_plain(value: Any) -> None:
    """The shortcut (no bin or ext type byte in the frame: walk only the nesting, and
    only when it has more than MAX_DEPTH containers) refuses what a full walk would."""
    try:
        data = msgpack.packb(value, use_bin_type=True)
    except (ValueError, TypeError, OverflowError):  # lone surrogates, ints past 64 bits
        return
    try:
        wire.decode_msgpack(data)
    except WireError as err:  # the frame is well-formed: only the value can be at fault
        assert err.code == "bad_msgpack" and not _plain(value), err.message
        return
    assert _plain(value)
