"""The load generator: N logged-in WebSocket clients, each sending commands at a fixed rate.

Run it as its own process, beside (never inside) the server it measures::

    python -m bench.load --url ws://127.0.0.1:4000/ws --clients 1000 --rate 1 \\
        --duration 30 --names-file names.txt --password secret --json-out out.json

`--url` may name several servers (the gateways of a cluster), comma-separated: client
i connects to the (i mod n)-th.

It has to stay lean, so that on a small machine the server, not the generator, is
what runs out of CPU. Hence no WebSocket library: each client is a bare
`asyncio.Protocol` with a hand-written RFC 6455 client (HTTP upgrade offering
`aegent.json`, masked client frames, unmasked server frames, pongs for pings; the
server sends no fragmented frames). Clients log in with `"batch": true`, as the web
client, `aegent play` and the agent runtime do, so the events a client gets between
two writes come as one `events` message (docs/protocol.md); `--no-events-batch` asks
for one frame per event instead. Replies are told apart by their first bytes, since
the server writes compact JSON with `"type"` first: a result frame starts with
`{"type":"result"`, and only those (with regular expressions, not `json.loads`) and
the client's own `room` events (for the exits to walk through; found in an `events`
message by a search in C) are looked into; every other event is counted, not read.

Phases: clients connect and log in, `--batch` at a time (the accounts exist
already: `bench.run` makes them); then every client sends one command per
`1/--rate` seconds, each at its own random phase so the load is smooth, open-loop
(a slow reply never delays the next command). After `--warmup` seconds the
measurement window of `--duration` seconds starts: only commands *sent* in the
window are measured (their replies may come after it). Commands are drawn from a
mix of `look`, a move through an exit of the last room seen, and `say`.

Counted: round trips (every sample kept, from send to the matching `result`, by
`time.perf_counter`), results ok and refused (by code: a `no_exit` is a valid
reply, not an error), `error` frames (by code), timeouts (no result within
`--timeout` s), dropped connections (closed by anything but us), and the
generator's own CPU and scheduling lag, to show it was not the bottleneck. A result
refused `world_unavailable` (a cluster's gateway answers it for a command the world
host never took: it crashed, or stayed away past `world_wait`) is an error, not a
refusal, and not a round trip; the client keeps its connection and goes on.

For `bench.cluster`'s crash test: `--acked-out FILE` writes, per client, its name, the
ids of every command answered ok (late ones too: the list to find in the world host's
journal) and those of the commands refused (world_unavailable aside). SIGUSR1 marks a
moment (the world host's kill): the summary's `mark` then says when it came (wall
clock), how long after it each client had its first command sent after it answered
ok (the first client, the last one, the percentiles), and how many
`world_unavailable` answers went to commands sent before and after it.

Progress goes to stdout as one JSON object a line (`{"phase": ...}`), which
`bench.run` reads to know when the window opens and closes; the summary goes to
`--json-out`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import hashlib
import json
import math
import os
import random
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

RESULT = b'{"type":"result"'
ROOM = b'{"type":"event","name":"room"'
EVENTS = b'{"type":"events"'
EVENT = b'{"type":"event"'
ERROR = b'{"type":"error"'
AUTH = b'{"type":"auth"'
HELLO = b'{"type":"hello"'
_RESULT_RE = re.compile(rb'\{"type":"result","id":(\d+),"ok":(true|false)')
_CODE_RE = re.compile(rb'"code":"([^"]*)"')
_ID_RE = re.compile(rb'"id":(\d+)')
_EXITS_RE = re.compile(rb'"exits":\{([^}]*)\}')
_EXIT_KEY_RE = re.compile(rb'"([a-z]+)":')
_CLOSED_DOOR_RE = re.compile(rb'"([a-z]+)":\{"name":"[^"]*","closed":true')
_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

KINDS = ("look", "move", "say")
DIRECTIONS = (b"north", b"south", b"east", b"west", b"up", b"down")
SAYINGS = (b"hello", b"nice day", b"anyone seen the smith", b"off to the market",
           b"lovely weather today", b"see you at the tavern")

UNAVAILABLE = "world_unavailable"
"""A cluster's answer to a command the world host never took: an error."""

_perf = time.perf_counter
_bits = random.getrandbits


