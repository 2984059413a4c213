"""Cross-zone traffic on the starter world, and its zones sharded across K world hosts.

Pure world, no server, no network, no wall clock: the starter world (content/) with
`--players` characters (10,000), `--crowd` of them (15 %) in the start room (the town
square) and the rest spread over every room reachable from it, as a town at peak. Each
player sends one command a second of world time (the world ticks at 10 Hz; each player
has its own tenth of a second): a `look`, a move through an exit of its room, a `say`,
and a small share of messages across the world: `tell <someone anywhere>` (`--tell`,
4 %) and `shout`, the world's one channel (`--shout`, 0.5 %). The crowd stays put (it
looks where the others would move). Per zone (`Room.zone`) it measures:

- commands per second, players present (sampled every second), border crossings per
  second (a character's move whose destination is in another zone: a walk, a flight,
  a death that wakes it elsewhere) and events delivered per second (by the zone the
  recipient is in);
- load: the CPU time of applying each command and each tick (`perform_line`/`tick`
  and `drain`), split over zones by where its deliveries went (all of it to the
  actor's zone when it delivered nothing), so a shout's cost falls where it is heard;
  and the same per kind of command (look, move, say, tell, shout) and for the tick.
  The CPU time is the thread's (`time.thread_time`), with the setup frozen out of the
  garbage collector's sight (`gc.freeze`), as bench/mob_behaviours.py does.

Then the sharding plan: the zones assigned to K world hosts (K = 1, 2, 4, 8) by greedy
bin-packing (the heaviest zone alone on a host, the rest heaviest first onto the
least loaded of the others), and for each K: the busiest host's share of the load
(the speed-up bound is its inverse), handovers per second (crossings between zones
on different hosts), the share of commands that need a message to another host
(a tell to a character there, a shout, a move that hands over) and the bytes per
second of handed-over character state (`World.snapshot` as msgpack). A zone cannot
be split, so the busiest zone bounds every K. Each seed is a fresh world; it prints
each seed and the medians (docs/scaling.md holds the table):

    python -m bench.zone_sim                          # 10,000 players, 10 s, seeds 1,2,3
    python -m bench.zone_sim --players 500 --seconds 5 --seeds 1
    python -m bench.zone_sim --png docs/img/zone-hosts.png --json-out zones.json
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack

from bench.host_cost import SAYINGS, reachable
from server.host.content import load
from world.entities import Character
from world.events import Delivery
from world.game import World

ROOT = Path(__file__).resolve().parents[1]
TICKS_PER_SECOND = 10
HOSTS = (1, 2, 4, 8)
VERBS = ("look", "say", "tell", "shout")  # and a direction: a move


@dataclass(slots=True)
class Zone:
    """What one zone saw over a run (totals; per second in `Run.per_zone`)."""

    rooms: int = 0
    commands: int = 0
    moves: int = 0  # every room change of a player that started here
    crossings: int = 0  # of those, into another zone
    deliveries: int = 0  # events delivered to players in this zone
    presence: int = 0  # players here, summed over the samples
    cpu: float = 0.0  # seconds of world work charged here


@dataclass(slots=True)
class Verb:
    """What one kind of command (or the tick) cost over a run."""

    count: int = 0
    cpu: float = 0.0
    deliveries: int = 0


@dataclass(slots=True)
class Run:
    """One seed's traffic: per zone, and the cross-zone pairs a plan is priced on."""

    seed: int
    players: int
    seconds: int
    zones: dict[str, Zone]
    samples: list[dict[str, int]] = field(default_factory=list)  # players per zone, per s
    crossing_pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    crossing_bytes: Counter[tuple[str, str]] = field(default_factory=Counter)
    command_crossings: Counter[tuple[str, str]] = field(default_factory=Counter)
    tells: Counter[tuple[str, str]] = field(default_factory=Counter)  # sender, target zone
    shouts: int = 0
    commands: int = 0
    verbs: dict[str, Verb] = field(default_factory=dict)  # look, move, say, ..., tick

    def per_zone(self) -> dict[str, dict[str, float]]:
        """Each zone's figures per second of world time, and its share of the load."""
        total = sum(z.cpu for z in self.zones.values()) or 1.0
        s, n = self.seconds, max(1, len(self.samples))
        return {name: {"rooms": z.rooms, "players": z.presence / n,
                       "commands_s": z.commands / s, "crossings_s": z.crossings / s,
                       "events_s": z.deliveries / s, "load_share": z.cpu / total,
                       "cpu_s": z.cpu / s}
                for name, z in sorted(self.zones.items())}

    def per_verb(self) -> dict[str, dict[str, float]]:
        """Each kind of command (and the tick): per second, CPU per one, share of the load."""
        total = sum(v.cpu for v in self.verbs.values()) or 1.0
        s = self.seconds
        return {name: {"per_s": v.count / s, "cpu_us": v.cpu / max(1, v.count) * 1e6,
                       "events_s": v.deliveries / s, "load_share": v.cpu / total}
                for name, v in sorted(self.verbs.items(), key=lambda kv: -kv[1].cpu)}


