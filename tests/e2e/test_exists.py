"""The structured `exists` question over a real socket: the first step of a login dialogue
like telnet's (what `aegent play` asks before the password or the new-character questions).
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import StartServer, ws_url
from wsclient import Client, auth_of


def answer(msgs: list[Any]) -> dict[str, Any]:
    reply: dict[str, Any] = msgs[-1]
    return reply


@pytest.mark.parametrize("sub", ["aegent.json", "aegent.msgpack"])
async def test_exists_says_whether_a_name_is_taken(start_server: StartServer, sub: str
                                                   ) -> None:
    server = await start_server()
    c = await Client.open(ws_url(server), sub)
    await c.recv()  # hello
    await c.send({"type": "exists", "name": "ann", "id": 1})
    got = await c.until(lambda m: m.get("type") in ("exists", "error"))
    assert answer(got) == {"type": "exists", "name": "ann", "exists": False, "id": 1}
    await c.send({"type": "exists", "name": "x1"})
    got = await c.until(lambda m: m.get("type") in ("exists", "error"))
    assert answer(got)["exists"] is False and answer(got)["problem"]  # not a usable name
    await c.send({"type": "exists"})
    got = await c.until(lambda m: m.get("type") in ("exists", "error"))
    assert answer(got)["type"] == "error" and answer(got)["code"] == "missing_field"
    await c.register("Ann")
    await c.send({"type": "exists", "name": "Ann", "id": "again"})
    got = await c.until(lambda m: m.get("type") == "error")
    assert answer(got)["code"] == "already_authenticated" and answer(got)["id"] == "again"
    await c.close()

    c = await Client.open(ws_url(server), sub)
    await c.recv()
    await c.send({"type": "exists", "name": "ANN", "id": 2})
    got = await c.until(lambda m: m.get("type") in ("exists", "error"))
    assert answer(got) == {"type": "exists", "name": "ANN", "exists": True, "id": 2}
    got = await c.login("Ann")  # the session goes on to log in
    assert auth_of(got)["ok"], got
    await c.close()
