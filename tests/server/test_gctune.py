"""The collector's tuning and its pause meter (server/gctune.py)."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

from server.gctune import PauseMeter

ROOT = Path(__file__).resolve().parents[2]


def test_the_meter_times_every_collection_by_generation() -> None:
    seen: list[tuple[int, float]] = []
    meter = PauseMeter(lambda generation, seconds: seen.append((generation, seconds)))
    meter.install()
    meter.install()  # once only
    try:
        gc.collect(0)
        gc.collect(2)
    finally:
        meter.remove()
    assert [g for g, _ in seen][-2:] == [0, 2]
    assert all(s >= 0 for _, s in seen) and meter.slowest == max(s for _, s in seen)
    assert meter.collections[0] >= 1 and meter.collections[2] >= 1
    before = list(meter.collections)
    gc.collect(2)
    assert meter.collections == before  # removed: no longer called
    meter.remove()  # idempotent


def test_tune_freezes_what_lives_and_raises_the_young_threshold() -> None:
    code = (
        "import gc; from server.gctune import tune\n"
        "keep = [[i] for i in range(10000)]\n"
        "tune(40000)\n"
        "print(gc.get_threshold()[0], gc.get_freeze_count() >= 10000)\n"
        "tune(0)\n"
        "print(gc.get_threshold()[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True).stdout.split()
    assert out == ["40000", "True", "40000"]  # 0 leaves the collector as it is
