"""The mob tick bar: 5,000 mobs alive, all wandering, 500 of them fighting; tick p99.

Pure world, no server: builds a generated zone (a 50 x 50 grid of rooms), spawns
`--mobs` mobs that all wander (some also aggressive, some assisting their kind,
some scavengers, some wimpy), and puts exactly `--fighting` of them in fights that
last (a million hit points each): `--vs-players` of them against as many players,
the rest in pairs against each other (pairs of one kind, so no kin joins in, and
the aggressive ones spare players, so the count stays exact). `--players` more
players stand idle in random rooms, so aggression has rooms to look at. Then it
times `world.tick()` + `world.drain()` over `--ticks` ticks, `--runs` times (a
fresh world and seed each run), and prints each run and the medians:

    python -m bench.mob_behaviours                       # 5000 mobs, 500 fighting, 3 runs
    python -m bench.mob_behaviours --mobs 10000 --ticks 2000 --json-out mobs.json
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

from world.game import World
from world.prototypes import build_content
from world.systems import combat

CLASSES: dict[str, Any] = {"classes": {"warrior": {
    "name": "Warrior", "description": "Hits things.", "hp": 30, "mana": 0, "moves": 100,
    "hp_per_level": 10, "mana_per_level": 0,
    "attributes": {"str": 16, "dex": 12, "con": 15, "int": 8, "wis": 9}}}}


def grid_zone(side: int) -> dict[str, Any]:
    """A side x side grid of rooms, each joined to its neighbours; a few doors closed."""
    rooms: dict[str, Any] = {}
    for y in range(side):
        for x in range(side):
            exits: dict[str, Any] = {}
            if x + 1 < side:
                exits["east"] = f"r{x + 1}_{y}"
            if x > 0:
                exits["west"] = f"r{x - 1}_{y}"
            if y + 1 < side:
                exits["north"] = f"r{x}_{y + 1}"
            if y > 0:
                exits["south"] = f"r{x}_{y - 1}"
            rooms[f"r{x}_{y}"] = {"name": f"Field {x},{y}", "description": "Grass.",
                                  "exits": exits}
    mob: dict[str, Any] = {"keywords": ["beast"], "short": "A beast is here.",
                           "description": "A beast.", "level": 3}
    return {
        "zone": {"id": "grid", "name": "Grid"},
        "rooms": rooms,
        "items": {"bone": {"name": "a bone", "keywords": ["bone"], "description": "A bone."}},
        "mobs": {
            "wanderer": {**mob, "name": "a wanderer", "behaviours": ["wander"]},
            "brute": {**mob, "name": "a brute",  # looks for prey, spares level 1 players
                      "behaviours": ["wander", {"aggressive": {"max_level": 0}}]},
            "wolf": {**mob, "name": "a wolf", "behaviours": ["wander", "assist"]},
            "crow": {**mob, "name": "a crow", "behaviours": ["wander", "scavenger"]},
            "coward": {**mob, "name": "a coward", "behaviours": ["wander", "wimpy"]},
        },
    }


KINDS = ["grid:wanderer"] * 6 + ["grid:brute", "grid:wolf", "grid:crow", "grid:coward"]


def build(mobs: int, fighting: int, vs_players: int, players: int, side: int, seed: int = 1
          ) -> World:
    """The world: the grid, `mobs` wandering mobs, `fighting` of them in fights
    (`vs_players` against players, the rest in pairs), `players` idle players."""
    content = build_content(("world.yaml", {"name": "Bench", "start_room": "grid:r0_0"}),
                            ("classes.yaml", CLASSES), [("grid.yaml", grid_zone(side))])
    world = World(content, seed=seed)
    rng = random.Random(seed)
    rooms = list(world.rooms)
    spawned = [world.spawn_mob(KINDS[i % len(KINDS)], rng.choice(rooms)) for i in range(mobs)]
    by_kind: dict[str, list[Any]] = {}
    for m in spawned:
        by_kind.setdefault(m.proto or "", []).append(m)
    vs_players = min(vs_players, fighting)
    # the fighters against players: plain wanderers (no kin of theirs assists)
    for i, m in enumerate(by_kind["grid:wanderer"][:vs_players]):
        ch = world.enter(f"Fighter{i}", "warrior")
        world.move(ch, m.room)
        for c in (m, ch):
            c.hp = c.max_hp = 1_000_000
        combat.engage(world, ch, m)
    # the rest in pairs of one kind, round-robin over the kinds
    pools = [by_kind[k][vs_players if k == "grid:wanderer" else 0:] for k in sorted(by_kind)]
    pairs = (fighting - vs_players) // 2
    k = 0
    while pairs > 0:
        pool = pools[k % len(pools)]
        k += 1
        if len(pool) < 2:
            if all(len(p) < 2 for p in pools):
                raise SystemExit("not enough mobs for that many fights")
            continue
        a, b = pool.pop(), pool.pop()
        world.move(b, a.room)
        for m in (a, b):
            m.hp = m.max_hp = 1_000_000
        combat.engage(world, a, b)
        pairs -= 1
    for i in range(players):
        ch = world.enter(f"Player{i}", "warrior")
        ch.hp = ch.max_hp = 1_000_000
        world.move(ch, rng.choice(rooms))
    world.drain()
    return world


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile of `values` (seconds), in milliseconds."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s))) - 1))] * 1000.0


def mobs_fighting(world: World) -> int:
    """How many mobs are in a fight now."""
    return sum(1 for ch in world.fighters.values() if ch.is_mob)


def run_once(args: argparse.Namespace, seed: int) -> dict[str, Any]:
    """One measured run on a fresh world; the figures as a dict."""
    world = build(args.mobs, args.fighting, args.vs_players, args.players, args.side, seed)
    for _ in range(100):  # warm up
        world.tick()
        world.drain()
    gc.collect()
    gc.freeze()  # the setup lives on: keep collections short in the timed window
    times: list[float] = []
    deliveries = 0
    fighting_low = fighting_high = mobs_fighting(world)
    perf = time.perf_counter
    for n in range(args.ticks):
        t0 = perf()
        world.tick()
        deliveries += len(world.drain())
        times.append(perf() - t0)
        if n % 50 == 0:
            now = mobs_fighting(world)
            fighting_low, fighting_high = min(fighting_low, now), max(fighting_high, now)
    gc.unfreeze()
    return {
        "seed": seed, "mobs": len(world.mobs), "wanderers": len(world.npcs.wanderers),
        "mobs_fighting": [fighting_low, fighting_high],
        "players_fighting": sum(1 for ch in world.fighters.values() if not ch.is_mob),
        "rooms": len(world.rooms), "ticks": args.ticks,
        "p50_ms": round(percentile(times, 50), 3), "p99_ms": round(percentile(times, 99), 3),
        "max_ms": round(max(times) * 1000, 3),
        "deliveries_per_tick": round(deliveries / args.ticks, 1),
    }


def main() -> None:
    """Build, warm up, time the ticks, print the numbers (and the medians over runs)."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mobs", type=int, default=5000)
    parser.add_argument("--fighting", type=int, default=500, help="mobs in fights")
    parser.add_argument("--vs-players", type=int, default=100,
                        help="of the fighting mobs, how many fight a player each")
    parser.add_argument("--players", type=int, default=50, help="idle players, besides")
    parser.add_argument("--side", type=int, default=50, help="the grid is side x side rooms")
    parser.add_argument("--ticks", type=int, default=1200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args()
    runs = []
    for r in range(args.runs):
        fig = run_once(args, seed=r + 1)
        runs.append(fig)
        print(f"run {r + 1}: mobs {fig['mobs']} (wandering {fig['wanderers']}), mobs fighting "
              f"{fig['mobs_fighting'][0]}..{fig['mobs_fighting'][1]}, players fighting "
              f"{fig['players_fighting']}, rooms {fig['rooms']}, ticks {fig['ticks']}: "
              f"p50 {fig['p50_ms']:.3f} ms  p99 {fig['p99_ms']:.3f} ms  "
              f"max {fig['max_ms']:.3f} ms  deliveries/tick {fig['deliveries_per_tick']}")
    median = {key: round(statistics.median(f[key] for f in runs), 3)
              for key in ("p50_ms", "p99_ms", "max_ms")}
    print(f"median of {len(runs)}: tick p50 {median['p50_ms']:.3f} ms  "
          f"p99 {median['p99_ms']:.3f} ms  max {median['max_ms']:.3f} ms")
    if args.json_out is not None:
        args.json_out.write_text(json.dumps({"args": vars(args) | {"json_out": None},
                                             "runs": runs, "median": median}, indent=2))


if __name__ == "__main__":
    main()
