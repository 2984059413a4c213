"""The tick loop, as behaviour (not a benchmark): it ticks, survives errors, and skips when late."""

from __future__ import annotations

import asyncio

import pytest

from server.clock import TickLoop, TickStats


async def test_ticks_at_about_the_rate_and_survives_errors() -> None:
    ticks: list[int] = []
    errors: list[BaseException] = []

    def step() -> None:
        ticks.append(len(ticks))
        if len(ticks) == 2:
            raise RuntimeError("boom")

    loop = TickLoop(step, hz=20.0, on_error=errors.append)
    task = asyncio.create_task(loop.run())
    await asyncio.sleep(0.35)
    loop.stop()
    await asyncio.wait_for(task, 2.0)
    # 7 deadlines fall within 0.35 s; a loaded machine may skip a few, never add any.
    assert 3 <= len(ticks) <= 8
    assert [str(e) for e in errors] == ["boom"]
    assert loop.stats.ticks == len(ticks)


async def test_stop_ends_the_wait_at_once() -> None:
    loop = TickLoop(lambda: None, hz=0.1)  # a tick every 10 s
    task = asyncio.create_task(loop.run())
    await asyncio.sleep(0.01)
    loop.stop()
    await asyncio.wait_for(task, 1.0)
    assert loop.stats.ticks == 0


async def test_a_late_loop_skips_deadlines_instead_of_bursting() -> None:
    now = [0.0]

    def clock() -> float:
        now[0] += 1.0  # every reading is a second later: 10 ticks at 10 Hz
        return now[0]

    done: list[float] = []

    def step() -> None:
        done.append(now[0])
        if len(done) == 3:
            loop.stop()

    loop = TickLoop(step, hz=10.0, clock=clock)
    await asyncio.wait_for(loop.run(), 1.0)
    assert len(done) == 3
    assert loop.stats.skipped > 20


def test_tick_stats() -> None:
    stats = TickStats(window=4)
    assert stats.percentile(50) == 0.0
    for d in (0.004, 0.001, 0.003, 0.002, 0.010):
        stats.record(d)
    assert stats.ticks == 5
    assert list(stats.durations) == [0.001, 0.003, 0.002, 0.010]  # the window keeps 4
    assert stats.slowest == 0.010
    assert stats.percentile(0) == 0.001
    assert stats.percentile(100) == 0.010
    assert stats.percentile(50) == pytest.approx(0.003)
