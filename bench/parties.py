"""Parties against solo play: world time to level 5 for 4 scripted agents, over seeds.

Run by hand (not by `make bench`). For each seed and each mode, a fresh world of that
seed (lockstep; its own `aegent serve` process) gets `AegentParallelEnv(num_agents=4,
classes=("warrior", "cleric"))`: Agentaa and Agentac are warriors, Agentab and Agentad
clerics. Each is played by `ScriptedPolicy` (agents/scripted.py) through `PolicyAgent`,
its clock in world seconds:

- `solo`: party mode off: four agents on their own, in one world;
- `parties`: party mode on, `party_size=2`, friends in pairs (Agentaa with Agentab,
  Agentac with Agentad): two parties of a warrior and a cleric, formed when they meet
  prey too strong alone (agents/scripted.py, party mode).

An episode runs until every agent has reached `--level` or `--max-ticks` world ticks
have passed (the cap). It prints, per seed and mode, the world minutes at which each
agent reached the level (`-` for not within the cap), how many did, their median, and
what the parties did (the first group formed, plans told, deaths, kills), then a
Markdown table for docs/agents.md.

    python -m bench.parties                                  # 5 seeds, cap 60 minutes
    python -m bench.parties --seeds 0 --max-ticks 6000 --modes parties
    python -m bench.parties --json-out bench/results/parties.json
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from typing import Any

from agents.env import AegentParallelEnv, PolicyAgent, WorldClock
from agents.scripted import ScriptedPolicy
from bench.episodes import add_episode_flags, report

TICK_HZ = 10.0


def players(names: Sequence[str], seed: int, party: bool) -> dict[str, PolicyAgent]:
    """A scripted agent per name; in party mode, friends in pairs (1st with 2nd...)."""
    out: dict[str, PolicyAgent] = {}
    for i, name in enumerate(names):
        mate = names[i ^ 1] if (i ^ 1) < len(names) else name
        clock = WorldClock()
        policy = ScriptedPolicy(seed=seed * 10 + i, clock=clock, party=party, party_size=2,
                                friends=(mate,) if party else None)
        out[name] = PolicyAgent(policy, name, clock, TICK_HZ)
    return out


def episode(mode: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """One world: the tick each agent reached the level, and what happened on the way."""
    env = AegentParallelEnv(num_agents=args.agents, classes=("warrior", "cleric"),
                            max_ticks=args.max_ticks, ticks_per_step=args.ticks_per_step)
    names = list(env.possible_agents)
    agents = players(names, seed, mode == "parties")
    reached: dict[str, int | None] = dict.fromkeys(names)
    first_group: int | None = None
    plans = kills = deaths = 0
    t0 = time.perf_counter()
    try:
        _, infos = env.reset(seed=seed)
        while env.agents:
            actions = {n: agents[n].act(infos[n]) for n in env.agents}
            for a in actions.values():
                if isinstance(a, dict) and a.get("tool") in ("tell", "gtell") \
                        and str(a.get("args", {}).get("text", "")).startswith("plan v1 "):
                    plans += 1
            _, _, _, _, infos = env.step(actions)
            for n in names:
                info = infos[n]
                obs = info["observation"]
                level = int((obs.get("vitals") or {}).get("level") or 0)
                if reached[n] is None and level >= args.level:
                    reached[n] = int(info["tick"])
                if first_group is None and obs.get("group"):
                    first_group = int(info["tick"])
                for ev in info["events"]:
                    data = ev.get("data") or {}
                    if ev.get("name") == "died" and data.get("actor") == n:
                        deaths += 1
                    elif ev.get("name") == "died" and data.get("killer") == n:
                        kills += 1
            if all(t is not None for t in reached.values()):
                break
        ticks = int(infos[names[0]]["tick"])
    finally:
        env.close()
        for agent in agents.values():
            agent.close()
    classes = {n: ("warrior", "cleric")[i % 2] for i, n in enumerate(names)}
    return {"mode": mode, "seed": seed, "reached": reached, "classes": classes, "ticks": ticks,
            "first_group": first_group, "plans": plans, "kills": kills, "deaths": deaths,
            "seconds": round(time.perf_counter() - t0, 1)}


def minutes(ticks: int | None) -> str:
    return "-" if ticks is None else f"{ticks / TICK_HZ / 60:.1f}"


def median_minutes(row: dict[str, Any]) -> float | None:
    """The median over the agents of the minutes to the level, those who missed it
    counted at the cap (None when fewer than half made it)."""
    times = sorted(t if t is not None else float("inf") for t in row["reached"].values())
    mid = statistics.median(times)
    return None if mid == float("inf") else mid / TICK_HZ / 60


def last_minutes(row: dict[str, Any]) -> float | None:
    """The minutes until every agent had the level (None: not all within the cap)."""
    times = list(row["reached"].values())
    return None if None in times else max(times) / TICK_HZ / 60


def _fmt(value: float | None) -> str:
    return "-" if value is None or value == float("inf") else f"{value:.1f}"


def _median(values: Sequence[float | None]) -> float:
    """The median, a missing value (over the cap) counted as infinite."""
    return statistics.median(float("inf") if v is None else v for v in values)


def table(rows: Sequence[dict[str, Any]], level: int, cap: int) -> list[str]:
    """The Markdown table: per seed and mode, then per mode the median over the seeds
    (and over the agents of each class)."""
    names = list(rows[0]["reached"])
    out = [f"| mode | seed | minutes to level {level}: " + ", ".join(names)
           + f" | reached (of {len(names)}) | median | all by | first group at | plans told "
           "| kills | deaths |",
           "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        out.append(
            f"| {r['mode']} | {r['seed']} | "
            + ", ".join(minutes(t) for t in r["reached"].values())
            + f" | {sum(t is not None for t in r['reached'].values())} | "
            f"{_fmt(median_minutes(r))} | {_fmt(last_minutes(r))} | "
            f"{minutes(r['first_group'])} | {r['plans']} | {r['kills']} | {r['deaths']} |")
    for mode in dict.fromkeys(r["mode"] for r in rows):
        runs = [r for r in rows if r["mode"] == mode]
        every = [t for r in runs for t in r["reached"].values()]
        by_class = {}
        for cls in dict.fromkeys(runs[0]["classes"].values()):
            times = [None if t is None else t / TICK_HZ / 60 for r in runs
                     for n, t in r["reached"].items() if r["classes"][n] == cls]
            by_class[cls] = _median(times)
        classes = "; ".join(f"{cls}s {_fmt(m)}" for cls, m in by_class.items())
        out.append(f"| **{mode}** | all | median by class: {classes} | "
                   f"{sum(t is not None for t in every)} of {len(every)} | "
                   f"**{_fmt(_median([median_minutes(r) for r in runs]))}** | "
                   f"**{_fmt(_median([last_minutes(r) for r in runs]))}** | | "
                   f"{sum(r['plans'] for r in runs)} | {sum(r['kills'] for r in runs)} | "
                   f"{sum(r['deaths'] for r in runs)} |")
    out.append(f"\n(world minutes; cap {cap / TICK_HZ / 60:.0f} minutes, {cap:,} ticks)")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated world seeds")
    ap.add_argument("--modes", default="solo,parties", help="solo, parties")
    ap.add_argument("--agents", type=int, default=4, help="characters (pairs in parties)")
    ap.add_argument("--level", type=int, default=5, help="the level to reach")
    add_episode_flags(ap, 36_000, "the cap in world ticks (36,000: 60 minutes)")
    args = ap.parse_args(argv)
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        for mode in args.modes.split(","):
            if mode not in ("solo", "parties"):
                raise SystemExit(f"unknown mode {mode!r} (solo, parties)")
            row = episode(mode, seed, args)
            rows.append(row)
            print(f"{mode} seed {seed}: "
                  + ", ".join(f"{n} {minutes(t)}" for n, t in row["reached"].items())
                  + f" min; first group {minutes(row['first_group'])}; plans {row['plans']};"
                  f" {row['seconds']} s", flush=True)
    report(table(rows, args.level, args.max_ticks), rows, args.json_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
