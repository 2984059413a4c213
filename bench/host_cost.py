"""CPU per command of the world host: journal, apply, and the deliveries it sends out.

No network, one process: the work a world host does for one command, as in cluster
mode (issue "One world, many processes": at most 100 µs, so that one host serves
10,000 commands a second). The starter world with `--players` characters (1,000),
`--crowd` of them (15 %) in the town square and the rest spread over every room
reachable from it; each command is a `look`, a move through an exit of the actor's
room or a `say` (crowd players look and say), drawn at random, as bench/load.py's
clients send. Per command it times:

- **journal**: the `Command` input appended to a real `FileJournal` (batch fsync) in a
  temporary folder;
- **apply**: `World.perform_line` and `World.drain_fanouts`;
- **out**: each event once with its recipients (as the world queues it) and encoded
  as the bus's `Delivery` messages (msgpack), which is what leaves the host per event
  in cluster mode; rendering and encoding per viewer happen in the gateways;

and a tick (journaled, applied, drained and encoded the same way) after every
`--per-tick` commands (100: 1,000 commands a second at 10 ticks a second), its cost
spread over those commands. Each run is a fresh world; it prints each run and the
medians:

    python -m bench.host_cost                    # 1000 players, 20000 commands, 5 runs
    python -m bench.host_cost --players 5000 --commands 50000 --json-out host.json
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from server.bus.messages import Command, Delivery, Tick, encode
from server.host.content import load
from server.host.journal import FileJournal
from world.entities import Character
from world.events import Fanout
from world.game import World

ROOT = Path(__file__).resolve().parents[1]
SAYINGS = ["hello there", "anyone seen the rats?", "nice weather", "looking for a group"]


def reachable(world: World, start: str) -> list[str]:
    """Every room reachable from `start` through exits (doors ignored)."""
    seen = {start}
    todo = deque([start])
    while todo:
        room = world.rooms[todo.popleft()]
        for ex in room.exits.values():
            if ex.to in world.rooms and ex.to not in seen:
                seen.add(ex.to)
                todo.append(ex.to)
    return sorted(seen)


def populate(world: World, players: int, crowd: float, rng: random.Random
             ) -> tuple[list[Character], set[int]]:
    """`players` characters: `crowd` of them in the start room, the rest spread."""
    start = world.content.start_room
    rooms = reachable(world, start)
    chars: list[Character] = []
    crowded: set[int] = set()
    for i in range(players):
        ch = world.enter(f"P{i:05d}", "warrior")
        if i < players * crowd:
            crowded.add(ch.id)
        else:
            world.move(ch, rng.choice(rooms))
        chars.append(ch)
    world.drain()
    return chars, crowded


def next_line(world: World, ch: Character, crowded: set[int], rng: random.Random) -> str:
    """The next command of `ch`: a look, a move through an exit of its room (not for the
    crowd: it stays in the square) or a say, a third each."""
    kind = rng.randrange(3)
    if kind == 1 and ch.id not in crowded:
        exits = list(world.rooms[ch.room].exits)
        return str(rng.choice(exits)) if exits else "look"
    if kind == 2:
        return "say " + rng.choice(SAYINGS)
    return "look"


def out_messages(fanouts: list[Fanout], seq: int, tick: int) -> int:
    """Encode each event once with its recipients (as the world queued it); the bytes
    made."""
    size = 0
    for f in fanouts:
        event = f.event
        if event.internal:
            continue
        size += len(encode(Delivery("gw", [ch.id for ch in f.recipients],
                                    {"name": event.name, "data": event.to_data()},
                                    tick, seq)))
    return size


def one_run(args: argparse.Namespace, seed: int) -> dict[str, float]:
    content = load(ROOT / "content")
    world = World(content, seed=seed)
    rng = random.Random(seed)
    chars, crowded = populate(world, args.players, args.crowd, rng)
    t_journal = t_apply = t_out = t_tick = 0.0
    out_bytes = 0
    gc.collect()
    with tempfile.TemporaryDirectory() as tmp, FileJournal(tmp) as journal:
        perf = time.perf_counter
        for n in range(1, args.commands + 1):
            ch = rng.choice(chars)
            line = next_line(world, ch, crowded, rng)
            t0 = perf()
            seq = journal.append_now(Command("gw", "s", ch.id, line, n))
            t1 = perf()
            world.perform_line(ch, line)
            fanouts = world.drain_fanouts()
            t2 = perf()
            out_bytes += out_messages(fanouts, seq, world.time)
            t3 = perf()
            t_journal += t1 - t0
            t_apply += t2 - t1
            t_out += t3 - t2
            if n % args.per_tick == 0:
                t4 = perf()
                seq = journal.append_now(Tick(world.time + 1))
                world.tick()
                out_bytes += out_messages(world.drain_fanouts(), seq, world.time)
                t_tick += perf() - t4
    k = args.commands
    us = 1e6
    return {"journal_us": t_journal / k * us, "apply_us": t_apply / k * us,
            "out_us": t_out / k * us, "tick_us": t_tick / k * us,
            "total_us": (t_journal + t_apply + t_out + t_tick) / k * us,
            "out_bytes_per_command": out_bytes / k}


def load_args(description: str) -> argparse.Namespace:
    """The flags of this benchmark and bench/gateway_cost.py: the same load."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--players", type=int, default=1000)
    p.add_argument("--crowd", type=float, default=0.15, help="share in the town square")
    p.add_argument("--commands", type=int, default=20000)
    p.add_argument("--per-tick", type=int, default=100, help="commands between ticks")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--json-out", type=Path)
    return p.parse_args()


def runs_and_medians(args: argparse.Namespace,
                     one: Callable[[argparse.Namespace, int], dict[str, float]],
                     digits: int = 1) -> dict[str, float]:
    """`one` run per seed 1..`--runs`, each printed, then the medians (printed, and
    with the runs into `--json-out`)."""
    runs = []
    for i in range(args.runs):
        r = one(args, i + 1)
        runs.append(r)
        print(f"run {i + 1}: " + "  ".join(f"{k} {v:.{digits}f}" for k, v in r.items()),
              flush=True)
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print("median: " + "  ".join(f"{k} {v:.{digits}f}" for k, v in med.items()))
    if args.json_out:
        args.json_out.write_text(json.dumps({"args": vars(args) | {"json_out": None},
                                             "runs": runs, "median": med}, indent=2))
    return med


def main() -> None:
    args = load_args(__doc__.split("\n")[0])
    med = runs_and_medians(args, one_run)
    print(f"one world host at this cost: {1e6 / med['total_us']:,.0f} commands/s on one core")


if __name__ == "__main__":
    main()
