"""What building costs the tick: a builder edit, an undo, a zone export, a content reload.

A builder command runs inside the tick like any command; a content edit goes
through `building.apply_state`, which checks every reference of the whole
content (as the loader does) before it commits. This measures, on the starter
content (three zones) and on a world with `--extra` more generated rooms:

- `rname`: one `rname` (a room edit: validate, check all, commit, sync the room);
- `set proto`: one `set <item> weight <n>` (a prototype edit);
- `undo`: one `undo` of a `rname`;
- `export`: `export_zone` of the largest zone;
- `reload`: `World.reload` of the same content under a running world.

Run: `.venv/bin/python -m bench.building [--extra 2000]` (prints medians in microseconds).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from server.config import default_content_dir
from server.host import content as loader
from world import building
from world.entities import Role
from world.game import World


def _median_us(fn: Callable[[], None], loops: int, repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter_ns()
        for _ in range(loops):
            fn()
        runs.append((time.perf_counter_ns() - t0) / loops / 1000)
    return statistics.median(runs)


def _grow(world: World, rooms: int) -> None:
    """Add a generated zone of `rooms` rooms in a line, through the builder's own path."""
    state: dict[str, dict[str, object]] = {
        "zones": {"bench": {"id": "bench", "name": "Bench"}}, "rooms": {}}
    docs: dict[str, object] = {}
    for n in range(rooms):
        exits = {}
        if n:
            exits["west"] = f"bench:r{n - 1}"
        if n + 1 < rooms:
            exits["east"] = f"bench:r{n + 1}"
        docs[f"bench:r{n}"] = {"name": f"Room {n}", "description": "A room.", "exits": exits}
    state["rooms"] = docs
    building.apply_state(world, state)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--extra", type=int, default=0, help="generated rooms to add")
    args = parser.parse_args()
    content = loader.load(default_content_dir())
    world = World(content, seed=1)
    if args.extra:
        _grow(world, args.extra)
    grown = building.own_content(world.content)
    bea = world.enter("Bea", "warrior", role=Role.BUILDER)
    world.drain()
    names = iter(range(10**9))

    def rname() -> None:
        assert world.perform_line(bea, f"rname Square {next(names)}") is None
        world.drain()

    def set_proto() -> None:
        assert world.perform_line(bea, f"set haven:haven_map weight {next(names) % 9}") is None
        world.drain()

    def undo() -> None:
        world.perform_line(bea, "rname Again")
        assert world.perform_line(bea, "undo") is None
        world.drain()

    zone = max(world.content.zones,
               key=lambda z: sum(1 for r in world.content.rooms.values() if r.zone == z))

    def export() -> None:
        building.export_zone(world, zone)

    def reload() -> None:
        world.reload(grown)
        world.drain()

    rooms = len(world.content.rooms)
    print(f"{rooms} rooms, {len(world.content.items)} item and {len(world.content.mobs)} mob "
          f"prototypes; largest zone {zone}")
    print(f"{'rname':>10} {'set proto':>10} {'undo':>10} {'export':>10} {'reload':>10}"
          "  (median microseconds)")
    loops = 200 if rooms < 1000 else 20
    print(f"{_median_us(rname, loops):>10.0f} {_median_us(set_proto, loops):>10.0f} "
          f"{_median_us(undo, loops) / 2:>10.0f} {_median_us(export, loops):>10.0f} "
          f"{_median_us(reload, max(2, loops // 10)):>10.0f}")


if __name__ == "__main__":
    main()
