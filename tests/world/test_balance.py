"""Balance: a scripted character of each class, playing the real content/ by commands only,
reaches level 5 within a bounded game time (bench/balance.py holds the player).

No sockets, no clock: simulated ticks with a fixed seed. The game time each class took
(ticks / 10 = seconds) is printed and written to test-artifacts/balance.json. The
figures to level 10 in content/README.md ("Balance figures") come from
`python -m bench.balance --level 10 --seeds 1,2,3`; the last tests replay that run and
fail when the README's table or the figures quoted beside it are not what it measures.
"""

from __future__ import annotations

import json
import re
import statistics
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from helpers import starter_content

from bench.balance import CLASSES, TICKS_PER_SECOND, Medians, hms, medians, simulate
from world import rules

LEVEL = 5
MAX_MINUTES = 90  # of game time: about three times what the slowest (cleric, 32 min) takes
SEED = 1
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
README = ROOT / "content" / "README.md"
README_SEEDS = [1, 2, 3]
README_LEVEL = 10
FIGURES: dict[str, Any] = {}


@pytest.mark.parametrize("cls", CLASSES)
def test_every_class_reaches_level_5_in_bounded_game_time(cls: str) -> None:
    max_ticks = MAX_MINUTES * 60 * TICKS_PER_SECOND
    reached, stats, player = simulate(starter_content(), cls, LEVEL, max_ticks, seed=SEED)
    seconds = None if reached is None else reached / TICKS_PER_SECOND
    FIGURES[cls] = {"level": LEVEL, "seed": SEED, "game_seconds": seconds,
                    "level_seconds": {n: t / TICKS_PER_SECOND
                                      for n, t in sorted(stats.level_ticks.items())},
                    "kills": stats.kills, "deaths": stats.deaths, "flees": stats.flees,
                    "commands": stats.commands}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "balance.json").write_text(json.dumps(FIGURES, indent=2))
    print(f"\n{cls}: level {LEVEL} after {seconds} s of game time; {stats.kills} kills, "
          f"{stats.deaths} deaths, {stats.flees} flees")
    assert reached is not None, (cls, stats)
    assert player.ch.level >= LEVEL
    assert player.ch.xp >= rules.xp_for_level(LEVEL)
    assert stats.kills > 0


# ---- content/README.md's figures ---------------------------------------------------------


@cache
def measured(cls: str) -> Medians:
    """What `python -m bench.balance --level 10 --seeds 1,2,3` measures for `cls`."""
    return medians(starter_content(), cls, README_LEVEL, README_SEEDS,
                   8 * 3600 * TICKS_PER_SECOND)


def balance_section() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index("## Balance figures"):]


def readme_table() -> dict[str, list[str]]:
    """The README's table: class -> the times to L2..L10 as written."""
    rows: dict[str, list[str]] = {}
    for line in balance_section().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] in CLASSES:
            rows[cells[0]] = cells[1:]
    return rows


def minutes(ticks: int | None) -> int:
    assert ticks is not None
    return round(ticks / TICKS_PER_SECOND / 60)


def h_mm(seconds: float) -> str:
    m = round(seconds / 60)
    return f"{m // 60}:{m % 60:02d}"


@pytest.mark.parametrize("cls", CLASSES)
def test_the_readme_table_is_what_the_benchmark_measures(cls: str) -> None:
    m = measured(cls)
    want = [hms(m.level_ticks[n]) for n in range(2, README_LEVEL + 1)]
    assert readme_table()[cls] == want, "content/README.md's balance table is stale: " \
        "rerun `python -m bench.balance --level 10 --seeds 1,2,3` and copy its rows"


def test_the_readme_prose_figures_are_what_the_benchmark_measures() -> None:
    section = balance_section()
    to_10 = sorted(measured(cls).level_ticks[README_LEVEL] or 0 for cls in CLASSES)
    seconds = [t / TICKS_PER_SECOND for t in to_10]
    span = re.search(r"the four classes take (\d+:\d\d) to\s+(\d+:\d\d), about (\d+:\d\d) "
                     r"in the middle", section)
    assert span is not None
    assert span.groups() == (h_mm(seconds[0]), h_mm(seconds[-1]),
                             h_mm(statistics.median(seconds)))
    cleric = re.search(r"it took (\d+) kills and (\d+) flights to level 10", section)
    assert cleric is not None
    m = measured("cleric")
    assert (int(cleric[1]), int(cleric[2])) == (round(m.kills), round(m.flees))
    level_5 = re.search(r"it takes (\d+) to (\d+) today, seed 1", section)
    assert level_5 is not None
    seed_1 = [measured(cls).runs[0][1].level_ticks[LEVEL] for cls in CLASSES]
    assert (int(level_5[1]), int(level_5[2])) == (min(map(minutes, seed_1)),
                                                  max(map(minutes, seed_1)))