@dataclass(slots=True)
class Plan:
    """Zones on K hosts, and what the plan costs."""

    hosts: int
    assignment: list[list[str]]  # the zones of each host (some may have none)
    loads: list[float]  # each host's share of the load
    busiest_share: float
    handovers_s: float
    cross_host_command_share: float
    cross_host_messages_s: float
    handover_bytes_s: float


def populate(world: World, players: int, crowd: float, rng: random.Random
             ) -> tuple[list[Character], set[int]]:
    """`players` characters: `crowd` of them in the start room, the rest spread over every
    reachable room. The spread ones enter first, so the crowd does not watch them all
    arrive; deliveries are drained as they pile up."""
    rooms = reachable(world, world.content.start_room)
    crowd_n = int(players * crowd)
    chars: list[Character] = []
    for i in range(players - crowd_n):
        ch = world.enter(f"P{i:05d}", "warrior")
        world.move(ch, rng.choice(rooms))
        chars.append(ch)
        if i % 200 == 0:
            world.drain()
    for i in range(players - crowd_n, players):
        chars.append(world.enter(f"P{i:05d}", "warrior"))
        if i % 200 == 0:
            world.drain()
    world.drain()
    return chars, {ch.id for ch in chars[players - crowd_n:]}


def choose(world: World, ch: Character, crowd: bool, chars: list[Character],
           args: argparse.Namespace, rng: random.Random) -> str:
    """One command line for `ch`: a tell, a shout, a say, a move or a look."""
    r = rng.random()
    if r < args.tell:
        other = rng.choice(chars)
        while other is ch:
            other = rng.choice(chars)
        return f"tell {other.name} {rng.choice(SAYINGS)}"
    r -= args.tell
    if r < args.shout:
        return "shout " + rng.choice(SAYINGS)
    r -= args.shout
    if r < args.say:
        return "say " + rng.choice(SAYINGS)
    r -= args.say
    if r < args.move and not crowd:
        exits = list(world.rooms[ch.room].exits)
        if exits:
            return rng.choice(exits).value
    return "look"


def charge(run: Run, world: World, deliveries: list[Delivery], cpu: float, home: str,
           verb: str) -> None:
    """Count `deliveries` by the zone of their recipient and split `cpu` the same way
    (all of it to `home` when nothing was delivered); add both to `verb`'s costs."""
    rooms, zones = world.rooms, run.zones
    where: Counter[str] = Counter()
    for d in deliveries:
        if not d.event.internal:
            where[rooms[d.recipient.room].zone] += 1
    n = sum(where.values())
    cost = run.verbs.setdefault(verb, Verb())
    cost.count += 1
    cost.cpu += cpu
    cost.deliveries += n
    if n == 0:
        zones[home].cpu += cpu
        return
    for zone, k in where.items():
        zones[zone].deliveries += k
        zones[zone].cpu += cpu * k / n


def crossed(run: Run, world: World, ch: Character, old_room: str, by_command: bool) -> None:
    """`ch` moved from `old_room`: count the move, and the crossing if it changed zone."""
    old, new = world.rooms[old_room].zone, world.rooms[ch.room].zone
    run.zones[old].moves += 1
    if old != new:
        pair = (old, new)
        run.zones[old].crossings += 1
        run.crossing_pairs[pair] += 1
        run.crossing_bytes[pair] += len(msgpack.packb(world.snapshot(ch)))
        if by_command:
            run.command_crossings[pair] += 1


