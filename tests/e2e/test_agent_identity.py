"""Agent identity end to end: the real server, real sockets, a real SQLite file.

People register over WebSockets; their agents are made in game (`agent create`) or
with the real command line (`server.cli.main`) on the server's own database file; the
agents log in with their API keys over msgpack. Checked: the [AI] tag in what people
see, revocation (refused next time and closed at once), scopes, the agent's own rate
limit, and that owners manage only their own agents.
"""

from __future__ import annotations

import asyncio
from typing import Any

from conftest import StartServer, ws_url
from websockets.exceptions import ConnectionClosed
from wsclient import Client, auth_of, events

from server import cli
from server.app import Server

MSGPACK = "aegent.msgpack"


async def person(server: Server, name: str) -> Client:
    """A person, registered and playing, over JSON."""
    c = await Client.open(ws_url(server), "aegent.json")
    await c.recv()
    got = await c.register(name)
    assert auth_of(got)["ok"], got
    return c


async def key_login(server: Server, key: str) -> tuple[Client, list[Any]]:
    """An agent's connection (msgpack), logged in with `key`: the client and what came."""
    c = await Client.open(ws_url(server), MSGPACK)
    await c.recv()
    await c.send({"type": "login", "api_key": key, "id": "login"})
    got = await c.until(lambda m: m.get("type") == "auth")
    if got[-1]["ok"]:
        got += await c.until(lambda m: m.get("type") == "event" and m["name"] == "vitals")
    return c, got


async def until_closed(c: Client, timeout: float = 5.0) -> list[Any]:
    """Everything received until the server closes the connection."""
    got: list[Any] = []
    try:
        while True:
            got.append(await c.recv(timeout))
    except ConnectionClosed:
        return got


async def agent_cli(server: Server, *argv: str) -> int:
    """The real `aegent agent ...` on the server's database (in a thread: it blocks)."""
    data = str(server.settings.data_dir)
    return await asyncio.to_thread(cli.main, ["agent", *argv, "--data-dir", data])


async def create_in_game(owner: Client, name: str, scopes: str = "") -> str:
    got = await owner.command(f"agent create {name} {scopes}".strip())
    assert got[-1]["ok"] is True, got
    managed = events(got, "agent_managed")[0]
    key: str = managed["data"]["key"]
    assert key.startswith("aq_") and key in managed["text"]
    return key


