"""A2A end to end: the real server, real sockets, the `a2a-sdk` client, a running agent.

Ann registers over WebSockets and makes her agent Scout in game; `aegent agent a2a
Scout on` (the real command line, on the server's database file), or `agent a2a Scout
on` in game, lets it be reached and gives its card's URL. The A2A client is the SDK's
own (`create_client` reads the card, its `AuthInterceptor` sends Ann's key as the
card's bearer scheme asks). The agent is the real runtime (agents/runner.py, scripted
policy, or the LLM policy against the local fake endpoint) logged in with Scout's key,
or, where an agent must stay silent, a bare msgpack session.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from a2a.client import (
    A2ACardResolver,
    A2AClientError,
    AuthInterceptor,
    Client,
    ClientCallContext,
    ClientConfig,
    CredentialService,
    create_client,
)
from a2a.types.a2a_pb2 import Message, Part, Role, SendMessageRequest
from conftest import StartServer, ws_url
from fake_openai import FakeOpenAI, Reply, chat_reply, tool_call
from wsclient import Client as WsClient
from wsclient import auth_of, events

from agents.client import Credentials
from agents.contracts import Policy
from agents.runner import Agent
from agents.scripted import ScriptedPolicy
from server import cli
from server.app import Server

SDK_TIMEOUT = 10.0


class Key(CredentialService):
    """Gives the SDK's AuthInterceptor one API key for every scheme."""

    def __init__(self, key: str) -> None:
        self.key = key

    async def get_credentials(self, security_scheme_name: str,
                              context: ClientCallContext | None) -> str | None:
        return self.key


async def person(server: Server, name: str) -> WsClient:
    c = await WsClient.open(ws_url(server), "aegent.json")
    await c.recv()
    got = await c.register(name)
    assert auth_of(got)["ok"], got
    return c


async def make_agent(owner: WsClient, name: str, scopes: str = "") -> str:
    got = await owner.command(f"agent create {name} {scopes}".strip())
    assert got[-1]["ok"] is True, got
    key: str = events(got, "agent_managed")[0]["data"]["key"]
    return key


async def a2a_cli(server: Server, name: str, state: str) -> int:
    """The real `aegent agent a2a NAME on|off` on the server's database."""
    data = str(server.settings.data_dir)
    return await asyncio.to_thread(cli.main, ["agent", "a2a", name, state, "--data-dir", data])


def base(server: Server) -> str:
    return f"http://127.0.0.1:{server.port}"


@asynccontextmanager
async def a2a_client(url: str, key: str) -> AsyncIterator[Client]:
    """The SDK's client for the agent at `url`, sending `key` as the card asks."""
    client = await create_client(url, ClientConfig(streaming=False),
                                 interceptors=[AuthInterceptor(Key(key))])
    try:
        yield client
    finally:
        await client.close()


async def ask(client: Client, text: str) -> Message:
    """Send one message; the agent's answer (the SDK gives a Message back)."""
    request = SendMessageRequest(message=Message(message_id="m-" + text[:8].replace(" ", "-"),
                                                 role=Role.ROLE_USER, parts=[Part(text=text)]))
    got = [r async for r in client.send_message(request,
                                                 context=ClientCallContext(timeout=SDK_TIMEOUT))]
    assert len(got) == 1 and got[0].HasField("message"), got
    return got[0].message


@asynccontextmanager
async def running(server: Server, key: str, policy: Policy | None = None
                  ) -> AsyncIterator[Agent]:
    """Scout's runtime (scripted by default) logged in with its key, until the block ends."""
    online = asyncio.Event()
    agent = Agent(ws_url(server), Credentials("Scout", api_key=key),
                  policy or ScriptedPolicy(seed=1), register=False, min_interval=0.05,
                  on_registered=lambda _: online.set())
    stop = asyncio.Event()
    task = asyncio.create_task(agent.run(stop))
    try:
        await asyncio.wait_for(online.wait(), SDK_TIMEOUT)
        yield agent
    finally:
        stop.set()
        await asyncio.wait_for(task, SDK_TIMEOUT)


