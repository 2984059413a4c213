"""The mudstandards.org WebSocket subprotocols: framing helpers and subprotocol choice."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.exceptions import NegotiationError
from websockets.typing import Subprotocol as WsSubprotocol

from server.gateway import mudstandards as mud
from server.gateway.ws import select_subprotocol
from server.wire import ErrorCode, Subprotocol, WireError

GMCP, JSON, TERMINAL = Subprotocol.MUD_GMCP, Subprotocol.MUD_JSON, Subprotocol.MUD_TERMINAL


# ---- the subprotocols ------------------------------------------------------------------


def test_the_mudstandards_subprotocols_are_text_mode() -> None:
    assert {s for s in Subprotocol if s.mudstandards} == {TERMINAL, GMCP, JSON}
    assert all(s.text_mode for s in (Subprotocol.TEXT, TERMINAL, GMCP, JSON))
    assert not Subprotocol.JSON.text_mode and not Subprotocol.MSGPACK.text_mode
    assert {GMCP, JSON} == mud.OOB


def select(*offered: str) -> str | None:
    return select_subprotocol(None, [WsSubprotocol(o) for o in offered])  # type: ignore[arg-type]


def test_ours_first_then_the_clients_order() -> None:
    assert select() is None
    assert select("terminal.mudstandards.org") == "terminal.mudstandards.org"
    assert select("gmcp.mudstandards.org", "aegent.json") == "aegent.json"
    assert select("json.mudstandards.org", "aegent.msgpack", "aegent.text") == "aegent.msgpack"
    assert select("json.mudstandards.org", "gmcp.mudstandards.org") == "json.mudstandards.org"
    assert select("v1.evennia.com", "gmcp.mudstandards.org") == "gmcp.mudstandards.org"
    with pytest.raises(NegotiationError, match="gmcp.mudstandards.org"):
        select("telnet.mudstandards.org", "v1.evennia.com")


# ---- out: text and GMCP ------------------------------------------------------------------


def test_terminal_bytes_are_utf8_with_cr_lf() -> None:
    assert mud.terminal_bytes("a\nb\r\nc\rd é\x1b[1m") == "a\r\nb\r\ncd é\x1b[1m".encode()
    assert mud.terminal_bytes("prompt> ") == b"prompt> "


def test_gmcp_out() -> None:
    data = {"hp": 20, "name": "Grüße"}
    assert mud.encode_oob(GMCP, "Char.Vitals", data) == 'Char.Vitals {"hp":20,"name":"Grüße"}'
    assert mud.encode_oob(GMCP, "Core.Ping") == "Core.Ping"
    envelope = json.loads(mud.encode_oob(JSON, "Char.Vitals", data))
    assert envelope == {"proto": "gmcp", "id": "Char.Vitals", "data": '{"hp":20,"name":"Grüße"}'}
    assert json.loads(mud.encode_oob(JSON, "Core.Ping")) == {"proto": "gmcp", "id": "Core.Ping",
                                                             "data": ""}
    with pytest.raises(ValueError):
        mud.encode_oob(TERMINAL, "Core.Ping")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
packages = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,8}(\.[A-Za-z0-9_-]{1,8}){0,3}", fullmatch=True)


@settings(max_examples=100, deadline=None, database=None)
@given(packages, json_values)
def test_what_we_send_reads_back(package: str, data: Any) -> None:
    for kind in (GMCP, JSON):
        assert mud.decode_oob(kind, mud.encode_oob(kind, package, data)) == (package, data)


# ---- in: GMCP ------------------------------------------------------------------------------


def test_gmcp_in() -> None:
    assert mud.parse_gmcp('Core.Hello {"client":"Mudlet","version":"4.17"}') == (
        "Core.Hello", {"client": "Mudlet", "version": "4.17"})
    assert mud.parse_gmcp("  Core.Ping \n") == ("Core.Ping", None)
    assert mud.parse_gmcp('Core.Supports.Set [ "Char 1", "Room 1" ]') == (
        "Core.Supports.Set", ["Char 1", "Room 1"])
    assert mud.parse_gmcp("Char.Skills.Get 42") == ("Char.Skills.Get", 42)


@pytest.mark.parametrize(("frame", "code", "says"), [
    ("", ErrorCode.BAD_MESSAGE, "no package name"),
    ("   ", ErrorCode.BAD_MESSAGE, "no package name"),
    ('{"client":"x"}', ErrorCode.BAD_MESSAGE, "is not a GMCP package name"),
    ("Core..Hello {}", ErrorCode.BAD_MESSAGE, "is not a GMCP package name"),
    ("Core.Hello/ {}", ErrorCode.BAD_MESSAGE, "is not a GMCP package name"),
    ("A" * 65, ErrorCode.BAD_MESSAGE, "is not a GMCP package name"),
    ("Core.Hello {client: x}", ErrorCode.BAD_JSON, "Core.Hello is not valid JSON"),
    ("Core.Hello hello", ErrorCode.BAD_JSON, "not valid JSON"),
])
def test_bad_gmcp_in(frame: str, code: str, says: str) -> None:
    with pytest.raises(WireError) as err:
        mud.decode_oob(GMCP, frame)
    assert err.value.code == code and says in err.value.message
    assert err.value.message[0].isupper() or err.value.message[0] == "'"


# ---- in: JSON envelopes -------------------------------------------------------------------


def test_envelopes_in() -> None:
    hello = json.dumps({"proto": "gmcp", "id": "Core.Hello",
                        "data": json.dumps({"Client": "Mudterm", "Version": "0.2.0"})})
    assert mud.decode_oob(JSON, hello) == ("Core.Hello", {"Client": "Mudterm", "Version": "0.2.0"})
    assert mud.decode_oob(JSON, '{"proto":"GMCP","id":"Core.Ping"}') == ("Core.Ping", None)
    assert mud.decode_oob(JSON, '{"proto":"gmcp","id":"Core.Ping","data":null}') == (
        "Core.Ping", None)
    # another protocol's envelope is not ours to read
    assert mud.decode_oob(JSON, '{"proto":"coffeemud","id":"login","data":"..."}') is None
    assert mud.decode_oob(JSON, '{"proto":"telnet_31","data":"AAA="}') is None
    assert mud.parse_envelope('{"proto":"x","extra":1}') == ("x", "", "")


@pytest.mark.parametrize(("frame", "code", "says"), [
    ("", ErrorCode.BAD_JSON, "not valid JSON"),
    ("Core.Hello {}", ErrorCode.BAD_JSON, "not valid JSON"),
    ('["gmcp","Core.Hello"]', ErrorCode.BAD_MESSAGE, "not a JSON object"),
    ('{"id":"Core.Hello","data":"{}"}', ErrorCode.MISSING_FIELD, "no 'proto'"),
    ('{"proto":"","id":"Core.Hello"}', ErrorCode.MISSING_FIELD, "no 'proto'"),
    ('{"proto":7,"id":"Core.Hello"}', ErrorCode.BAD_FIELD, "'proto' must be a string"),
    ('{"proto":"gmcp","id":["Core"]}', ErrorCode.BAD_FIELD, "'id' must be a string"),
    ('{"proto":"gmcp","id":"Core.Hello","data":{"client":"x"}}', ErrorCode.BAD_FIELD,
     "'data' must be a string"),
    ('{"proto":"gmcp","data":"{}"}', ErrorCode.BAD_MESSAGE, "no package name"),
    ('{"proto":"gmcp","id":"Core Hello"}', ErrorCode.BAD_MESSAGE, "not a GMCP package name"),
    ('{"proto":"gmcp","id":"Core.Hello","data":"{oops"}', ErrorCode.BAD_JSON,
     "Core.Hello is not valid JSON"),
])
def test_bad_envelopes_in(frame: str, code: str, says: str) -> None:
    with pytest.raises(WireError) as err:
        mud.decode_oob(JSON, frame)
    assert err.value.code == code and says in err.value.message


def test_the_example_envelope_in_error_messages_reads() -> None:
    assert mud.decode_oob(JSON, mud.ENVELOPE) == ("Core.Hello", {"client": "MyClient"})
    assert mud.decode_oob(GMCP, mud.EXAMPLE)[0] == "Core.Hello"  # type: ignore[index]
