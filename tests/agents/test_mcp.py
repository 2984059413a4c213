"""`aegent mcp` end to end: the real server in this event loop, the real `aegent mcp`
as a subprocess, driven over stdio by the MCP client of the same `mcp` package.

The MCP process is a client of the game protocol only; what it exposes (the tools
in a fixed order, `wait_for_events`, the observation resource, refusals as error
results) is checked here the way an MCP host sees it.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from conftest import StartServer, ws_url
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError
from mcp_types.version import LATEST_HANDSHAKE_VERSION, LATEST_PROTOCOL_VERSION
from wsclient import Client, auth_of

from server.app import Server
from server.host import accounts
from server.host.identity import create_agent, revoke_agent
from server.host.identity_storage import IdentityStore
from server.host.storage import SqlRepository
from world.commands.registry import REGISTRY, allowed
from world.entities import Role

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse"


@asynccontextmanager
async def mcp_session(server: Server, *flags: str, modern: bool = True
                      ) -> AsyncIterator[ClientSession]:
    """`aegent mcp` against `server`, connected and past the first exchange (the
    2026-07-28 `server/discover` when `modern`, else the `initialize` handshake)."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "server.cli", "mcp", "--server", ws_url(server), *flags],
        cwd=str(ROOT))
    async with stdio_client(params) as (read, write), \
            ClientSession(read, write, read_timeout_seconds=30) as session:
        if modern:
            await session.discover()
        else:
            await session.initialize()
        yield session


def player_tools(role: Role) -> list[str]:
    """The game's tools for `role`, in declaration order."""
    return [s.name for s in REGISTRY.specs.values() if allowed(s, role)]


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def make_account(server: Server, name: str, role: str) -> None:
    """An account straight in the running server's database."""
    hasher = accounts.Hasher(1, 1024, 1)
    password_hash = await hasher.hash(PASSWORD)
    hasher.close()

    def work() -> None:
        repo = SqlRepository(server.settings.resolved_database_url)
        repo.create_account(name, password_hash, role)
        repo.close()

    await asyncio.to_thread(work)


async def player(server: Server, name: str, *, register: bool = True) -> Client:
    c = await Client.open(ws_url(server), "aegent.json")
    await c.recv()
    got = await (c.register(name, PASSWORD) if register else c.login(name, PASSWORD))
    assert auth_of(got)["ok"], got
    return c


