"""The tick loop, as behaviour (not a benchmark): it ticks, survives errors, and skips when late.

Every test injects the clock: none waits for real time or asserts on it.
"""

from __future__ import annotations

import asyncio

import pytest

from server.host.clock import TickLoop, TickStats


class Script:
    """A clock that answers each reading from a script: no test here waits for real time.

    `TickLoop.run` reads the clock once at the start, then for every tick once to see
    how long to wait for the deadline, and twice around the step (its duration).
    """

    def __init__(self, *readings: float) -> None:
        self.readings = list(readings)
        self.read = 0

    def __call__(self) -> float:
        self.read += 1
        assert self.readings, "the loop read the clock more often than scripted"
        return self.readings.pop(0)


async def test_ticks_on_each_deadline_and_survives_errors() -> None:
    # 4 Hz: tick n is due at n * 0.25. Each deadline is read exactly when it falls due,
    # so the loop never waits and never skips; the steps take 0.01, 0, 0.125 and 0 s.
    clock = Script(0.0,
                   0.25, 0.25, 0.26,    # tick 1: due, then a step of 0.01
                   0.5, 0.5, 0.5,       # tick 2 (its step raises)
                   0.75, 0.75, 0.875,   # tick 3: a step of 0.125
                   1.0, 1.0, 1.0)       # tick 4 stops the loop
    ticks: list[int] = []
    errors: list[BaseException] = []

    def step() -> None:
        ticks.append(len(ticks))
        if len(ticks) == 2:
            raise RuntimeError("boom")
        if len(ticks) == 4:
            loop.stop()

    loop = TickLoop(step, hz=4.0, on_error=errors.append, clock=clock)
    durations: list[float] = []
    loop.listeners.append(durations.append)
    await asyncio.wait_for(loop.run(), 2.0)
    assert ticks == [0, 1, 2, 3]
    assert [str(e) for e in errors] == ["boom"]
    assert loop.stats.ticks == 4 and loop.stats.skipped == 0
    assert durations == pytest.approx([0.01, 0.0, 0.125, 0.0])
    assert loop.stats.slowest == pytest.approx(0.125)
    assert clock.readings == []


async def test_a_tick_found_late_skips_the_deadlines_it_missed() -> None:
    # 4 Hz. Tick 1 is read at 0.8: more than two whole periods past its deadline (0.25),
    # so ticks 2 and 3 are skipped and it runs as tick 3 (due 0.75). The next is tick 4,
    # due at 1.0: the schedule stays start + n * period.
    clock = Script(0.0,
                   0.8, 0.8, 0.8,
                   1.0, 1.0, 1.0)
    ran: list[float] = []

    def step() -> None:
        ran.append(len(ran))
        if len(ran) == 2:
            loop.stop()

    loop = TickLoop(step, hz=4.0, clock=clock)
    await asyncio.wait_for(loop.run(), 2.0)
    assert loop.stats.ticks == 2 and loop.stats.skipped == 2
    assert clock.readings == []


async def test_stop_ends_the_wait_at_once() -> None:
    clock = Script(0.0, 0.0)  # the start, then the first deadline 10 s away
    loop = TickLoop(lambda: None, hz=0.1, clock=clock)  # a tick every 10 s
    task = asyncio.create_task(loop.run())
    while clock.read < 2:  # until the loop has begun its wait (each pass is one turn
        await asyncio.sleep(0)  # of the event loop, not a wall-clock wait)
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
