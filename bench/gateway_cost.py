"""What a gateway spends per command and per frame, without a world: the other half of
bench/host_cost.py.

The same load as bench/host_cost.py (1,000 players, 150 of them in the town square, a
third each looking, moving and saying, a tick every 100 commands) is played on a real
`World`, untimed, and every event leaves it the way a world host sends it: once, with
its recipients, as an encoded bus `Delivery` (server/bus/messages.py). After each
command and each tick, the gateway's side of that step is timed (CPU time of the
thread doing it):

- **read**: the player's command as its client sends it (a masked WebSocket frame of
  JSON) through the server's own path: websockets' `ServerProtocol`, the real
  `Session.receive_frame` (parse, rate limit), and the `Command` encoded for the bus;
- **decode**: each `Delivery` decoded and its event rebuilt (`from_data`);
- **deliver**: the gateway's real `deliver_many` over each event's recipients (the text
  and the encoded frame made once per point of view and codec; the sessions asked for
  `events` messages, as the web client, `aegent play` and the agent runtime do, so a
  bystander's copy is the shared frame, numbered by the message's `seq`);
- **write**: each session with output framed as WebSocket frames (the server's own
  `frame_header`) and sent on a real socket (one socketpair per player; the other
  ends are read outside the timed part). The actor's answer goes at once, after its
  command; a bystander's output waits for the end of the tick, one write a tick
  (`fanout_delay`).

What is not in it: the kernel's work to receive the clients' bytes, TLS, asyncio's own
overhead, and the bus's transport (NATS). Sessions here hold the world's `Character` for their
viewer's name and settings, as `aegent serve`'s do today.

    python -m bench.gateway_cost [--players 1000] [--crowd 0.15] [--runs 5]

Each run is a fresh world and fresh sessions; it prints each run and the medians, and
what one gateway core carries at one command a second per player.
"""

from __future__ import annotations

import argparse
import gc
import random
import socket
import time
from collections.abc import Iterator
from typing import Any

from websockets.server import ServerProtocol

from bench.host_cost import ROOT, load_args, next_line, populate, runs_and_medians
from server import wire
from server.bus.messages import Command, Delivery, decode, encode
from server.gateway.session import Session, State, deliver_many
from server.gateway.ws import SUBPROTOCOLS, frame_header, select_subprotocol
from server.host.content import load
from server.wire import Subprotocol
from world.entities import Character
from world.events import from_data
from world.game import World


class BusGame:
    """The game port of a gateway's sessions: a command becomes a bus `Command` (here
    only encoded: `sent` counts the bytes)."""

    def __init__(self) -> None:
        self.sent = self.commands = 0

    def run(self, session: Session, msg: Any) -> None:
        ch = session.character
        assert ch is not None and isinstance(msg, wire.Command)
        self.commands += 1
        self.sent += len(encode(Command("gw", session.id, ch.id, msg.line, msg.id)))

    def tool_list(self, session: Session, every: bool = False) -> list[dict[str, Any]]:
        return []

    def class_names(self) -> dict[str, str]:
        return {}