def mask_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One final client frame: `opcode`, masked with a random key (RFC 6455 5.3)."""
    n = len(payload)
    key = _bits(32).to_bytes(4, "big")
    masked = (int.from_bytes(payload, "big")
              ^ int.from_bytes((key * ((n >> 2) + 1))[:n], "big")).to_bytes(n, "big")
    if n < 126:
        header = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        header = bytes((0x80 | opcode, 0xFE)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0xFF)) + n.to_bytes(8, "big")
    return header + key + masked


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list (nan if empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarize_ms(values: list[float]) -> dict[str, float]:
    """p50/p90/p99/p99.9/max/mean of samples in ms, rounded."""
    s = sorted(values)
    out = {f"p{k}": percentile(s, p) for k, p in (("50", 50), ("90", 90), ("99", 99),
                                                    ("999", 99.9))}
    out["max"] = s[-1] if s else math.nan
    out["mean"] = sum(s) / len(s) if s else math.nan
    return {k: round(v, 3) for k, v in out.items()}


def target(url: str) -> tuple[str, int, str]:
    """(host, port, path) of a ws:// URL."""
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"


class Gen:
    """What all clients share: the schedule and the counters."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.targets = [target(u.strip()) for u in args.url.split(",") if u.strip()]
        if not self.targets:
            raise SystemExit("bench.load: --url names no server")
        self.password = args.password
        self.spread = args.spread
        self.period = 1.0 / args.rate
        self.timeout = args.timeout
        weights = [float(x) for x in args.mix.split(",")]
        self.mix = [k for k, w in zip(range(len(KINDS)), weights, strict=True)
                    for _ in range(int(round(w * 10)))] or [0]
        self.w0 = math.inf  # window start and end, in loop.time()
        self.w1 = math.inf
        self.stop_t = math.inf  # no command is sent at or after this
        self.window_open = False
        self.rtts: list[float] = []
        self.kind_rtts: list[list[float]] = [[] for _ in KINDS]
        self.lags: list[float] = []
        self.sent = 0
        self.sent_window = 0
        self.ok = 0
        self.refused: dict[str, int] = {}
        self.errors: dict[str, int] = {}
        self.errors_window = 0
        self.timeouts = 0
        self.timeouts_window = 0
        self.late = 0
        self.drops = 0
        self.drops_window = 0
        self.frames = 0
        self.events = 0
        self.events_batch = not getattr(args, "no_events_batch", False)
        self.bytes = 0
        self.room_events = 0
        self.clients: list[Client] = []
        self.acking = bool(getattr(args, "acked_out", None))  # keep the ids answered ok
        self.mark_t = math.inf  # perf_counter() of the SIGUSR1 mark
        self.mark_wall: float | None = None
        self.resumed: list[float] = []  # per client: ms from the mark to its first ok
        self.unavailable_before = 0  # world_unavailable for commands sent before the mark
        self.unavailable_after = 0

    def mark(self) -> None:
        """SIGUSR1: note the moment (bench.cluster kills the world host then)."""
        if self.mark_wall is None:
            self.mark_t = _perf()
            self.mark_wall = time.time()
            emit(phase="mark")

    def error(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1
        if self.window_open:
            self.errors_window += 1


_SCRATCH = bytearray(256 * 1024)
_SCRATCH_VIEW = memoryview(_SCRATCH)


class Client(asyncio.BufferedProtocol):
    """One player: upgrade, log in, then commands on a timer."""

    def __init__(self, gen: Gen, name: str, loop: asyncio.AbstractEventLoop,
                 target: tuple[str, int, str] | None = None) -> None:
        self.gen = gen
        self.name = name
        self.loop = loop
        self.host, self.port, self.path = target or gen.targets[0]
        self.acked: list[int] | None = [] if gen.acking else None
        self.refused: list[int] = []  # with `acked`: the ids answered with a refusal
        self.resumed = False  # answered ok to a command sent after the mark
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.upgraded = False
        self.key = b""
        self.pending: dict[int, tuple[float, int, bool]] = {}
        self.next_id = 1
        self.exits: list[bytes] = []
        self.auth: asyncio.Future[bool] = loop.create_future()
        self.closing = False
        self.lost = False
        self.timer: asyncio.TimerHandle | None = None
        self.next_t = 0.0

    # ---- asyncio.Protocol ----------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.key = base64.b64encode(os.urandom(16))
        transport.write(
            b"GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Protocol: aegent.json\r\n\r\n"
            % (self.path.encode(), self.host.encode(), self.port, self.key))

    # Reading: every client reads into one shared scratch buffer (the loop runs one
    # callback at a time, and each read is consumed before the next), so a read costs
    # no allocation; only an incomplete frame at the end is copied into `self.buf`.
    # (Plain `data_received` made asyncio allocate 256 KiB per recv: half the
    # generator's CPU at 1,000 clients.)

    def get_buffer(self, sizehint: int) -> memoryview:
        return _SCRATCH_VIEW

    def buffer_updated(self, nbytes: int) -> None:
        g = self.gen
        g.bytes += nbytes
        buf = self.buf
        if buf or not self.upgraded:
            buf += _SCRATCH_VIEW[:nbytes]
            if not self.upgraded and not self._upgrade():
                return
            used = self._frames(buf, len(buf))
            if used:
                del buf[:used]
        else:
            used = self._frames(_SCRATCH, nbytes)
            if used < nbytes:
                buf += _SCRATCH_VIEW[used:nbytes]

    def _upgrade(self) -> bool:
        buf = self.buf
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(buf[:end]).lower()
        del buf[:end + 4]
        accept = base64.b64encode(hashlib.sha1(self.key + _WS_GUID).digest()).lower()
        if (not head.startswith(b"http/1.1 101") or b"sec-websocket-protocol: aegent.json"
                not in head or accept not in head):
            self.gen.error("bad_upgrade")
            self._fail()
            return False
        self.upgraded = True
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.timer is not None:
            self.timer.cancel()
        if not self.closing:
            g = self.gen
            g.drops += 1
            if g.window_open:
                g.drops_window += 1
        if not self.auth.done():
            self.auth.set_result(False)

    # ---- incoming --------------------------------------------------------------

    def _frames(self, buf: bytearray, n: int) -> int:
        """Act on the whole frames in `buf[:n]`; returns how many bytes they took."""
        pos = 0
        g = self.gen
        while n - pos >= 2:
            b0 = buf[pos]
            length = buf[pos + 1]
            if length & 0x80:
                g.error("masked_server_frame")
                self._fail()
                return n
            start = pos + 2
            if length == 126:
                if n - pos < 4:
                    break
                length = (buf[pos + 2] << 8) | buf[pos + 3]
                start = pos + 4
            elif length == 127:
                if n - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2:pos + 10], "big")
                start = pos + 10
            end = start + length
            if end > n:
                break
            g.frames += 1
            op = b0 & 0x0F
            if op == 1:
                if buf.startswith(RESULT, start, end):
                    self._result(buf, start, end)
                elif buf.startswith(EVENTS, start, end):  # several events: only rooms matter
                    g.events += buf.count(EVENT, start + len(EVENTS), end)
                    at = buf.rfind(ROOM, start, end)
                    if at >= 0:
                        self._room(buf, at, end)
                elif buf.startswith(ROOM, start, end):
                    g.events += 1
                    self._room(buf, start, end)
                elif buf.startswith(ERROR, start, end):
                    self._error_frame(buf, start, end)
                elif buf.startswith(AUTH, start, end):
                    ok = buf.find(b'"ok":true', start, end) >= 0
                    if not ok:
                        m = _CODE_RE.search(buf, start, end)
                        g.error("login_" + (m.group(1).decode() if m else "failed"))
                    if not self.auth.done():
                        self.auth.set_result(ok)
                elif buf.startswith(HELLO, start, end):
                    self._send(b'{"type":"login","name":"%s","password":"%s","id":0%s}'
                               % (self.name.encode(), g.password.encode(),
                                  b',"batch":true' if g.events_batch else b""))
                else:
                    g.events += 1
            elif op == 0x9:  # ping: answer with the same payload
                if self.transport is not None:
                    self.transport.write(mask_frame(bytes(buf[start:end]), 0xA))
            elif op == 0x8:  # the server closes: this is a drop unless we asked
                if not self.closing:
                    g.error("server_close")
            elif op != 0xA:
                g.error(f"opcode_{op}")
            pos = end
        return pos

    def _room(self, buf: bytearray, start: int, end: int) -> None:
        """The client's own `room` event at `start`: the exits it may walk through next."""
        m = _EXITS_RE.search(buf, start, end)
        if m is not None:
            exits = _EXIT_KEY_RE.findall(m.group(1))
            d = buf.find(b'"doors":{', m.end(), end)
            if d >= 0 and buf[d + 9] != 0x7D:  # some doors: drop the closed ones
                closed = _CLOSED_DOOR_RE.findall(buf, d, buf.find(b"}}", d, end))
                exits = [e for e in exits if e not in closed]
            self.exits = exits
        self.gen.room_events += 1

    def _result(self, buf: bytearray, start: int, end: int) -> None:
        g = self.gen
        m = _RESULT_RE.match(buf, start, end)
        if m is None:
            g.error("unreadable_result")
            return
        t = _perf()
        cid = int(m.group(1))
        ok = m.group(2) == b"true"
        if ok and self.acked is not None:
            self.acked.append(cid)  # acknowledged, late or not: it must be journaled
        entry = self.pending.pop(cid, None)
        if entry is None:
            g.late += 1  # already counted as a timeout
            return
        t0, kind, measured = entry
        code = ""
        if not ok:
            c = _CODE_RE.search(buf, m.end(), end)
            code = c.group(1).decode() if c else "?"
            if code == UNAVAILABLE:  # the world host never took it: an error
                g.error(code)
                if t0 < g.mark_t:
                    g.unavailable_before += 1
                else:
                    g.unavailable_after += 1
                return
            if self.acked is not None:
                self.refused.append(cid)
        elif t0 >= g.mark_t and not self.resumed:
            self.resumed = True
            g.resumed.append((t - g.mark_t) * 1000.0)
        if not measured:
            return
        ms = (t - t0) * 1000.0
        g.rtts.append(ms)
        g.kind_rtts[kind].append(ms)
        if ok:
            g.ok += 1
        else:
            g.refused[code] = g.refused.get(code, 0) + 1

    def _error_frame(self, buf: bytearray, start: int, end: int) -> None:
        c = _CODE_RE.search(buf, start, end)
        self.gen.error(c.group(1).decode() if c else "?")
        m = _ID_RE.search(buf, start, end)
        if m is not None:
            self.pending.pop(int(m.group(1)), None)

    # ---- outgoing --------------------------------------------------------------

    def _send(self, payload: bytes) -> None:
        if self.transport is not None and not self.lost:
            self.transport.write(mask_frame(payload))

    def _fail(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.abort()
        if not self.auth.done():
            self.auth.set_result(False)

    def start(self, first: float) -> None:
        """Send the first command at loop time `first`, then one each period."""
        self.next_t = first
        self.timer = self.loop.call_at(first, self.fire)

    def fire(self) -> None:
        """Send one command now (called by the loop's timer)."""
        g = self.gen
        if self.lost or self.closing:
            return
        sched = self.next_t
        lag = self.loop.time() - sched
        measured = g.w0 <= sched < g.w1
        kind = random.choice(g.mix)
        if kind == 0:
            line = b"look"
        elif kind == 1:
            line = random.choice(self.exits) if self.exits else random.choice(DIRECTIONS)
        else:
            line = b"say " + random.choice(SAYINGS)
        cid = self.next_id
        self.next_id = cid + 1
        payload = b'{"type":"command","line":"%s","id":%d}' % (line, cid)
        self.pending[cid] = (_perf(), kind, measured)
        self._send(payload)
        g.sent += 1
        if measured:
            g.sent_window += 1
            g.lags.append(lag * 1000.0)
        self.next_t = sched + g.period
        if self.next_t < g.stop_t:
            self.timer = self.loop.call_at(self.next_t, self.fire)

    def sweep(self, now: float) -> None:
        """Count commands unanswered for longer than the timeout."""
        if not self.pending:
            return
        g = self.gen
        limit = now - g.timeout
        old = [cid for cid, (t0, _, _) in self.pending.items() if t0 < limit]
        for cid in old:
            _, _, measured = self.pending.pop(cid)
            g.timeouts += 1
            if measured:
                g.timeouts_window += 1

    def close(self) -> None:
        """Leave: a close frame, then the TCP connection."""
        self.closing = True
        if self.timer is not None:
            self.timer.cancel()
        if self.transport is not None and not self.lost:
            self.transport.write(mask_frame(b"\x03\xe8", 0x8))
            self.transport.close()


def emit(**fields: Any) -> None:
    """One progress line for the orchestrator."""
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def source_address(i: int) -> str:
    """The i-th player's own loopback address (127.1.0.1, 127.1.0.2, ...): players come
    from many addresses, as they do from the internet, not all from one."""
    return f"127.1.{i // 250}.{i % 250 + 1}"


async def _connect(gen: Gen, name: str, loop: asyncio.AbstractEventLoop, i: int = 0
                   ) -> Client | None:
    local = (source_address(i), 0) if gen.spread else None
    where = gen.targets[i % len(gen.targets)]
    try:
        _, proto = await loop.create_connection(lambda: Client(gen, name, loop, where),
                                                where[0], where[1], local_addr=local)
    except OSError as exc:
        gen.error(f"connect_{type(exc).__name__}")
        return None
    return proto


async def _sweeper(gen: Gen) -> None:
    while True:
        await asyncio.sleep(0.5)
        now = _perf()
        for c in gen.clients:
            c.sweep(now)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Log everyone in, run the schedule, return the summary."""
    loop = asyncio.get_running_loop()
    gen = Gen(args)
    names = [n.strip() for n in Path(args.names_file).read_text().split() if n.strip()]
    if len(names) < args.clients:
        raise SystemExit(f"bench.load: {args.names_file} has {len(names)} names, "
                         f"{args.clients} wanted")
    names = names[:args.clients]
    me = psutil.Process()
    loop.add_signal_handler(signal.SIGUSR1, gen.mark)
    # ---- log in, a batch at a time
    t_login = _perf()
    login_failures = 0
    for i in range(0, len(names), args.batch):
        batch = await asyncio.gather(*(_connect(gen, n, loop, i + j)
                                       for j, n in enumerate(names[i:i + args.batch])))
        for c in batch:
            if c is None:
                login_failures += 1
                continue
            try:
                ok = await asyncio.wait_for(asyncio.shield(c.auth), args.login_timeout)
            except TimeoutError:
                ok = False
                gen.error("login_timeout")
            if ok:
                gen.clients.append(c)
            else:
                login_failures += 1
                c.close()
        emit(phase="login", done=min(i + args.batch, len(names)), ok=len(gen.clients))
    login_s = _perf() - t_login
    emit(phase="logged_in", clients=len(gen.clients), failures=login_failures,
         seconds=round(login_s, 2))
    gc.collect()
    gc.freeze()  # setup objects live on; keep collections short in the window
    # ---- the schedule
    t_start = loop.time() + 0.2
    gen.w0 = t_start + args.warmup
    gen.w1 = gen.w0 + args.duration
    gen.stop_t = gen.w1
    for c in gen.clients:
        c.start(t_start + random.random() * gen.period)
    sweeper = asyncio.create_task(_sweeper(gen))
    await asyncio.sleep(max(0.0, gen.w0 - loop.time()))
    gen.window_open = True
    cpu0, wall0 = me.cpu_times(), _perf()
    emit(phase="window_start")
    await asyncio.sleep(max(0.0, gen.w1 - loop.time()))
    cpu1, wall1 = me.cpu_times(), _perf()
    gen.window_open = False
    emit(phase="window_end")
    # ---- wait for the replies still due (or their timeout), then leave
    deadline = loop.time() + args.timeout + 1.0
    while loop.time() < deadline and any(c.pending for c in gen.clients):
        await asyncio.sleep(0.1)
    sweeper.cancel()
    for c in gen.clients:
        c.sweep(math.inf)  # whatever is still pending timed out (and was counted once)
    for c in gen.clients:
        c.close()
    await asyncio.sleep(0.2)
    loop.remove_signal_handler(signal.SIGUSR1)
    if args.acked_out:
        Path(args.acked_out).write_text(json.dumps(
            [{"name": c.name, "acked": c.acked, "refused": c.refused} for c in gen.clients])
            + "\n")
    window = wall1 - wall0
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    extra: dict[str, Any] = {}
    if len(gen.targets) > 1:
        extra["urls"] = [u.strip() for u in args.url.split(",") if u.strip()]
    if gen.mark_wall is not None:
        resumed = sorted(gen.resumed)
        extra["mark"] = {
            "wall": gen.mark_wall, "clients_resumed": len(resumed),
            "first_ok_ms": round(resumed[0], 1) if resumed else None,
            "all_ok_ms": round(resumed[-1], 1) if resumed else None,
            "resumed_ms": summarize_ms(resumed),
            "unavailable_sent_before": gen.unavailable_before,
            "unavailable_sent_after": gen.unavailable_after}
    return {
        "clients": args.clients,
        "logged_in": len(gen.clients),
        "login_failures": login_failures,
        "login_seconds": round(login_s, 2),
        "rate": args.rate,
        "duration": round(window, 3),
        "warmup": args.warmup,
        "mix": dict(zip(KINDS, [float(x) for x in args.mix.split(",")], strict=True)),
        "sent_total": gen.sent,
        "sent": gen.sent_window,
        "cmds_per_s": round(gen.sent_window / window, 1) if window > 0 else 0.0,
        "replies_per_s": round(len(gen.rtts) / window, 1) if window > 0 else 0.0,
        "results": len(gen.rtts),
        "ok": gen.ok,
        "refused": dict(sorted(gen.refused.items())),
        "errors": dict(sorted(gen.errors.items())),
        "error_count": sum(gen.errors.values()),
        "errors_in_window": gen.errors_window,
        "timeouts": gen.timeouts_window,
        "timeouts_total": gen.timeouts,
        "late": gen.late,
        "drops": gen.drops,
        "drops_in_window": gen.drops_window,
        "rtt_ms": summarize_ms(gen.rtts),
        "rtt_ms_by_command": {k: summarize_ms(v) for k, v in zip(KINDS, gen.kind_rtts,
                                                                strict=True)},
        "send_lag_ms": summarize_ms(gen.lags),
        "frames_received": gen.frames,
        "events_received": gen.events,
        "events_batch": gen.events_batch,
        "bytes_received": gen.bytes,
        "room_events": gen.room_events,
        "loadgen_cpu_percent": round(100.0 * cpu / window, 1) if window > 0 else 0.0,
        "loadgen_rss_mib": round(me.memory_info().rss / 2**20, 1),
        "timeout_s": args.timeout,
        **extra,
    }


def build_parser() -> argparse.ArgumentParser:
    """The command line of `python -m bench.load`."""
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True, help="ws://HOST:PORT/ws; several, comma-separated: "
                   "client i uses the (i mod n)-th")
    p.add_argument("--clients", type=int, default=100)
    p.add_argument("--rate", type=float, default=1.0, help="commands per second per client")
    p.add_argument("--duration", type=float, default=30.0, help="measured window, seconds")
    p.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds of load first")
    p.add_argument("--names-file", required=True, help="account names, one a line")
    p.add_argument("--password", required=True, help="every account's password")
    p.add_argument("--json-out", required=True, help="where to write the summary")
    p.add_argument("--batch", type=int, default=100, help="logins at a time")
    p.add_argument("--login-timeout", type=float, default=60.0)
    p.add_argument("--timeout", type=float, default=5.0, help="a result later than this is "
                                                             "a timeout")
    p.add_argument("--mix", default="1,1,1", help="weights of look,move,say")
    p.add_argument("--no-events-batch", action="store_true", help="log in without `batch`: "
                   "one frame per event, as clients that predate `events` messages get")
    p.add_argument("--seed", type=int, default=None, help="seed the command choices")
    p.add_argument("--spread", action="store_true", help="each client from its own loopback "
                   "address (127.1.x.y), as players come from many; the server limits "
                   "connections per address")
    p.add_argument("--acked-out", help="write here, per client, its name and the ids of the "
                   "commands answered ok (JSON)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    if args.seed is not None:
        random.seed(args.seed)
    summary = asyncio.run(run(args))
    Path(args.json_out).write_text(json.dumps(summary, indent=2) + "\n")
    emit(phase="done", p99=summary["rtt_ms"]["p99"], errors=summary["error_count"],
         drops=summary["drops"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
