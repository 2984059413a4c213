"""What the per-session `seq` on event frames costs: splicing it into shared bytes.

An event heard by a room is rendered and encoded once and the same bytes go to
every recipient; `wire.with_seq` adds each session's own sequence number to those
bytes without decoding them. This measures, per recipient and per codec:

- `share`: appending the shared frame as it is (what fan-out cost before seq);
- `splice`: `with_seq(frame, n)` then append (what it costs now);
- `encode`: encoding the map again per recipient with its seq (the naive way);
- `deliver`: the whole `Session.deliver` of a shared event to 100 sessions, per session,
  and the same with the splice taken out (`without seq`).

Run: `.venv/bin/python -m bench.seq_splice` (prints medians in nanoseconds).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from server import wire
from server.gateway.session import Session
from server.wire import Subprotocol
from world.entities import Character, Kind
from world.events import HitLanded

MSG: dict[str, Any] = {
    "type": "event", "name": "hit_landed",
    "data": {"actor": "a cellar rat", "target": "Ann", "damage": 3, "weapon": "hit",
             "critical": False},
    "text": "A cellar rat hits Ann.",
}


def _median_ns(fn: Callable[[], None], loops: int = 20000, repeat: int = 7) -> float:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter_ns()
        for _ in range(loops):
            fn()
        runs.append((time.perf_counter_ns() - t0) / loops)
    return statistics.median(runs)


class _Port:
    def run(self, session: Session, msg: Any) -> None: ...
    def tool_list(self, session: Session) -> list[dict[str, Any]]:
        return []
    def class_names(self) -> dict[str, str]:
        return {}


def main() -> None:
    """Print the table."""
    print(f"{'codec':14} {'share':>8} {'splice':>8} {'encode':>8} {'deliver':>9} "
          f"{'without seq':>12}  (median ns per recipient)")
    for sub in (Subprotocol.JSON, Subprotocol.MSGPACK):
        frame = wire.encode_any(sub, MSG)
        out: list[str | bytes] = []
        seq = [0]

        def share(frame: str | bytes = frame, out: list[str | bytes] = out) -> None:
            out.append(frame)

        def splice(frame: str | bytes = frame, out: list[str | bytes] = out,
                   seq: list[int] = seq) -> None:
            seq[0] += 1
            out.append(wire.with_seq(frame, seq[0]))

        def encode(sub: Subprotocol = sub, out: list[str | bytes] = out,
                   seq: list[int] = seq) -> None:
            seq[0] += 1
            out.append(wire.encode_any(sub, {**MSG, "seq": seq[0]}))

        results = []
        for fn in (share, splice, encode):
            out.clear()
            results.append(_median_ns(fn))
        sessions = []
        for n in range(100):
            s = Session(f"s{n}", sub, _Port())  # type: ignore[arg-type]
            s.auth_succeeded(Character(n + 1, f"P{n}", Kind.PLAYER, "warrior", "x"), "player")
            s.outbox()
            sessions.append(s)
        event = HitLanded("a cellar rat", "Bob", 3, "hit", False)

        def fan_out(sessions: list[Session] = sessions, event: HitLanded = event) -> None:
            cache: dict[Any, str | bytes] = {}
            for s in sessions:
                s.deliver(event, cache)
            for s in sessions:
                s.outbox()  # takes (and drops) what was queued

        per = _median_ns(fan_out, loops=500) / len(sessions)
        real = wire.with_seq
        wire.with_seq = lambda frame, seq: frame  # type: ignore[assignment]
        try:
            before = _median_ns(fan_out, loops=500) / len(sessions)
        finally:
            wire.with_seq = real  # type: ignore[assignment]
        print(f"{sub.value:14} {results[0]:8.0f} {results[1]:8.0f} {results[2]:8.0f} "
              f"{per:9.0f} {before:12.0f}")


if __name__ == "__main__":
    main()
