"""The in-process bus: `aegent serve`'s, a function call between the roles.

Nothing to install or start. Publishing puts the message object itself into each
subscriber's bounded queue (no copy, no encoding), in order; a request calls the
handler directly. With `check=True` (the tests') every message is encoded and decoded
on its way, exactly as over NATS, so the same limits and checks hold.

Semantics match `NatsBus` (the contract tests run against both): inputs go to one
subscriber (a queue group: the first open one here), outputs to every subscriber of
their gateway's subject, requests to the one handler. The journal is kept in memory
for the life of the process; the file-backed journal of the embedded mode is the
world host's (server/host/journal.py, a file in the data directory), behind the same
`Journal` protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from server.bus.base import (
    DEFAULT_CONCURRENCY,
    DEFAULT_LIMIT,
    DEFAULT_TIMEOUT,
    Answering,
    BusClosed,
    BusError,
    BusTimeout,
    BusUnavailable,
    ErrorHandler,
    Handler,
    Subjects,
    Subscription,
    batch_error,
    check_batch,
    check_family,
)
from server.bus.messages import (
    INPUTS,
    OUTPUTS,
    BusMessageError,
    Input,
    Message,
    Output,
    Reply,
    Request,
    decode,
    encode,
    encode_many,
)

KEPT_KEYS = 10_000
"""Append keys remembered for deduplication (in process, appends cannot be lost in
flight: a key is only ever retried by a caller's own mistake)."""


class InProcJournal:
    """The journal in a list: sequence numbers from 1, nothing lost while the process
    lives, nothing kept after it."""

    def __init__(self, check: bool = False) -> None:
        self._entries: list[Input | bytes] = []
        self._check = check
        self._keys: dict[str, int] = {}  # the last KEPT_KEYS keys, oldest first

    async def append(self, entry: Input, key: str | None = None) -> int:
        """Append `entry` and return its sequence number (the first one's for a key
        seen among the last `KEPT_KEYS`)."""
        check_family(entry, INPUTS, "an input")
        if key is not None and key in self._keys:
            return self._keys[key]
        self._entries.append(encode(entry) if self._check else entry)
        seq = len(self._entries)
        if key is not None:
            self._keys[key] = seq
            if len(self._keys) > KEPT_KEYS:
                del self._keys[next(iter(self._keys))]
        return seq

    async def replay(self, start: int = 1, end: int | None = None
                     ) -> AsyncIterator[tuple[int, Input]]:
        """The entries from `start` to `end` (default: the last one now), in order."""
        last = len(self._entries) if end is None else min(end, len(self._entries))
        for seq in range(max(start, 1), last + 1):
            entry = self._entries[seq - 1]
            yield seq, _as_input(decode(entry)) if isinstance(entry, bytes) else entry

    async def bounds(self) -> tuple[int, int]:
        """(1, last): nothing expires here."""
        return 1, len(self._entries)


class _Serving(Answering):
    def __init__(self, bus: InProcBus, handler: Handler, concurrency: int) -> None:
        super().__init__(handler, concurrency)
        self.bus = bus

    def take(self, req: Request) -> asyncio.Task[Reply]:
        """Count `req` in flight now, as it is taken (what `busy()` checks, as in
        `NatsBus`), and answer it in a task of its own. Its place is given back when that
        task ends, however it ends: a reply, the handler's exception, a cancellation."""
        self.in_flight += 1
        task = self.spawn(self.answer(req))
        task.add_done_callback(self._release)
        return task

    def _release(self, task: asyncio.Task[Reply]) -> None:
        self.in_flight -= 1

    async def close(self) -> None:
        self.bus.unserve(self)


class InProcBus:
    """Both roles' bus inside one process (the `Bus` protocol)."""

    def __init__(self, prefix: str = "aegent", *, check: bool = False,
                 on_error: ErrorHandler | None = None) -> None:
        self.subjects = Subjects(prefix)
        self.check = check
        self.on_error = on_error
        self._journal = InProcJournal(check)
        self._subs: dict[str, list[Subscription[Any]]] = {}
        self._serving: _Serving | None = None
        self._closed = False

    @property
    def journal(self) -> InProcJournal:
        """The world's journal."""
        return self._journal

    # ---- gateway side

    async def send(self, msg: Input) -> None:
        """Publish an input: to one world host subscription, if any."""
        check_family(msg, INPUTS, "an input")
        self._publish(self.subjects.inputs, msg, one=True)

    async def send_many(self, msgs: Sequence[Input]) -> None:
        """Publish inputs, in order (with `check`, batched and encoded as over NATS)."""
        check_batch(msgs, INPUTS, "an input")
        self._publish_many(self.subjects.inputs, msgs, one=True)

    async def deliveries(self, gateway: str, *, limit: int = DEFAULT_LIMIT
                         ) -> Subscription[Output]:
        """Subscribe to the outputs for `gateway`."""
        return self._subscribe(self.subjects.outputs(gateway), OUTPUTS, limit)

    async def request(self, req: Request, *, timeout: float = DEFAULT_TIMEOUT) -> Reply:
        """Ask the world host's handler and wait for its reply."""
        self._open()
        req = self._through(req) if self.check else req
        serving = self._serving
        if serving is None:
            raise BusUnavailable("no world host is serving requests")
        busy = serving.busy()
        if busy is not None:
            return busy
        task = serving.take(req)  # counted before anything else can be taken
        try:  # shielded: as over NATS, a caller's time-out does not stop the handler
            reply = await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            raise BusTimeout(f"no reply to {req.op!r} within {timeout} s") from None
        return self._through(reply) if self.check else reply

    # ---- world host side

    async def inputs(self, *, limit: int = DEFAULT_LIMIT) -> Subscription[Input]:
        """Subscribe to every gateway's inputs."""
        return self._subscribe(self.subjects.inputs, INPUTS, limit)

    async def deliver(self, msg: Output) -> None:
        """Publish an output to every subscription of its gateway."""
        check_family(msg, OUTPUTS, "an output")
        self._publish(self.subjects.outputs(msg.gateway), msg, one=False)

    async def deliver_many(self, gateway: str, msgs: Sequence[Output]) -> None:
        """Publish outputs for `gateway`, in order (with `check`, batched and encoded)."""
        check_batch(msgs, OUTPUTS, "an output", gateway)
        self._publish_many(self.subjects.outputs(gateway), msgs, one=False)

    async def serve(self, handler: Handler, *, concurrency: int = DEFAULT_CONCURRENCY
                    ) -> _Serving:
        """Answer requests with `handler` (one handler: a second replaces the first)."""
        self._open()
        self._serving = _Serving(self, handler, concurrency)
        return self._serving

    def unserve(self, serving: _Serving) -> None:
        """Stop answering requests through `serving` (if it is still the one serving)."""
        if self._serving is serving:
            self._serving = None

    # ---- both

    async def publish_raw(self, subject: str, data: bytes) -> None:
        """Put bytes on `subject` as they are: its subscribers decode them (and count
        what does not decode as `malformed`); bytes for requests are checked and dropped
        (no one is waiting for a reply)."""
        self._open()
        if subject == self.subjects.requests:
            try:
                decode(data)
            except BusMessageError as exc:
                self._error(exc)
            return
        subs = [s for s in self._subs.get(subject, ()) if not s.closed]
        for sub in subs[:1] if subject == self.subjects.inputs else subs:
            sub.feed(data)

    async def close(self) -> None:
        """Close every subscription; later calls raise `BusClosed`."""
        self._closed = True
        self._serving = None
        subs = [s for group in self._subs.values() for s in group]
        self._subs.clear()
        for sub in subs:
            await sub.close()

    # ---- inside

    def _open(self) -> None:
        if self._closed:
            raise BusClosed("the bus is closed")

    def _error(self, exc: BusError | BusMessageError) -> None:
        if self.on_error is not None:
            self.on_error(exc)

    def _subscribe(self, subject: str, kinds: tuple[type[Any], ...], limit: int
                   ) -> Subscription[Any]:
        self._open()
        group = self._subs.setdefault(subject, [])

        async def gone() -> None:
            if sub in group:
                group.remove(sub)

        sub: Subscription[Any] = Subscription(subject, kinds, limit, self._error, gone)
        group.append(sub)
        return sub

    def _publish(self, subject: str, msg: Message, one: bool) -> None:
        self._open()
        data = encode(msg) if self.check else None  # refused here if it is no bus data
        for sub in self._subs.get(subject, ()):
            if sub.closed:
                continue
            if data is not None:
                sub.feed(data)
            else:
                sub.offer(msg)
            if one:
                return

    def _publish_many(self, subject: str, msgs: Sequence[Message], one: bool) -> None:
        if not self.check:
            for msg in msgs:
                self._publish(subject, msg, one)
            return
        self._open()
        payloads, errors = encode_many(msgs)
        subs = [s for s in self._subs.get(subject, ()) if not s.closed]
        for sub in subs[:1] if one else subs:
            for data in payloads:
                sub.feed(data)
        if errors:
            raise batch_error(errors, len(msgs))

    def _through(self, msg: Request | Reply) -> Any:
        return decode(encode(msg))


def _as_input(msg: Message) -> Input:
    check_family(msg, INPUTS, "an input")
    return msg  # type: ignore[return-value]  # checked just above