async def test_mcp_plays_a_character_over_stdio(start_server: StartServer) -> None:
    server = await start_server()
    flags = ("--name", "Ann", "--password", PASSWORD, "--register", "--class", "mage")
    async with mcp_session(server, *flags) as mcp:
        assert mcp.protocol_version == LATEST_PROTOCOL_VERSION  # the current revision
        assert mcp.server_info is not None and mcp.server_info.name == "aegent-quest"

        # The tools: the game's, in its order, then wait_for_events; the same every time.
        listed = (await mcp.list_tools()).tools
        names = [t.name for t in listed]
        assert names == [*player_tools(Role.PLAYER), "wait_for_events"]
        assert not {"dig", "ban", "promote"} & set(names)
        assert [t.name for t in (await mcp.list_tools()).tools] == names
        by_name = {t.name: t for t in listed}
        go = by_name["go"]
        assert go.input_schema["required"] == ["direction"]
        assert "north" in go.input_schema["properties"]["direction"]["enum"]
        assert "`go north`" in (go.description or "")
        assert go.meta is not None and go.meta["aegent/category"] == "movement"
        assert all(t.input_schema["type"] == "object" for t in listed)

        # A command: its text and events, up to its result.
        look = await mcp.call_tool("look", {})
        assert not look.is_error, text_of(look)
        assert look.structured_content is not None and look.structured_content["ok"] is True
        rooms = [e for e in look.structured_content["events"] if e["name"] == "room"]
        assert rooms and rooms[0]["data"]["id"] == "haven:square"
        assert rooms[0]["data"]["name"] in text_of(look)

        said = await mcp.call_tool("say", {"text": "hello from MCP"})
        assert not said.is_error and "hello from MCP" in text_of(said)

        # A refusal is an error result with the server's code, not a protocol error.
        bad = await mcp.call_tool("go", {"direction": "down"})
        assert bad.is_error and bad.structured_content is not None
        assert bad.structured_content["error"]["code"] == "no_exit"
        assert "[error no_exit]" in text_of(bad)
        worse = await mcp.call_tool("go", {"direction": "sideways"})
        assert worse.is_error and worse.structured_content is not None
        assert worse.structured_content["error"]["code"] == "bad_args"
        with pytest.raises(MCPError, match="Unknown tool"):
            await mcp.call_tool("fly", {})

        # The observation resource.
        resources = (await mcp.list_resources()).resources
        assert [r.uri for r in resources] == ["aegent://observation"]
        read = await mcp.read_resource("aegent://observation")
        body = read.contents[0]
        assert isinstance(body, types.TextResourceContents) and body.mime_type == "application/json"
        obs = json.loads(body.text)
        assert obs["character"]["name"] == "Ann" and obs["room"]["id"] == "haven:square"
        assert any(a["tool"] == "go" for a in obs["actions"])
        help_page = await mcp.read_resource("aegent://help/kill")
        page = help_page.contents[0]
        assert isinstance(page, types.TextResourceContents) and "Usage: kill" in page.text

        # wait_for_events: what came unasked (the login's room and vitals), not the
        # events that tool calls returned already...
        returned = {e["seq"] for r in (look, said, bad)
                    for e in (r.structured_content or {}).get("events", [])}
        assert returned
        quiet = await mcp.call_tool("wait_for_events", {"timeout": 0.3})
        assert not quiet.is_error and quiet.structured_content is not None
        unasked = quiet.structured_content["events"]
        assert [e["name"] for e in unasked][:2] == ["room", "vitals"]
        assert not {e["seq"] for e in unasked} & returned
        assert (await mcp.call_tool("wait_for_events", {"timeout": 0.2})
                ).structured_content == {"events": [], "more": 0, "dropped": 0}
        # ...then what someone else causes, as it happens.
        # No sleeps: a round trip on Ann's connection (reading the observation) is the
        # barrier. The server answers Ann's `observe` after the events it routed to her
        # before, on the same ordered connection, so the MCP process holds those by then.
        bob = await player(server, "Bob")
        await mcp.read_resource("aegent://observation")
        await mcp.call_tool("wait_for_events", {"timeout": 0})  # Bob's arrival, taken
        waiting = asyncio.create_task(mcp.call_tool("wait_for_events", {"timeout": 10}))
        # The MCP process serves requests concurrently, in the order they come: once a
        # later request is answered, the wait has started, so Bob speaks while it waits.
        await mcp.read_resource("aegent://observation")
        await bob.command("say anyone here?")
        heard: list[dict[str, Any]] = []
        got = await waiting
        while not any(e["name"] == "said" for e in heard):
            assert got.structured_content is not None
            heard += got.structured_content["events"]
            if any(e["name"] == "said" for e in heard):
                break
            got = await mcp.call_tool("wait_for_events", {"timeout": 10})
            assert got.structured_content is not None and got.structured_content["events"]
        said_events = [e for e in heard if e["name"] == "said"]
        assert said_events[0]["data"]["actor"] == "Bob", said_events
        assert "anyone here?" in said_events[0]["text"]
        await bob.close()

        # max_events leaves the rest for the next call.
        cid = await player(server, "Cid")
        for i in range(3):
            assert (await cid.command(f"say count {i}"))[-1]["ok"]
        # The three `said` events were routed to Ann before Cid got his results: once the
        # observation is read, the MCP process holds them.
        await mcp.read_resource("aegent://observation")
        first = await mcp.call_tool("wait_for_events", {"timeout": 2, "max_events": 1})
        assert first.structured_content is not None
        assert len(first.structured_content["events"]) == 1
        left = first.structured_content["more"]
        assert left >= 1
        rest = await mcp.call_tool("wait_for_events", {"timeout": 2, "max_events": 100})
        assert rest.structured_content is not None
        assert len(rest.structured_content["events"]) >= left
        seen = first.structured_content["events"] + rest.structured_content["events"]
        assert [e["data"]["text"] for e in seen if e["name"] == "said"] == [
            "count 0", "count 1", "count 2"]
        with pytest.raises(MCPError, match="timeout"):
            await mcp.call_tool("wait_for_events", {"timeout": "soon"})
        await cid.close()


