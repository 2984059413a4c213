"""100 scripted agents in one process against a real server: do they keep playing, and how
fast does the server answer?

    python -m bench.agents_load --agents 100 --duration 120 --seed 1

Starts `aegent serve` as a child process (fresh data dir, fixed seed, cheap password
hashing so that 100 registrations take seconds), then in this one process plays
`--agents` scripted agents exactly as `aegent agents run` does (agents/runner.py:
each agent observes, decides, acts; the server's rate limits apply), and beside them,
in a process of its own, a probe: one more character that sends `look` (a command)
and `observe` at a steady rate and times each round trip from send to answer. The
probe's figures are the server's command round trip under that load; the agents'
own round trips (call to result, inside the busy agents process) are reported too.

Reported: round trips (p50/p90/p99/max) of the probe's commands and observations and
of the agents' calls, the server's tick p50/p99 (/health), agents still acting in the
last 30 s, errors, levels, CPU of both processes. The summary goes to stdout and to
`bench/results/agents_load.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil

from agents.client import Credentials, GameClient
from agents.runner import (
    PRIVATE_SERVER_ENV,
    AgentStats,
    RunConfig,
    configure_logging,
    run_agents,
    start_server,
)

RESULTS = Path(__file__).resolve().parent / "results"


def percentiles(samples: list[float]) -> dict[str, float | int | None]:
    """p50, p90, p99 and max in milliseconds, and the count."""
    xs = sorted(samples)
    if not xs:
        return {"n": 0, "p50": None, "p90": None, "p99": None, "max": None}

    def at(p: float) -> float:
        return round(1000 * xs[min(len(xs) - 1, int(p / 100 * len(xs)))], 2)

    return {"n": len(xs), "p50": at(50), "p90": at(90), "p99": at(99),
            "max": round(1000 * xs[-1], 2)}


async def probe(url: str, duration: float, rate: float, out: Path, delay: float) -> None:
    """Log in one character, wait `delay` s (the agents log in meanwhile), then time `look`
    and `observe` round trips at `rate` per second for `duration` s."""
    client = GameClient(url, Credentials("Probe", "probe secret 1", "warrior"))
    await client.connect()
    await asyncio.sleep(delay)
    loop = asyncio.get_running_loop()
    looks: list[float] = []
    observes: list[float] = []
    refused = 0
    end = loop.time() + duration
    n = 0
    while loop.time() < end:
        due = loop.time() + 1 / rate
        t0 = time.perf_counter()
        if n % 2 == 0:
            result = await client.call("look", {})
            looks.append(time.perf_counter() - t0)
            refused += not result.ok
        else:
            await client.observe()
            observes.append(time.perf_counter() - t0)
        await client.next_events(0)
        n += 1
        await asyncio.sleep(max(0.0, due - loop.time()))
    await client.close()
    out.write_text(json.dumps({"look": looks, "observe": observes, "refused": refused}))


def _health(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
        data: dict[str, Any] = json.loads(r.read())
        return data


def main() -> None:
    """Run the benchmark (or, with --probe, be the probe process)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agents", type=int, default=100)
    ap.add_argument("--duration", type=float, default=120.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pace", type=float, default=0.25, help="seconds between an agent's actions")
    ap.add_argument("--probe-rate", type=float, default=6.0,
                    help="probe commands a second (under the server's 8/s token bucket)")
    ap.add_argument("--probe", help=argparse.SUPPRESS)  # URL: run as the probe process
    ap.add_argument("--probe-out", help=argparse.SUPPRESS)
    ap.add_argument("--probe-delay", type=float, default=0.0, help=argparse.SUPPRESS)
    ap.add_argument("--json-out", default=str(RESULTS / "agents_load.json"))
    args = ap.parse_args()
    if args.probe:
        asyncio.run(probe(args.probe, args.duration, args.probe_rate, Path(args.probe_out),
                          args.probe_delay))
        return

    tmp = Path(tempfile.mkdtemp(prefix="aegent-agents-load-"))
    server = start_server(args.seed, tmp / "server",
                          env={"AEGENT_ARGON2_TIME_COST": "1", "AEGENT_ARGON2_MEMORY_KIB": "8192",
                               **PRIVATE_SERVER_ENV})
    print(f"server pid {server.proc.pid} on {server.url}", file=sys.stderr)
    server_proc = psutil.Process(server.proc.pid)
    me = psutil.Process()
    probe_out = tmp / "probe.json"
    log_file = configure_logging(tmp / "agents.log")  # decisions to a file, as `agents run`
    warmup = min(30.0, args.duration / 3)  # the agents log in first, then the probe measures
    try:
        t0 = time.monotonic()
        cpu0 = (me.cpu_times(), server_proc.cpu_times())
        probe_proc = subprocess.Popen(
            [sys.executable, "-m", "bench.agents_load", "--probe", server.url, "--probe-out",
             str(probe_out), "--duration", str(args.duration - warmup - 5), "--probe-rate",
             str(args.probe_rate), "--probe-delay", str(warmup)],
            cwd=Path(__file__).resolve().parent.parent)

        async def play() -> tuple[list[AgentStats], dict[str, tuple[int, int]], dict[str, Any]]:
            cfg = RunConfig(url=server.url, count=args.agents, duration=args.duration,
                            data_dir=tmp, name_prefix="Loadbot", quiet=True,
                            min_interval=args.pace, seed=args.seed, start_spacing=0.02)
            live: list[AgentStats] = []
            task = asyncio.create_task(run_agents(cfg, stats_out=live))
            await asyncio.sleep(args.duration - 30)
            before = {st.name: (st.actions, st.turns) for st in live}  # who plays from here
            health_mid = await asyncio.to_thread(_health, server.port)
            stats = await task
            return stats, before, health_mid

        stats, before, health = asyncio.run(play())
        probe_proc.wait(timeout=60)
        seconds = time.monotonic() - t0
        cpu1 = (me.cpu_times(), server_proc.cpu_times())
    finally:
        server.stop()
        log_file.close()
    probe_data = json.loads(probe_out.read_text()) if probe_out.exists() else {}
    rtts = [x for st in stats for x in st.rtts]
    acted = sum(1 for st in stats if st.actions > before.get(st.name, (st.actions, 0))[0])
    decided = sum(1 for st in stats if st.turns > before.get(st.name, (0, st.turns))[1])
    levels = sorted(st.level for st in stats)
    summary = {
        "agents": args.agents, "duration_s": round(seconds), "pace_s": args.pace,
        "probe_look_ms": percentiles(probe_data.get("look", [])),
        "probe_observe_ms": percentiles(probe_data.get("observe", [])),
        "agents_call_ms": percentiles(rtts),
        "agents_acting_last_30s": acted,  # sent at least one command
        "agents_deciding_last_30s": decided,  # made at least one decision (act or wait)
        "turns": sum(st.turns for st in stats),
        "agents_with_errors": sum(1 for st in stats if st.error),
        "actions": sum(st.actions for st in stats),
        "actions_per_s": round(sum(st.actions for st in stats) / max(1.0, seconds), 1),
        "refused": sum(st.refused for st in stats),
        "missed_events": sum(st.missed for st in stats),
        "levels": {"min": levels[0], "max": levels[-1]} if levels else {},
        "server_tick_p50_ms": health.get("tick_p50_ms"),
        "server_tick_p99_ms": health.get("tick_p99_ms"),
        "agents_cpu_s": round(sum(cpu1[0][:2]) - sum(cpu0[0][:2]), 1),
        "server_cpu_s": round(sum(cpu1[1][:2]) - sum(cpu0[1][:2]), 1),
        "cpus": psutil.cpu_count(),
    }
    Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json_out).write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