def simulate(args: argparse.Namespace, seed: int) -> Run:
    """One run on a fresh world: `args.seconds` of world time, one command per player
    per second."""
    world = World(load(ROOT / "content"), seed=seed)
    rng = random.Random(seed)
    chars, crowded = populate(world, args.players, args.crowd, rng)
    zones = {name: Zone() for name in sorted({r.zone for r in world.rooms.values()})}
    for room in world.rooms.values():
        zones[room.zone].rooms += 1
    run = Run(seed, len(chars), args.seconds, zones)
    phases: list[list[Character]] = [[] for _ in range(TICKS_PER_SECOND)]
    for ch in chars:
        phases[rng.randrange(TICKS_PER_SECOND)].append(ch)
    room_of = {ch.id: ch.room for ch in chars}
    gc.collect()
    gc.freeze()  # the setup lives on: keep collections short in the measured window
    try:
        play(world, run, chars, crowded, phases, room_of, args, rng)
    finally:
        gc.unfreeze()
    return run


def play(world: World, run: Run, chars: list[Character], crowded: set[int],
         phases: list[list[Character]], room_of: dict[int, str], args: argparse.Namespace,
         rng: random.Random) -> None:
    """`args.seconds` of world time: each tick, the commands of the players whose tenth
    of a second it is, then the tick; the players per zone sampled every second."""
    zones, clock = run.zones, time.thread_time
    for t in range(args.seconds * TICKS_PER_SECOND):
        for ch in phases[t % TICKS_PER_SECOND]:
            line = choose(world, ch, ch.id in crowded, chars, args, rng)
            home = world.rooms[ch.room].zone
            if line.startswith("tell "):
                target = world.find_online(line.split(" ", 2)[1])
                if target is not None:
                    run.tells[(home, world.rooms[target.room].zone)] += 1
            elif line.startswith("shout "):
                run.shouts += 1
            t0 = clock()
            world.perform_line(ch, line)
            out = world.drain()
            cpu = clock() - t0
            zones[home].commands += 1
            run.commands += 1
            verb = line.split(" ", 1)[0]
            charge(run, world, out, cpu, home, verb if verb in VERBS else "move")
            if ch.room != room_of[ch.id]:
                crossed(run, world, ch, room_of[ch.id], by_command=True)
                room_of[ch.id] = ch.room
        t0 = clock()
        world.tick()
        out = world.drain()
        charge(run, world, out, clock() - t0, world.rooms[world.content.start_room].zone,
               "tick")
        for ch in chars:  # moved by the tick: fled, died and woke elsewhere
            if ch.room != room_of[ch.id]:
                crossed(run, world, ch, room_of[ch.id], by_command=False)
                room_of[ch.id] = ch.room
        if t % TICKS_PER_SECOND == TICKS_PER_SECOND - 1:
            present = Counter(world.rooms[ch.room].zone for ch in chars)
            run.samples.append({z: present.get(z, 0) for z in zones})
            for z, k in present.items():
                zones[z].presence += k


def pack(loads: dict[str, float], hosts: int) -> list[list[str]]:
    """Zones onto `hosts` hosts: the heaviest alone on the first (when there are two or
    more), the rest heaviest first onto the least loaded of the others."""
    order = sorted(loads, key=lambda z: (-loads[z], z))
    bins: list[list[str]] = [[] for _ in range(hosts)]
    if hosts == 1:
        bins[0] = order
        return bins
    bins[0].append(order[0])
    weight = [0.0] * hosts
    for zone in order[1:]:
        h = min(range(1, hosts), key=lambda i: (weight[i], i))
        bins[h].append(zone)
        weight[h] += loads[zone]
    return bins