HANDSHAKE = (b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
             b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: aegent.json\r\n\r\n")


def open_protocol() -> ServerProtocol:
    """A server-side WebSocket protocol as ws.py makes one, past its handshake."""
    proto = ServerProtocol(subprotocols=SUBPROTOCOLS, select_subprotocol=select_subprotocol,
                           max_size=1 << 20)
    proto.receive_data(HANDSHAKE)
    request = proto.events_received()[0]
    proto.send_response(proto.accept(request))  # type: ignore[arg-type]
    proto.data_to_send()
    return proto


def client_frame(text: str, rng: random.Random) -> bytes:
    """`text` as a browser sends it: one masked TEXT frame."""
    payload = text.encode("utf-8")
    mask = rng.randbytes(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    n = len(payload)
    head = bytes((0x81, 0x80 | n)) if n < 126 else bytes((0x81, 0xFE)) + n.to_bytes(2, "big")
    return head + mask + masked


Step = tuple[int | None, bytes, list[bytes]]


def play(args: argparse.Namespace, seed: int) -> tuple[list[Character], Iterator[Step]]:
    """The players, and the stretch played on a world step by step (lazily, so that
    only one step's messages are alive at a time, as in a gateway): per command (the
    actor's id, and the frame its client sent) and per tick (None, b""), the encoded
    `Delivery` messages the world sent."""
    world = World(load(ROOT / "content"), seed=seed)
    rng = random.Random(seed)
    chars, crowded = populate(world, args.players, args.crowd, rng)

    def messages(seq: int) -> list[bytes]:
        return [encode(Delivery("gw", [ch.id for ch in f.recipients],
                                {"name": f.event.name, "data": f.event.to_data()},
                                world.time, seq))
                for f in world.drain_fanouts() if not f.event.internal]

    def steps() -> Iterator[Step]:
        for n in range(1, args.commands + 1):
            ch = rng.choice(chars)
            line = next_line(world, ch, crowded, rng)
            msg = wire.encode_json({"type": "command", "line": line, "id": n})
            world.perform_line(ch, line)
            yield ch.id, client_frame(msg, rng), messages(n)
            if n % args.per_tick == 0:
                world.tick()
                yield None, b"", messages(n)

    return chars, steps()


def one_run(args: argparse.Namespace, seed: int) -> dict[str, float]:
    chars, steps = play(args, seed)
    sessions: dict[int, Session] = {}
    ends: dict[Session, tuple[socket.socket, socket.socket]] = {}
    game = BusGame()
    protocols: dict[int, ServerProtocol] = {}
    for i, ch in enumerate(chars):
        s = Session(f"s{i}", Subprotocol.JSON, game)
        s.character, s.state = ch, State.PLAYING
        s.batch = True  # as the web client, aegent play and the agent runtime ask
        sessions[ch.id] = s
        protocols[ch.id] = open_protocol()
        mine, theirs = socket.socketpair()
        mine.setblocking(False)
        mine.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        ends[s] = (mine, theirs)
    # The world and the sessions as loaded: out of the collector's way, as `aegent
    # serve` freezes what it loaded at start (gc_threshold).
    gc.collect()
    gc.freeze()
    frames = writes = out_bytes = delivered = 0
    t_read = t_decode = t_deliver = t_write = 0.0
    cpu = time.thread_time
    waiting: set[Session] = set()

    def write(s: Session) -> None:
        nonlocal frames, writes, out_bytes
        out = s.outbox()
        if not out:
            return
        chunks = []
        for f in out:
            data = f.encode("utf-8") if isinstance(f, str) else f
            chunks.append(frame_header(0x1 if isinstance(f, str) else 0x2, len(data)))
            chunks.append(data)
        blob = b"".join(chunks)
        ends[s][0].send(blob)
        frames += len(out)
        writes += 1
        out_bytes += len(blob)

    try:
        for step, (actor, frame, msgs) in enumerate(steps):
            tr = cpu()
            if actor is not None:  # the client's command comes in
                now = step / args.rate  # the load's clock: its rate limit refills
                proto = protocols[actor]
                proto.receive_data(frame)
                for ev in proto.events_received():  # a TEXT frame: its text, as ws.py does
                    sessions[actor].receive_frame(
                        ev.data.decode("utf-8"), now)  # type: ignore[union-attr]
            t0 = cpu()
            t_read += t0 - tr
            decoded = []
            for raw in msgs:
                msg = decode(raw)
                assert isinstance(msg, Delivery)
                decoded.append((from_data(msg.event["name"], msg.event["data"]),
                                msg.recipients))
            t1 = cpu()
            for event, recipients in decoded:
                listeners = [sessions[rid] for rid in recipients]
                delivered += len(listeners)
                deliver_many(event, listeners, {})
                waiting.update(listeners)
            t2 = cpu()
            if actor is not None:  # its own answer goes at once
                s = sessions[actor]
                waiting.discard(s)
                write(s)
            else:  # the tick's end: every bystander's one write
                for s in waiting:
                    write(s)
                waiting.clear()
            t3 = cpu()
            t_decode += t1 - t0
            t_deliver += t2 - t1
            t_write += t3 - t2
            if actor is None:  # untimed: the clients read what they were sent
                for _, theirs in ends.values():
                    try:
                        while theirs.recv(1 << 20, socket.MSG_DONTWAIT):
                            pass
                    except BlockingIOError:
                        pass
    finally:
        for mine, theirs in ends.values():
            mine.close()
            theirs.close()
        gc.unfreeze()
    k = args.commands
    us = 1e6
    if game.commands != args.commands:  # each went through: none was rate limited
        raise RuntimeError(f"{args.commands - game.commands} commands did not reach the bus")
    total = t_read + t_decode + t_deliver + t_write
    return {"read_us": t_read / k * us, "decode_us": t_decode / k * us,
            "deliver_us": t_deliver / k * us,
            "write_us": t_write / k * us, "total_us": total / k * us,
            "events_per_cmd": delivered / k, "frames_per_cmd": frames / k,
            "writes_per_cmd": writes / k, "us_per_event": total / max(delivered, 1) * us,
            "kib_per_cmd": out_bytes / k / 1024}


def main() -> None:
    args = load_args(__doc__.split("\n")[0])
    args.rate = args.per_tick * 10.0  # commands a second, at 10 ticks a second
    med = runs_and_medians(args, one_run, digits=2)
    print(f"one gateway core at this cost: {1e6 / med['total_us']:,.0f} commands/s, "
          f"{1e6 / med['us_per_event']:,.0f} events delivered/s")


if __name__ == "__main__":
    main()
