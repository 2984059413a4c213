"""Lockstep: the world ticks when a client says so (`advance`), not on the clock.

With the `lockstep` setting the server's `TickLoop` is manual (server/host/clock.py): no
tick runs until a playing session sends `{"type": "advance", "ticks": n, "id": ...}`.
Then the n ticks run one after another, each one's output going out before the next
(in lockstep nothing waits for `fanout_delay`: see `Server.mark`), and once all of it
has been written to every session (output held back for a save included), the asker
gets `{"type": "result", "id": ..., "ok": true, "tick": <the world's tick count>}`.

One advance runs at a time, server-wide (another is refused with `busy`), and one asks
for at most `advance_max_ticks`. Commands that come in meanwhile apply between two
ticks, in the order they arrive. Without lockstep the message is refused with
`lockstep_off`.

What the world sees is then a function of its seed and of its inputs in order: the
research environments (agents/env.py) send their actions one at a time, each waiting
for its result, then advance, so the same seed and the same actions give the same
events, as fast as the CPU allows. The world itself keeps no wall clock (world/ never
imports `time`; its randomness is one seeded RNG; its ids come from counters): what
still follows the wall clock is the server's care of connections (a dropped one
leaves the world after `linkdead_grace`, an idle one is closed after `idle_timeout`)
and admins' timed mutes and bans, none of which an environment's sessions meet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from server import wire
from server.wire import ErrorCode

if TYPE_CHECKING:
    from server.config import Settings
    from server.gateway.session import SessionHandle
    from server.host.clock import TickLoop
    from world.game import World

HOLD_POLL = 0.001
"""Seconds between two looks at whether output held for a save has gone out."""


class Host(Protocol):
    """What lockstep needs of the server (server/app.py `Server`)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def ticker(self) -> TickLoop: ...
    @property
    def world(self) -> World: ...
    @property
    def sessions(self) -> Mapping[SessionHandle, object]: ...
    def mark(self, session: SessionHandle, urgent: bool = True) -> None: ...
    def spawn(self, coro: Awaitable[Any]) -> None: ...
    def output_held(self) -> bool: ...


class Lockstep:
    """Carries out `advance` requests (see the module docstring).

    Args:
        host: the server.
    """

    def __init__(self, host: Host) -> None:
        self.host = host
        self.running = False  # an advance is under way
        self.advances = 0  # advances done

    def request(self, session: SessionHandle, ticks: int, id: Any) -> None:
        """A session sent `advance`: refuse it, or start running the ticks."""
        settings = self.host.settings
        if not settings.lockstep:
            self._refuse(session, ErrorCode.LOCKSTEP_OFF,
                         "This world runs on the clock; `advance` needs a server started "
                         "with lockstep (AEGENT_LOCKSTEP=1).", id)
        elif ticks > settings.advance_max_ticks:
            self._refuse(session, ErrorCode.BAD_FIELD,
                         f"'ticks' must be at most {settings.advance_max_ticks}", id)
        elif self.running:
            self._refuse(session, ErrorCode.BUSY, "An advance is already under way.", id)
        else:
            self.running = True
            self.host.spawn(self._advance(session, ticks, id))

    def _refuse(self, session: SessionHandle, code: str, message: str, id: Any) -> None:
        session.send(wire.error(code, message, id))
        self.host.mark(session)

    async def _advance(self, session: SessionHandle, ticks: int, id: Any) -> None:
        host = self.host
        try:
            for _ in range(ticks):
                host.ticker.advance(1)
                await asyncio.sleep(0)  # the tick's output is written before the next tick
            while host.output_held():  # written through to the database first
                await asyncio.sleep(HOLD_POLL)
            await asyncio.sleep(0)  # ... and then written to its session
        finally:
            self.running = False
        self.advances += 1
        if session in host.sessions:
            reply: dict[str, Any] = {"type": "result", "ok": True, "tick": host.world.time}
            if id is not None:
                reply["id"] = id
            session.send(reply)
            host.mark(session)
