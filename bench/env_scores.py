"""Scores of a random agent and the scripted policy through the research environments.

Run by hand (not by `make bench`): each policy plays `AegentEnv` (one warrior) and
`AegentParallelEnv` (`--agents` characters, warriors and clerics in turn) for one
episode per seed, on a fresh world of that seed in lockstep (a child `aegent serve`),
and it prints a Markdown table of the scores (the total reward per agent, default
`Rewards`: XP, 50 per quest step, -200 per death) and of the speed in world time
(ticks and steps per second of wall time, the policy's own time included).

- `random`: a uniformly random admissible action each step (the `admissible` lines
  of the server's `observe`), or nothing when none is listed;
- `scripted`: `agents/scripted.py` through `PolicyAgent.scripted`, keeping time in
  world seconds;
- `idle`: does nothing: the speed of the env and the world alone.

    python -m bench.env_scores                         # 5 seeds, 30-minute episodes
    python -m bench.env_scores --seeds 0,1 --max-ticks 3000 --policies idle
    python -m bench.env_scores --json-out bench/results/env_scores.json
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from agents.env import ActionLike, AegentEnv, AegentParallelEnv, PolicyAgent
from bench.episodes import add_episode_flags, report

Chooser = Callable[[dict[str, Any]], ActionLike]


def chooser(policy: str, name: str, seed: int) -> tuple[Chooser, Callable[[], None]]:
    """The n-th agent's way of choosing (from the last `info`), and how to close it."""
    if policy == "scripted":
        agent = PolicyAgent.scripted(name, seed=seed)
        return agent.act, agent.close
    if policy == "random":
        rng = np.random.default_rng([seed, len(name), sum(map(ord, name))])

        def pick(info: dict[str, Any]) -> ActionLike:
            lines = info["admissible"]
            return str(lines[int(rng.integers(len(lines)))]) if lines else ""
        return pick, lambda: None
    if policy == "idle":
        return lambda info: "", lambda: None
    raise SystemExit(f"unknown policy {policy!r} (random, scripted, idle)")


def episode(kind: str, policy: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """One episode; its scores and its speed."""
    common = {"max_ticks": args.max_ticks, "ticks_per_step": args.ticks_per_step}
    single: AegentEnv | None = None
    many: AegentParallelEnv | None = None
    if kind == "gymnasium":
        single = AegentEnv(**common)
        names, close_env = [single.name], single.close
    else:
        many = AegentParallelEnv(num_agents=args.agents, classes=("warrior", "cleric"),
                                 **common)
        names, close_env = list(many.possible_agents), many.close
    choosers = {n: chooser(policy, n, seed) for n in names}
    totals = dict.fromkeys(names, 0.0)
    parts = {n: {"xp": 0, "quest_steps": 0, "deaths": 0} for n in names}
    steps = 0
    try:
        t0 = time.perf_counter()
        if single is not None:
            name = names[0]
            _, info = single.reset(seed=seed)
            done = False
            while not done:
                _, reward, terminated, truncated, info = single.step(choosers[name][0](info))
                done = terminated or truncated
                steps += 1
                _add(totals, parts, {name: reward}, {name: info})
        else:
            assert many is not None
            _, infos = many.reset(seed=seed)
            while many.agents:
                actions = {n: choosers[n][0](infos[n]) for n in many.agents}
                _, rewards, _, _, infos = many.step(actions)
                steps += 1
                _add(totals, parts, rewards, infos)
        wall = time.perf_counter() - t0
    finally:
        close_env()
        for _, close in choosers.values():
            close()
    return {"env": kind, "policy": policy, "seed": seed, "agents": len(names),
            "score": statistics.fmean(totals.values()), "scores": totals, "parts": parts,
            "steps": steps, "seconds": round(wall, 2), "ticks_per_s": args.max_ticks / wall,
            "steps_per_s": steps / wall}


def _add(totals: dict[str, float], parts: dict[str, dict[str, int]],
         rewards: dict[str, float], infos: dict[str, dict[str, Any]]) -> None:
    for n, r in rewards.items():
        totals[n] += r
        for k, v in infos[n]["reward"].items():
            parts[n][k] += v


def table(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The Markdown table: one line per env and policy, over its seeds."""
    out = ["| env | policy | agents | score per agent, mean ± sd | per seed | XP | deaths "
           "| quest steps | ticks/s | steps/s |",
           "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["env"], r["policy"]), []).append(r)
    for (kind, policy), runs in groups.items():
        scores = [r["score"] for r in runs]
        sd = statistics.stdev(scores) if len(scores) > 1 else 0.0
        per_agent = len(runs) * runs[0]["agents"]

        def mean_part(key: str, runs: list[dict[str, Any]] = runs, n: int = per_agent) -> str:
            return f"{sum(p[key] for r in runs for p in r['parts'].values()) / n:.1f}"
        out.append(
            f"| {kind} | {policy} | {runs[0]['agents']} | {statistics.fmean(scores):.0f} ± "
            f"{sd:.0f} | {', '.join(f'{s:.0f}' for s in scores)} | {mean_part('xp')} | "
            f"{mean_part('deaths')} | {mean_part('quest_steps')} | "
            f"{statistics.median(r['ticks_per_s'] for r in runs):,.0f} | "
            f"{statistics.median(r['steps_per_s'] for r in runs):,.0f} |")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated world seeds")
    ap.add_argument("--policies", default="random,scripted", help="random, scripted, idle")
    ap.add_argument("--envs", default="gymnasium,pettingzoo", help="gymnasium, pettingzoo")
    ap.add_argument("--agents", type=int, default=2, help="characters in the PettingZoo env")
    add_episode_flags(ap, 18_000, "episode length in ticks (18,000: 30 minutes)")
    args = ap.parse_args(argv)
    rows = []
    for kind in args.envs.split(","):
        for policy in args.policies.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                row = episode(kind, policy, seed, args)
                rows.append(row)
                print(f"{kind} {policy} seed {seed}: score {row['score']:.0f}, "
                      f"{row['seconds']} s, {row['ticks_per_s']:,.0f} ticks/s", flush=True)
    report(table(rows), rows, args.json_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
