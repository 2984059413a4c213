"""The attacks of the soak benchmark (`bench.soak`): every hostile input we know of.

Each attack is a coroutine that repeats one kind of abuse against a running server
until a deadline, from a loopback address of its own (127.2.0.N), and counts what it
did and what the server answered. Bounded in count and time, loopback only.

Run by `bench.soak` as its own process beside the normal players::

    python -m bench.attacks --host 127.0.0.1 --port P --telnet-port T --duration 120 \\
        --victim Benchaaaa --account Benchzzzz --password PW --json-out attacks.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

IAC, SB, SE, WILL, DO = 255, 250, 240, 251, 253
TTYPE, GMCP = 24, 201
# The hostile characters a player might put in a `say`: C0, ESC sequences, C1, DEL, bidi.
NASTY = "\x07\x1b[2J\u009b31m\u0085\u202eevil\u2066x\u2069\x7f\x00\u200f"


@dataclass(slots=True)
class Ctx:
    """What every attack shares: the target, the deadline, the counters."""

    host: str
    port: int
    telnet_port: int
    deadline: float
    victim: str
    account: str
    password: str
    counts: Counter[str] = field(default_factory=Counter)

    def live(self) -> bool:
        return time.monotonic() < self.deadline


def frame(payload: bytes, opcode: int = 0x1, fin: bool = True) -> bytes:
    """One masked client frame (the mask is all zeros: masking is not the point here)."""
    n = len(payload)
    first = (0x80 if fin else 0) | opcode
    if n < 126:
        header = bytes((first, 0x80 | n))
    elif n < 65536:
        header = bytes((first, 0xFE)) + n.to_bytes(2, "big")
    else:
        header = bytes((first, 0xFF)) + n.to_bytes(8, "big")
    return header + b"\0\0\0\0" + payload


def upgrade(host: str, port: int, subprotocol: str | None = None, extra: str = "") -> bytes:
    proto = f"Sec-WebSocket-Protocol: {subprotocol}\r\n" if subprotocol else ""
    return (f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Sec-WebSocket-Version: 13\r\n{proto}{extra}\r\n").encode()


async def open_from(ctx: Ctx, source: str, port: int | None = None
                    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(asyncio.open_connection(
        ctx.host, port or ctx.port, local_addr=(source, 0), limit=1 << 20), 10)


async def ws_open(ctx: Ctx, source: str, subprotocol: str | None = None
                  ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    r, w = await open_from(ctx, source)
    w.write(upgrade(ctx.host, ctx.port, subprotocol))
    status = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 10)
    if b" 101 " not in status.split(b"\r\n", 1)[0]:
        w.close()
        raise ConnectionError(status.split(b"\r\n", 1)[0].decode(errors="replace"))
    return r, w


async def drain_until_closed(r: asyncio.StreamReader, seconds: float) -> bool:
    """Read and discard until EOF (True) or `seconds` pass (False)."""
    try:
        async with asyncio.timeout(seconds):
            while await r.read(65536):
                pass
        return True
    except (TimeoutError, ConnectionError):
        return False


async def close(w: asyncio.StreamWriter) -> None:
    w.close()
    with contextlib.suppress(TimeoutError, ConnectionError, OSError):
        await asyncio.wait_for(w.wait_closed(), 2)


# ---- the attacks ----------------------------------------------------------------------


async def fragments(ctx: Ctx, source: str) -> None:
    """One unfinished text frame, then empty unfinished continuation frames without end."""
    empty = frame(b"", 0x0, fin=False) * 2000
    while ctx.live():
        r, w = await ws_open(ctx, source)
        w.write(frame(b"x", 0x1, fin=False))
        try:
            while ctx.live() and not r.at_eof():
                w.write(empty)
                await w.drain()
                ctx.counts["fragments_sent"] += 2000
                await asyncio.sleep(0.05)
                if r._buffer:  # noqa: SLF001 - a close frame came back: the server gave up
                    break
        except (ConnectionError, OSError):
            pass
        ctx.counts["fragments_closed"] += 1
        await close(w)


async def telnet_open(ctx: Ctx, source: str) -> tuple[asyncio.StreamReader,
                                                       asyncio.StreamWriter]:
    r, w = await open_from(ctx, source, ctx.telnet_port)
    w.write(bytes((IAC, DO, GMCP, IAC, WILL, TTYPE)))
    return r, w


async def _telnet_flood(ctx: Ctx, source: str, chunk: Callable[[int], bytes], size: int,
                        sent: str, closed: str) -> None:
    """`chunk(n)` (the `size` things from the n-th on) every 50 ms over telnet, n ever
    new, on a new connection whenever the server closes one; what it says is discarded.
    Counts the things under `sent`, the closed connections under `closed`."""
    n = 0
    while ctx.live():
        r, w = await telnet_open(ctx, source)
        try:
            while ctx.live():
                w.write(chunk(n))
                n += size
                await w.drain()
                ctx.counts[sent] += size
                await asyncio.sleep(0.05)
                r._buffer.clear()  # noqa: SLF001 - discard what the server says
        except (ConnectionError, OSError):
            ctx.counts[closed] += 1
        await close(w)


def _supports_adds(n: int) -> bytes:
    """Fifty Core.Supports.Add, forty packages each: Pkg{n} to Pkg{n + 1999}."""
    return b"".join(bytes((IAC, SB, GMCP)) + b"Core.Supports.Add "
                    + json.dumps([f"Pkg{n + i + j}.Thing 1" for j in range(40)]).encode()
                    + bytes((IAC, SE)) for i in range(0, 2000, 40))


def _terminal_types(n: int) -> bytes:
    """500 TTYPE IS replies: XTERM-{n} to XTERM-{n + 499}."""
    return b"".join(bytes((IAC, SB, TTYPE, 0)) + f"XTERM-{n + i}".encode() + bytes((IAC, SE))
                    for i in range(500))


async def gmcp_supports(ctx: Ctx, source: str) -> None:
    """Core.Supports.Add with ever new packages, over telnet."""
    await _telnet_flood(ctx, source, _supports_adds, 2000, "gmcp_packages_sent", "gmcp_closed")


async def terminal_types(ctx: Ctx, source: str) -> None:
    """TTYPE IS replies, unasked and without end, each a new name."""
    await _telnet_flood(ctx, source, _terminal_types, 500, "ttype_sent", "ttype_closed")


async def _json_request(ctx: Ctx, source: str, msg: str, want: bytes = b'"type":"auth"'
                        ) -> bytes:
    """One aegent.json connection: hello, one message, the first reply that has `want`."""
    r, w = await ws_open(ctx, source, "aegent.json")
    try:
        w.write(frame(msg.encode()))
        buf = b""
        async with asyncio.timeout(30):
            while want not in buf and b'"type":"error"' not in buf:
                got = await r.read(65536)
                if not got:
                    return buf + b"<closed>"
                buf += got
        return buf
    finally:
        await close(w)


def _outcome(reply: bytes) -> str:
    for code in (b"throttled", b"busy", b"auth_failed", b"name_taken", b"bad_json",
                 b"too_large", b"bad_request", b"<closed>"):
        if code in reply:
            return code.decode()
    if b'"ok":true' in reply:
        return "ok"
    return "other"


async def _at_once(ctx: Ctx, source: str, msgs: list[str], prefix: str) -> None:
    """Each message on a connection of its own, all at once; each outcome counted under
    `prefix` (the reply's error code, or the exception's name)."""
    got = await asyncio.gather(*(_json_request(ctx, source, m) for m in msgs),
                               return_exceptions=True)
    for g in got:
        ctx.counts[prefix + (_outcome(g) if isinstance(g, bytes) else type(g).__name__)] += 1


async def passwords(ctx: Ctx, source: str) -> None:
    """Forty wrong passwords for one player's name at once, again and again."""
    msg = json.dumps({"type": "login", "name": ctx.victim, "password": "wrong password!"})
    while ctx.live():
        await _at_once(ctx, source, [msg] * 40, "login_")
        await asyncio.sleep(0.5)


