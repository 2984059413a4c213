"""When sessions' output is written: at once for answers, a tick later for the crowd.

`Writer` keeps which sessions have output and writes it to their `Link`s: the answer to
a session's own input (`urgent`) at the end of this pass of the event loop; what others'
actions caused for it (fan-out) up to `fanout_delay` later, so that several events share
one write. Both processes that hold connections use it: `aegent serve`'s `Server` and
`aegent gateway`'s `Gateway`. `keepalive` is their shared housekeeping of connections:
pings, the keepalive timeout, handshakes that never finish, idle sessions.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, Protocol

from server.config import Settings
from server.gateway.session import Session, SessionHandle, State

SLOT = 0.005
"""Fan-out output is written in slots this far apart (see `Writer.mark`)."""


class Link(Protocol):
    """What a process needs of a connection (ws.Connection, telnet.TelnetConnection)."""

    session: Session | None
    address: str
    ping_sent: float | None
    opened_at: float
    closed: bool

    def send_frames(self, frames: list[str | bytes]) -> None: ...
    def write_pending(self) -> None: ...
    def ping(self, now: float) -> None: ...
    def close(self, code: int = 1000, reason: str = "") -> None: ...
    def abort(self, why: str = "") -> None: ...


class Writer:
    """Writes the output of `sessions` to their links.

    Args:
        sessions: every session with its link (the caller's own map, read as it changes).
        settings: `fanout_delay` and `lockstep`.
        now: monotonic seconds.
        holding: sessions whose output waits (a save under way); `flush` skips them.
    """

    def __init__(self, sessions: Mapping[Any, Link], settings: Settings,
                 now: Callable[[], float], holding: Collection[Any] = ()) -> None:
        self.sessions = sessions
        self.settings = settings
        self.now = now
        self.holding = holding
        self.dirty: set[SessionHandle] = set()
        self.lazy: set[SessionHandle] = set()  # fan-out output waiting (up to fanout_delay)
        self.slots: deque[tuple[float, list[SessionHandle]]] = deque()  # by time marked
        self._lazy_scheduled = False
        self._flush_scheduled = False

    def forget(self, session: SessionHandle) -> None:
        """`session` is gone: nothing of it is written any more."""
        self.dirty.discard(session)
        self.lazy.discard(session)

    def mark(self, session: SessionHandle, urgent: bool = True) -> None:
        """Note that `session` has output. Answers to its own input (`urgent`) go out at
        the end of this pass of the event loop; what others' actions caused for it (fan-out)
        waits up to `fanout_delay` so that several events share one write. A world host's
        handle of a gateway's session (`relayed`) gets its output at once: the gateway
        does the waiting.

        Each session waits from the first event it got: the sessions due are written a
        few at a time, every `SLOT` seconds, rather than all at once when one timer
        fires, so a crowded server writes steadily instead of in bursts."""
        if session.relayed and not urgent:
            return
        settings = self.settings
        if urgent or settings.fanout_delay <= 0 or settings.lockstep:
            self.dirty.add(session)
            if session.watchers:  # admins snooping on it get their copies in the same pass
                self.dirty.update(session.watchers)
            if not self._flush_scheduled:
                self._flush_scheduled = True
                asyncio.get_running_loop().call_soon(self.flush)
            return
        lazy = self.lazy
        if session in lazy and not session.watchers:
            return
        slot = self.slots[-1] if self.slots else None
        now = self.now()
        if slot is None or now - slot[0] >= SLOT:
            slot = (now, [])
            self.slots.append(slot)
            if not self._lazy_scheduled:
                self._lazy_scheduled = True
                asyncio.get_running_loop().call_later(settings.fanout_delay, self._flush_lazy)
        for one in (session, *session.watchers):
            if one not in lazy:
                lazy.add(one)
                slot[1].append(one)

    def mark_fanout(self, sessions: Iterable[SessionHandle]) -> None:
        """`mark(session, urgent=False)` for each of `sessions`: the recipients of one
        event. Those whose output already waits (the crowd, most of a tick) cost a set
        lookup each."""
        lazy, mark = self.lazy, self.mark
        for session in sessions:
            if session not in lazy or session.watchers:
                mark(session, False)

    def _flush_lazy(self) -> None:
        self._lazy_scheduled = False
        slots, lazy, delay = self.slots, self.lazy, self.settings.fanout_delay
        now = self.now()
        while slots and slots[0][0] + delay <= now + SLOT / 2:
            for session in slots.popleft()[1]:
                if session in lazy:  # not written since (by its own command's answer)
                    lazy.discard(session)
                    self.dirty.add(session)
        if slots:
            self._lazy_scheduled = True
            asyncio.get_running_loop().call_later(max(0.0, slots[0][0] + delay - now),
                                                  self._flush_lazy)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.flush()

    def flush(self) -> None:
        """Write every marked session's output now (those in `holding` wait)."""
        self._flush_scheduled = False
        dirty, self.dirty = self.dirty, set()
        lazy = self.lazy
        for session in dirty:
            lazy.discard(session)  # what it had waiting goes now
            conn = self.sessions.get(session)
            if conn is None or session in self.holding:
                continue
            frames = session.outbox()
            if frames:
                conn.send_frames(frames)
            conn.write_pending()  # telnet may have GMCP to send without text
            if session.state is State.CLOSED:
                conn.close(1000, session.close_reason or "goodbye")


def keepalive(connections: Collection[Link], sessions: Collection[SessionHandle],
              settings: Settings, now: float, ping: bool, mark: Callable[[Any], None],
              log: Any) -> None:
    """One pass of the housekeeping of connections: close the sessions idle too long
    (those of this process), abort connections whose handshake never finished or whose
    pings go unanswered, and (with `ping`) ping the others."""
    for session in list(sessions):
        if session.relayed:  # its gateway keeps the time
            continue
        limit = settings.idle_timeout if session.playing else settings.login_timeout
        if now - session.last_input > limit:
            session.notify([("", "You have been idle too long; closing.")], "warning")
            session.close("idle timeout")
            mark(session)
    if not ping:
        return
    for conn in list(connections):
        if conn.session is None:
            if now - conn.opened_at > settings.login_timeout:
                conn.abort("no handshake")
            continue
        if conn.ping_sent is not None and now - conn.ping_sent > settings.ping_timeout:
            log.info("keepalive_timeout", session=conn.session.id)
            conn.abort("keepalive timeout")
        elif conn.ping_sent is None:
            conn.ping(now)
