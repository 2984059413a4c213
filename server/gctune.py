"""The garbage collector, tuned for a long-lived server, and its pauses measured.

CPython's cyclic collector stops the event loop while it runs. A full (generation 2)
collection walks every tracked object, and a game server keeps hundreds of thousands
alive for good (the content, the world, the sessions): with 500 players, one such
pause costs tens of milliseconds and lands on some player's command as latency.

`tune()` does the two standard things, once the world is built:
- `gc.freeze()` moves every object alive at start (the content, the rooms, the
  loaded code) into a permanent generation that no collection walks again;
- a larger first-generation threshold (`gc_threshold`, 50,000 allocations instead of
  700), so the cheap young collections run less often and fewer objects survive into
  the older generations; memory that only cycles free is freed a little later.

`PauseMeter` records each collection's pause by generation (the Prometheus histogram
`aegent_gc_pause_seconds`, and the slowest in `stats`), so the effect is seen in
production, not only in a benchmark.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

DEFAULT_THRESHOLD = 50_000
"""First-generation threshold: allocations (less deallocations) between young collections."""


class PauseMeter:
    """Times every collection through `gc.callbacks`; `observe(generation, seconds)`
    is called after each one."""

    def __init__(self, observe: Callable[[int, float], None]) -> None:
        self.observe = observe
        self.slowest = 0.0
        self.collections = [0, 0, 0]
        self._t0 = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
            return
        took = time.perf_counter() - self._t0
        generation = int(info.get("generation", 0))
        self.collections[min(generation, 2)] += 1
        self.slowest = max(self.slowest, took)
        self.observe(generation, took)

    def install(self) -> None:
        """Start timing (idempotent)."""
        if self not in gc.callbacks:
            gc.callbacks.append(self)

    def remove(self) -> None:
        """Stop timing."""
        if self in gc.callbacks:
            gc.callbacks.remove(self)


def tune(threshold: int = DEFAULT_THRESHOLD) -> None:
    """Freeze what is alive now and set the young generation's threshold (0: leave the
    collector as Python sets it)."""
    if threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _, second, third = gc.get_threshold()
    gc.set_threshold(threshold, second, third)