async def api_keys(ctx: Ctx, source: str) -> None:
    """Guessed API keys, twenty at once."""
    while ctx.live():
        await _at_once(ctx, source, [json.dumps({"type": "login",
                                                 "api_key": "aq_" + os.urandom(16).hex()})
                                     for _ in range(20)], "apikey_")
        await asyncio.sleep(0.5)


async def registrations(ctx: Ctx, source: str) -> None:
    """New accounts as fast as they are taken."""
    while ctx.live():
        name = "Spam" + "".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8))
        msg = json.dumps({"type": "register", "name": name, "password": "spam spam spam"})
        try:
            got = await _json_request(ctx, source, msg)
            ctx.counts["register_" + _outcome(got)] += 1
        except (ConnectionError, OSError, TimeoutError) as exc:
            ctx.counts["register_" + type(exc).__name__] += 1
        await asyncio.sleep(0.05)


async def bad_frames(ctx: Ctx, source: str) -> None:
    """Deep JSON, ids that cannot be encoded, oversized and malformed messages."""
    nasty = [
        "[" * 4000,
        '{"type":"ping","id":18446744073709551616}',
        '{"type":"ping","id":' + "[" * 3000 + "]" * 3000 + "}",
        '{"type":"command","line":"' + "x" * 20000 + '"}',
        "{not json",
        '{"type":"nonsense"}',
    ]
    while ctx.live():
        try:
            r, w = await ws_open(ctx, source, "aegent.json")
            for _ in range(50):
                for text in nasty:
                    w.write(frame(text.encode()))
                    ctx.counts["bad_frames_sent"] += 1
                await w.drain()
                await asyncio.sleep(0.01)
                r._buffer.clear()  # noqa: SLF001
                if r.at_eof():
                    ctx.counts["bad_frames_closed"] += 1
                    break
            await close(w)
        except (ConnectionError, OSError, TimeoutError) as exc:
            ctx.counts["bad_frames_" + type(exc).__name__] += 1
        await asyncio.sleep(0.05)


