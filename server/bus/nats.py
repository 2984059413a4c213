"""The bus over NATS: nats-py's client, JetStream for the journal.

The server is Debian's `nats-server` (run with `-js` and a store folder); `aegent
cluster` and the tests start their own. One `NatsBus` is one connection; it reconnects
by itself, forever, `reconnect_wait` seconds apart, and nats-py subscribes again to
what it had. While it is away, publishing and appending raise `BusUnavailable` at once
(nothing is buffered to go out later, behind the caller's back) and requests time out
(`BusTimeout`): the caller decides whether to wait or to refuse.

Subjects (`Subjects`): `<prefix>.in` for inputs, taken by the world host in the queue
group `world` (with two world hosts during a hand-over, each input goes to one);
`<prefix>.out.<gateway>` for one gateway's outputs; `<prefix>.req` for requests (same
queue group); the journal is the stream `<PREFIX>_JOURNAL` on `<prefix>.journal`, file
storage, entries kept `retention` seconds, at most `MAX_MESSAGE_BYTES` each.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import nats.errors
import nats.js.errors
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as NatsSubscription
from nats.js import api

from server.bus.base import (
    DEDUP_WINDOW,
    DEFAULT_CONCURRENCY,
    DEFAULT_LIMIT,
    DEFAULT_RETENTION,
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
    MAX_MESSAGE_BYTES,
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

QUEUE_GROUP = "world"
"""The queue group of the world host's subscriptions (inputs, requests)."""

REPLAY_BATCH = 512
"""Journal entries fetched per round trip while replaying."""

log = structlog.get_logger("bus")


def _log_error(exc: BusError | BusMessageError) -> None:
    log.warning("bus_error", error=str(exc), kind=type(exc).__name__)


class NatsJournal:
    """The journal as a JetStream stream (made, or its retention updated, on first use)."""

    def __init__(self, bus: NatsBus, retention: float, ack_timeout: float) -> None:
        self._bus = bus
        self.retention = retention
        self.ack_timeout = ack_timeout
        self._ready = False
        self._lock = asyncio.Lock()

    async def append(self, entry: Input, key: str | None = None) -> int:
        """Append `entry` once JetStream has stored it; its stream sequence number.
        `key` is sent as `Nats-Msg-Id`, which the stream deduplicates within
        `DEDUP_WINDOW`. Nothing is buffered while disconnected: it raises at once, so no
        append can land later than its caller gave up on it plus the window."""
        check_family(entry, INPUTS, "an input")
        data = encode(entry)
        await self._ensure()
        self._bus.check_connected()
        subjects = self._bus.subjects
        try:
            ack = await self._bus.js.publish(
                subjects.journal, data, timeout=self.ack_timeout, stream=subjects.stream,
                headers={"Nats-Msg-Id": key} if key is not None else None)
        except nats.errors.NoRespondersError:
            raise BusUnavailable("JetStream is not answering (is nats-server run with "
                                 "-js?)") from None
        except nats.errors.TimeoutError:
            raise BusTimeout(f"the journal did not acknowledge within {self.ack_timeout} s"
                             ) from None
        except nats.errors.OutboundBufferLimitError:
            raise BusUnavailable("not connected to NATS, and its buffer is full") from None
        except nats.errors.ConnectionClosedError:
            raise BusClosed("the bus is closed") from None
        except nats.js.errors.APIError as exc:
            raise BusError(f"the journal refused the entry: {exc}") from None
        return int(ack.seq)

    async def replay(self, start: int = 1, end: int | None = None
                     ) -> AsyncIterator[tuple[int, Input]]:
        """The entries from `start` to `end` (default: the last one now), in order,
        through an ephemeral pull consumer that is deleted afterwards."""
        first, last = await self.bounds()
        end = last if end is None else min(end, last)
        start = max(start, first)
        if start > end:
            return
        async for seq, data, _ in self.entries(start, end):
            try:
                entry = decode(data)
            except BusMessageError as exc:
                raise BusMessageError(exc.code, f"journal entry {seq}: "
                                      f"{exc.message}") from None
            check_family(entry, INPUTS, f"an input (journal entry {seq})")
            yield seq, entry  # type: ignore[misc]  # checked just above

    async def entries(self, start: int, end: int) -> AsyncIterator[tuple[int, bytes, float]]:
        """The stream's entries `start` to `end` as stored: (seq, bytes, the time JetStream
        stored it), through an ephemeral pull consumer that is deleted afterwards."""
        subjects = self._bus.subjects
        config = api.ConsumerConfig(
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start,
            ack_policy=api.AckPolicy.NONE, inactive_threshold=60.0, mem_storage=True)
        try:
            psub = await self._bus.js.pull_subscribe(subjects.journal, stream=subjects.stream,
                                                     config=config)
        except (nats.errors.Error, nats.js.errors.Error) as exc:
            raise BusUnavailable(f"cannot read the journal: {exc}") from None
        try:
            seq = start - 1
            while seq < end:
                try:
                    msgs = await psub.fetch(min(REPLAY_BATCH, end - seq),
                                            timeout=self.ack_timeout)
                except nats.errors.TimeoutError:
                    raise BusTimeout(f"the journal stopped answering at entry {seq + 1} "
                                     f"of {end}") from None
                for msg in msgs:
                    seq = int(msg.metadata.sequence.stream)
                    if seq > end:
                        return
                    at = msg.metadata.timestamp
                    yield seq, msg.data, at.timestamp() if isinstance(at, datetime) \
                        else time.time()
        finally:
            await _quietly(psub.unsubscribe())

    async def bounds(self) -> tuple[int, int]:
        """(first, last) sequence numbers the stream holds."""
        await self._ensure()
        try:
            info = await self._bus.js.stream_info(self._bus.subjects.stream)
        except (nats.errors.Error, nats.js.errors.Error) as exc:
            raise BusUnavailable(f"cannot read the journal: {exc}") from None
        first, last = int(info.state.first_seq), int(info.state.last_seq)
        return max(first, 1), last

    async def _ensure(self) -> None:
        if self._ready:
            return
        async with self._lock:
            if self._ready:
                return
            subjects = self._bus.subjects
            config = api.StreamConfig(
                name=subjects.stream, subjects=[subjects.journal],
                storage=api.StorageType.FILE, max_age=self.retention,
                duplicate_window=DEDUP_WINDOW,
                max_msg_size=MAX_MESSAGE_BYTES, discard=api.DiscardPolicy.OLD,
                description="Aegent Quest: the world's inputs, in order")
            js = self._bus.js
            try:
                try:
                    info = await js.stream_info(subjects.stream)
                except nats.js.errors.NotFoundError:
                    await js.add_stream(config)
                else:
                    if info.config.max_age != self.retention:
                        await js.update_stream(config)
            except nats.errors.NoRespondersError:
                raise BusUnavailable("JetStream is not answering (is nats-server run with "
                                     "-js?)") from None
            except nats.errors.TimeoutError:
                raise BusTimeout("JetStream did not answer") from None
            except nats.js.errors.APIError as exc:
                raise BusError(f"cannot set up the journal stream: {exc}") from None
            self._ready = True


