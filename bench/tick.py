"""The tick benchmark: the world alone, no sockets, no server.

Builds a `World` from the real content, enters N characters spread over the rooms
of the starter zone (the start room's) with `world.move`, a third of them with no
moves left and a third with half (so regeneration has work on every regeneration tick), then times
`world.tick()` + `world.drain()` over many ticks. Also times `perform_line` (plus
the drain of what it queued) for `look`, `say` and a move, with N characters in
the world, which is the world's share of one command's round trip; rendering the
events to JSON and framing them is the server's share and is not in here.

    python -m bench.tick                 # N in 100, 1000, 5000
    python -m bench.tick --sizes 100,2000 --ticks 900 --json-out tick.json
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from server import config
from server.host import content
from world import rules
from world.entities import Character
from world.game import World

SIZES = (100, 1000, 5000)


def build(n: int, seed: int = 1) -> tuple[World, int]:
    """A world from the real content with `n` characters spread over the starter zone.

    Returns the world and how many rooms the characters were spread over.
    """
    world = World(content.load(config.default_content_dir()), seed=seed)
    rng = random.Random(seed)
    zone = world.rooms[world.content.start_room].zone
    rooms = [rid for rid, room in world.rooms.items() if room.zone == zone]
    classes = list(world.content.classes)
    for i in range(n):
        ch = world.enter(f"Bench{i}", classes[i % len(classes)])
        world.move(ch, rng.choice(rooms))
        if i % 3 == 0:
            ch.moves = 0
        elif i % 3 == 1:
            ch.moves = ch.max_moves // 2
        world.touch(ch)
        if i % 100 == 99:
            world.drain()
    world.drain()
    return world, len(rooms)


def _ms(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s))) - 1))] * 1000.0


def time_ticks(world: World, ticks: int) -> dict[str, float]:
    """Time `ticks` ticks (each tick plus its drain)."""
    times: list[float] = []
    regen: list[float] = []
    deliveries = 0
    perf = time.perf_counter
    for _ in range(ticks):
        t0 = perf()
        world.tick()
        out = world.drain()
        dt = perf() - t0
        deliveries += len(out)
        times.append(dt)
        if world.time % rules.REGEN_EVERY == 0:
            regen.append(dt)
    return {
        "tick_p50_ms": round(_ms(times, 50), 4),
        "tick_p99_ms": round(_ms(times, 99), 4),
        "tick_max_ms": round(max(times) * 1000.0, 4),
        "regen_tick_p50_ms": round(statistics.median(regen) * 1000.0, 4) if regen else 0.0,
        "deliveries_per_tick": round(deliveries / ticks, 1),
    }


def _direction(world: World, ch: Character) -> str:
    room = world.rooms[ch.room]
    for direction, ex in room.exits.items():
        if ex.door is None or not ex.door.closed:
            return direction.value
    return "look"


def time_commands(world: World, iterations: int, seed: int = 2) -> dict[str, float]:
    """Median microseconds of perform_line + drain for look, say and a move."""
    rng = random.Random(seed)
    actors = rng.sample(list(world.characters.values()), min(200, len(world.characters)))
    perf = time.perf_counter
    out: dict[str, float] = {}
    for label in ("look", "say", "move"):
        times: list[float] = []
        fanout = 0
        refusals = 0
        for i in range(iterations):
            actor = actors[i % len(actors)]
            actor.moves = actor.max_moves
            line = ("look" if label == "look" else "say hello there" if label == "say"
                    else _direction(world, actor))
            t0 = perf()
            refused = world.perform_line(actor, line)
            fanout += len(world.drain())
            times.append(perf() - t0)
            if refused is not None:
                refusals += 1
        out[f"{label}_us"] = round(statistics.median(times) * 1e6, 1)
        out[f"{label}_refused"] = refusals
        out[f"{label}_deliveries"] = round(fanout / iterations, 1)
    return out


def run(sizes: tuple[int, ...] = SIZES, ticks: int = 600, iterations: int = 2000
        ) -> list[dict[str, Any]]:
    """One row per size."""
    rows = []
    for n in sizes:
        world, rooms = build(n)
        row: dict[str, Any] = {"characters": n, "rooms": rooms, "ticks": ticks}
        row.update(time_ticks(world, ticks))
        row.update(time_commands(world, iterations))
        rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as a text table."""
    head = ("chars", "tick p50 ms", "tick p99 ms", "regen tick ms", "tick max ms",
            "look us", "say us", "move us", "say fan-out")
    lines = ["  ".join(f"{h:>13}" for h in head)]
    for r in rows:
        cells = (r["characters"], r["tick_p50_ms"], r["tick_p99_ms"], r["regen_tick_p50_ms"],
                 r["tick_max_ms"], r["look_us"], r["say_us"], r["move_us"],
                 r["say_deliveries"])
        lines.append("  ".join(f"{c:>13}" for c in cells))
    for r in rows:
        refused = {k: r.get(f"{k}_refused", 0) for k in ("look", "say", "move")}
        if any(refused.values()):
            lines.append(f"  ({r['characters']} chars: refused {refused}; their times are in "
                         f"the medians)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m bench.tick`."""
    p = argparse.ArgumentParser(prog="python -m bench.tick", description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default=",".join(map(str, SIZES)),
                   help="character counts, comma-separated")
    p.add_argument("--ticks", type=int, default=600)
    p.add_argument("--iterations", type=int, default=2000, help="commands timed per kind")
    p.add_argument("--json-out", help="also write the rows as JSON here")
    args = p.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(","))
    rows = run(sizes, args.ticks, args.iterations)
    print(f"world tick and command time (pure world, no sockets), {args.ticks} ticks, "
          f"median of {args.iterations} commands each")
    print(table(rows))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
