"""The `tools` message as a registry, over real sockets: what each session sees changes
with its rights (role, an API key's scopes), each entry carries its scope, role and
examples, and `all: true` gives the fixed list MCP bridges need.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path
from typing import Any

from conftest import StartServer, ws_url
from wsclient import Client, auth_of

from server.app import Server
from server.host import accounts
from server.host.identity import create_agent
from server.host.identity_storage import IdentityStore
from server.host.storage import SqlRepository
from world.commands.registry import REGISTRY, allowed
from world.entities import Role

PASSWORD = "correct horse"
AGENTS_DOC = Path(__file__).resolve().parents[2] / "docs" / "agents.md"


async def make_account(server: Server, name: str, role: str) -> None:
    hasher = accounts.Hasher(1, 1024, 1)
    password_hash = await hasher.hash(PASSWORD)
    hasher.close()

    def work() -> None:
        repo = SqlRepository(server.settings.resolved_database_url)
        repo.create_account(name, password_hash, role)
        repo.close()

    await asyncio.to_thread(work)


async def make_agent(server: Server, name: str, owner: str, scopes: list[str]) -> str:
    """An agent owned by `owner` with a key of `scopes`; returns the key."""
    def work() -> str:
        _, key = create_agent(IdentityStore(server.repo.engine), name, owner, scopes)
        return key

    return await server.in_db(work)


async def connect(server: Server, login: dict[str, Any]) -> Client:
    c = await Client.open(ws_url(server), "aegent.json")
    await c.recv()
    await c.send({**login, "id": "login"})
    got = await c.until(lambda m: m.get("type") == "auth")
    assert auth_of(got)["ok"], got
    return c


async def tools(c: Client, **extra: Any) -> list[dict[str, Any]]:
    await c.send({"type": "tools", "id": "t", **extra})
    got = await c.until(lambda m: m.get("type") == "tools")
    listed: list[dict[str, Any]] = got[-1]["tools"]
    return listed


def names_for(role: Role, categories: set[str] | None = None) -> list[str]:
    return [s.name for s in REGISTRY.specs.values() if allowed(s, role)
            and (categories is None or s.category in categories)]


async def test_the_tool_list_follows_role_and_scopes(start_server: StartServer) -> None:
    server = await start_server()
    await make_account(server, "Pat", "player")
    await make_account(server, "Bea", "builder")
    pat = await connect(server, {"type": "login", "name": "Pat", "password": PASSWORD})
    bea = await connect(server, {"type": "login", "name": "Bea", "password": PASSWORD})

    # A player: the player's commands only, in declaration order, each a full entry.
    listed = await tools(pat)
    assert [t["name"] for t in listed] == names_for(Role.PLAYER)
    assert not {"dig", "zone", "ban", "promote"} & {t["name"] for t in listed}
    go = next(t for t in listed if t["name"] == "go")
    assert go["scope"] == go["category"] == "movement" and go["role"] == "player"
    assert {"line": "go north", "args": {"direction": "north"}} in go["examples"]
    for tool in listed:
        assert tool["examples"], tool["name"]
        assert all("args" in e and e["line"] for e in tool["examples"]), tool["name"]
        assert "allowed" not in tool
    # `all` for a person: the same list, everything allowed.
    every = await tools(pat, all=True)
    assert [t["name"] for t in every] == names_for(Role.PLAYER)
    assert all(t["allowed"] is True for t in every)

    # A builder sees the building commands, not the admin ones.
    built = [t["name"] for t in await tools(bea)]
    assert built == names_for(Role.BUILDER)
    assert {"dig", "zone", "undo"} <= set(built) and not {"ban", "promote"} & set(built)

    # An agent's key with two scopes: only those categories...
    key = await make_agent(server, "Robo", "pat", ["communication", "information"])
    robo = await connect(server, {"type": "login", "api_key": key})
    scoped = await tools(robo)
    assert [t["name"] for t in scoped] == names_for(Role.PLAYER, {"communication",
                                                                   "information"})
    assert {t["scope"] for t in scoped} == {"communication", "information"}
    assert "say" in [t["name"] for t in scoped] and "go" not in [t["name"] for t in scoped]
    # ...and with `all`, the role's whole list with the rest marked not allowed.
    every = await tools(robo, all=True)
    assert [t["name"] for t in every] == names_for(Role.PLAYER)
    assert {t["name"] for t in every if t["allowed"]} == {t["name"] for t in scoped}
    # Calling one of those is refused with the scope's code.
    mid = robo.next_id()
    await robo.send({"type": "call", "tool": "go", "args": {"direction": "north"}, "id": mid})
    got = await robo.until(lambda m: m.get("type") == "result" and m.get("id") == mid)
    assert got[-1]["error"]["code"] == "forbidden_scope"
    # The owner grants one more scope: the live session gets its new list at once.
    await pat.send({"type": "command", "line": "agent scopes Robo communication,information,"
                                               "movement", "id": 5})
    await pat.until(lambda m: m.get("type") == "result" and m.get("id") == 5)
    pushed = (await robo.until(lambda m: m.get("type") == "tools"))[-1]
    assert "go" in [t["name"] for t in pushed["tools"]]

    # A bad `all` is a clear error.
    await pat.send({"type": "tools", "all": "yes", "id": 9})
    err = (await pat.until(lambda m: m.get("type") == "error"))[-1]
    assert (err["code"], err["id"]) == ("bad_field", 9) and "'all'" in err["message"]
    for c in (pat, bea, robo):
        await c.close()


async def test_the_bring_your_own_agent_example_plays(start_server: StartServer,
                                                      tmp_path: Path) -> None:
    """docs/agents.md's plain-websockets agent, as printed, against a real server."""
    doc = AGENTS_DOC.read_text(encoding="utf-8")
    section = doc[doc.index("## Bring your own agent"):]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    script = tmp_path / "agent.py"
    script.write_text(code.group(1), encoding="utf-8")
    server = await start_server()
    await make_account(server, "Olga", "player")
    key = await make_agent(server, "Robo", "olga", ["*"])
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(script), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "AEGENT_URL": ws_url(server), "AEGENT_API_KEY": key})
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    text = out.decode()
    assert proc.returncode == 0, err.decode()
    assert "Welcome to Aegent Quest" in text and "tools: go," in text
    assert "look -> ok" in text and "say -> ok" in text and "missed" not in text
    assert "You say, 'hello, I am a bot'" in text and "could do: [" in text