class _Serving(Answering):
    def __init__(self, bus: NatsBus, handler: Handler, concurrency: int) -> None:
        super().__init__(handler, concurrency)
        self.bus = bus
        self.sub: NatsSubscription | None = None

    async def receive(self, msg: Msg) -> None:
        if not msg.reply:  # no one to answer: a publish, not a request
            self.bus.report(BusMessageError("bad_message", "a request with no reply subject"))
            return
        busy = self.busy()
        if busy is not None:
            await self.respond(msg, busy)
            return
        self.in_flight += 1
        self.spawn(self.take(msg))

    async def take(self, msg: Msg) -> None:
        try:
            try:
                req = decode(msg.data)
                if not isinstance(req, Request):
                    raise BusMessageError("bad_message", f"a message of type "
                                          f"{type(req).TYPE!r} is not a request")
            except BusMessageError as exc:
                self.bus.report(exc)
                await self.respond(msg, Reply(False, code=exc.code, message=exc.message))
                return
            await self.respond(msg, await self.answer(req))
        finally:
            self.in_flight -= 1

    def crashed(self, req: Request, exc: Exception) -> None:
        log.error("bus_handler_failed", op=req.op, exc_info=exc)

    async def respond(self, msg: Msg, reply: Reply) -> None:
        try:
            data = encode(reply)
        except BusMessageError as exc:
            self.bus.report(exc)
            data = encode(Reply(False, code="internal_error", message="The world host's "
                                "reply could not be sent."))
        try:
            await msg.respond(data)
        except nats.errors.Error as exc:  # the requester is gone, or so is the connection
            self.bus.report(BusUnavailable(f"reply not sent: {exc}"))

    async def close(self) -> None:
        if self.sub is not None:
            await _quietly(self.sub.unsubscribe())
            self.sub = None