async def post(server: Server, path: str, body: Any, key: str | None = None,
               headers: dict[str, str] | None = None) -> httpx.Response:
    sent = dict(headers or {})
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    async with httpx.AsyncClient(timeout=SDK_TIMEOUT) as http:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return await http.post(base(server) + path, content=content,
                               headers={"Content-Type": "application/json", **sent})


def send_body(text: str, legacy: bool = False) -> dict[str, Any]:
    if legacy:
        return {"jsonrpc": "2.0", "id": 7, "method": "message/send", "params": {"message": {
            "kind": "message", "messageId": "x1", "role": "user",
            "parts": [{"kind": "text", "text": text}]}}}
    return {"jsonrpc": "2.0", "id": "r1", "method": "SendMessage", "params": {"message": {
        "messageId": "x1", "role": "ROLE_USER", "parts": [{"text": text}]}}}


async def raw_http(server: Server, data: bytes) -> bytes:
    """Send raw bytes; everything the server answers until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), SDK_TIMEOUT)
    finally:
        writer.close()


# ---- the card and the round trip ----------------------------------------------------------


async def test_card_and_messages_round_trip_through_the_running_agent(
        start_server: StartServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    server = await start_server()
    ann = await person(server, "Ann")
    key = await make_agent(ann, "Scout", "movement,combat,communication")
    card_path = "/a2a/Scout/.well-known/agent-card.json"
    async with httpx.AsyncClient(timeout=SDK_TIMEOUT) as http:
        assert (await http.get(base(server) + card_path)).status_code == 404  # no consent
        assert (await http.get(base(server) + "/a2a/Nobody/.well-known/agent-card.json")
                ).status_code == 404

    # The owner's consent: the command line prints the card's URL alone on stdout.
    monkeypatch.setenv("AEGENT_PUBLIC_URL", base(server))
    capsys.readouterr()
    assert await a2a_cli(server, "scout", "on") == 0
    url = capsys.readouterr().out.strip()
    assert url == base(server) + card_path

    async with httpx.AsyncClient(timeout=SDK_TIMEOUT) as http:
        card = await A2ACardResolver(http, base(server) + "/a2a/Scout").get_agent_card()
        head = await http.head(url)
    assert head.status_code == 200 and head.headers["content-type"] == "application/json"
    assert card.name == "Scout" and card.provider.organization == "Ann"
    assert "Ann" in card.description
    assert [s.id for s in card.skills] == ["answer", "game.combat", "game.communication",
                                           "game.movement"]  # from the key's scopes
    assert card.supported_interfaces[0].url == base(server) + "/a2a/Scout"
    assert card.supported_interfaces[0].protocol_binding == "JSONRPC"
    assert not card.capabilities.streaming

    async with a2a_client(base(server) + "/a2a/Scout", key) as client:
        # Not in the game: a clear error.
        with pytest.raises(A2AClientError, match="Scout is not in the game"):
            await ask(client, "Are you there?")

        async with running(server, key) as agent:
            # Ann is playing: she reads the answer too.
            reply = await ask(client, "How are you doing?")
            text = reply.parts[0].text
            assert reply.role == Role.ROLE_AGENT
            assert text.startswith("Level 1 warrior, ") and " hp" in text, text
            told = await ann.until(lambda m: m.get("type") == "event" and m["name"] == "told")
            assert told[-1]["data"]["actor"] == "Scout"
            assert told[-1]["data"]["text"] == text
            heard = [c for c in agent.tracker.obs.chat if c["channel"] == "tell"]
            assert {"from": "Ann", "channel": "tell", "text": "How are you doing?"} in heard
            # A tell in game gets the same answer.
            await ann.command("tell scout where are you?")
            told = await ann.until(lambda m: m.get("type") == "event" and m["name"] == "told"
                                   and m["data"]["actor"] == "Scout")
            assert told[-1]["data"]["text"].startswith("Level 1 warrior")

            # Ann gone (link-dead): the answer still comes (the tell goes to A2A only).
            await ann.close()
            again = await ask(client, "And now?")
            assert again.parts[0].text.startswith("Level 1 warrior")

            # 0.3's message/send, as older clients send it.
            legacy = await post(server, "/a2a/Scout", send_body("Status?", legacy=True), key)
            result = legacy.json()["result"]
            assert result["kind"] == "message" and result["role"] == "agent"
            assert result["parts"][0]["text"].startswith("Level 1 warrior")
            assert legacy.json()["id"] == 7

    # Counted in usage accounting as calls of the pseudo-model `a2a`.
    await server.usage.flush()
    lines = await server.in_db(server.usage.store.lines)
    assert [(u.agent, u.owner, u.model, u.calls, u.tokens) for u in lines] == [
        ("scout", "ann", "a2a", 3, 0)]
    metrics = server.metrics.render().decode()
    assert 'aegent_a2a_requests_total{outcome="answered"} 3.0' in metrics
    assert 'aegent_a2a_requests_total{outcome="offline"} 1.0' in metrics

    # Consent withdrawn: gone at once.
    assert await a2a_cli(server, "Scout", "off") == 0
    async with httpx.AsyncClient(timeout=SDK_TIMEOUT) as http:
        assert (await http.get(url)).status_code == 404
    assert (await post(server, "/a2a/Scout", send_body("hi"), key)).status_code == 404


# ---- who may speak, and the bounds --------------------------------------------------------


async def test_keys_bounds_and_rate_limit(start_server: StartServer) -> None:
    server = await start_server(a2a_per_minute=3, http_body_timeout=0.2,
                                a2a_max_body_bytes=2048)
    ann = await person(server, "Ann")
    key = await make_agent(ann, "Scout")
    mule = await make_agent(ann, "Mule", "movement")  # Ann's, without communication
    bob = await person(server, "Bob")
    spy = await make_agent(bob, "Spy")
    assert await a2a_cli(server, "Scout", "on") == 0
    path = "/a2a/Scout"

    missing = await post(server, path, send_body("hi"))
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert (await post(server, path, send_body("hi"), "aq_nosuchkey_secret")).status_code == 401
    assert (await post(server, path, send_body("hi"), key + "x")).status_code == 401
    others = await post(server, path, send_body("hi"), spy)  # Bob's key
    assert others.status_code == 401 and "not one of Ann's" in others.text
    assert (await post(server, path, send_body("hi"), mule)).status_code == 403

    # The SDK client with a wrong key: an HTTP 401 error.
    async with a2a_client(base(server) + path, "aq_nosuchkey_secret") as client:
        with pytest.raises(A2AClientError, match="401"):
            await ask(client, "hi")

    # Over the body limit: 413 from the head alone (the body is never read).
    too_big = await raw_http(server, (f"POST {path} HTTP/1.1\r\nHost: x\r\n"
                                      f"Authorization: Bearer {key}\r\n"
                                      "Content-Length: 100000\r\n\r\n").encode())
    assert too_big.startswith(b"HTTP/1.1 413 ")
    with pytest.raises(A2AClientError, match="413"):
        async with a2a_client(base(server) + path, key) as client:
            await ask(client, "x" * 3000)
    assert (await raw_http(server, f"POST {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            ).startswith(b"HTTP/1.1 411 ")
    assert (await raw_http(server, b"POST /ws HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}")
            ).startswith(b"HTTP/1.1 405 ")
    slow = await raw_http(server, f"POST {path} HTTP/1.1\r\nContent-Length: 50\r\n\r\n{{".encode())
    assert slow.startswith(b"HTTP/1.1 408 ")  # the rest of the body never came

    # JSON-RPC errors, in 200 answers; each counts against the key's rate (3 a minute).
    bad = await post(server, path, b"{not json", key)
    assert bad.status_code == 200 and bad.json()["error"]["code"] == -32700
    unknown = await post(server, path, {"jsonrpc": "2.0", "id": 1, "method": "Dance"}, key)
    assert unknown.json()["error"]["code"] == -32601 and unknown.json()["id"] == 1
    offline = await post(server, path, send_body("hi"), key)
    error = offline.json()["error"]
    assert error["code"] == -32050 and error["data"][0]["reason"] == "AGENT_OFFLINE"
    limited = await post(server, path, send_body("hi"), key)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    await ann.close()
    await bob.close()


async def test_a_silent_agent_times_out_and_one_message_at_a_time(
        start_server: StartServer) -> None:
    server = await start_server(a2a_reply_timeout=0.5)
    ann = await person(server, "Ann")
    key = await make_agent(ann, "Scout")
    # The owner's consent, in game this time.
    assert (await ann.command("agent a2a Scout maybe"))[-1]["ok"] is False
    got = await ann.command("agent a2a scout on")
    managed = events(got, "agent_managed")[0]
    url = f"http://127.0.0.1:{server.port}/a2a/Scout/.well-known/agent-card.json"
    assert managed["data"]["agents"][0]["card_url"] == url and url in managed["text"]
    silent = await WsClient.open(ws_url(server), "aegent.msgpack")  # logged in, never answers
    await silent.recv()
    await silent.send({"type": "login", "api_key": key, "id": "login"})
    got = await silent.until(lambda m: m.get("type") == "auth")
    assert auth_of(got)["ok"] and auth_of(got)["character"]["owner"] == "ann"

    first = asyncio.ensure_future(post(server, "/a2a/Scout", send_body("one"), key))
    told = await silent.until(lambda m: m.get("type") == "event" and m["name"] == "told")
    assert told[-1]["data"] == {"actor": "Ann", "kind": "player", "target": "Scout",
                                "text": "one"}
    busy = (await post(server, "/a2a/Scout", send_body("two"), key)).json()["error"]
    assert busy["code"] == -32051 and busy["data"][0]["reason"] == "AGENT_BUSY"
    late = (await first).json()["error"]
    assert late["code"] == -32052 and late["data"][0]["reason"] == "NO_REPLY"

    # Its next tell to Ann is the answer (Ann playing: she reads it too).
    second = asyncio.ensure_future(post(server, "/a2a/Scout", send_body("three"), key))
    await silent.until(lambda m: m.get("type") == "event" and m["name"] == "told")
    await silent.send({"type": "call", "tool": "tell", "id": 5,
                       "args": {"target": "ann", "text": "all   quiet here"}})
    answered = (await second).json()["result"]["message"]
    assert answered["parts"] == [{"text": "all quiet here"}]
    assert answered["role"] == "ROLE_AGENT" and answered["metadata"]["owner"] == "Ann"
    heard = await ann.until(lambda m: m.get("type") == "event" and m["name"] == "told"
                            and m["data"]["actor"] == "Scout")
    assert heard[-1]["data"]["text"] == "all quiet here"
    got = await ann.command("agent a2a Scout off")
    assert "no longer" in events(got, "agent_managed")[0]["text"]
    assert (await post(server, "/a2a/Scout", send_body("four"), key)).status_code == 404
    await silent.close()
    await ann.close()


async def test_an_llm_agent_answers_in_its_own_words(start_server: StartServer) -> None:
    from agents.llm import LLMPolicy

    server = await start_server()
    ann = await person(server, "Ann")
    key = await make_agent(ann, "Scout")
    assert await a2a_cli(server, "Scout", "on") == 0

    def model(body: dict[str, Any]) -> Reply:
        if body.get("tools"):  # a turn of play
            return chat_reply(tool_call("look", {}), content="Looking around.")
        return chat_reply(content="Exploring the temple,\n all is well.")  # the answer

    with FakeOpenAI(responder=model) as fake:
        policy = LLMPolicy("gpt-4o-mini", base_url=fake.base_url, api_key="test")
        try:
            async with running(server, key, policy), \
                    a2a_client(base(server) + "/a2a/Scout", key) as client:
                reply = await ask(client, "How are you doing?")
        finally:
            await policy.aclose()
        asked = [b for b in fake.chat_bodies if not b.get("tools")]
    assert reply.parts[0].text == "Exploring the temple, all is well."
    assert len(asked) == 1
    prompt = asked[0]["messages"][1]["content"]
    assert "<<<DATA owner" in prompt and "How are you doing?" in prompt  # quoted, as data
    await server.usage.flush()
    lines = await server.in_db(server.usage.store.lines)
    calls = {u.model: u.calls for u in lines}
    assert calls["a2a"] == 1 and calls["gpt-4o-mini"] >= 2  # the answer was metered too
    await ann.close()