async def test_agents_are_tagged_and_a_revoked_key_closes_at_once(
        start_server: StartServer) -> None:
    server = await start_server(login_fail_delay=60.0)  # the throttle's wait outlasts the test
    ann = await person(server, "Ann")
    key = await create_in_game(ann, "Scout")

    scout, got = await key_login(server, key)
    auth = auth_of(got)
    assert auth["ok"] and auth["created"] is True
    assert auth["character"]["name"] == "Scout" and auth["character"]["kind"] == "agent"

    got = await ann.command("who")
    who = events(got, "who_listed")[0]
    assert "[AI] Scout" in who["text"] and "[AI] Ann" not in who["text"]
    assert {"name": "Scout", "kind": "agent"}.items() <= next(
        c for c in who["data"]["characters"] if c["name"] == "Scout").items()

    got = await ann.command("look")
    room = events(got, "room")[0]
    assert "[AI] Scout is here." in room["text"]
    assert next(c for c in room["data"]["characters"] if c["name"] == "Scout")["kind"] == "agent"
    got = await ann.command("look scout")
    looked = events(got, "looked_at")[0]
    assert "[AI] Scout" in looked["text"] and looked["data"]["target_kind"] == "agent"

    got = await scout.command("say hello, people")
    assert got[-1]["ok"] is True
    heard = await ann.until(lambda m: m.get("type") == "event" and m["name"] == "said")
    said = heard[-1]
    assert said["text"] == "[AI] Scout says, 'hello, people'" and said["data"]["kind"] == "agent"
    await scout.command("tell ann psst")
    told = (await ann.until(lambda m: m.get("type") == "event" and m["name"] == "told"))[-1]
    assert told["text"].startswith("[AI] Scout tells you")

    # People on text connections (the same text as telnet) see the tag too.
    cat = await Client.open(ws_url(server), None)
    for prompt, line in (("By what name", "Cat"), ("(y/n)", "y"), ("password", "tabby cat 9"),
                         ("retype", "tabby cat 9"), ("class", "w")):
        await cat.until(lambda m, p=prompt: p in m)  # type: ignore[misc]
        await cat.send(line)
    await cat.until(lambda m: "Welcome, Cat" in m)
    await cat.send("color off")
    await cat.until(lambda m: "olo" in m)
    await cat.send("who")
    listing = await cat.until(lambda m: "online." in m)
    assert "[AI] Scout" in listing[-1] and "[AI] Ann" not in listing[-1]
    await scout.command("say beep")
    assert "[AI] Scout says, 'beep'" in (await cat.until(lambda m: "says" in m))[-1]
    await cat.close()

    # A password login to an agent's account is refused like a wrong password.
    other = await Client.open(ws_url(server), "aegent.json")
    await other.recv()
    assert auth_of(await other.login("Scout", ""))["error"]["code"] == "auth_failed"

    # Revoking in game closes the live connection at once, with key_revoked.
    got = await ann.command("agent revoke scout")
    assert got[-1]["ok"] is True and events(got, "agent_managed")[0]["data"]["action"] == \
        "revoke"
    closing = await until_closed(scout)
    errors = [m for m in closing if m.get("type") == "error"]
    assert errors and errors[0]["code"] == "key_revoked"
    assert server.world.find_online("Scout") is None

    again, got = await key_login(server, key)
    assert auth_of(got)["ok"] is False
    assert auth_of(got)["error"]["code"] == "auth_failed"
    assert "revoked" in auth_of(got)["error"]["message"]
    bogus, got = await key_login(server, "aq_nothere_" + "x" * 43)
    assert auth_of(got)["error"]["code"] == "auth_failed"
    # Bad keys count as failed API-key logins of the address (wrong passwords have their
    # own count): after the fifth, it waits.
    codes = []
    for _ in range(4):
        await bogus.send({"type": "login", "api_key": "not a key", "id": "again"})
        codes.append(auth_of(await bogus.until(lambda m: m.get("type") == "auth"))
                     ["error"]["code"])
    assert codes == ["auth_failed", "auth_failed", "auth_failed", "throttled"]
    for c in (ann, other, again, bogus):
        await c.close()


async def test_cli_made_agent_scopes_and_cli_revocation(start_server: StartServer) -> None:
    server = await start_server(agent_key_check_interval=0.1)
    ann = await person(server, "Ann")
    created = await asyncio.to_thread(
        cli.main, ["agent", "create", "Rover", "--owner", "ann", "--scopes", "movement",
                   "--class", "mage", "--data-dir", str(server.settings.data_dir)])
    assert created == 0
    record = await server.in_db(server.identity.store.get_agent, "rover")
    assert record is not None and record.key_id is not None
    # The CLI printed the key once; take it again with a fresh rotation, as an owner would.
    assert await agent_cli(server, "rotate", "rover") == 0
    listed = await server.in_db(server.identity.store.get_agent, "rover")
    assert listed is not None and listed.key_id != record.key_id
    key = await rotate_in_game(ann, "Rover")

    rover, got = await key_login(server, key)
    assert auth_of(got)["ok"] and auth_of(got)["character"]["class"] == "mage"
    got = await rover.command("say hi")
    assert got[-1]["ok"] is False and got[-1]["error"]["code"] == "forbidden_scope"
    assert "movement" in got[-1]["error"]["message"]
    got = await rover.call("look")
    assert got[-1]["error"]["code"] == "forbidden_scope"
    got = await rover.command("north")
    assert got[-1].get("error", {}).get("code") != "forbidden_scope"
    tools = await tool_names(rover)
    assert "north" in tools or "go" in tools
    assert "say" not in tools

    # Scopes changed from the command line reach the live session within the interval:
    # the server's key check pushes the new tool list, and that is what we wait for.
    assert await agent_cli(server, "scopes", "rover", "movement,communication") == 0
    pushed = (await rover.until(lambda m: m.get("type") == "tools" and "id" not in m))[-1]
    assert "say" in [t["name"] for t in pushed["tools"]]
    got = await rover.command("say hi")
    assert got[-1]["ok"] is True

    # A revocation from the command line closes the live connection within the interval.
    assert await agent_cli(server, "revoke", "rover") == 0
    closing = await until_closed(rover, timeout=5.0)
    assert [m["code"] for m in closing if m.get("type") == "error"] == ["key_revoked"]
    await ann.close()


