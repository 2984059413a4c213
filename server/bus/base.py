"""The bus interface both implementations keep: roles, subscriptions, the journal, errors.

A gateway needs `GatewayBus` (send inputs, receive its outputs, ask requests); the world
host needs `HostBus` (receive inputs, send outputs, answer requests, append to and replay
the journal). `Bus` is both, with `close()`: what `InProcBus` and `NatsBus` are. The
composition root hands each role the small protocol it needs.

Delivery guarantees (docs/architecture.md, "The bus"): published messages (inputs,
outputs) arrive at most once, in the order one publisher sent them on one subject;
requests are answered once or fail with `BusTimeout`/`BusUnavailable`; the journal is
the durable part: an `append` that returned is kept for the retention, and one retried
with the same key is stored once.

A subscription (or a `serve`) is live when the call that makes it returns: what is
published after that reaches it. A `Subscription` is a bounded queue. When its consumer
is slow and `limit` messages are waiting, a new message is dropped (counted in
`dropped`), and the consumer, after the messages queued before the drop, gets one
`Gap(n)` saying that `n` messages are missing there; then the messages accepted after.
A subscription never blocks its publisher and never grows without bound. Bytes that
do not decode (or a message of the wrong family, an output on the input subject) are
counted in `malformed`, reported to the bus's `on_error`, and skipped.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from server.bus.messages import (
    GATEWAY_ID,
    BusMessageError,
    Input,
    Message,
    Output,
    Reply,
    Request,
    decode_many,
)

DEFAULT_LIMIT = 10_000
"""Messages a subscription holds for a slow consumer before it drops (at most 10 GiB at
the largest message size; a few MiB in practice)."""

DEFAULT_TIMEOUT = 5.0
"""Seconds a request waits for its reply."""

DEFAULT_CONCURRENCY = 256
"""Requests a world host works on at once; past that, new ones are answered `busy`."""

DEFAULT_RETENTION = 24 * 3600.0
"""Seconds the journal keeps an entry (a day), even behind a snapshot, for `replay`."""

DEDUP_WINDOW = 120.0
"""Seconds within which appending again with the same key stores nothing (JetStream's
duplicate window): long enough for a world host to retry across a reconnect."""


class BusError(Exception):
    """Something the bus could not do."""


class BusUnavailable(BusError):
    """Nobody to take it: no NATS server (still reconnecting, with a full buffer), no
    world host serving requests, no journal stream."""


class BusTimeout(BusError):
    """A request's reply, or the journal's acknowledgement, did not come in time."""


class BusClosed(BusError):
    """The bus (or the subscription) was closed."""


@dataclass(frozen=True, slots=True)
class Gap:
    """In a subscription's stream: `dropped` messages are missing here, because the
    consumer was too slow (see the module's docstring)."""

    dropped: int


@dataclass(frozen=True, slots=True)
class Subjects:
    """The subject names of one world, under `prefix` (several worlds, or test runs,
    can share one NATS server)."""

    prefix: str = "aegent"

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", self.prefix):
            raise ValueError(f"bus prefix {self.prefix!r}: 1 to 32 letters, digits, _ or -")

    @property
    def inputs(self) -> str:
        """Inputs, every gateway to the world host."""
        return f"{self.prefix}.in"

    def outputs(self, gateway: str) -> str:
        """Outputs for one gateway."""
        if not GATEWAY_ID.fullmatch(gateway):
            raise ValueError(f"gateway id {gateway[:80]!r}: 1 to 64 letters, digits, _ or -")
        return f"{self.prefix}.out.{gateway}"

    @property
    def requests(self) -> str:
        """Requests to the world host."""
        return f"{self.prefix}.req"

    @property
    def journal(self) -> str:
        """The subject the journal's entries are stored under."""
        return f"{self.prefix}.journal"

    @property
    def stream(self) -> str:
        """The JetStream stream that holds the journal."""
        return f"{self.prefix.upper().replace('-', '_')}_JOURNAL"


M = TypeVar("M")
T = TypeVar("T")
ErrorHandler = Callable[[BusError | BusMessageError], None]
Handler = Callable[[Request], Awaitable[Reply]]


class Subscription(Generic[M]):
    """A bounded, ordered stream of messages of one family (inputs or outputs).

    Iterate it (`async for msg in sub`), or `await sub.get()`; both give messages and
    `Gap`s, and end (`BusClosed` for `get`) once it is closed and empty.
    """

    def __init__(self, subject: str, kinds: tuple[type[Any], ...], limit: int = DEFAULT_LIMIT,
                 on_error: ErrorHandler | None = None,
                 on_close: Callable[[], Awaitable[None]] | None = None) -> None:
        if limit < 1:
            raise ValueError("a subscription holds at least one message")
        self.subject = subject
        self.limit = limit
        self.received = 0  # messages accepted into the queue
        self.dropped = 0  # messages refused because the queue was full
        self.malformed = 0  # payloads that did not decode, or of the wrong family
        self._kinds = kinds
        self._queue: deque[M | Gap] = deque()
        self._gap = 0  # dropped since the last accepted message
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self._on_error = on_error
        self._on_close = on_close

    @property
    def closed(self) -> bool:
        """Whether `close()` was called."""
        return self._closed

    def pending(self) -> int:
        """Messages (and gaps) waiting for the consumer."""
        return len(self._queue) + (1 if self._gap else 0)

    def offer(self, msg: M) -> bool:
        """Queue `msg` unless the queue is full (then drop it); whether it was queued."""
        if self._closed:
            return False
        if len(self._queue) >= self.limit:
            self.dropped += 1
            self._gap += 1
            return False
        if self._gap:
            self._queue.append(Gap(self._gap))
            self._gap = 0
        self._queue.append(msg)
        self.received += 1
        self._wake()
        return True

    def feed(self, data: bytes) -> bool:
        """Decode `data` (one message, or a batch of them: server/bus/messages.py) and
        offer each; one that is not a message of this family is counted in `malformed`,
        reported, and skipped. Whether every one was queued."""
        queued = True
        for msg in decode_many(data):
            if not isinstance(msg, BusMessageError) and not isinstance(msg, self._kinds):
                msg = BusMessageError("bad_message", f"a message of type {type(msg).TYPE!r} "
                                      f"does not belong on {self.subject}")
            if isinstance(msg, BusMessageError):
                self.malformed += 1
                if self._on_error is not None:
                    self._on_error(msg)
                queued = False
            elif not self.offer(msg):  # checked against the kinds
                queued = False
        return queued

    async def get(self) -> M | Gap:
        """The next message or gap, waiting for one.

        Raises:
            BusClosed: the subscription was closed and nothing is left.
        """
        while True:
            if self._queue:
                return self._queue.popleft()
            if self._gap:
                gap, self._gap = Gap(self._gap), 0
                return gap
            if self._closed:
                raise BusClosed(f"subscription to {self.subject} closed")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def __aiter__(self) -> AsyncIterator[M | Gap]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[M | Gap]:
        while True:
            try:
                yield await self.get()
            except BusClosed:
                return

    async def close(self) -> None:
        """Stop receiving; what is queued can still be read."""
        if self._closed:
            return
        self._closed = True
        self._wake()
        if self._on_close is not None:
            await self._on_close()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class Serving(Protocol):
    """A handler answering requests, until `close()`."""

    async def close(self) -> None:
        """Stop answering (requests in flight still get their reply)."""


class Answering:
    """What both buses keep for a `serve`: the handler, the bound on the requests it
    works on at once, the count of those in flight (each bus counts them as it takes
    them), and the tasks answering them."""

    def __init__(self, handler: Handler, concurrency: int) -> None:
        self.handler = handler
        self.concurrency = concurrency
        self.in_flight = 0
        self.tasks: set[asyncio.Task[Any]] = set()

    def busy(self) -> Reply | None:
        """The `busy` reply when `concurrency` requests are in flight; None while there
        is room for one more."""
        if self.in_flight >= self.concurrency:
            return Reply(False, code="busy", message="The world is busy; try again.")
        return None

    def spawn(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run `work` in a task of its own, kept in `tasks` until it ends."""
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def answer(self, req: Request) -> Reply:
        """The handler's reply to `req`; `internal_error` (told to `crashed`) if the
        handler raises or returns anything but a `Reply`: the world host's bug, not the
        caller's."""
        try:
            reply = await self.handler(req)
            if not isinstance(reply, Reply):
                raise TypeError(f"a request handler returned {type(reply).__name__}, "
                                "not a Reply")
            return reply
        except Exception as exc:
            self.crashed(req, exc)
            return Reply(False, code="internal_error",
                         message=f"The world host failed: {type(exc).__name__}")

    def crashed(self, req: Request, exc: Exception) -> None:
        """Hear of a handler's failure (nothing by default)."""


class Journal(Protocol):
    """The world's inputs in order: appended by the world host before any effect of
    one is acknowledged, replayed after a snapshot on start and by `aegent replay`."""

    async def append(self, entry: Input, key: str | None = None) -> int:
        """Append `entry`; its sequence number (from 1, increasing), once it is stored.

        Args:
            entry: the input.
            key: an id unique to this entry (the world host's `host:counter`). Appending
                again with the same key within `DEDUP_WINDOW` stores nothing and returns
                the first append's sequence number.

        Raises:
            BusUnavailable, BusTimeout: no acknowledgement. The entry may still have been
                stored (the acknowledgement was what got lost): the world host applies
                nothing more until the same append, with the same key, succeeds.
        """

    def replay(self, start: int = 1, end: int | None = None
               ) -> AsyncIterator[tuple[int, Input]]:
        """The entries from sequence `start` to `end` (default: the last one when the
        replay begins), in order, with their sequence numbers. Entries past the
        retention are gone: check the first number against `bounds()`."""

    async def bounds(self) -> tuple[int, int]:
        """(first, last) sequence numbers held; first == last + 1 when it is empty."""


class GatewayBus(Protocol):
    """What a gateway needs."""

    async def send(self, msg: Input) -> None:
        """Publish an input to the world host (at most once, in order)."""

    async def send_many(self, msgs: Sequence[Input]) -> None:
        """Publish inputs to the world host, in order, as few payloads as fit (a batch).

        Raises:
            BusMessageError: one or more did not encode (the others were sent).
        """

    async def deliveries(self, gateway: str, *, limit: int = DEFAULT_LIMIT
                         ) -> Subscription[Output]:
        """Subscribe to the outputs addressed to gateway `gateway`."""

    async def request(self, req: Request, *, timeout: float = DEFAULT_TIMEOUT) -> Reply:
        """Ask the world host and wait for its reply.

        Raises:
            BusTimeout: no reply within `timeout` seconds.
            BusUnavailable: no world host is serving requests.
        """


class HostBus(Protocol):
    """What the world host needs."""

    @property
    def journal(self) -> Journal:
        """The world's journal."""

    async def inputs(self, *, limit: int = DEFAULT_LIMIT) -> Subscription[Input]:
        """Subscribe to the inputs of every gateway."""

    async def deliver(self, msg: Output) -> None:
        """Publish an output to the gateway it names (at most once, in order)."""

    async def deliver_many(self, gateway: str, msgs: Sequence[Output]) -> None:
        """Publish outputs for `gateway`, in order, as few payloads as fit (a batch).

        Raises:
            BusMessageError: one or more did not encode (the others were sent).
        """

    async def serve(self, handler: Handler, *, concurrency: int = DEFAULT_CONCURRENCY
                    ) -> Serving:
        """Answer requests with `handler`: at most `concurrency` at once, `busy` past
        that, `internal_error` if the handler raises."""


class Bus(GatewayBus, HostBus, Protocol):
    """Both roles on one bus, as `InProcBus` and `NatsBus` offer them."""

    subjects: Subjects

    async def publish_raw(self, subject: str, data: bytes) -> None:
        """Put bytes on a subject as they are, as another process might (tools, tests)."""

    async def close(self) -> None:
        """Close every subscription and the connection."""


async def consume(subscription: Subscription[M], handle: Callable[[M], None], log: Any,
                  what: str) -> None:
    """Hand each message of `subscription` to `handle`, until it is closed: a `Gap` is
    logged (`<what>s_dropped`), and so is a message `handle` fails on
    (`<what>_failed`), which never stops the others."""
    async for msg in subscription:
        if isinstance(msg, Gap):
            log.warning(f"{what}s_dropped", count=msg.dropped)
            continue
        try:
            handle(msg)
        except Exception as exc:  # one bad message must not stop the others
            log.error(f"{what}_failed", type=type(msg).__name__, exc_info=exc)


def check_batch(msgs: Sequence[Message], kinds: tuple[type[Any], ...], what: str,
                gateway: str | None = None) -> None:
    """`check_family` for each of `msgs` (and that each names `gateway`, if given)."""
    for msg in msgs:
        check_family(msg, kinds, what)
        if gateway is not None and getattr(msg, "gateway", None) != gateway:
            raise BusMessageError("bad_message", f"a {type(msg).__name__} for gateway "
                                  f"{getattr(msg, 'gateway', None)!r} in a batch for "
                                  f"{gateway!r}")


def batch_error(errors: list[BusMessageError], total: int) -> BusMessageError:
    """One error for the messages of a batch that did not encode (the others went)."""
    first = errors[0]
    return BusMessageError(first.code, f"{len(errors)} of {total} messages not sent: "
                           f"{first.message}")


def check_family(msg: Message, kinds: tuple[type[Any], ...], what: str) -> None:
    """Refuse to publish `msg` where only `kinds` belong (an output sent as an input)."""
    if not isinstance(msg, kinds):
        raise BusMessageError("bad_message", f"{type(msg).__name__} is not {what}")