def price(run: Run, assignment: list[list[str]]) -> Plan:
    """What `run`'s traffic costs with the zones on the hosts of `assignment`."""
    host_of = {z: h for h, zs in enumerate(assignment) for z in zs}
    total = sum(z.cpu for z in run.zones.values()) or 1.0
    loads = [sum(run.zones[z].cpu for z in zs) / total for zs in assignment]
    used = sum(1 for zs in assignment if zs)

    def apart(pair: tuple[str, str]) -> bool:
        return host_of[pair[0]] != host_of[pair[1]]

    handovers = sum(k for p, k in run.crossing_pairs.items() if apart(p))
    moved = sum(k for p, k in run.command_crossings.items() if apart(p))
    tells = sum(k for p, k in run.tells.items() if apart(p))
    shouts = run.shouts if used > 1 else 0
    s = run.seconds
    return Plan(hosts=len(assignment), assignment=assignment, loads=loads,
                busiest_share=max(loads),
                handovers_s=handovers / s,
                cross_host_command_share=(moved + tells + shouts) / max(1, run.commands),
                cross_host_messages_s=(handovers + tells + run.shouts * (used - 1)) / s,
                handover_bytes_s=sum(b for p, b in run.crossing_bytes.items() if apart(p)) / s)


def plans(run: Run, hosts: tuple[int, ...] = HOSTS) -> list[Plan]:
    """A plan for each host count; one that would load its busiest host more than the
    plan for fewer hosts keeps that plan (the extra host idles)."""
    loads = {name: z.cpu for name, z in run.zones.items()}
    out: list[Plan] = []
    for k in hosts:
        plan = price(run, pack(loads, k))
        if out and plan.busiest_share > out[-1].busiest_share:
            prev = out[-1].assignment
            plan = price(run, prev + [[] for _ in range(k - len(prev))])
        out.append(plan)
    return out