async def rotate_in_game(owner: Client, name: str) -> str:
    got = await owner.command(f"agent rotate {name}")
    assert got[-1]["ok"] is True, got
    key: str = events(got, "agent_managed")[0]["data"]["key"]
    return key


async def tool_names(c: Client) -> set[str]:
    await c.send({"type": "tools", "id": "t"})
    got = await c.until(lambda m: m.get("type") == "tools")
    return {t["name"] for t in got[-1]["tools"]}


async def test_an_agent_has_its_own_rate_limit(start_server: StartServer) -> None:
    server = await start_server(queue_max=1)
    ann = await person(server, "Ann")
    key = await create_in_game(ann, "Pacer")
    assert await agent_cli(server, "config", "pacer", "--rate", "0.2", "--burst", "1") == 0
    pacer, got = await key_login(server, key)
    assert auth_of(got)["ok"]
    session = next(s for s in server.sessions if s.agent is not None)
    assert (session.limits.rate, session.limits.burst) == (0.2, 1)

    for i in range(3):  # one runs, one waits in the queue, the third is refused
        await pacer.send({"type": "command", "line": "score", "id": i})
    got = await pacer.until(lambda m: m.get("type") == "error")
    assert got[-1]["code"] == "rate_limited" and got[-1]["id"] == 2
    # The person, on the server's own limits (burst 16), is not slowed.
    for i in range(3):
        await ann.send({"type": "command", "line": "score", "id": 100 + i})
    results = await ann.until(lambda m: m.get("type") == "result" and m["id"] == 102)
    assert [m["ok"] for m in results if m.get("type") == "result"] == [True, True, True]

    # Without a config of its own, an agent gets the server's agent defaults.
    other_key = await create_in_game(ann, "Plain")
    plain, got = await key_login(server, other_key)
    assert auth_of(got)["ok"]
    limits = next(s.limits for s in server.sessions
                  if s.agent is not None and s.agent.name == "plain")
    assert (limits.rate, limits.burst) == (server.settings.agent_rate,
                                           server.settings.agent_burst)
    for c in (ann, pacer, plain):
        await c.close()


async def test_owners_manage_only_their_own_agents(start_server: StartServer) -> None:
    server = await start_server()
    ann = await person(server, "Ann")
    bob = await person(server, "Bob")
    key = await create_in_game(ann, "Helper", "movement,communication")

    for line in ("agent revoke helper", "agent rotate helper", "agent scopes helper *"):
        got = await bob.command(line)
        assert got[-1]["ok"] is False and got[-1]["error"]["code"] == "not_here", line
    got = await bob.command("agent list")
    assert events(got, "agent_managed")[0]["data"]["agents"] == []
    got = await bob.command("agent list ann")
    assert got[-1]["error"]["code"] == "forbidden"
    got = await ann.command("agent list")
    listed = events(got, "agent_managed")[0]
    assert [a["name"] for a in listed["data"]["agents"]] == ["Helper"]
    assert key not in listed["text"] and "[AI] Helper" in listed["text"]
    got = await ann.command("agent scopes helper flying")
    assert got[-1]["error"]["code"] == "bad_args" and "flying" in got[-1]["error"]["message"]
    got = await ann.command("agent create Bob")
    assert got[-1]["error"]["code"] == "name_taken"

    # An agent cannot make agents (nor manage any), whatever its scopes.
    helper, got = await key_login(server, key)
    assert auth_of(got)["ok"]
    got = await helper.command("agent create Minion")
    assert got[-1]["ok"] is False and got[-1]["error"]["code"] in ("forbidden",
                                                                   "forbidden_scope")
    assert await agent_cli(server, "scopes", "helper", "*") == 0
    # The key check saw the change when it pushes the new tool list.
    pushed = (await helper.until(lambda m: m.get("type") == "tools" and "id" not in m))[-1]
    assert "agent" in [t["name"] for t in pushed["tools"]]
    got = await helper.command("agent create Minion")
    assert got[-1]["error"]["code"] == "forbidden"
    for c in (ann, bob, helper):
        await c.close()
