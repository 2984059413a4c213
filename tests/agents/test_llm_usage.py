"""The LLM policy's metering (agents/llm.py with a `Meter`), against the fake OpenAI server.

A recording meter stands in for the game client: every model call must be reserved
before it is made (worst case = prompt estimate with a margin + the completion cap)
and settled after it with the reply's real usage; a refusal stops the call; a settle
that the connection lost is sent again before the next reservation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fake_openai import FakeOpenAI, chat_reply, error_reply, tool_call

from agents.client import BudgetExceeded, ConnectionLost
from agents.contracts import Observation
from agents.llm import METERED_COMPLETION_CAP, LLMPolicy, RetryPolicy

LOOK = {"name": "look", "description": "Look around the room.", "category": "information",
        "role": "player", "parameters": {"type": "object", "properties": {},
                                          "required": [], "additionalProperties": False}}


class Meter:
    """Records reservations and settlements; refuses once `budget` is used up."""

    def __init__(self, budget: int = 10**9) -> None:
        self.budget = budget
        self.log: list[tuple[Any, ...]] = []
        self.fail_settles = 0

    async def usage_reserve(self, model: str, max_tokens: int) -> str:
        if max_tokens > self.budget:
            raise BudgetExceeded("The daily budget of the agent aggie is reached.", "stop")
        self.budget -= max_tokens
        rid = f"r{len(self.log)}"
        self.log.append(("reserve", rid, model, max_tokens))
        return rid

    async def usage_settle(self, reservation: str, model: str, prompt_tokens: int,
                           completion_tokens: int, cached_tokens: int = 0) -> dict[str, Any]:
        if self.fail_settles:
            self.fail_settles -= 1
            raise ConnectionLost("the connection dropped")
        self.log.append(("settle", reservation, model, prompt_tokens, completion_tokens,
                         cached_tokens))
        return {"ok": True}


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


async def _noop(delay: float) -> None:
    return None


def policy(fake: FakeOpenAI, meter: Meter) -> LLMPolicy:
    return LLMPolicy("gpt-4o-mini", base_url=fake.base_url, api_key="test", meter=meter,
                     retry=RetryPolicy(tries=2, base_delay=0.01), sleep=_noop)


def obs() -> Observation:
    return Observation(name="Aggie", room={"id": "haven:square", "name": "Town Square"},
                       tools=[LOOK])


async def test_each_call_is_reserved_then_settled_with_the_real_usage(fake: FakeOpenAI
                                                                      ) -> None:
    meter = Meter()
    fake.script(chat_reply(tool_call("look", {}), usage={
        "prompt_tokens": 321, "completion_tokens": 12, "total_tokens": 333,
        "prompt_tokens_details": {"cached_tokens": 256}}))
    p = policy(fake, meter)
    try:
        actions = await p.decide(obs())
    finally:
        await p.aclose()
    assert [a.tool for a in actions] == ["look"]
    (kind, rid, model, worst), settle = meter.log
    assert (kind, model) == ("reserve", "gpt-4o-mini")
    assert worst >= METERED_COMPLETION_CAP + 321 // 2  # the prompt estimate is in it
    assert settle == ("settle", rid, "gpt-4o-mini", 321, 12, 256)
    assert fake.chat_bodies[0]["max_completion_tokens"] == METERED_COMPLETION_CAP


async def test_a_refused_reservation_makes_no_call(fake: FakeOpenAI) -> None:
    p = policy(fake, Meter(budget=10))
    try:
        with pytest.raises(BudgetExceeded) as err:
            await p.decide(obs())
    finally:
        await p.aclose()
    assert err.value.on_limit == "stop" and err.value.code == "budget_exceeded"
    assert fake.chat_bodies == []


async def test_a_failed_call_settles_at_zero_and_a_lost_settle_is_sent_again(
        fake: FakeOpenAI) -> None:
    meter = Meter()
    fake.script(error_reply(400, "bad request"))
    p = policy(fake, meter)
    try:
        assert list(await p.decide(obs())) == []
        assert meter.log[-1][0] == "settle" and meter.log[-1][3:] == (0, 0, 0)
        meter.fail_settles = 1
        fake.script(chat_reply(content="Waiting."))  # the fake fills usage in
        await p.decide(obs())
        lost = meter.log[-1]
        assert lost[0] == "reserve"  # its settle was lost with the connection
        fake.script(chat_reply(content="Still waiting."))
        await p.decide(obs())
    finally:
        await p.aclose()
    kinds = [entry[0] for entry in meter.log]
    assert kinds == ["reserve", "settle", "reserve", "settle", "reserve", "settle"]
    assert meter.log[3][1] == lost[1] and meter.log[3][3] > 0  # sent again, real numbers
