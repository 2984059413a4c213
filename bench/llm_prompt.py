"""What the LLM policy's prompt costs in a real game: size per call and the cached share.

    python -m bench.llm_prompt                 # 100 model calls, the default 16,000-token budget
    python -m bench.llm_prompt --turns 200 --budget 8000

A real server runs in-process (the starter world, a fixed seed); one agent plays it
through the real runtime (agents/runner.py `Agent`) with `LLMPolicy`, against
tests/fake_openai.py: a local OpenAI-compatible server whose "model" wanders (a
random exit of the room each turn, a `look` now and then) and which counts cached
prompt tokens the way providers' prefix caches do (the longest prefix shared with
an earlier prompt). No network, no model: this measures the prompt layout, not play.

Prints: calls, prompt tokens per call (mean, max; the budget), the share of prompt
tokens that were a prefix-cache hit, how often the window was cut, and the fixed
part (system prompt + tool definitions).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fake_openai import FakeOpenAI, Reply, chat_reply, prompt_text, tool_call  # noqa: E402

from agents import prompting  # noqa: E402
from agents.client import Credentials  # noqa: E402
from agents.llm import LLMPolicy  # noqa: E402
from agents.runner import Agent  # noqa: E402
from server.app import Server  # noqa: E402
from server.config import Settings  # noqa: E402


def wanderer(seed: int) -> Any:
    rng = random.Random(seed)
    turn = [0]

    def model(body: dict[str, Any]) -> Reply:
        turn[0] += 1
        final = str(body["messages"][-1]["content"])
        found = re.search(r"^Exits: (.*)\.$", final, flags=re.M)
        exits = [e.strip() for e in found.group(1).split(",")] if found else []
        exits = [e for e in exits if e and e != "none"]
        calls = [tool_call("go", {"direction": rng.choice(exits)})] if exits else []
        if turn[0] % 5 == 0 or not calls:
            calls.append(tool_call("look", {}))
        return chat_reply(*calls, content="Exploring.")

    return model


async def run(turns: int, budget: int, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(wanderer(seed)) as fake:
        server = Server(Settings(port=0, telnet_port=0, data_dir=Path(tmp), seed=seed,
                                 argon2_time_cost=1, argon2_memory_kib=1024))
        await server.start()
        policy = LLMPolicy("fake-model", base_url=fake.base_url, api_key="bench",
                           budget_tokens=budget, seed=seed)
        agent = Agent(f"ws://127.0.0.1:{server.port}/ws",
                      Credentials("Bencher", "correct horse", "warrior"), policy, min_interval=0)
        stop = asyncio.Event()
        task = asyncio.create_task(agent.run(stop))
        try:
            while len(fake.chat_bodies) < turns and not task.done():
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
            await policy.aclose()
            await server.shutdown("bench over")
        bodies = fake.chat_bodies[:turns]
        sizes = [len(prompt_text(b)) / 4 for b in bodies]
        cuts = sum(1 for a, b in zip(bodies[1:], bodies[2:], strict=False)
                   if a["messages"][1] != b["messages"][1])
        usage = policy.usage()
        fixed = (prompting.estimate_tokens(bodies[0]["tools"])
                 + prompting.message_tokens(bodies[0]["messages"][0]))
        return {"calls": len(bodies), "budget": budget,
                "prompt_mean": statistics.mean(sizes), "prompt_max": max(sizes),
                "prompt_tokens": usage.prompt_tokens, "cached_tokens": usage.cached_tokens,
                "cached_share": usage.cached_tokens / max(1, usage.prompt_tokens),
                "cuts": cuts, "fixed": fixed, "tools": len(bodies[0]["tools"]),
                "rooms": len(agent.stats.rooms)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=100)
    ap.add_argument("--budget", type=int, default=16000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    import structlog
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    r = asyncio.run(run(args.turns, args.budget, args.seed))
    print(f"model calls          {r['calls']} (rooms visited: {r['rooms']})")
    print(f"fixed prefix         {r['fixed']} tokens (system prompt + {r['tools']} tools)")
    print(f"prompt per call      mean {r['prompt_mean']:.0f}, max {r['prompt_max']:.0f} "
          f"tokens (budget {r['budget']})")
    print(f"prompt tokens        {r['prompt_tokens']}, cached {r['cached_tokens']} "
          f"({100 * r['cached_share']:.1f} %)")
    print(f"window cuts          {r['cuts']}")


if __name__ == "__main__":
    main()
