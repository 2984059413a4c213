"""Hostile frames over real sockets: each gets a clean error, the session goes on, and a
command whose `id` could not be sent back is not run at all.

Every case here once dropped the connection (a RecursionError while decoding, or a
reply that failed to encode after the command had already been carried out).
"""

from __future__ import annotations

from typing import Any

import msgpack
import pytest
from conftest import StartServer, ws_url
from wsclient import Client, events


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


async def _answer(c: Client, raw: str | bytes) -> dict[str, Any]:
    """Send `raw` as is; return the error it gets, after checking the session goes on."""
    await c.send(raw)
    got = await c.until(lambda m: m.get("type") in ("error", "result"))
    await c.send({"type": "ping", "id": "still there?"})
    assert (await c.until(lambda m: m.get("type") == "pong"))[-1]["id"] == "still there?"
    msg: dict[str, Any] = got[-1]
    assert msg["type"] == "error", msg
    return msg


async def _players(start_server: StartServer, sub: str) -> tuple[Client, Client]:
    """An attacker on `sub` and a listener in the same room."""
    server = await start_server()
    attacker = await Client.open(ws_url(server), sub)
    listener = await Client.open(ws_url(server), "aegent.json")
    await attacker.recv()
    await listener.recv()
    await listener.register("Lis")
    await attacker.register("Mal")
    return attacker, listener


async def _heard_before(listener: Client, attacker: Client, marker: str) -> list[str]:
    """What the listener heard said up to `marker`, which the attacker now says (commands
    run in order, so anything the attacks ran would come first)."""
    got = await attacker.command(f"say {marker}")
    assert got[-1]["ok"] is True
    heard = await listener.until(lambda m: m.get("type") == "event" and m["name"] == "said"
                                 and m["data"]["text"] == marker)
    return [e["data"]["text"] for e in events(heard, "said")]


JSON_ATTACKS = [
    pytest.param("[" * 4000, "bad_json", id="deep-array"),
    pytest.param('{"type":"ping","x":' + "{\"a\":" * 40 + "1" + "}" * 41, "bad_json",
                 id="deep-map"),
    pytest.param('{"type":"ping","id":"\\ud800"}', "bad_json", id="lone-surrogate-id"),
    pytest.param('{"type":"command","line":"say \\udc00 boo","id":1}', "bad_json",
                 id="lone-surrogate-line"),
    pytest.param('{"type":"ping","id":NaN}', "bad_json", id="nan"),
    pytest.param('{"type":"command","line":"say big","id":18446744073709551616}',
                 "bad_field", id="id-2**64"),
    pytest.param('{"type":"command","line":"say big","id":9223372036854775808}',
                 "bad_field", id="id-2**63"),
    pytest.param('{"type":"command","line":"say big","id":1e400}', "bad_json", id="id-inf"),
    pytest.param('{"type":"command","line":"say big","id":true}', "bad_field", id="id-bool"),
    pytest.param('{"type":"command","line":"say big","id":[1]}', "bad_field", id="id-list"),
    pytest.param('{"type":"command","line":"say big","id":"' + "x" * 65 + '"}', "bad_field",
                 id="id-long"),
]


@pytest.mark.parametrize(("raw", "code"), JSON_ATTACKS)
async def test_json_attacks_are_refused_and_nothing_runs(start_server: StartServer, raw: str,
                                                         code: str) -> None:
    attacker, listener = await _players(start_server, "aegent.json")
    error = await _answer(attacker, raw)
    assert error["code"] == code
    assert "id" not in error  # an id that could not be read is not echoed
    assert await _heard_before(listener, attacker, "marker") == ["marker"]


MSGPACK_ATTACKS = [
    pytest.param(b"\x91" * 4000, id="deep-beyond-msgpack-stack"),
    pytest.param(msgpack.packb({"type": _nested(1000)}), id="deep-type"),
    pytest.param(msgpack.packb({"type": "ping", "x": _nested(33)}), id="deep-ignored-key"),
    pytest.param(b"\x81\xa4type\xdf\xff\xff\xff\xff", id="map-of-2**32"),
    pytest.param(b"\x81\xa4type\xdd\xff\xff\xff\xff\xc0", id="array-of-2**32"),
    pytest.param(b"\x81\xa4type\xdb\xff\xff\xff\xffabc", id="str-of-4GB"),
    pytest.param(b"\x81\xa4type\xc6\xff\xff\xff\xffabc", id="bin-of-4GB"),
    pytest.param(msgpack.packb({"type": "command", "line": b"say bytes"}), id="bin-value"),
    pytest.param(msgpack.packb({"type": "ping", "id": msgpack.ExtType(1, b"x")}), id="ext"),
]


@pytest.mark.parametrize("raw", MSGPACK_ATTACKS)
async def test_msgpack_attacks_are_refused(start_server: StartServer, raw: bytes) -> None:
    attacker, listener = await _players(start_server, "aegent.msgpack")
    error = await _answer(attacker, raw)
    assert error["code"] == "bad_msgpack"
    assert await _heard_before(listener, attacker, "marker") == ["marker"]


@pytest.mark.parametrize("bad_id", [2**64 - 1, 2**63, 1.5, {"a": 1}, [1],
                                    "x" * 65, True], ids=repr)
async def test_msgpack_unsendable_id_refuses_the_command(start_server: StartServer,
                                                         bad_id: Any) -> None:
    attacker, listener = await _players(start_server, "aegent.msgpack")
    raw = msgpack.packb({"type": "command", "line": "say big", "id": bad_id})
    error = await _answer(attacker, raw)
    assert error["code"] == "bad_field" and "id" not in error
    assert await _heard_before(listener, attacker, "marker") == ["marker"]


@pytest.mark.parametrize("good_id", [2**63 - 1, -(2**63), 0, "", "x" * 64], ids=repr)
async def test_ids_at_the_bounds_come_back(start_server: StartServer, good_id: Any) -> None:
    attacker, _ = await _players(start_server, "aegent.msgpack")
    await attacker.send({"type": "command", "line": "say edge", "id": good_id})
    got = await attacker.until(lambda m: m.get("type") == "result")
    assert got[-1]["id"] == good_id and got[-1]["ok"] is True
