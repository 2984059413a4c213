"""Usage accounting end to end: the real server, real sockets, a real SQLite file.

A person registers and makes agents in game (`agent create`); the agents log in with
their API keys over msgpack. Checked: the `usage` message (reserve, settle, report,
bad fields, people refused), concurrent reservations that never overshoot a budget,
usage kept per agent, owner and day across a restart, the in-game `usage` command and
`aegent usage` on the command line, and the real agent runtime (agents/runner.py
with the LLM policy and the real openai client against tests/fake_openai.py) falling
back to the scripted policy, or stopping, when its budget is reached.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from typing import Any

from conftest import StartServer, ws_url
from fake_openai import FakeOpenAI, Reply, chat_reply, tool_call
from wsclient import Client, auth_of, events

from server import cli
from server.app import Server
from server.host.usage import Scope, make_budget
from server.host.usage_service import utc_today

MSGPACK = "aegent.msgpack"
FAST = {"usage_flush_interval": 0.05, "usage_budget_reload": 0.05}


async def person(server: Server, name: str) -> Client:
    c = await Client.open(ws_url(server), "aegent.json")
    await c.recv()
    got = await c.register(name)
    assert auth_of(got)["ok"], got
    return c


async def create_agent(owner: Client, name: str) -> str:
    got = await owner.command(f"agent create {name}")
    assert got[-1]["ok"] is True, got
    key: str = events(got, "agent_managed")[0]["data"]["key"]
    return key


async def key_login(server: Server, key: str) -> Client:
    c = await Client.open(ws_url(server), MSGPACK)
    await c.recv()
    await c.send({"type": "login", "api_key": key, "id": "login"})
    got = await c.until(lambda m: m.get("type") == "auth")
    assert got[-1]["ok"], got
    return c


async def usage(c: Client, **msg: Any) -> dict[str, Any]:
    mid = c.next_id()
    await c.send({"type": "usage", "id": mid, **msg})
    got = await c.until(lambda m: m.get("id") == mid and m.get("type") in ("usage", "error"))
    answer: dict[str, Any] = got[-1]
    return answer


async def set_budget(server: Server, scope: str, account: str, tokens: int | None,
                     usd: float | None = None, on_limit: str = "scripted") -> None:
    """A budget written to the database, as `aegent usage budget` does; the running
    server picks it up on its next reload."""
    budget = make_budget(scope, account, tokens, usd, on_limit)
    await server.in_db(server.usage.store.set_budget, budget)
    for _ in range(100):
        if server.usage.ledger.budgets.get(budget.key) == budget:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the server did not reload the budget")


async def test_the_usage_message_reserves_settles_and_reports(start_server: StartServer
                                                              ) -> None:
    server = await start_server(**FAST)
    ann = await person(server, "Ann")
    scout = await key_login(server, await create_agent(ann, "Scout"))

    got = await usage(scout, op="reserve", model="gpt-4o-mini", max_tokens=2000)
    assert got["ok"] is True and got["op"] == "reserve" and got["reservation"]
    assert got["max_usd"] == 0.0012  # 2000 tokens at the dearest gpt-4o-mini price
    done = await usage(scout, op="settle", reservation=got["reservation"], model="gpt-4o-mini",
                       prompt_tokens=1200, completion_tokens=300, cached_tokens=1000)
    assert done["ok"] is True and done["tokens"] == 1500
    assert done["cost_usd"] == 0.000285  # 200*0.15 + 1000*0.075 + 300*0.6 micro-dollars
    again = await usage(scout, op="settle", reservation=got["reservation"],
                        prompt_tokens=1, completion_tokens=1)
    assert again["ok"] is False and again["error"]["code"] == "unknown_reservation"
    third_party = await usage(scout, op="report", model="some-local-model", prompt_tokens=500,
                              completion_tokens=20)
    assert third_party["ok"] is True and third_party["cost_usd"] == 0  # unknown: free
    assert third_party["today"]["tokens"] == 2020

    cases: list[tuple[dict[str, Any], str]] = [({"op": "reserve", "model": "m"}, "missing_field"),
                      ({"op": "reserve", "model": "m", "max_tokens": -1}, "bad_field"),
                      ({"op": "reserve", "model": "m", "max_tokens": "lots"}, "bad_field"),
                      ({"op": "settle", "prompt_tokens": 1, "completion_tokens": 1},
                       "missing_field"),
                      ({"op": "report", "model": "m", "prompt_tokens": 1,
                        "completion_tokens": 1, "cached_tokens": 2}, "bad_field"),
                      ({"op": "borrow"}, "bad_field"), ({}, "missing_field")]
    for bad, code in cases:
        err = await usage(scout, **bad)
        assert err["type"] == "error" and err["code"] == code, (bad, err)
    await ann.send({"type": "usage", "op": "reserve", "model": "m", "max_tokens": 5, "id": "u"})
    refused = await ann.until(lambda m: m.get("id") == "u")
    assert refused[-1]["type"] == "error" and refused[-1]["code"] == "not_an_agent"

    await server.usage.flush()
    lines = await server.in_db(server.usage.store.lines)
    assert {(u.agent, u.owner, u.day, u.model, u.tokens, u.calls) for u in lines} == {
        ("scout", "ann", utc_today(), "gpt-4o-mini", 1500, 1),
        ("scout", "ann", utc_today(), "some-local-model", 520, 1)}
    await scout.close()
    await ann.close()


async def test_concurrent_reservations_never_overshoot_the_owner_budget(
        start_server: StartServer) -> None:
    server = await start_server(**FAST)
    ann = await person(server, "Ann")
    scout = await key_login(server, await create_agent(ann, "Scout"))
    ranger = await key_login(server, await create_agent(ann, "Ranger"))
    await set_budget(server, "owner", "ann", tokens=10_000, on_limit="stop")

    async def burst(c: Client, n: int) -> list[dict[str, Any]]:
        ids = []
        for _ in range(n):  # all sent before any answer is read
            mid = c.next_id()
            ids.append(mid)
            await c.send({"type": "usage", "op": "reserve", "id": mid, "model": "gpt-4o",
                          "max_tokens": 700})
        got = await c.until(lambda m: m.get("id") == ids[-1])
        return [m for m in got if m.get("type") == "usage"]

    a, b = await asyncio.gather(burst(scout, 12), burst(ranger, 12))
    granted = [m for m in a + b if m["ok"]]
    refused = [m for m in a + b if not m["ok"]]
    assert len(granted) == 14  # 14 * 700 = 9800 <= 10000 < 15 * 700
    assert all(m["error"]["code"] == "budget_exceeded" and m["error"]["on_limit"] == "stop"
               for m in refused) and len(refused) == 10
    assert "owner ann" in refused[0]["error"]["message"]
    # Settling with less than reserved frees the rest for the next calls.
    for m in granted[:2]:
        assert (await usage(scout if m in a else ranger, op="settle",
                            reservation=m["reservation"], prompt_tokens=100,
                            completion_tokens=0))["ok"]
    # 200 spent + 12 * 700 held + 1400 = 10000: exactly full.
    assert (await usage(scout, op="reserve", model="gpt-4o", max_tokens=1400))["ok"]
    assert not (await usage(scout, op="reserve", model="gpt-4o", max_tokens=1))["ok"]
    for c in (scout, ranger, ann):
        await c.close()


async def test_usage_survives_a_restart_and_shows_in_game_and_on_the_cli(
        start_server: StartServer, capsys: Any) -> None:
    server = await start_server(**FAST)
    ann = await person(server, "Ann")
    scout = await key_login(server, await create_agent(ann, "Scout"))
    ranger = await key_login(server, await create_agent(ann, "Ranger"))
    await set_budget(server, "agent", "scout", tokens=5000, usd=1.0)
    assert (await usage(scout, op="report", model="gpt-4o", prompt_tokens=3000,
                        completion_tokens=1000))["ok"]
    assert (await usage(ranger, op="report", model="gpt-4o-mini", prompt_tokens=1000,
                        completion_tokens=0, cached_tokens=1000))["ok"]

    shown = await ann.command("usage")
    assert shown[-1]["ok"] is True, shown
    data = events(shown, "usage_shown")[0]["data"]
    assert data["scope"] == "owner" and data["subject"] == "ann"
    by_name = {a["name"]: a for a in data["agents"]}
    assert by_name["scout"]["today"]["tokens"] == 4000
    assert by_name["scout"]["total"]["usd"] == 0.0175  # 3000 * 2.5 + 1000 * 10 micro
    assert by_name["ranger"]["today"]["cached_tokens"] == 1000
    assert data["owner_total"]["today"]["tokens"] == 5000
    assert data["budgets"] == [{"scope": "agent", "account": "scout", "tokens_per_day": 5000,
                                "usd_per_day": 1.0, "on_limit": "scripted",
                                "spent_tokens": 4000, "spent_usd": 0.0175}]
    text = events(shown, "usage_shown")[0]["text"]
    assert "scout" in text and "4,000 of 5,000 tokens" in text
    refused = await scout.command("usage ranger")
    assert refused[-1]["error"]["code"] == "forbidden"  # an agent sees only its own
    bob = await person(server, "Bob")
    nosy = await bob.command("usage scout")
    assert nosy[-1]["ok"] is False and nosy[-1]["error"]["code"] == "not_here"
    assert (await bob.command("usage ann"))[-1]["error"]["code"] == "not_here"
    own = events(await bob.command("usage bob 3"), "usage_shown")[0]
    assert own["data"]["agents"] == [] and own["data"]["days"] == 3
    assert "(no agents)" in own["text"]
    for c in (scout, ranger, ann, bob):
        await c.close()

    settings = server.settings
    await server.shutdown("restart")
    again = await start_server(settings, **FAST)
    assert again.usage.ledger.spent_today(Scope.AGENT, "scout").tokens == 4000
    assert again.usage.ledger.spent_today(Scope.OWNER, "ann").tokens == 5000
    # The budget and what was spent today outlived the restart: 1001 tokens do not fit.
    ann = await Client.open(ws_url(again), "aegent.json")
    await ann.recv()
    await ann.login("Ann")
    rotated = await ann.command("agent rotate Scout")
    key = events(rotated, "agent_managed")[0]["data"]["key"]
    scout = await key_login(again, key)
    assert (await usage(scout, op="reserve", model="m", max_tokens=1000))["ok"]
    over = await usage(scout, op="reserve", model="m", max_tokens=1)
    assert over["ok"] is False and over["error"]["code"] == "budget_exceeded"
    await scout.close()
    await ann.close()
    await again.usage.flush()

    data_dir = str(settings.data_dir)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert await asyncio.to_thread(cli.main, ["usage", "--owner", "Ann", "--data-dir",
                                                  data_dir]) == 0
    table = out.getvalue()
    assert "Model usage of ann (owner)" in table and "all agents" in table
    assert "5,000" in table and "scout" in table and "ranger" in table
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert await asyncio.to_thread(cli.main, [
            "usage", "budget", "--owner", "ann", "--usd", "2.5", "--on-limit", "stop",
            "--data-dir", data_dir]) == 0
    assert "set the owner budget of ann" in out.getvalue()
    budgets = await again.in_db(again.usage.store.budgets)
    assert make_budget("owner", "ann", None, 2.5, "stop") in budgets
    assert await asyncio.to_thread(cli.main, ["usage", "budget", "--agent", "ann", "--tokens",
                                              "5", "--data-dir", data_dir]) == 2  # a person
    assert await asyncio.to_thread(cli.main, ["usage", "--agent", "nobody", "--data-dir",
                                              data_dir]) == 1


# ---- the agent runtime ------------------------------------------------------------------


def explorer(body: dict[str, Any]) -> Reply:
    """A model that looks around (the fake adds usage: about a quarter of the prompt)."""
    return chat_reply(tool_call("look", {}), content="Looking.")


async def run_llm_agent(server: Server, fake: FakeOpenAI, key: str, until: Any,
                        timeout: float = 20.0) -> Any:
    from agents.client import Credentials
    from agents.llm import LLMPolicy
    from agents.runner import Agent

    policy = LLMPolicy("gpt-4o-mini", base_url=fake.base_url, api_key="test")
    agent = Agent(ws_url(server), Credentials("Scout", api_key=key), policy, register=False,
                  min_interval=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(agent.run(stop))
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not until(agent) and not task.done():
            assert loop.time() < deadline, agent.stats
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await policy.aclose()
    return agent


async def test_an_llm_agent_falls_back_to_scripted_at_its_budget(start_server: StartServer
                                                                 ) -> None:
    from agents.scripted import ScriptedPolicy

    server = await start_server(**FAST)
    ann = await person(server, "Ann")
    key = await create_agent(ann, "Scout")
    with FakeOpenAI(responder=explorer) as fake:
        # Room for a few calls only: each reserves its prompt estimate (about 4700
        # tokens, the tools included) with a margin, plus 1024.
        await set_budget(server, "agent", "scout", tokens=20_000)
        agent = await run_llm_agent(
            server, fake, key,
            lambda a: isinstance(a.policy, ScriptedPolicy) and a.stats.actions >= 6)
        calls = fake.chat_bodies
    assert agent.stats.budget == "budget reached: scripted"
    assert not agent.stats.error
    assert 1 <= len(calls) <= 5
    assert all(b["max_completion_tokens"] == 1024 for b in calls)  # a real worst case
    await server.usage.flush()
    lines = await server.in_db(server.usage.store.lines)
    assert [(u.agent, u.owner, u.model, u.calls) for u in lines] == [
        ("scout", "ann", "gpt-4o-mini", len(calls))]
    assert lines[0].tokens == agent.stats.tokens > 0  # what the runtime counted, recorded
    assert lines[0].tokens <= 20_000
    assert lines[0].cached_tokens > 0 and lines[0].cost_micro > 0
    assert not server.usage.ledger.reservations  # every reservation was settled
    shown = await ann.command("usage scout")
    assert events(shown, "usage_shown")[0]["data"]["agents"][0]["today"]["calls"] == len(calls)
    await ann.close()


async def test_an_llm_agent_stops_at_its_budget_when_told_to(start_server: StartServer
                                                             ) -> None:
    server = await start_server(**FAST)
    ann = await person(server, "Ann")
    key = await create_agent(ann, "Scout")
    await set_budget(server, "owner", "ann", tokens=100, on_limit="stop")  # not one call
    with FakeOpenAI(responder=explorer) as fake:
        agent = await run_llm_agent(server, fake, key, lambda a: bool(a.stats.error))
        assert fake.chat_bodies == []  # refused before any call was made
    assert agent.stats.error.startswith("budget_exceeded: The daily budget of the owner ann")
    assert agent.stats.budget == "budget reached: stopped"
    await ann.close()


async def test_a_fallen_back_agent_goes_back_to_the_model_when_the_day_turns(
        start_server: StartServer) -> None:
    """Budgets are per UTC day: at the turn of the day the runtime plays with the model
    again. The server's day may not have turned yet (its clock, or a budget still
    spent): refused again, it tries every 10 minutes for an hour."""
    from datetime import UTC, datetime, timedelta

    from agents.client import Credentials
    from agents.llm import LLMPolicy
    from agents.runner import Agent
    from agents.scripted import ScriptedPolicy

    server = await start_server(**FAST)
    ann = await person(server, "Ann")
    key = await create_agent(ann, "Scout")
    now = [datetime(2026, 11, 29, 23, 0, tzinfo=UTC)]
    made: list[LLMPolicy] = []
    with FakeOpenAI(responder=explorer) as fake:
        def remake() -> LLMPolicy:
            made.append(LLMPolicy("gpt-4o-mini", base_url=fake.base_url, api_key="test"))
            return made[-1]

        await set_budget(server, "agent", "scout", tokens=20_000)
        agent = Agent(ws_url(server), Credentials("Scout", api_key=key), remake(),
                      register=False, min_interval=0.05, remake=remake, utcnow=lambda: now[0])
        stop = asyncio.Event()
        task = asyncio.create_task(agent.run(stop))

        async def until(ok: Any) -> None:
            for _ in range(400):
                if ok():
                    return
                assert not task.done(), agent.stats
                await asyncio.sleep(0.05)
            raise AssertionError(agent.stats)

        try:
            await until(lambda: isinstance(agent.policy, ScriptedPolicy))
            assert agent.model_again_at == datetime(2026, 11, 30, tzinfo=UTC)
            calls = len(fake.chat_bodies)
            # Midnight on our clock, but the budget is still spent on the server's.
            now[0] = datetime(2026, 11, 30, 0, 0, 5, tzinfo=UTC)
            await until(lambda: len(made) == 2 and isinstance(agent.policy, ScriptedPolicy))
            assert len(fake.chat_bodies) == calls  # refused before any call
            assert agent.model_again_at == now[0] + timedelta(minutes=10)
            # The server's day turns (here: the owner gives room); ten minutes on, the
            # model plays again, and its calls are reserved with the server.
            await set_budget(server, "agent", "scout", tokens=10_000_000)
            now[0] += timedelta(minutes=10)
            await until(lambda: len(fake.chat_bodies) > calls + 1)
            assert len(made) == 3 and agent.policy is made[-1] and agent.stats.budget == ""
            assert agent.model_again_at is None and not agent.stats.error
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            for policy in made:
                await policy.aclose()
    await ann.close()