async def test_mcp_handshake_era_and_a_refused_tool_after_a_demotion(
        start_server: StartServer) -> None:
    server = await start_server()
    await make_account(server, "Ada", "admin")
    await make_account(server, "Bea", "builder")
    flags = ("--name", "Bea", "--password", PASSWORD)
    async with mcp_session(server, *flags, modern=False) as mcp:
        assert mcp.protocol_version == LATEST_HANDSHAKE_VERSION  # older hosts still work
        names = [t.name for t in (await mcp.list_tools()).tools]
        assert names == [*player_tools(Role.BUILDER), "wait_for_events"]
        assert "dig" in names and "ban" not in names

        ada = await player(server, "Ada", register=False)
        demoted = await ada.command("promote bea player")
        assert demoted[-1]["ok"], demoted[-1]
        # The list stays as it was (MCP wants it fixed); the command is refused.
        assert [t.name for t in (await mcp.list_tools()).tools] == names
        dig = await mcp.call_tool("dig", {"direction": "north", "name": "Nowhere"})
        assert dig.is_error and dig.structured_content is not None
        assert dig.structured_content["error"]["code"] == "forbidden", dig.structured_content
        assert "[error forbidden]" in text_of(dig)
        await ada.close()


async def test_mcp_with_an_api_key_lists_every_tool_and_refuses_the_unscoped(
        start_server: StartServer) -> None:
    server = await start_server()
    await make_account(server, "Olga", "player")

    def new_agent() -> str:
        _, key = create_agent(IdentityStore(server.repo.engine), "Robo", "olga",
                              ["communication", "information"])
        return key

    key = await server.in_db(new_agent)
    async with mcp_session(server, "--api-key", key) as mcp:
        listed = (await mcp.list_tools()).tools
        # The role's whole list, fixed: the key's scopes decide what is refused, not listed.
        assert [t.name for t in listed] == [*player_tools(Role.PLAYER), "wait_for_events"]
        go = next(t for t in listed if t.name == "go")
        assert go.meta is not None and go.meta["aegent/allowed"] is False
        assert "does not grant" in (go.description or "")
        refused = await mcp.call_tool("go", {"direction": "north"})
        assert refused.is_error and refused.structured_content is not None
        assert refused.structured_content["error"]["code"] == "forbidden_scope"
        said = await mcp.call_tool("say", {"text": "beep"})
        assert not said.is_error, text_of(said)
        obs = json.loads(next(c.text for c in (await mcp.read_resource(
            "aegent://observation")).contents if isinstance(c, types.TextResourceContents)))
        assert obs["character"]["name"] == "Robo"

        # The owner revokes the key: the server closes the connection at once, and the
        # next call says so (the process stays up for the host to read it).
        def revoke() -> list[str]:
            return revoke_agent(IdentityStore(server.repo.engine), "Robo")

        server.identity.close_key_sessions(await server.in_db(revoke), "revoked by test")
        gone = await mcp.call_tool("say", {"text": "still here?"})
        assert gone.is_error and gone.structured_content is not None
        assert gone.structured_content["error"]["code"] == "connection_lost"
        assert "key_revoked" in text_of(gone)


def test_mcp_refuses_to_start_without_credentials() -> None:
    import subprocess

    done = subprocess.run([sys.executable, "-m", "server.cli", "mcp", "--server",
                           "ws://127.0.0.1:9/ws"], capture_output=True, text=True, cwd=ROOT,
                          timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 2 and "--api-key" in done.stderr and done.stdout == ""


async def test_mcp_exits_when_the_login_is_refused(start_server: StartServer) -> None:
    server = await start_server()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", "mcp", "--server", ws_url(server),
        "--name", "Nobody", "--password", "wrong password", cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1 and b"login refused: auth_failed" in err and out == b""