class NatsBus:
    """Both roles' bus over one NATS connection (the `Bus` protocol). Make one with
    `await NatsBus.connect(url)`."""

    def __init__(self, nc: Client, prefix: str = "aegent", *,
                 retention: float = DEFAULT_RETENTION, ack_timeout: float = DEFAULT_TIMEOUT,
                 on_error: ErrorHandler | None = None) -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self.subjects = Subjects(prefix)
        self.on_error: ErrorHandler = on_error or _log_error
        self.reconnects = 0
        self._journal = NatsJournal(self, retention, ack_timeout)
        self._subs: list[tuple[Subscription[Any], NatsSubscription]] = []
        self._serving: list[_Serving] = []

    @classmethod
    async def connect(cls, url: str | list[str], prefix: str = "aegent", *,
                      name: str | None = None, retention: float = DEFAULT_RETENTION,
                      ack_timeout: float = DEFAULT_TIMEOUT, reconnect_wait: float = 0.5,
                      connect_timeout: float = 2.0, on_error: ErrorHandler | None = None
                      ) -> NatsBus:
        """Connect to the NATS server(s) at `url` (`nats://host:port`).

        Raises:
            BusUnavailable: no server answered within `connect_timeout` seconds.
        """
        nc = Client()
        bus = cls(nc, prefix, retention=retention, ack_timeout=ack_timeout,
                  on_error=on_error)
        try:
            await nc.connect(
                servers=url if isinstance(url, list) else [url], name=name,
                allow_reconnect=True, max_reconnect_attempts=-1,
                reconnect_time_wait=reconnect_wait,  # type: ignore[arg-type]  # a float works
                connect_timeout=connect_timeout,  # type: ignore[arg-type]
                error_cb=bus._nats_error, disconnected_cb=bus._disconnected,
                reconnected_cb=bus._reconnected)
        except (nats.errors.Error, OSError) as exc:
            await _quietly(nc.close())
            raise BusUnavailable(f"cannot connect to NATS at {url}: "
                                 f"{exc or type(exc).__name__}") from None
        return bus

    @property
    def connected(self) -> bool:
        """Whether the connection is up now (it reconnects by itself)."""
        return bool(self.nc.is_connected)

    @property
    def journal(self) -> NatsJournal:
        """The world's journal (a JetStream stream)."""
        return self._journal

    def report(self, exc: BusError | BusMessageError) -> None:
        """Tell `on_error` (a log line by default)."""
        self.on_error(exc)

    # ---- gateway side

    async def send(self, msg: Input) -> None:
        """Publish an input to the world host."""
        check_family(msg, INPUTS, "an input")
        await self._publish(self.subjects.inputs, encode(msg))

    async def send_many(self, msgs: Sequence[Input]) -> None:
        """Publish inputs to the world host, batched."""
        check_batch(msgs, INPUTS, "an input")
        await self._publish_many(self.subjects.inputs, msgs)

    async def deliveries(self, gateway: str, *, limit: int = DEFAULT_LIMIT
                         ) -> Subscription[Output]:
        """Subscribe to the outputs for `gateway`."""
        return await self._subscribe(self.subjects.outputs(gateway), OUTPUTS, limit, "")

    async def request(self, req: Request, *, timeout: float = DEFAULT_TIMEOUT) -> Reply:
        """Ask the world host and wait for its reply."""
        data = encode(req)
        self.check_connected()
        try:
            msg = await self.nc.request(self.subjects.requests, data, timeout=timeout)
        except nats.errors.NoRespondersError:
            raise BusUnavailable("no world host is serving requests") from None
        except nats.errors.TimeoutError:
            raise BusTimeout(f"no reply to {req.op!r} within {timeout} s") from None
        except nats.errors.ConnectionClosedError:
            raise BusClosed("the bus is closed") from None
        except nats.errors.Error as exc:
            raise BusUnavailable(f"request not sent: {exc}") from None
        reply = decode(msg.data)
        if not isinstance(reply, Reply):
            raise BusMessageError("bad_message", f"a message of type {type(reply).TYPE!r} "
                                  "is not a reply")
        return reply

    # ---- world host side

    async def inputs(self, *, limit: int = DEFAULT_LIMIT) -> Subscription[Input]:
        """Subscribe to every gateway's inputs (queue group `world`)."""
        return await self._subscribe(self.subjects.inputs, INPUTS, limit, QUEUE_GROUP)

    async def deliver(self, msg: Output) -> None:
        """Publish an output to its gateway."""
        check_family(msg, OUTPUTS, "an output")
        await self._publish(self.subjects.outputs(msg.gateway), encode(msg))

    async def deliver_many(self, gateway: str, msgs: Sequence[Output]) -> None:
        """Publish outputs to `gateway`, batched."""
        check_batch(msgs, OUTPUTS, "an output", gateway)
        await self._publish_many(self.subjects.outputs(gateway), msgs)

    async def serve(self, handler: Handler, *, concurrency: int = DEFAULT_CONCURRENCY
                    ) -> _Serving:
        """Answer requests with `handler` (queue group `world`)."""
        serving = _Serving(self, handler, concurrency)
        try:
            serving.sub = await self.nc.subscribe(self.subjects.requests, queue=QUEUE_GROUP,
                                                  cb=serving.receive)
        except nats.errors.ConnectionClosedError:
            raise BusClosed("the bus is closed") from None
        self._serving.append(serving)
        await self._settle()
        return serving

    # ---- both

    async def publish_raw(self, subject: str, data: bytes) -> None:
        """Put bytes on `subject` as they are."""
        await self._publish(subject, data)

    async def flush(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until the server has everything published so far."""
        try:
            await self.nc.flush(timeout=timeout)  # type: ignore[arg-type]  # a float works
        except nats.errors.Error as exc:
            raise BusUnavailable(f"flush failed: {exc}") from None

    async def close(self) -> None:
        """Close every subscription, then the connection."""
        subs, self._subs = self._subs, []
        for sub, _ in subs:
            await sub.close()
        serving, self._serving = self._serving, []
        for s in serving:
            await s.close()
        await _quietly(self.nc.close())

    # ---- inside

    def check_connected(self) -> None:
        """Raise `BusUnavailable` unless connected now: nothing is left in nats-py's
        buffer to go out, unannounced, after a reconnect."""
        if not self.nc.is_connected:
            if self.nc.is_closed:
                raise BusClosed("the bus is closed")
            raise BusUnavailable("not connected to NATS (reconnecting)")

    async def _publish(self, subject: str, data: bytes) -> None:
        self.check_connected()
        try:
            await self.nc.publish(subject, data)
        except nats.errors.ConnectionClosedError:
            raise BusClosed("the bus is closed") from None
        except nats.errors.MaxPayloadError:
            raise BusMessageError("too_large", f"{len(data)} bytes: more than the NATS "
                                  "server's max_payload") from None
        except nats.errors.Error as exc:  # reconnecting with a full buffer, mostly
            raise BusUnavailable(f"not published on {subject}: {exc}") from None

    async def _publish_many(self, subject: str, msgs: Sequence[Message]) -> None:
        payloads, errors = encode_many(msgs)
        for data in payloads:
            await self._publish(subject, data)
        if errors:
            raise batch_error(errors, len(msgs))

    async def _subscribe(self, subject: str, kinds: tuple[type[Any], ...], limit: int,
                         queue: str) -> Subscription[Any]:
        async def gone() -> None:
            self._subs[:] = [pair for pair in self._subs if pair[0] is not sub]
            await _quietly(nsub.unsubscribe())

        sub: Subscription[Any] = Subscription(subject, kinds, limit, self.report, gone)

        async def receive(msg: Msg) -> None:
            sub.feed(msg.data)

        try:
            # nats-py's own queue only hands messages to `receive`, which never waits;
            # the bound that counts is `sub`'s.
            nsub = await self.nc.subscribe(subject, queue=queue, cb=receive)
        except nats.errors.ConnectionClosedError:
            raise BusClosed("the bus is closed") from None
        self._subs.append((sub, nsub))
        await self._settle()
        return sub

    async def _settle(self) -> None:
        """Wait until the server has a new subscription, so that what another connection
        publishes after this returns reaches it. While reconnecting, nats-py subscribes
        again on its own: no need to wait then.

        Two round trips, not one: nats-py's `flush()` writes its PING straight to the
        socket while the SUB still waits in its buffer for the flusher task, so one
        PONG can come back before the server has seen the SUB (about one subscription
        in 100 was not there yet). The first flush lets the flusher write the SUB; the
        second's PING goes after it."""
        if self.nc.is_connected:
            with contextlib.suppress(nats.errors.Error):
                await self.nc.flush(timeout=int(DEFAULT_TIMEOUT))
                await self.nc.flush(timeout=int(DEFAULT_TIMEOUT))

    async def _nats_error(self, exc: Exception) -> None:
        if isinstance(exc, nats.errors.SlowConsumerError):
            self.report(BusUnavailable(f"nats-py dropped a message on {exc.subject}"))
        elif not isinstance(exc, ConnectionRefusedError | nats.errors.UnexpectedEOF):
            self.report(BusUnavailable(f"NATS: {exc or type(exc).__name__}"))

    async def _disconnected(self) -> None:
        if not self.nc.is_closed:
            self.report(BusUnavailable("lost the connection to NATS; reconnecting"))

    async def _reconnected(self) -> None:
        self.reconnects += 1


async def _quietly(aw: Any) -> None:
    """Await `aw`, ignoring what closing something already gone may raise."""
    with contextlib.suppress(TimeoutError, nats.errors.Error, nats.js.errors.Error, OSError):
        await aw