def summary(run: Run) -> dict[str, Any]:
    """A run as plain data: per zone and per plan."""
    return {"seed": run.seed, "players": run.players, "seconds": run.seconds,
            "commands_s": run.commands / run.seconds, "zones": run.per_zone(),
            "verbs": run.per_verb(),
            "plans": [{"hosts": p.hosts, "assignment": p.assignment,
                       "loads": p.loads, "busiest_share": p.busiest_share,
                       "handovers_s": p.handovers_s,
                       "cross_host_command_share": p.cross_host_command_share,
                       "cross_host_messages_s": p.cross_host_messages_s,
                       "handover_bytes_s": p.handover_bytes_s} for p in plans(run)]}


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of every figure over the runs (per zone, per host count)."""
    zones = {z: {k: statistics.median(r["zones"][z][k] for r in runs)
                 for k in runs[0]["zones"][z]} for z in runs[0]["zones"]}
    keys = ("busiest_share", "handovers_s", "cross_host_command_share",
            "cross_host_messages_s", "handover_bytes_s")
    hosts = []
    for i, p in enumerate(runs[0]["plans"]):
        row: dict[str, Any] = {"hosts": p["hosts"]}
        row |= {k: statistics.median(r["plans"][i][k] for r in runs) for k in keys}
        common = Counter(json.dumps(r["plans"][i]["assignment"]) for r in runs)
        row["assignment"] = json.loads(common.most_common(1)[0][0])
        row["used"] = sum(1 for zs in row["assignment"] if zs)
        hosts.append(row)
    verbs = {v: {k: statistics.median(r["verbs"][v][k] for r in runs)
                 for k in runs[0]["verbs"][v]} for v in runs[0]["verbs"]}
    return {"commands_s": statistics.median(r["commands_s"] for r in runs),
            "zones": zones, "verbs": verbs, "plans": hosts}


def table(med: dict[str, Any]) -> str:
    """The medians as three Markdown tables: per zone, per command, per host count."""
    lines = ["| zone | rooms | players present | commands/s | border crossings/s "
             "| events delivered/s | world CPU per s | share of the load |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, z in med["zones"].items():
        lines.append(f"| {name} | {z['rooms']:.0f} | {z['players']:,.0f} | "
                     f"{z['commands_s']:,.0f} | {z['crossings_s']:.1f} | "
                     f"{z['events_s']:,.0f} | {z['cpu_s']:.2f} s | {z['load_share']:.1%} |")
    lines += ["", "| command | per second | world CPU per command | events delivered/s "
              "| share of the load |", "|---|---:|---:|---:|---:|"]
    for name, v in med["verbs"].items():
        lines.append(f"| {name} | {v['per_s']:,.0f} | {v['cpu_us']:,.0f} µs | "
                     f"{v['events_s']:,.0f} | {v['load_share']:.1%} |")
    lines += ["", "| world hosts K | hosts with zones | zones per host | busiest host's share "
              "| speed-up bound | handovers/s | commands needing another host "
              "| cross-host messages/s | handed-over state |",
              "|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for p in med["plans"]:
        hosts = " / ".join("+".join(zs) for zs in p["assignment"] if zs)
        lines.append(f"| {p['hosts']} | {p['used']} | {hosts} | {p['busiest_share']:.1%} | "
                     f"{1 / p['busiest_share']:.2f}x | {p['handovers_s']:.1f} | "
                     f"{p['cross_host_command_share']:.2%} | "
                     f"{p['cross_host_messages_s']:,.0f} | "
                     f"{p['handover_bytes_s'] / 1024:.1f} KiB/s |")
    return "\n".join(lines)


def draw(med: dict[str, Any], players: int, path: Path) -> None:
    """A bar chart of each host's share of the load for K = 1, 2, 4, 8 (matplotlib,
    in the dev extra), the hosts' bars stacked by zone; from the per-zone medians."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shares = {z: v["load_share"] for z, v in med["zones"].items()}
    colours = dict(zip(sorted(shares), ("#4c72b0", "#dd8452", "#55a868", "#c44e52",
                                        "#8172b3", "#937860"), strict=False))
    fig, ax = plt.subplots(figsize=(9, 4.8), dpi=100)
    x, ticks, labels, seen = 0.0, [], [], set()
    for k in HOSTS:
        for h, zs in enumerate(pack(shares, k)):
            bottom = 0.0
            for z in zs:
                ax.bar(x, shares[z] * 100, bottom=bottom, width=0.8, color=colours[z],
                       label=None if z in seen else z, edgecolor="white")
                seen.add(z)
                bottom += shares[z] * 100
            ax.text(x, bottom + 1.5, f"{bottom:.0f}%" if zs else "idle", ha="center",
                    fontsize=8, color="#333" if zs else "#888")
            ticks.append(x)
            labels.append(f"K={k}\nhost {h + 1}" if h == 0 else f"{h + 1}")
            x += 1
        x += 1
    ax.set_xticks(ticks, labels, fontsize=8)
    ax.set_ylabel("share of the world's load (%)")
    ax.set_ylim(0, 105)
    ax.set_title(f"Starter world, {players:,} players: each world host's load, "
                 "zones packed on K hosts")
    ax.legend(title="zone")
    ax.grid(axis="y", color="#e4e4e4")
    ax.set_axisbelow(True)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    """Simulate each seed, print its figures, then the medians and the tables."""
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--players", type=int, default=10_000)
    p.add_argument("--crowd", type=float, default=0.15, help="share in the town square")
    p.add_argument("--seconds", type=int, default=10, help="of world time")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--tell", type=float, default=0.04, help="share of commands that tell")
    p.add_argument("--shout", type=float, default=0.005, help="share that shout")
    p.add_argument("--say", type=float, default=0.2, help="share that say")
    p.add_argument("--move", type=float, default=0.35, help="share that move (rest: look)")
    p.add_argument("--json-out", type=Path)
    p.add_argument("--png", type=Path, help="draw the per-host load chart here")
    args = p.parse_args()
    runs = []
    for seed in (int(s) for s in args.seeds.split(",")):
        r = summary(simulate(args, seed))
        runs.append(r)
        print(f"seed {seed}: {r['commands_s']:,.0f} commands/s; " + "; ".join(
            f"K={pl['hosts']} busiest {pl['busiest_share']:.1%} "
            f"handovers {pl['handovers_s']:.1f}/s" for pl in r["plans"]), flush=True)
    med = medians(runs)
    print(f"\nmedians of {len(runs)} seeds, {args.players:,} players, "
          f"{args.seconds} s of world time:\n")
    print(table(med))
    cpu = sum(z["cpu_s"] for z in med["zones"].values())
    print(f"\nworld CPU per second of world time, all zones: {cpu:.2f} s (this machine, "
          "one core): the cores one host would need")
    if args.png:
        draw(med, args.players, args.png)
    if args.json_out:
        args.json_out.write_text(json.dumps(
            {"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
             "runs": runs, "median": med}, indent=2))


if __name__ == "__main__":
    main()
