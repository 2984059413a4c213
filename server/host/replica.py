"""The world host's journal, copied into JetStream as it is written.

In a cluster the world host keeps its journal where the single-process server does, in
the data directory (`FileJournal`, server/host/journal.py): an append stays one
synchronous `write`, and `aegent replay` works offline. `JournalReplica` copies every
entry into the JetStream stream of the bus (`NatsBus.journal`, server/bus/nats.py), in
order, so that a world host started on another machine, with an empty data directory,
finds the inputs there (and the snapshots in the database: server/host/snapshot_db.py).

Numbering. An entry's stream sequence number is its local one. Each entry is published
with `Nats-Msg-Id: <world id>:<seq>` (a retry after a reconnect is stored once within
the stream's duplicate window) and `Nats-Expected-Last-Subject-Sequence: <seq - 1>`
(JetStream stores it only right after the entry before it: nothing is ever stored out
of place, past the window too, even when nats-py resends what it had buffered across a
reconnect); the first entry into an empty stream expects 0. Past the first entry
published after a resynchronisation, each also carries `Nats-Expected-Last-Msg-Id` (the
entry before it is this host's: with entries in flight, no entry of this host's lands
right after another writer's). (Not `Nats-Expected-Last-Sequence`: nats-server 2.9 does
not move that one on a purge; and JetStream forgets the last message id on a restart,
whence not on the first entry.)

Pipelining. One task publishes the entries in order, up to `window` of them waiting for
their acknowledgement. Only the last entry of each flight (what waited when the task
woke: one pass of the world host's, about four entries at 1,000 players) asks for an
acknowledgement, with a reply subject of its own on one subscription, and on a long
catch-up one in `ACK_EVERY` too. An acknowledgement of entry n stored as n stands for
every entry before it: each was stored only right after the one before it, and that
one was this host's (the expected-sequence and expected-message-id headers above). A
middle entry that JetStream refused makes the next one fail its headers in turn, up to
the one that asks, whose refusal comes back. `acked` is the newest entry JetStream
stored, every one before it too; `wait_acked(seq)` is what the world host awaits before
publishing the outputs of entry `seq`, so that no player hears of an input JetStream
could lose. A refusal, an acknowledgement naming another number, none within
`ack_timeout`, a lost connection: the replica resynchronises (the acknowledgements
still to come count for nothing; the stream's bounds are read, the entries it stored
past `acked` must be the local ones, byte for byte; publishing goes on after its last
entry), again every `retry` seconds while NATS is away.

Memory. `appended(seq, entry)` keeps at most `buffer` entries not yet published
(references to the inputs just journaled); past that it keeps only the number, and the
entries are read back from the journal's files, in batches, in a worker thread, when
their turn comes. So while NATS is away the world host plays on, its journal grows on
disk only (within the journal's retention: a segment pruned before JetStream had it is
lost to JetStream, and said so), and `wait_acked` waits.

Start. `start()` runs before recovery and reconciles the two (l: the local journal's
first and last entries, s: the stream's):
- the stream goes further (the host moved, or comes back after another ran): its
  entries after the local last are appended to the local journal, with their times, so
  that recovery replays them. If the local journal ends before the stream begins (or
  holds nothing), it goes on at the stream's first number; what it held is kept aside,
  whole, in `wal/superseded-<time>/` (`FileJournal.restart`). With `since` (the world
  host's), it goes on after the newest snapshot recovery can start from instead, when
  the local journal ends before that: a new machine fetches the entries after the
  database's snapshot, not the stream's whole retention.
- the local journal goes further: its entries after the stream's last are published. If
  the stream ends before the local first (the stream was deleted, or the local journal
  pruned entries the stream never had), the stream is purged up to the local first, so
  that its numbers go on from there (its older entries, which the local journal no
  longer holds, are dropped, with a warning).
- where both hold the newest entry they share, it must be the same bytes; if it is not
  (another world's stream under the same prefix), `start` raises `JournalDiverged` and
  changes nothing: an operator chooses which to keep.
Past `start`, a stream that holds more than the local journal means another writer: the
replica logs an error, publishes nothing and `wait_acked` waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, cast

import nats.errors
import nats.js.errors
import structlog
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as NatsSubscription

from server.bus.base import BusError, BusTimeout, BusUnavailable, check_family
from server.bus.messages import INPUTS, BusMessageError, Input, decode, encode
from server.bus.nats import NatsBus, NatsJournal
from server.host.journal import FileJournal, Record

WINDOW = 512
"""Entries published and not yet acknowledged, at most."""

BUFFER = 4096
"""Entries `appended` keeps in memory for publishing, at most (the rest is read back from
the journal's files)."""

ACK_EVERY = 64
"""On a long catch-up, one entry in this many asks for an acknowledgement besides the
last of each flight."""

ACK_TIMEOUT = 5.0
"""Seconds without an acknowledgement, entries waiting, before resynchronising."""

RETRY = 0.5
"""Seconds between tries while NATS or JetStream is away."""

START_TIMEOUT = 30.0
"""Seconds `start` tries to reach JetStream before it gives up."""

log = structlog.get_logger("aegent.journal")


class JournalDiverged(BusError):
    """The local journal and the stream hold different entries under one number."""


class JournalConflict(BusError):
    """The stream holds entries this world host did not write (another writer)."""


class JournalReplica:
    """The local journal copied into JetStream (see the module docstring).

    Args:
        local: the world host's journal (`WorldRecorder.journal`), the primary.
        bus: the world host's NATS bus; its `journal` stream gets the copy.
        world_id: names the entries (`Nats-Msg-Id`); the bus's prefix by default.
        window: entries in flight at most.
        buffer: entries kept in memory for publishing at most.
        ack_timeout: seconds to wait for an acknowledgement.
        retry: seconds between tries while NATS is away.
        since: given the stream's last entry, the newest entry a snapshot the world
            host can start from already holds (`WorldRecorder.snapshot_seq`): a local
            journal that ends before it takes the stream from the entry after it, not
            from the stream's first (a day of entries, by default).
    """

    def __init__(self, local: FileJournal, bus: NatsBus, world_id: str | None = None, *,
                 window: int = WINDOW, buffer: int = BUFFER, ack_timeout: float = ACK_TIMEOUT,
                 retry: float = RETRY, since: Callable[[int], int] | None = None) -> None:
        if window < 1 or buffer < 0:
            raise ValueError("window must be 1 or more and buffer 0 or more")
        self.local = local
        self.bus = bus
        self.world_id = world_id or bus.subjects.prefix
        self.window = window
        self.buffer = buffer
        self.ack_timeout = ack_timeout
        self.retry = retry
        self.since = since
        self.acked = 0  # JetStream stored every entry up to this one
        self.sent = 0  # published up to this one (this epoch)
        self.spilled = 0  # entries `appended` did not keep in memory (read back from disk)
        self.asked = 0  # entries published asking for an acknowledgement
        self.resyncs = 0
        self.problem: str | None = None  # why it is not publishing now, if so
        self._buffer: deque[tuple[int, Input]] = deque()
        self._waiters: list[tuple[int, int, asyncio.Future[bool]]] = []
        self._ids = itertools.count()
        self._wake = asyncio.Event()
        self._dirty = True  # resynchronise before publishing
        self._epoch = 0
        self._round_first = 1  # the first entry published since the last resynchronisation
        self._empty_after = -1  # the stream held nothing after this entry at the last sync
        self._progress = 0.0  # loop time of the last acknowledgement (or of idling)
        self._reconnects = bus.reconnects
        self._inbox = ""
        self._acks: NatsSubscription | None = None
        self._task: asyncio.Task[None] | None = None
        self._pulser: asyncio.Task[None] | None = None
        self._disk: Iterator[Record] | None = None
        self._disk_next = 0
        self._closed = False

    # ---- life cycle

    async def start(self, timeout: float = START_TIMEOUT) -> None:
        """Reconcile the local journal and the stream (the module docstring), then copy
        from now on. Call it before recovery and before the first `appended`.

        Raises:
            JournalDiverged: they disagree; nothing was changed.
            BusError: JetStream did not answer within `timeout` seconds.
            BusMessageError: a stream entry does not decode (a newer version wrote it).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                await self._reconcile(True, max(deadline - loop.time(), 0.05))
                break
            except (JournalDiverged, BusMessageError):
                raise
            except BusError as exc:
                if loop.time() >= deadline:
                    raise
                log.warning("journal_replica_waiting", error=str(exc))
                await asyncio.sleep(self.retry)
        self._inbox = self.bus.nc.new_inbox()
        self._acks = await self.bus.nc.subscribe(f"{self._inbox}.>", cb=self._on_ack)
        self._progress = loop.time()
        self._task = asyncio.create_task(self._run(), name="journal-replica")
        self._pulser = asyncio.create_task(self._pulse(), name="journal-replica-pulse")
        self._wake.set()
        log.info("journal_replica_started", first=self.local.first, last=self.local.last,
                 acked=self.acked, stream=self.bus.subjects.stream)

    def appended(self, seq: int, entry: Input | None = None) -> None:
        """Entry `seq` was just appended to the local journal: publish it in its turn.
        Without `entry` (or past `buffer` entries waiting) it is read back from disk."""
        if self._closed:
            return
        if entry is not None and len(self._buffer) < self.buffer:
            self._buffer.append((seq, entry))
        else:
            self.spilled += 1
        self._wake.set()

    @property
    def buffered(self) -> int:
        """Entries waiting in memory."""
        return len(self._buffer)

    async def wait_acked(self, seq: int, timeout: float | None = None) -> bool:
        """Wait until JetStream has stored entry `seq` (and all before it): True then;
        False if `timeout` seconds passed first, or the replica was closed."""
        if seq <= self.acked:
            return True
        if self._closed:
            return False
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        heapq.heappush(self._waiters, (seq, next(self._ids), future))
        # a plain timer, not `asyncio.timeout`: this runs once per pass of the world host
        timer = loop.call_later(timeout, _expire, future) if timeout is not None else None
        try:
            return await future
        finally:
            if timer is not None:
                timer.cancel()

    async def close(self, timeout: float = ACK_TIMEOUT) -> bool:
        """Wait up to `timeout` seconds for JetStream to store every entry appended so far,
        then stop copying; whether it had them all. (The bus stays open.)"""
        done = True
        if self._task is not None and not self._closed:
            done = await self.wait_acked(self.local.last, timeout)
            if not done:
                log.warning("journal_replica_behind", acked=self.acked, last=self.local.last)
        self._closed = True
        for task in (self._task, self._pulser):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._pulser = None
        if self._acks is not None:
            with contextlib.suppress(nats.errors.Error):
                await self._acks.unsubscribe()
            self._acks = None
        for _, _, future in self._waiters:
            if not future.done():
                future.set_result(False)
        self._waiters.clear()
        self._buffer.clear()
        return done

    # ---- reconciling

    async def _reconcile(self, starting: bool, probe: float | None = None) -> None:
        """Bring the stream (and, at start, the local journal) in line; afterwards the
        stream holds the local entries up to `acked`, and publishing goes on after it.
        The first question to JetStream waits `probe` seconds at most."""
        self.bus.check_connected()
        stream = NatsJournal(self.bus, self.bus.journal.retention, self.ack_timeout)
        try:
            async with asyncio.timeout(probe):  # a fresh one: it makes the stream again
                sf, sl = await stream.bounds()
        except TimeoutError:
            raise BusTimeout("JetStream did not answer") from None
        lf, ll = self.local.first, self.local.last
        if sl > ll:
            if not starting:
                raise JournalConflict(f"the stream {self.bus.subjects.stream} holds entries "
                                      f"up to {sl}, this journal up to {ll}: another world "
                                      "host writes to it")
            await self._take_stream(sf, sl)
            sf, sl = await stream.bounds()
            lf, ll = self.local.first, self.local.last
        elif starting and sl >= max(lf, sf):
            await self._same(sl)
        if sl < lf - 1:
            await self._purge(sf, sl, lf)
            sf, sl = await stream.bounds()
            if sl != lf - 1:
                raise BusError(f"the stream {self.bus.subjects.stream} ends at {sl} after "
                               f"a purge up to {lf}")
        elif not starting and self.acked < sl:  # stored, their acknowledgements lost
            if sl - self.acked > self.window:
                raise JournalConflict(f"the stream {self.bus.subjects.stream} holds entries "
                                      f"up to {sl}, more than were in flight past "
                                      f"{self.acked}: another world host writes to it")
            await self._check_ours(max(self.acked + 1, sf, lf), sl)
        if self.acked > sl:
            log.error("journal_stream_lost_entries", stream=self.bus.subjects.stream,
                      acked=self.acked, stream_last=sl)
        self._empty_after = sl if sl < sf else -1
        self._round_first = sl + 1
        self._epoch += 1
        self.acked = self.sent = sl
        self._disk = None
        self.resyncs += 1
        self._dirty = False
        self._resolve()

    async def _take_stream(self, sf: int, sl: int) -> None:
        """Append the stream's entries after the local last to the local journal."""
        lf, ll = self.local.first, self.local.last
        begin = sf
        if self.since is not None:  # what a snapshot holds need not be fetched
            held = min(await asyncio.to_thread(self.since, sl), sl)
            if ll < held:
                begin = max(sf, held + 1)
        if ll < begin - 1:  # nothing joins them: go on at the stream's numbers
            aside = self.local.restart(begin)
            log.warning("journal_taken_from_stream", first=begin, last=sl, local_first=lf,
                        local_last=ll, stream_first=sf,
                        superseded=str(aside) if aside else None)
        elif ll >= max(lf, sf):
            await self._same(ll)
        start = self.local.last + 1
        if start <= sl:
            sync, self.local.sync = self.local.sync, "batch"  # one fsync, not one each
            try:
                got = await self._fetch(start, sl)
            finally:
                self.local.flush()
                self.local.sync = sync
            log.info("journal_fetched_from_stream", first=start, last=self.local.last,
                     entries=got)

    async def _same(self, seq: int) -> None:
        """Raise `JournalDiverged` unless entry `seq` is the same bytes in both."""
        if seq < 1:
            return
        records = await asyncio.to_thread(_read, self.local, seq, seq)
        try:
            msg = await self.bus.js.get_msg(self.bus.subjects.stream, seq=seq)
        except nats.js.errors.NotFoundError:
            return  # gone from the stream meanwhile (its age): nothing to compare
        except (nats.errors.Error, nats.js.errors.Error) as exc:
            raise BusUnavailable(f"cannot read the journal stream: {exc}") from None
        if not records or encode(records[0].entry) != msg.data:
            raise JournalDiverged(
                f"the local journal ({self.local.directory}) and the JetStream stream "
                f"{self.bus.subjects.stream} hold different entries at {seq}: another "
                "world's stream? Keep one: move the journal's folder aside (to take the "
                "stream's) or delete the stream (to keep the local one), or use another "
                "bus prefix")

    async def _purge(self, sf: int, sl: int, lf: int) -> None:
        """Empty the stream up to entry `lf`, so that it goes on at `lf`."""
        log.warning("journal_stream_purged", stream=self.bus.subjects.stream,
                    stream_first=sf, stream_last=sl, local_first=lf,
                    dropped=max(0, sl - sf + 1), missing=f"{sl + 1}..{lf - 1}",
                    reason="the stream ends before the local journal begins (deleted, or "
                    "the local journal pruned entries it never had): it goes on at "
                    "the local numbers")
        try:
            await self.bus.js.purge_stream(self.bus.subjects.stream, seq=lf)
        except (nats.errors.Error, nats.js.errors.Error) as exc:
            raise BusUnavailable(f"cannot purge the journal stream: {exc}") from None

    async def _fetch(self, start: int, end: int) -> int:
        """Append the stream's entries `start` to `end` to the local journal; how many."""
        got = 0
        async for seq, data, at in self._stream(start, end):
            if seq != self.local.last + 1 and self.local.first > self.local.last:
                self.local.restart(seq)  # its oldest went with their age meanwhile
            elif seq != self.local.last + 1:  # the next try sets the local journal aside
                raise BusError(f"the stream {self.bus.subjects.stream} no longer holds "
                               f"entry {self.local.last + 1} (next: {seq})")
            entry = decode(data)
            check_family(entry, INPUTS, f"an input (journal entry {seq})")
            self.local.append_now(cast(Input, entry), at=at)
            got += 1
        return got

    async def _check_ours(self, start: int, end: int) -> None:
        """Raise `JournalConflict` unless the stream's entries `start` to `end` are the
        local ones (stored while their acknowledgements were lost, or another writer's?)."""
        local = iter(await asyncio.to_thread(_read, self.local, start, end))
        async for seq, data, _ in self._stream(start, end):
            record = next(local, None)
            if record is None or record.seq != seq or encode(record.entry) != data:
                raise JournalConflict(f"the stream {self.bus.subjects.stream} holds at {seq} "
                                      "an entry this world host did not write: another "
                                      "world host writes to it")

    def _stream(self, start: int, end: int) -> AsyncIterator[tuple[int, bytes, float]]:
        """The stream's entries `start` to `end` (seq, bytes, time)."""
        return NatsJournal(self.bus, self.bus.journal.retention, self.ack_timeout
                           ).entries(start, end)

    # ---- copying

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                if self._dirty:
                    self._reconnects = self.bus.reconnects
                    await self._reconcile(False)
                    self._progress = loop.time()
                    if self.problem is not None:
                        log.info("journal_replica_resumed", acked=self.acked,
                                 last=self.local.last, was=self.problem)
                        self.problem = None
                await self._publish()
                await self._idle(loop)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS away, JetStream refusing, a disk error...
                self._dirty = True
                reason = f"{type(exc).__name__}: {exc}"
                if reason != self.problem:
                    level = log.error if isinstance(exc, JournalConflict) else log.warning
                    level("journal_replica_stalled", error=reason, acked=self.acked,
                          last=self.local.last)
                    self.problem = reason
                await asyncio.sleep(self.retry)

    async def _idle(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wait for something to do; flag a resynchronisation when one is due."""
        if self._dirty or (self.sent < self.local.last and self.sent - self.acked < self.window):
            return
        self._wake.clear()
        await self._wake.wait()  # `_pulse` wakes it too, for the checks below
        if self.bus.reconnects != self._reconnects or not self.bus.connected:
            raise BusUnavailable("the connection to NATS was lost")
        if self.sent > self.acked and loop.time() - self._progress > self.ack_timeout:
            raise BusTimeout(f"no acknowledgement of entry {self.acked + 1} within "
                             f"{self.ack_timeout} s")

    async def _pulse(self) -> None:
        """Wake `_run` every second at least (or `ack_timeout`, if shorter), so that a lost
        connection or a missing acknowledgement is noticed while nothing is appended: one
        timer for the life of the replica rather than one per wait."""
        period = min(self.ack_timeout, 1.0)
        while True:
            await asyncio.sleep(period)
            self._wake.set()

    async def _publish(self) -> None:
        """Publish what waits, in order, up to the window."""
        nc, subjects = self.bus.nc, self.bus.subjects
        while (not self._dirty and self.sent < self.local.last
               and self.sent - self.acked < self.window):
            batch = await self._next(self.window - (self.sent - self.acked))
            if not batch:
                return
            last = batch[-1][0]
            for seq, data in batch:
                if self._dirty:
                    return
                if seq != self.sent + 1:
                    raise BusError(f"entry {self.sent + 1} is no longer in the local journal "
                                   f"(next: {seq}): pruned before JetStream had it")
                self.bus.check_connected()
                if self.sent == self.acked:  # the acknowledgement's clock starts now
                    self._progress = asyncio.get_running_loop().time()
                expected = 0 if seq - 1 == self._empty_after else seq - 1
                headers = {"Nats-Msg-Id": f"{self.world_id}:{seq}",
                           "Nats-Expected-Last-Subject-Sequence": str(expected)}
                if seq > self._round_first:  # the one before is this round's: ours
                    headers["Nats-Expected-Last-Msg-Id"] = f"{self.world_id}:{seq - 1}"
                # Only the last of a flight asks for an acknowledgement (and one in
                # ACK_EVERY on a long catch-up): it stands for all before it.
                asks = seq == last or seq % ACK_EVERY == 0
                self.asked += asks
                await nc.publish(subjects.journal, data, headers=headers,
                                 reply=f"{self._inbox}.{self._epoch}.{seq}" if asks else "")
                self.sent = seq

    async def _next(self, n: int) -> list[tuple[int, bytes]]:
        """Up to `n` entries after `sent`, encoded: from memory when they are there, else
        read back from the journal's files in a worker thread."""
        start = self.sent + 1
        buffer = self._buffer
        while buffer and buffer[0][0] < start:
            buffer.popleft()
        out: list[tuple[int, bytes]] = []
        while buffer and len(out) < n and buffer[0][0] == start + len(out):
            seq, entry = buffer.popleft()
            out.append((seq, encode(entry)))
        if out:
            return out
        end = min(start + n - 1, self.local.last)
        if buffer:
            end = min(end, buffer[0][0] - 1)
        if self._disk is None or self._disk_next != start:
            self._disk = self.local.read(start)
            self._disk_next = start
        records = await asyncio.to_thread(_take, self._disk, end - start + 1)
        if len(records) < end - start + 1:
            self._disk = None  # it ended at the journal's last entry when it began
        if records:
            self._disk_next = records[-1].seq + 1
        return [(r.seq, encode(r.entry)) for r in records]

    async def _on_ack(self, msg: Msg) -> None:
        try:
            _, epoch, seq_text = msg.subject.rsplit(".", 2)
            if int(epoch) != self._epoch:
                return  # from before the last resynchronisation
            seq = int(seq_text)
            body: Any = json.loads(msg.data)
        except ValueError:
            return
        error = body.get("error") if isinstance(body, dict) else "not an acknowledgement"
        stored = body.get("seq") if isinstance(body, dict) else None
        if error:
            what = error.get("description", error) if isinstance(error, dict) else error
            self._flag(f"JetStream refused entry {seq}: {what}")
        elif stored != seq:
            self._flag(f"JetStream stored entry {seq} as {stored}")
        elif seq > self.acked:  # and every entry before it: see "Pipelining" above
            self.acked = seq
            self._progress = asyncio.get_running_loop().time()
            self._resolve()
            self._wake.set()

    def _flag(self, why: str) -> None:
        """Resynchronise: the acknowledgements still to come of this epoch count for
        nothing (one after a refusal may follow another writer's entry)."""
        self._epoch += 1
        if not self._dirty:
            log.warning("journal_replica_resync", reason=why, acked=self.acked)
            self._dirty = True
            self._wake.set()

    def _resolve(self) -> None:
        waiters = self._waiters
        while waiters and waiters[0][0] <= self.acked:
            future = heapq.heappop(waiters)[2]
            if not future.done():
                future.set_result(True)


def _read(journal: FileJournal, start: int, end: int) -> list[Record]:
    return list(journal.read(start, end))


def _take(records: Iterator[Record], n: int) -> list[Record]:
    return list(itertools.islice(records, n))


def _expire(future: asyncio.Future[bool]) -> None:
    if not future.done():
        future.set_result(False)

