"""The naive bot bar: does a bot that only knows the documented protocol gain a level
within 5 minutes of real play on a fresh server?

The bot (`play`) speaks `aegent.json` over a real WebSocket and uses only what
docs/protocol.md documents: it registers a new character of a class (asking for
batched events: each `events` message is read as the `event`s it holds), then reads
`room` events (`exits`, `doors`, `characters` with `kind` and `level`), `vitals`
(`hp`, `max_hp`, `position`, `level`, `xp`) and `result`s, and plays in real time:

- hurt below half its hit points and not fighting: `rest`, then `stand` once they
  are back (90 %);
- a mob in the room: `kill` the lowest-level one (`N.keyword` when several share a
  keyword); a refusal (a safe room, a shopkeeper) means it walks on;
- else it walks out by a random exit (opening a closed door first; locked ones it
  leaves alone), and `look`s again when a fight is over;
- it stops at its first `level_gained` event, or after `--limit` seconds.

`python -m bench.naive_bot` starts, for each class, `aegent serve` on a free port
with a temp data dir (fast password hashing: login cost is not what is measured),
plays every class at once, each on its own fresh server (`--shared`: all on one,
where they compete for the same mobs), and prints the time to level 2 per class;
`--runs N` repeats on fresh servers and prints medians.

    python -m bench.naive_bot                                  # 4 classes, 1 run, 300 s
    python -m bench.naive_bot --classes warrior,mage --runs 3 --json-out naive.json

`tests/e2e/test_naive_bot.py` runs `play` for a few seconds against an in-process
server and checks that the bot gains XP.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

CLASSES = ("warrior", "mage", "cleric", "rogue")
LIMIT_S = 300.0
PACE_S = 0.5  # seconds between two actions of the bot (looks included)
REST_BELOW = 0.5
STAND_AT = 0.9
PASSWORD = "naive-bot-password"
ROOT = Path(__file__).resolve().parents[1]


@dataclass(slots=True)
class Result:
    """How one bot fared."""

    name: str
    cls: str
    seconds_to_level: float | None = None  # None: no level within the limit
    played_s: float = 0.0
    xp_start: int | None = None
    xp: int = 0
    level: int = 1
    kills: int = 0
    deaths: int = 0
    commands: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    batches: int = 0  # `events` messages read

    @property
    def xp_gained(self) -> int:
        return self.xp - (self.xp_start or 0)


class Bot:
    """One naive player over one `aegent.json` connection."""

    def __init__(self, ws: ClientConnection, name: str, cls: str, seed: int, pace: float) -> None:
        self.ws = ws
        self.rng = random.Random(seed)
        self.pace = pace
        self.result = Result(name, cls)
        self.room: dict[str, Any] = {}
        self.vitals: dict[str, Any] = {}
        self.leveled = asyncio.Event()  # also set at the first XP when `stop_on_xp`
        self.stop_on_xp = False
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.next_id = 0
        self.t0 = 0.0

    # ---- the connection ---------------------------------------------------------

    async def reader(self) -> None:
        """Fold every message into what the bot knows; answer waiting commands."""
        async for raw in self.ws:
            msg = json.loads(raw)
            kind = msg.get("type")
            if kind == "events":  # several events in one message
                self.result.batches += 1
                for event in msg["events"]:
                    self.on_event(event["name"], event.get("data") or {})
            elif kind == "event":
                self.on_event(msg["name"], msg.get("data") or {})
            elif kind == "result":
                fut = self.waiting.pop(msg.get("id"), None)
                if fut is not None and not fut.done():
                    fut.set_result(msg)

    def on_event(self, name: str, data: dict[str, Any]) -> None:
        me = self.result
        if name == "room":
            self.room = data
        elif name == "vitals":
            self.vitals = data
            if me.xp_start is None:
                me.xp_start = data["xp"]
            me.xp, me.level = data["xp"], data["level"]
            if self.stop_on_xp and me.xp > me.xp_start:
                self.leveled.set()
        elif name == "died":
            if data.get("actor") == me.name:
                me.deaths += 1
            elif data.get("killer") == me.name:
                me.kills += 1
        elif name == "level_gained" and not self.leveled.is_set():
            me.seconds_to_level = time.monotonic() - self.t0
            self.leveled.set()

    async def command(self, line: str) -> dict[str, Any]:
        """Send a line; wait for its `result` (the events it caused come before it)."""
        self.next_id += 1
        mid = self.next_id
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[mid] = fut
        self.result.commands += 1
        await self.ws.send(json.dumps({"type": "command", "line": line, "id": mid}))
        result = await asyncio.wait_for(fut, 30)
        if not result.get("ok"):
            code = (result.get("error") or {}).get("code", "?")
            self.result.refused[code] = self.result.refused.get(code, 0) + 1
        return result

    # ---- the policy -------------------------------------------------------------

    def hp_share(self) -> float:
        top = self.vitals.get("max_hp") or 1
        return float(self.vitals.get("hp", top)) / top

    def target(self) -> str | None:
        """`N.keyword` of the lowest-level mob in the room, or None."""
        chars = self.room.get("characters", [])
        mobs = [(c["level"], i) for i, c in enumerate(chars) if c.get("kind") == "mob"]
        if not mobs:
            return None
        _, i = min(mobs)
        word = chars[i]["keyword"]
        nth = sum(1 for c in chars[: i + 1] if c["keyword"] == word)
        return f"{nth}.{word}"

    async def walk(self) -> None:
        exits: dict[str, str] = self.room.get("exits", {})
        doors: dict[str, dict[str, Any]] = self.room.get("doors", {})
        ways = [d for d in exits if not doors.get(d, {}).get("locked")]
        if not ways:
            await self.command("look")
            return
        way = self.rng.choice(ways)
        if doors.get(way, {}).get("closed"):
            await self.command(f"open {way}")
        await self.command(way)

    async def step(self, peaceful: set[str]) -> None:
        """One action, from what the bot knows now."""
        position = self.vitals.get("position", "standing")
        if position == "fighting":
            return  # the rounds do the work
        if position in ("resting", "sleeping"):
            if self.hp_share() >= STAND_AT:
                await self.command("stand")
            return
        if self.hp_share() < REST_BELOW:
            await self.command("rest")
            return
        room_id = self.room.get("id", "")
        target = None if room_id in peaceful else self.target()
        if target is not None:
            result = await self.command(f"kill {target}")
            if result.get("ok"):
                return
            if (result.get("error") or {}).get("code") in ("safe_room", "bad_target"):
                peaceful.add(room_id)
        await self.walk()

    async def run(self, limit: float) -> Result:
        """Play until the first level gained or `limit` seconds."""
        self.t0 = time.monotonic()
        deadline = self.t0 + limit
        peaceful: set[str] = set()
        was_fighting = False
        while not self.leveled.is_set() and time.monotonic() < deadline:
            fighting = self.vitals.get("position") == "fighting"
            if was_fighting and not fighting:
                await self.command("look")  # the fight is over: who is left here?
            was_fighting = fighting
            await self.step(peaceful)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.leveled.wait(),
                                       max(0.0, min(self.pace, deadline - time.monotonic())))
        self.result.played_s = round(time.monotonic() - self.t0, 1)
        return self.result


async def play(url: str, name: str, cls: str, limit: float = LIMIT_S, seed: int = 1,
               pace: float = PACE_S, stop_on_xp: bool = False) -> Result:
    """Register `name` of class `cls` on the server at `url` and play it naively (until
    its first level, its first XP with `stop_on_xp`, or `limit` seconds)."""
    async with connect(url, subprotocols=[Subprotocol("aegent.json")], max_size=None,
                       open_timeout=30) as ws:
        bot = Bot(ws, name, cls, seed, pace)
        bot.stop_on_xp = stop_on_xp
        hello = json.loads(await ws.recv())
        assert hello.get("type") == "hello", hello
        await ws.send(json.dumps({"type": "register", "name": name, "password": PASSWORD,
                                  "class": cls, "batch": True}))
        while True:
            msg = json.loads(await ws.recv())
            if msg.get("type") == "auth":
                if not msg.get("ok"):
                    raise RuntimeError(f"{name} could not register: {msg}")
                break
        reader = asyncio.create_task(bot.reader())
        try:
            while not bot.vitals or not bot.room:  # the first room and vitals after login
                await asyncio.sleep(0.01)
            return await bot.run(limit)
        finally:
            reader.cancel()


# ---- the benchmark: a real server process -------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(data_dir: Path, seed: int, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """`aegent serve` on a free port over `data_dir`, answering /health."""
    aegent = Path(sys.executable).parent / "aegent"
    port = free_port()
    env = {**os.environ, "AEGENT_ARGON2_TIME_COST": "1", "AEGENT_ARGON2_MEMORY_KIB": "1024",
           # every bot registers from 127.0.0.1: the per-address limits lifted (0: none)
           "AEGENT_REGISTER_PER_ADDRESS": "0", "AEGENT_REGISTER_GLOBAL": "0",
           "AEGENT_AUTH_INFLIGHT_PER_ADDRESS": "0", "AEGENT_MAX_CONNECTIONS_PER_ADDRESS": "0"}
    cmd = [str(aegent) if aegent.exists() else "aegent", "serve", "--port", str(port),
           "--telnet-port", str(free_port()), "--data-dir", str(data_dir),
           "--seed", str(seed)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("the server did not answer /health in time")


def bot_name(cls: str, run: int) -> str:
    """A valid character name (letters only, 3-16) for a class and run."""
    return f"Naive{cls}{chr(ord('a') + run % 26)}"[:16]


async def one_run(urls: list[str], classes: list[str], run: int, limit: float, pace: float
                  ) -> list[Result]:
    """Every class at once, each against its own server (or all against one)."""
    return list(await asyncio.gather(*(
        play(urls[i % len(urls)], bot_name(cls, run), cls, limit, seed=run * 100 + i,
             pace=pace)
        for i, cls in enumerate(classes))))


def main() -> None:
    """Runs on fresh servers; each class's time to level 2, and the medians."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--classes", default=",".join(CLASSES))
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--limit", type=float, default=LIMIT_S, help="seconds of play")
    parser.add_argument("--pace", type=float, default=PACE_S,
                        help="seconds between two actions of a bot")
    parser.add_argument("--seed", type=int, default=None,
                        help="the servers' world seed (default: the run number)")
    parser.add_argument("--shared", action="store_true",
                        help="all classes on one server (they compete for the same mobs); "
                             "by default each class plays on a fresh server of its own")
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args()
    classes = args.classes.split(",")
    runs: list[list[Result]] = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="aegent-naive-") as tmp:
            seed = args.seed if args.seed is not None else run + 1
            servers: list[tuple[subprocess.Popen[bytes], int]] = []
            try:
                for n in range(1 if args.shared else len(classes)):
                    servers.append(start_server(Path(tmp) / f"data{n}", seed,
                                                Path(tmp) / f"server{n}.log"))
                urls = [f"ws://127.0.0.1:{port}/ws" for _, port in servers]
                results = asyncio.run(one_run(urls, classes, run, args.limit, args.pace))
            finally:
                for proc, _ in servers:
                    proc.terminate()
                for proc, _ in servers:
                    try:
                        proc.wait(20)
                    except subprocess.TimeoutExpired:
                        proc.kill()
        runs.append(results)
        for r in results:
            took = "-" if r.seconds_to_level is None else f"{r.seconds_to_level:.1f} s"
            print(f"run {run + 1} {r.cls:8} level 2 after {took:>8}  (xp +{r.xp_gained}, "
                  f"{r.kills} kills, {r.deaths} deaths, {r.commands} commands)", flush=True)
    print(f"time to level 2 in real play, median of {args.runs} run(s), limit {args.limit:.0f} s:")
    summary: dict[str, Any] = {}
    for i, cls in enumerate(classes):
        times = [run[i].seconds_to_level for run in runs]
        made = [t for t in times if t is not None]
        median = statistics.median(made) if len(made) == len(times) else None
        summary[cls] = {"median_s": None if median is None else round(median, 1),
                        "runs_s": [None if t is None else round(t, 1) for t in times]}
        shown = "over the limit" if median is None else f"{median:.1f} s"
        print(f"  {cls:8} {shown}   runs: {summary[cls]['runs_s']}")
    if args.json_out is not None:
        args.json_out.write_text(json.dumps({"args": vars(args) | {"json_out": None},
                                             "classes": summary}, indent=2, default=str))


if __name__ == "__main__":
    main()
