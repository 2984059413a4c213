"""The load generator of bench/load.py counts what it is told to, over real sockets.

Two scripted stand-in servers (websockets' asyncio server, not the game: what is under
test is the generator) greet, accept every login, and answer each command by its id:
ok (id % 3 == 1), refused `world_unavailable` (id % 3 == 2, a cluster's answer to a
command its world host never took), or never (id % 3 == 0). The generator must spread
its clients over both URLs, count `world_unavailable` as an error (not a refusal, not a
round trip) and keep the connection, count the unanswered commands as timeouts, list
the commands answered ok for `--acked-out`, and note the SIGUSR1 mark.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from bench import load


@dataclass
class Standin:
    """What one stand-in server saw."""

    logins: list[str] = field(default_factory=list)
    commands: dict[str, list[int]] = field(default_factory=dict)  # name -> ids received
    closed_by_client: int = 0


def compact(msg: dict[str, object]) -> str:
    return json.dumps(msg, separators=(",", ":"))


def handler(seen: Standin) -> Callable[[ServerConnection], Awaitable[None]]:
    async def handle(ws: ServerConnection) -> None:
        await ws.send(compact({"type": "hello", "server": "standin"}))
        name = ""
        try:
            async for frame in ws:
                msg = json.loads(frame)
                if msg["type"] == "login":
                    name = msg["name"]
                    seen.logins.append(name)
                    await ws.send(compact({"type": "auth", "ok": True}))
                elif msg["type"] == "command":
                    cid = int(msg["id"])
                    seen.commands.setdefault(name, []).append(cid)
                    if cid % 3 == 1:
                        await ws.send(compact({"type": "result", "id": cid, "ok": True}))
                    elif cid % 3 == 2:
                        await ws.send(compact({"type": "result", "id": cid, "ok": False,
                                               "error": {"code": "world_unavailable",
                                                         "message": "away"}}))
        except ConnectionClosed:
            pass
        seen.closed_by_client += 1
    return handle


@pytest.fixture
async def standins() -> AsyncIterator[list[tuple[Server, Standin]]]:
    made = []
    for _ in range(2):
        seen = Standin()
        server = await serve(handler(seen), "127.0.0.1", 0,
                             subprotocols=[Subprotocol("aegent.json")])
        made.append((server, seen))
    yield made
    for server, _ in made:
        server.close()
        await server.wait_closed()


async def test_two_urls_world_unavailable_timeouts_acked_and_the_mark(
        standins: list[tuple[Server, Standin]], tmp_path: Path) -> None:
    names = ["Benchaaaa", "Benchaaab", "Benchaaac", "Benchaaad"]
    (tmp_path / "names.txt").write_text("\n".join(names) + "\n")
    urls = ",".join(f"ws://127.0.0.1:{s.sockets[0].getsockname()[1]}/ws" for s, _ in standins)
    acked_out = tmp_path / "acked.json"
    args = load.build_parser().parse_args([
        "--url", urls, "--clients", "4", "--rate", "5", "--duration", "1.2", "--warmup", "0",
        "--names-file", str(tmp_path / "names.txt"), "--password", "pw",
        "--json-out", str(tmp_path / "out.json"), "--timeout", "0.3",
        "--acked-out", str(acked_out)])
    loop = asyncio.get_running_loop()
    loop.call_later(0.6, os.kill, os.getpid(), signal.SIGUSR1)
    summary = await load.run(args)

    (_, a), (_, b) = standins
    assert sorted(a.logins) == ["Benchaaaa", "Benchaaac"]  # client i on URL i mod 2
    assert sorted(b.logins) == ["Benchaaab", "Benchaaad"]
    got = {**a.commands, **b.commands}
    sent = [cid for ids in got.values() for cid in ids]
    assert summary["sent_total"] == len(sent) and summary["logged_in"] == 4
    unavailable = sum(1 for cid in sent if cid % 3 == 2)
    unanswered = sum(1 for cid in sent if cid % 3 == 0)
    assert unavailable and unanswered
    # world_unavailable: an error, not a refusal; the client went on sending after it
    assert summary["errors"] == {"world_unavailable": unavailable}
    assert summary["error_count"] == unavailable and summary["refused"] == {}
    assert all(max(ids) > 2 for ids in got.values())
    assert summary["drops"] == 0 and a.closed_by_client + b.closed_by_client == 4
    # never answered: a timeout each
    assert summary["timeouts_total"] == unanswered
    # the round trips are the ok answers only
    assert summary["results"] == summary["ok"] == sum(1 for cid in sent if cid % 3 == 1)
    # --acked-out: each client's ok ids, late or not
    listed = json.loads(acked_out.read_text())
    acked = {c["name"]: c["acked"] for c in listed}
    assert acked == {n: [cid for cid in ids if cid % 3 == 1] for n, ids in got.items()}
    assert all(c["refused"] == [] for c in listed)  # world_unavailable is no refusal
    # the mark: when it came, and the world_unavailable answers on either side of it
    mark = summary["mark"]
    assert mark["wall"] > 0 and 0 <= mark["clients_resumed"] <= 4
    assert mark["unavailable_sent_before"] + mark["unavailable_sent_after"] == unavailable
    assert summary["urls"] == urls.split(",")


async def test_one_url_gives_the_summary_as_before(
        standins: list[tuple[Server, Standin]], tmp_path: Path) -> None:
    (tmp_path / "names.txt").write_text("Benchaaaa\nBenchaaab\n")
    server, seen = standins[0]
    args = load.build_parser().parse_args([
        "--url", f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ws", "--clients", "2",
        "--rate", "5", "--duration", "0.5", "--warmup", "0",
        "--names-file", str(tmp_path / "names.txt"), "--password", "pw",
        "--json-out", str(tmp_path / "out.json"), "--timeout", "0.3"])
    summary = await load.run(args)
    assert sorted(seen.logins) == ["Benchaaaa", "Benchaaab"]
    assert "urls" not in summary and "mark" not in summary  # nothing new without asking
    assert summary["logged_in"] == 2 and summary["drops"] == 0
