"""The wire format: codecs round-trip, client messages parse or fail with stable codes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server import wire
from server.wire import ErrorCode, Subprotocol, WireError

MESSAGE = {
    "type": "event", "name": "said", "seq": 3, "ok": True, "none": None, "ratio": 0.5,
    "data": {"actor": "Ann", "text": "Grüße, 世界 ✓", "list": [1, "two", {"three": 3}]},
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=10,
)


@pytest.mark.parametrize("sub", [Subprotocol.JSON, Subprotocol.MSGPACK])
def test_round_trip(sub: Subprotocol) -> None:
    frame = wire.encode_any(sub, MESSAGE)
    assert isinstance(frame, bytes if sub is Subprotocol.MSGPACK else str)
    assert wire.decode_any(sub, frame) == MESSAGE


def test_json_is_compact_utf8() -> None:
    assert wire.encode_json({"a": [1, 2], "t": "é"}) == '{"a":[1,2],"t":"é"}'


@settings(max_examples=100, deadline=None, database=None)
@given(st.dictionaries(st.text(), json_values, max_size=5))
def test_round_trip_any_map(msg: dict[str, Any]) -> None:
    assert wire.decode_json(wire.encode_json(msg)) == msg
    assert wire.decode_msgpack(wire.encode_msgpack(msg)) == msg


@settings(max_examples=100, deadline=None, database=None)
@given(json_values)
def test_parse_message_answers_or_raises_wire_error(value: Any) -> None:
    try:
        wire.parse_message(value)
    except WireError as err:
        assert err.code in {str(c) for c in ErrorCode}


@pytest.mark.parametrize(("msg", "parsed"), [
    ({"type": "command", "line": "look", "id": 1}, wire.Command("look", 1)),
    ({"type": "call", "tool": "go", "args": {"direction": "n"}},
     wire.CallTool("go", {"direction": "n"})),
    ({"type": "call", "tool": "who", "args": None}, wire.CallTool("who", {})),
    ({"type": "call", "tool": "who"}, wire.CallTool("who", {})),
    ({"type": "ping", "id": "p"}, wire.Ping("p")),
    ({"type": "tools"}, wire.Tools()),
    ({"type": "login", "name": "Ann", "password": "pw"}, wire.Login("Ann", "pw")),
    ({"type": "login", "api_key": "k"}, wire.Login(api_key="k")),
    ({"type": "register", "name": "Ann", "password": "pw", "class": "mage"},
     wire.Register("Ann", "pw", "mage")),
    ({"type": "register", "name": "Ann", "password": "pw", "future": 1},
     wire.Register("Ann", "pw")),  # unknown keys are ignored
    ({"type": "ping", "id": "x" * wire.MAX_ID_LENGTH}, wire.Ping("x" * wire.MAX_ID_LENGTH)),
])
def test_parse_message(msg: dict[str, Any], parsed: wire.ClientMessage) -> None:
    assert wire.parse_message(msg) == parsed


@pytest.mark.parametrize(("msg", "code"), [
    ({"type": "ping", "id": "x" * (wire.MAX_ID_LENGTH + 1)}, "bad_field"),
    ({"type": "ping", "id": 1.5}, "bad_field"),
    ({"type": "register", "name": "Ann", "password": "pw", "class": 3}, "bad_field"),
    ({"type": "register", "name": "Ann"}, "missing_field"),
    ({"type": None}, "missing_field"),
    ({"type": 7}, "unknown_type"),
])
def test_parse_message_errors(msg: dict[str, Any], code: str) -> None:
    with pytest.raises(WireError) as info:
        wire.parse_message(msg)
    assert info.value.code == code


def test_error_and_result_builders() -> None:
    assert wire.error("bad_json", "nope") == {"type": "error", "code": "bad_json",
                                              "message": "nope"}
    assert wire.error("bad_json", "nope", 4)["id"] == 4
    assert wire.result(1, True) == {"type": "result", "id": 1, "ok": True}
    assert wire.result(2, False, "no_exit", "No.") == {
        "type": "result", "id": 2, "ok": False, "error": {"code": "no_exit", "message": "No."}}


def test_secrets_stay_out_of_reprs() -> None:
    """A message or request printed in a log line or a traceback shows no password or key."""
    from server.gateway.session import AuthRequest

    shown = " ".join(repr(x) for x in (
        wire.Login(name="Ann", password="hunter2!!"),
        wire.Login(api_key="aq_id_hunter2!!"),
        wire.Register(name="Ann", password="hunter2!!"),
        AuthRequest("login", "Ann", "hunter2!!", None, 1),
    ))
    assert "hunter2" not in shown and "Ann" in shown
