"""The drift-free tick driver and its timing record.

Tick n is due at `start + n * period` on the monotonic clock, so a slow tick
delays the next one but never shifts the schedule. When the loop falls more than
a whole tick behind it skips the missed deadlines (counting them) instead of
running a burst of catch-up ticks.

A `manual` loop (lockstep, server/host/lockstep.py) never ticks on the clock: `advance(n)`
runs n ticks when a client asks, timed and reported the same way.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class TickStats:
    """Tick durations over a sliding window (the last minute by default)."""

    window: int = 600
    durations: deque[float] = field(default_factory=deque)
    ticks: int = 0
    skipped: int = 0
    slowest: float = 0.0

    def record(self, seconds: float) -> None:
        """Add one tick's duration."""
        self.ticks += 1
        self.durations.append(seconds)
        if len(self.durations) > self.window:
            self.durations.popleft()
        self.slowest = max(self.slowest, seconds)

    def percentile(self, p: float) -> float:
        """The p-th percentile (0..100) of the window, in seconds (0 if empty)."""
        if not self.durations:
            return 0.0
        ordered = sorted(self.durations)
        k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
        return ordered[k]


class TickLoop:
    """Calls `step()` at `hz` times a second, drift-free, until stopped.

    Args:
        step: the work of one tick (synchronous; exceptions are passed to `on_error`).
        hz: ticks per second.
        on_error: called with an exception raised by `step`; the loop goes on.
        clock: monotonic time source.
        manual: never tick on the clock; only `advance` runs ticks (lockstep).
    """

    def __init__(self, step: Callable[[], None], hz: float = 10.0,
                 on_error: Callable[[BaseException], None] | None = None,
                 clock: Callable[[], float] = time.monotonic, manual: bool = False) -> None:
        self.step = step
        self.manual = manual
        self.period = 1.0 / hz
        self.on_error = on_error
        self.clock = clock
        self.stats = TickStats(window=max(1, round(60 * hz)))
        self._stopped = asyncio.Event()
        self.listeners: list[Callable[[float], None]] = []

    def stop(self) -> None:
        """Ask the loop to end after the current tick."""
        self._stopped.set()

    async def run(self) -> None:
        """Run until `stop()` (a `manual` loop only waits for it: `advance` ticks)."""
        if self.manual:
            await self._stopped.wait()
            return
        start = self.clock()
        n = 0
        while not self._stopped.is_set():
            n += 1
            deadline = start + n * self.period
            delay = deadline - self.clock()
            if delay > 0:
                try:
                    await asyncio.wait_for(self._stopped.wait(), delay)
                    break
                except TimeoutError:
                    pass
            else:
                behind = int(-delay / self.period)
                if behind:
                    self.stats.skipped += behind
                    n += behind
                await asyncio.sleep(0)  # let I/O in even when late
            self._one()

    def advance(self, ticks: int = 1) -> None:
        """Run `ticks` ticks now, one after another (lockstep: the world moves when a
        client says so, not on the clock)."""
        for _ in range(ticks):
            self._one()

    def _one(self) -> None:
        t0 = self.clock()
        try:
            self.step()
        except Exception as exc:  # one bad tick must not stop the world
            if self.on_error is not None:
                self.on_error(exc)
        elapsed = self.clock() - t0
        self.stats.record(elapsed)
        for listener in self.listeners:
            listener(elapsed)