async def http_abuse(ctx: Ctx, source: str) -> None:
    """Pipelined requests, other methods, a foreign Origin on /ws, half-sent headers."""
    pipelined = (f"GET / HTTP/1.1\r\nHost: {ctx.host}\r\n\r\n" * 2).encode()
    post = f"POST / HTTP/1.1\r\nHost: {ctx.host}\r\nContent-Length: 0\r\n\r\n".encode()
    foreign = upgrade(ctx.host, ctx.port, None, "Origin: https://evil.example\r\n")
    while ctx.live():
        for payload, name in ((pipelined, "pipelined"), (post, "post"), (foreign, "origin")):
            try:
                r, w = await open_from(ctx, source)
                w.write(payload)
                head = await asyncio.wait_for(r.read(200), 10)
                status = head.split(b"\r\n", 1)[0].decode(errors="replace")
                ctx.counts[f"http_{name}_{status[9:12] or 'closed'}"] += 1
                await close(w)
            except (ConnectionError, OSError, TimeoutError) as exc:
                ctx.counts[f"http_{name}_" + type(exc).__name__] += 1
        await asyncio.sleep(0.05)


async def connection_flood(ctx: Ctx, source: str) -> None:
    """As many idle connections from one address as the server lets it hold."""
    held: list[asyncio.StreamWriter] = []
    while ctx.live():
        while len(held) < 300 and ctx.live():
            try:
                r, w = await open_from(ctx, source)
                w.write(b"GET / HTTP/1.1\r\n")  # and never the rest
                held.append(w)
                ctx.counts["flood_opened"] += 1
            except (ConnectionError, OSError, TimeoutError):
                ctx.counts["flood_refused"] += 1
                break
        await asyncio.sleep(0.5)
        alive = [w for w in held if not w.is_closing() and not w.transport.is_closing()]
        ctx.counts["flood_dropped_by_server"] += len(held) - len(alive)
        held = alive
    for w in held:
        w.close()


async def hostile_text(ctx: Ctx, source: str) -> None:
    """A logged-in player says, emotes and shouts control characters to the crowd."""
    msg = json.dumps({"type": "login", "name": ctx.account, "password": ctx.password})
    while ctx.live():
        try:
            r, w = await ws_open(ctx, source, "aegent.json")
            w.write(frame(msg.encode()))
            while ctx.live():
                for verb in ("say", "emote", "shout"):
                    line = json.dumps({"type": "command", "line": f"{verb} {NASTY}"})
                    w.write(frame(line.encode()))
                    ctx.counts["hostile_lines"] += 1
                await w.drain()
                await asyncio.sleep(0.5)
                r._buffer.clear()  # noqa: SLF001
                if r.at_eof():
                    break
            await close(w)
        except (ConnectionError, OSError, TimeoutError) as exc:
            ctx.counts["hostile_" + type(exc).__name__] += 1
            await asyncio.sleep(0.5)


ATTACKS: dict[str, Callable[[Ctx, str], Awaitable[None]]] = {
    "fragments": fragments,
    "gmcp_supports": gmcp_supports,
    "terminal_types": terminal_types,
    "passwords": passwords,
    "api_keys": api_keys,
    "registrations": registrations,
    "bad_frames": bad_frames,
    "http": http_abuse,
    "connection_flood": connection_flood,
    "hostile_text": hostile_text,
}


async def _guard(name: str, fn: Callable[[Ctx, str], Awaitable[None]], ctx: Ctx,
                 source: str) -> None:
    while ctx.live():
        try:
            await fn(ctx, source)
        except Exception as exc:  # an attack that fails tries again: it is not the subject
            ctx.counts[f"{name}_crashed_{type(exc).__name__}"] += 1
            await asyncio.sleep(0.2)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    ctx = Ctx(args.host, args.port, args.telnet_port, time.monotonic() + args.duration,
              args.victim, args.account, args.password)
    chosen = [a for a in args.only.split(",") if a] if args.only else list(ATTACKS)
    tasks = [asyncio.create_task(_guard(name, ATTACKS[name], ctx, f"127.2.0.{i + 1}"))
             for i, name in enumerate(chosen)]
    await asyncio.gather(*tasks)
    return {"attacks": chosen, "counts": dict(sorted(ctx.counts.items())),
            "attacker_cpu_s": round(time.process_time(), 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.attacks", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--telnet-port", type=int, required=True)
    p.add_argument("--duration", type=float, default=120.0)
    p.add_argument("--victim", required=True, help="a player's name to guess passwords for")
    p.add_argument("--account", required=True, help="an account the hostile talker uses")
    p.add_argument("--password", required=True)
    p.add_argument("--only", default="", help="comma-separated attacks (default: all)")
    p.add_argument("--json-out", required=True)
    args = p.parse_args(argv)
    result = asyncio.run(run(args))
    with open(args.json_out, "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
