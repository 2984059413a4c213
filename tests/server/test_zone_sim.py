"""The zone-sharding simulation of bench/zone_sim.py, small: its books balance.

500 players for 3 seconds of world time on the starter world (the figures in
docs/scaling.md come from `python -m bench.zone_sim`, 10,000 players): every player is
counted in exactly one zone at every sample, crossings are moves, every plan places
each zone once, one host hands nothing over and carries the whole load, and more
hosts never load the busiest one more. Speed is not asserted here.
"""

from __future__ import annotations

import argparse
from functools import cache
from pathlib import Path

import pytest

from bench import zone_sim
from bench.zone_sim import HOSTS, Run, medians, pack, plans, simulate, summary, table

PLAYERS = 500
SECONDS = 3


@cache
def small_run() -> Run:
    """One small seeded run, shared by the tests."""
    args = argparse.Namespace(players=PLAYERS, crowd=0.15, seconds=SECONDS, tell=0.04,
                              shout=0.005, say=0.2, move=0.35)
    return simulate(args, seed=1)


def test_every_player_is_counted_once_in_one_zone_at_every_sample() -> None:
    run = small_run()
    assert len(run.samples) == SECONDS
    for sample in run.samples:
        assert set(sample) == set(run.zones)
        assert sum(sample.values()) == PLAYERS
    assert sum(z.presence for z in run.zones.values()) == PLAYERS * SECONDS
    assert run.zones["haven"].presence >= 0.15 * PLAYERS * SECONDS  # the crowd stays


def test_one_command_a_second_each_and_crossings_are_moves() -> None:
    run = small_run()
    assert run.commands == sum(z.commands for z in run.zones.values()) == PLAYERS * SECONDS
    for zone in run.zones.values():
        assert 0 <= zone.crossings <= zone.moves
    crossings = sum(z.crossings for z in run.zones.values())
    assert crossings == sum(run.crossing_pairs.values()) > 0  # 500 walkers find a border
    assert all(a != b for a, b in run.crossing_pairs)
    assert sum(run.command_crossings.values()) <= crossings
    assert all(run.crossing_bytes[p] > 100 * k for p, k in run.crossing_pairs.items())
    assert sum(z.deliveries for z in run.zones.values()) > run.commands  # rooms hear
    verbs = run.verbs
    assert set(verbs) == {"look", "move", "say", "tell", "shout", "tick"}
    assert verbs["tick"].count == SECONDS * 10
    assert sum(v.count for name, v in verbs.items() if name != "tick") == run.commands
    assert sum(v.deliveries for v in verbs.values()) == sum(
        z.deliveries for z in run.zones.values())
    assert sum(v.cpu for v in verbs.values()) == pytest.approx(
        sum(z.cpu for z in run.zones.values()))


def test_the_plans_place_each_zone_once_and_more_hosts_never_load_the_busiest_more() -> None:
    run = small_run()
    ps = plans(run)
    assert [p.hosts for p in ps] == list(HOSTS)
    for p in ps:
        assert len(p.assignment) == p.hosts
        assert sorted(z for zs in p.assignment for z in zs) == sorted(run.zones)
        assert sum(p.loads) == pytest.approx(1.0)
        assert p.busiest_share == max(p.loads)
    one = ps[0]
    assert one.busiest_share == pytest.approx(1.0)
    assert one.handovers_s == one.handover_bytes_s == one.cross_host_command_share == 0
    assert one.cross_host_messages_s == 0
    for fewer, more in zip(ps, ps[1:], strict=False):
        assert more.busiest_share <= fewer.busiest_share
    assert ps[1].handovers_s > 0 and ps[1].handover_bytes_s > 0
    assert 0 < ps[1].cross_host_command_share < 1
    heaviest = max(run.zones, key=lambda z: run.zones[z].cpu)
    busiest = max(run.zones[z].cpu for z in run.zones) / sum(z.cpu for z in run.zones.values())
    for p in ps[1:]:
        assert [heaviest] in p.assignment  # alone on its host
        assert p.busiest_share >= busiest - 1e-9  # a zone is never split


def test_pack_puts_the_heaviest_alone_and_the_rest_on_the_least_loaded() -> None:
    loads = {"town": 5.0, "a": 3.0, "b": 2.0, "c": 2.0}
    assert pack(loads, 1) == [["town", "a", "b", "c"]]
    assert pack(loads, 2) == [["town"], ["a", "b", "c"]]
    assert pack(loads, 3) == [["town"], ["a"], ["b", "c"]]
    assert pack(loads, 8)[4:] == [[], [], [], []]


def test_the_summary_medians_table_and_chart_render(tmp_path: Path) -> None:
    med = medians([summary(small_run())])
    text = table(med)
    assert "| haven |" in text and "| 8 |" in text
    png = tmp_path / "hosts.png"
    zone_sim.draw(med, PLAYERS, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
