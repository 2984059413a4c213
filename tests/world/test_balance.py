"""Balance: a scripted character of each class, playing the real content/ by commands only,
reaches level 5 within a bounded game time (bench/balance.py holds the player).

No sockets, no clock: simulated ticks with a fixed seed. The game time each class took
(ticks / 10 = seconds) is printed and written to test-artifacts/balance.json; the
figures to level 10 come from `python -m bench.balance` (content/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import starter_content

from bench.balance import CLASSES, TICKS_PER_SECOND, simulate
from world import rules

LEVEL = 5
MAX_MINUTES = 90  # of game time: twice what the slowest class (cleric, 41 min) takes today
SEED = 1
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
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
