"""`aegent agents run` and `aegent agents eval`: many agents in one process.

- `Agent` plays one character: it connects (`agents/client.py`), fetches the
  tools, and loops: fold the events that came (`agents/observation.py`), ask the
  server to `observe`, answer its owner's tells (an agent account; agents/owner.py),
  let the policy `decide`, send its actions as `call`s and keep what became of
  them for the next turn. With nothing to do it waits for the
  next event (or the policy's `wake_after` timer while resting); it never spins.
  Each decision is logged (structlog, bound with `agent=name`).
- `CredentialStore` keeps the agents' names and passwords in
  `<data dir>/agents/credentials.json` (mode 0600), so a re-run plays the same
  characters; new names register on first use.
- `run_agents` plays N agents until a duration or Ctrl-C, with a live status
  table on stderr (plain full lines, screen-reader friendly; `--quiet` stops it)
  and JSON log lines in `<data dir>/agents/agents.log`.
- `evaluate` (`aegent agents eval`) starts a fresh server process with a fixed
  seed in a temporary data dir, plays N agents for a bounded time and reports
  levels gained, XP per hour, deaths, rooms explored, quests done and tokens per
  level, as a table, a JSON file and an SVG plot (level over time per agent); it
  can write the figures into docs/agents.md between markers.

The `llm` policy comes from agents/llm.py, imported only when asked for.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import structlog

from agents.client import (
    BudgetExceeded,
    ClientError,
    ConnectionLost,
    Credentials,
    GameClient,
    split_urls,
)
from agents.contracts import Action, MemoryStore, Observation, Outcome, Policy
from agents.observation import Tracker
from agents.owner import answer, owner_tells
from agents.scripted import ScriptedPolicy

if TYPE_CHECKING:
    from agents.memory import QdrantMemory

IDLE_WAIT = 30.0  # seconds a policy with nothing to do waits when no event comes (a safety net)
MODEL_RETRY = timedelta(minutes=10)  # refused again just after the day turned: the server's
MODEL_RETRY_WINDOW = timedelta(hours=1)  # clock may lag ours; try again this often for an hour
REFUSED_PAUSE = 1.0  # after a refused action, wait for an event at most this long
STALL = 300.0  # seconds without XP or a new room after which an agent counts as stuck
CLASSES = ("warrior", "cleric", "rogue", "mage")


# ---- credentials -------------------------------------------------------------------------


def agent_name(prefix: str, n: int) -> str:
    """The n-th agent's name: the prefix and letters (names are letters only): Roboaa, Roboab."""
    letters = ""
    width = 2 if n < 26 * 26 else 3
    for _ in range(width):
        n, r = divmod(n, 26)
        letters = chr(ord("a") + r) + letters
    return (prefix[:1].upper() + prefix[1:].lower() + letters)[:16]


class CredentialStore:
    """Agents' names and passwords in a JSON file readable only by its owner."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, dict[str, Any]] = {}
        if path.exists():
            loaded = json.loads(path.read_text(encoding="utf-8"))
            agents = loaded.get("agents") if isinstance(loaded, dict) else None
            if isinstance(agents, dict):
                self.data = {str(k): dict(v) for k, v in agents.items() if isinstance(v, dict)}

    def get(self, name: str, cls: str) -> Credentials:
        """The credentials of `name`, made up (and kept) on first use."""
        entry = self.data.get(name)
        if entry is None:
            entry = self.data[name] = {"password": secrets.token_urlsafe(18), "class": cls,
                                       "registered": False}
            self.save()
        return Credentials(name, str(entry["password"]), str(entry.get("class") or cls),
                           entry.get("api_key"))

    def registered(self, name: str) -> bool:
        """Whether `name` was registered on the server already."""
        return bool(self.data.get(name, {}).get("registered"))

    def mark_registered(self, name: str) -> None:
        """Remember that `name` exists on the server now."""
        entry = self.data.get(name)
        if entry is not None and not entry.get("registered"):
            entry["registered"] = True
            self.save()

    def save(self) -> None:
        """Write the file (0600)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"agents": self.data}, fh, indent=1, sort_keys=True)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)


# ---- one agent ------------------------------------------------------------------------------


@dataclass(slots=True)
class AgentStats:
    """What the status table and the evaluation report show of one agent."""

    name: str
    cls: str = ""
    level: int = 0
    start_level: int = 0
    xp: int = 0
    start_xp: int | None = None
    hp: int = 0
    max_hp: int = 0
    room: str = ""
    room_id: str = ""
    last_action: str = ""
    tokens: int = 0
    deaths: int = 0
    kills: int = 0
    quests: int = 0
    actions: int = 0
    turns: int = 0  # decisions made (acting or choosing to wait)
    refused: int = 0
    rooms: set[str] = field(default_factory=set)
    level_times: dict[int, float] = field(default_factory=dict)  # level -> seconds into the run
    started: float = 0.0
    last_progress: float = 0.0
    longest_stall: float = 0.0
    connected: bool = False
    error: str = ""
    budget: str = ""  # set when a daily model budget was reached: what the agent did
    reconnects: int = 0
    missed: int = 0
    rtts: deque[float] = field(default_factory=lambda: deque(maxlen=20000))

    def stall(self, now: float) -> float:
        """Seconds since the last XP gained or new room entered."""
        return now - self.last_progress if self.last_progress else 0.0


class Agent:
    """One character played by a policy over one connection.

    Args:
        url: the server's WebSocket URL.
        credentials: its login.
        policy: what decides.
        register: register on first connection (else log in).
        min_interval: at least this many seconds between two turns that act (a
            human-like pace, and fair to the server); events still wake it.
        on_registered: called once the server knows the character.
        remake: makes the policy anew: an agent that fell back to the scripted policy at
            its daily model budget goes back to the model with it when the UTC day
            turns (budgets are per UTC day). Without it, it plays scripted on.
        utcnow: the time of day (tests pass their own).
    """

    def __init__(self, url: str | Sequence[str], credentials: Credentials, policy: Policy, *,
                 register: bool = True, min_interval: float = 0.25,
                 on_registered: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 remake: Callable[[], Policy] | None = None,
                 utcnow: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.client = GameClient(url, credentials, register=register)
        self.policy = policy
        self.tracker = Tracker(credentials.name)
        self.stats = AgentStats(credentials.name, cls=credentials.cls or "")
        self.min_interval = min_interval
        self.on_registered = on_registered
        self.clock = clock
        self.log: Any = structlog.get_logger("aegent.agents").bind(agent=credentials.name,
                                                                  policy=policy.name)
        self._t0 = clock()
        self._tokens_before = 0  # tokens of policies given up (a budget reached)
        self.remake = remake
        self.utcnow = utcnow
        self.model_again_at: datetime | None = None  # back to the model then (fell back)
        self.owner = ""  # an agent account's owner (from `auth`): its tells are answered
        self._day_turned_at: datetime | None = None  # when we last went back to it

    async def run(self, stop: asyncio.Event) -> None:
        """Play until `stop` is set (then close the connection)."""
        st = self.stats
        self._t0 = st.started = self.clock()
        try:
            await self._connect(stop)
            if stop.is_set():
                return
            await self._loop(stop)
        except ClientError as exc:
            st.error = f"{exc.code}: {exc.message}"
            self.log.error("agent_stopped", error=st.error)
        finally:
            st.connected = False
            await self.client.close()

    async def _connect(self, stop: asyncio.Event) -> None:
        delay = 0.5
        while not stop.is_set():
            try:
                auth = await self.client.connect()
                break
            except (OSError, TimeoutError, ConnectionLost) as exc:
                self.log.info("connect_failed", error=repr(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(30.0, delay * 2)
        else:
            return
        self.stats.connected = True
        if self.on_registered is not None:
            self.on_registered(self.client.credentials.name)
        character = auth.get("character") or {}
        self.stats.cls = str(character.get("class") or self.stats.cls)
        self.owner = str(character.get("owner") or "")
        self.log.info("agent_connected", created=self.client.created, character=character)
        self.tracker.obs.tools = await self.client.tools()
        self._attach_meter()

    def _attach_meter(self) -> None:
        if self.client.credentials.api_key and hasattr(self.policy, "meter"):
            # An agent account: every model call is reserved and settled with the server.
            self.policy.meter = self.client

    async def _loop(self, stop: asyncio.Event) -> None:
        outcomes: list[Outcome] = []
        last_act = 0.0
        while not stop.is_set():
            try:
                pause = self.min_interval - (self.clock() - last_act)
                if pause > 0:  # the pace: before observing, so what we see is what we act on
                    await asyncio.sleep(pause)
                self._fold(await self.client.next_events(0))
                observation = await self.client.observe()
                # The events that came before the answer first, then the answer (its `seq`
                # is that of the last event before it).
                self._fold(await self.client.next_events(0))
                self._fold([observation])
                if self.model_again_at is not None and self.utcnow() >= self.model_again_at:
                    self._back_to_the_model()
                obs = self.tracker.start_turn(outcomes)
                outcomes = []
                await self._answer_owner(obs)
                try:
                    actions = await self.policy.decide(obs)
                except BudgetExceeded as exc:
                    if await self._budget_reached(exc):
                        return
                    continue
                self.stats.turns += 1
                self._account(obs, actions)
                if not actions:
                    wait = getattr(self.policy, "wake_after", None)
                    await self._wait_events(stop, wait if wait else IDLE_WAIT)
                    continue
                last_act = self.clock()
                refused = False
                for act in actions:
                    t0 = self.clock()
                    result = await self.client.call(act.tool, act.args)
                    self.stats.rtts.append(self.clock() - t0)
                    outcomes.append(Outcome(act, result.ok, result.code, result.text))
                    self.stats.actions += 1
                    if not result.ok:
                        refused = True
                        self.stats.refused += 1
                        self.log.info("action_refused", tool=act.tool, args=act.args,
                                      code=result.code, message=result.message)
                if refused:
                    await self._wait_events(stop, REFUSED_PAUSE)
            except ConnectionLost:
                self.stats.connected = False
                outcomes = []
                await self.client.connected.wait()
                self.stats.connected = True
                self.stats.reconnects = self.client.reconnects
            except ClientError as exc:
                if exc.code != "rate_limited":
                    raise
                await asyncio.sleep(1.0)
            except TimeoutError:
                self.log.warning("request_timeout")

    async def _answer_owner(self, obs: Observation) -> None:
        """Answer the tells of the agent's owner that came since the last turn (whatever
        the policy; agents/owner.py): an A2A message waits for this (server/host/a2a.py)."""
        asked = owner_tells(obs.events, self.owner, obs.name)
        if not asked:
            return
        text = await answer(self.policy, obs, self.owner, asked)
        result = await self.client.call("tell", {"target": self.owner, "text": text})
        self.stats.actions += 1
        self.log.info("owner_answered", asked=len(asked), ok=result.ok, code=result.code or None)

    async def _budget_reached(self, exc: BudgetExceeded) -> bool:
        """The server refused a model call: fall back to the scripted policy, or stop
        (`exc.on_limit`), and say so in the log and the status. Returns whether to stop."""
        st = self.stats
        used = self.policy.usage()
        self._tokens_before += used.prompt_tokens + used.completion_tokens
        closer = getattr(self.policy, "aclose", None)
        if closer is not None:
            with contextlib.suppress(Exception):
                await closer()
        if exc.on_limit == "stop":
            st.budget = "budget reached: stopped"
            st.error = f"budget_exceeded: {exc.message}"
            st.last_action = "(stopped: daily model budget reached)"
            self.log.warning("budget_reached", on_limit="stop", message=exc.message)
            return True
        st.budget = "budget reached: scripted"
        st.last_action = "(daily model budget reached: playing scripted)"
        if self.remake is not None:
            now = self.utcnow()
            self.model_again_at = datetime.combine(now.date() + timedelta(days=1),
                                                   datetime.min.time(), tzinfo=UTC)
            if self._day_turned_at is not None \
                    and now - self._day_turned_at < MODEL_RETRY_WINDOW:
                self.model_again_at = now + MODEL_RETRY  # the server's day has not turned yet
        self.log.warning("budget_reached", on_limit="scripted", message=exc.message,
                         model_again_at=self.model_again_at.isoformat()
                         if self.model_again_at else None)
        self.policy = ScriptedPolicy()
        self.log = self.log.bind(policy=self.policy.name)
        return False

    def _back_to_the_model(self) -> None:
        """A new UTC day since the budget stopped the model: play with it again (if the
        server still refuses, `_budget_reached` falls back once more)."""
        assert self.remake is not None
        self.model_again_at = None
        self._day_turned_at = self.utcnow()
        self.policy = self.remake()
        self._attach_meter()
        self.log = self.log.bind(policy=self.policy.name)
        self.stats.budget = ""
        self.stats.last_action = "(a new day: back to the model)"
        self.log.info("budget_day_turned")

    async def _wait_events(self, stop: asyncio.Event, timeout: float) -> None:
        waiter = asyncio.ensure_future(self.client.next_events(timeout))
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            if waiter.done():
                self._fold(waiter.result())
            else:
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter

    def _fold(self, msgs: list[dict[str, Any]]) -> None:
        if not msgs:
            return
        self.tracker.fold_all(msgs)
        st = self.stats
        now = self.clock() - self._t0
        for msg in msgs:
            if msg.get("type") != "event":
                continue
            name = msg.get("name")
            data = msg.get("data") or {}
            if name == "died" and data.get("actor") == self.tracker.obs.name:
                st.deaths += 1
            elif name == "died" and data.get("killer") == self.tracker.obs.name:
                st.kills += 1
            elif name == "quest_completed":
                st.quests += 1
            elif name == "xp_gained":
                st.last_progress = self.clock()
            elif name == "level_gained":
                level = int(data.get("level") or 0)
                st.level_times.setdefault(level, round(now, 1))
                self.log.info("level_gained", level=level, seconds=round(now, 1))
        obs = self.tracker.obs
        v = obs.vitals
        if v:
            if not st.start_level:
                st.start_level = int(v.get("level") or 1)
                st.start_xp = int(v.get("xp") or 0)
                st.level_times.setdefault(st.start_level, 0.0)
            st.level = int(v.get("level") or st.level)
            st.xp = int(v.get("xp") or st.xp)
            st.hp, st.max_hp = int(v.get("hp") or 0), int(v.get("max_hp") or 0)
        rid = str(obs.room.get("id") or "")
        if rid:
            if rid != st.room_id:
                if rid not in st.rooms:
                    st.last_progress = self.clock()
                st.rooms.add(rid)
            st.room_id = rid
            st.room = str(obs.room.get("name") or rid)
        if not st.last_progress:
            st.last_progress = self.clock()
        st.longest_stall = max(st.longest_stall, st.stall(self.clock()))
        st.missed = obs.missed

    def _account(self, obs: Observation, actions: Sequence[Action]) -> None:
        st = self.stats
        usage = self.policy.usage()
        st.tokens = self._tokens_before + usage.prompt_tokens + usage.completion_tokens
        if actions:
            st.last_action = "; ".join(f"{a.tool} {' '.join(str(v) for v in a.args.values())}"
                                       .strip() for a in actions)
        else:
            st.last_action = "(waiting)"
        self.log.info("decision", actions=[{"tool": a.tool, "args": a.args, "why": a.why}
                                           for a in actions],
                      char_level=obs.vitals.get("level"), xp=obs.vitals.get("xp"),
                      hp=obs.vitals.get("hp"),
                      max_hp=obs.vitals.get("max_hp"), room=obs.room.get("id"),
                      fighting=obs.fighting, seq=obs.seq, missed=obs.missed,
                      tokens=st.tokens, **({} if actions else
                                           {"waiting": getattr(self.policy, "last_why", "")}))


# ---- many agents ------------------------------------------------------------------------------


PolicyFactory = Callable[[int], Policy]


def make_policy_factory(policy: str, model: str | None, seed: int | None = None,
                        memory: MemoryStore | None = None) -> PolicyFactory:
    """A function making the n-th agent's policy; LLM policies share `memory` (each
    agent reads and writes only its own memories in it).

    Raises:
        SystemExit: `llm` without agents/llm.py, or an unknown policy.
    """
    if policy == "scripted":
        return lambda n: ScriptedPolicy(seed=None if seed is None else seed * 1000 + n)
    if policy == "llm":
        try:
            from agents.llm import LLMPolicy
        except ImportError as exc:  # a plain install, without the agents extra
            raise SystemExit(f"aegent: the llm policy needs the agents extra: pip install "
                             f"'aegent-quest[agents]' ({exc})") from None
        if not model:
            raise SystemExit("aegent: --policy llm needs --model (e.g. --model gpt-4o-mini)")
        return lambda n: LLMPolicy(model, seed=None if seed is None else seed * 1000 + n,
                                   memory=memory)
    raise SystemExit(f"aegent: unknown policy {policy!r} (scripted or llm)")


def open_memory(data_dir: Path, env: Mapping[str, str] | None = None) -> QdrantMemory:
    """The agents' memory store: a Qdrant server (`QDRANT_URL`, `QDRANT_API_KEY`) or local
    mode in `<data dir>/qdrant`; embeddings from `AEGENT_EMBEDDINGS_URL` with
    `AEGENT_EMBEDDINGS_MODEL` (key: `OPENAI_API_KEY`), else local MiniLM. Close it when done.

    Raises:
        ModelMissing: the local MiniLM model is not installed (the caller plays on without).
        SystemExit: the store cannot be opened (say, another process holds the local folder).
    """
    try:
        from agents.embedding import default_embedder
        from agents.memory import QdrantMemory
        from agents.model_package import ModelMissing
    except ImportError as exc:  # a plain install, without the agents extra
        raise SystemExit(f"aegent: agent memory needs the agents extra: pip install "
                         f"'aegent-quest[agents]' ({exc})") from None

    env = os.environ if env is None else env
    try:
        return QdrantMemory.open(
            data_dir, url=env.get("QDRANT_URL") or None,
            api_key=env.get("QDRANT_API_KEY") or None,
            embedder=default_embedder(env.get("AEGENT_EMBEDDINGS_URL") or None,
                                      env.get("AEGENT_EMBEDDINGS_MODEL") or None))
    except ModelMissing:
        raise
    except (OSError, RuntimeError, ValueError) as exc:
        raise SystemExit(f"aegent: cannot open the agents' memory in {data_dir / 'qdrant'}: "
                         f"{exc} (--no-memory plays without it)") from None


def status_lines(stats: Sequence[AgentStats], now: float) -> list[str]:
    """The status table as full plain lines (a header, then one line per agent)."""
    lines = [f"{'agent':<16} {'class':<8} {'lvl':>3} {'hp':>9} {'room':<26} {'tokens':>8}"
             "  last action"]
    for st in stats:
        state = "" if st.connected else (" (error)" if st.error else " (offline)")
        if st.budget:
            state += f" [{st.budget}]"
        hp = f"{st.hp}/{st.max_hp}" if st.max_hp else "-"
        lines.append(f"{st.name:<16} {st.cls:<8} {st.level:>3} {hp:>9} {st.room[:26]:<26} "
                     f"{st.tokens:>8}  {st.last_action[:60]}{state}")
    return lines


async def _status_task(stats: Sequence[AgentStats], stream: IO[str], every: float,
                       stop: asyncio.Event, t0: float) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        now = time.monotonic()
        levels = [st.level for st in stats if st.level]
        print(f"-- agents at {time.strftime('%H:%M:%S')}, {round(now - t0)} s in: "
              f"{sum(st.connected for st in stats)}/{len(stats)} connected, levels "
              f"{min(levels, default=0)}..{max(levels, default=0)} --", file=stream)
        for line in status_lines(stats, now):
            print(line, file=stream)
        stream.flush()


def configure_logging(path: Path) -> IO[str]:
    """Structured logs (JSON lines) of every decision to `path`; returns the open file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the whole run
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.WriteLoggerFactory(file=fh),
        cache_logger_on_first_use=False,
    )
    return fh


@dataclass(slots=True)
class RunConfig:
    """One `agents run`."""

    url: str | Sequence[str]  # one address, or the world's gateways in order
    policy: str = "scripted"
    count: int = 1
    model: str | None = None
    duration: float | None = None
    data_dir: Path = Path("data")
    name_prefix: str = "Robo"
    classes: tuple[str, ...] = ("warrior",)
    quiet: bool = False
    status_every: float = 1.0
    min_interval: float = 0.25
    seed: int | None = None
    until_level: int | None = None
    start_spacing: float = 0.05


async def run_agents(cfg: RunConfig, *, stream: IO[str] | None = None,
                     stop: asyncio.Event | None = None,
                     factory: PolicyFactory | None = None,
                     stats_out: list[AgentStats] | None = None) -> list[AgentStats]:
    """Play `cfg.count` agents until the duration ends, every agent reached
    `until_level`, or `stop` is set; returns their stats (also put in `stats_out`
    as soon as the agents exist, for watching them live)."""
    stop = stop or asyncio.Event()
    factory = factory or make_policy_factory(cfg.policy, cfg.model, cfg.seed)
    store = CredentialStore(cfg.data_dir / "agents" / "credentials.json")
    agents: list[Agent] = []
    for n in range(cfg.count):
        name = agent_name(cfg.name_prefix, n)
        creds = store.get(name, cfg.classes[n % len(cfg.classes)])
        agents.append(Agent(cfg.url, creds, factory(n), register=not store.registered(name),
                            min_interval=cfg.min_interval, on_registered=store.mark_registered,
                            remake=functools.partial(factory, n)))
    stats = [a.stats for a in agents]
    if stats_out is not None:
        stats_out.extend(stats)
    t0 = time.monotonic()
    tasks: list[asyncio.Task[None]] = []
    status: asyncio.Task[None] | None = None
    if not cfg.quiet:
        status = asyncio.create_task(_status_task(stats, stream or sys.stderr,
                                                  cfg.status_every, stop, t0))
    for a in agents:
        tasks.append(asyncio.create_task(a.run(stop)))
        await asyncio.sleep(cfg.start_spacing)  # not all logins in one burst
    deadline = None if cfg.duration is None else t0 + cfg.duration
    try:
        while not stop.is_set():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), min(1.0, left) if left is not None else 1.0)
            if cfg.until_level and all(st.level >= cfg.until_level for st in stats):
                break
            if all(t.done() for t in tasks):
                break
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for a in agents:
            closer = getattr(a.policy, "aclose", None)
            if closer is not None:
                with contextlib.suppress(Exception):
                    await closer()
        if status is not None:
            await status
    return stats


async def _play_until_signal(cfg: RunConfig, factory: PolicyFactory) -> list[AgentStats]:
    """`run_agents` until its time is up or SIGINT/SIGTERM arrives (the CLI commands)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return await run_agents(cfg, stop=stop, factory=factory)


def run_command(args: argparse.Namespace) -> int:
    """`aegent agents run`."""
    data_dir = Path(args.data_dir or os.environ.get("AEGENT_DATA_DIR") or "data")
    cfg = RunConfig(
        url=split_urls(args.server), policy=args.policy, count=args.count, model=args.model,
        duration=args.duration, data_dir=data_dir, name_prefix=args.name_prefix,
        classes=tuple(c.strip() for c in args.classes.split(",") if c.strip()),
        quiet=args.quiet, status_every=args.status_every, min_interval=args.pace,
        seed=args.seed,
    )
    memory: QdrantMemory | None = None
    if cfg.policy == "llm" and not getattr(args, "no_memory", False):
        try:
            memory = open_memory(data_dir)  # <data dir>/qdrant, or QDRANT_URL
        except FileNotFoundError as exc:  # ModelMissing: one line, and play on without
            print(f"aegent: {exc}; the agents play without memory", file=sys.stderr)
    factory = make_policy_factory(cfg.policy, cfg.model, cfg.seed, memory)
    log_file = configure_logging(data_dir / "agents" / "agents.log")

    try:
        stats = asyncio.run(_play_until_signal(cfg, factory))
    finally:
        log_file.close()
        if memory is not None:
            memory.close()  # flushes the buffered writes; frees the local folder
    if not args.quiet:
        for line in status_lines(stats, time.monotonic()):
            print(line, file=sys.stderr)
    return 0 if not any(st.error for st in stats) else 1


# ---- evaluation -------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(slots=True)
class ServerProcess:
    """A game server started as a child process (`aegent serve`): an evaluation's, or
    the world of a research environment's episode (agents/env.py)."""

    port: int
    data_dir: Path
    proc: subprocess.Popen[bytes]
    log: Path | None  # None: its output went to this process's

    @property
    def url(self) -> str:
        """Its WebSocket URL."""
        return f"ws://127.0.0.1:{self.port}/ws"

    def metrics(self) -> str:
        """Its Prometheus metrics text."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
            text: str = r.read().decode()
            return text

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (the server saves everyone), then wait; SIGKILL after `timeout` s.
        It is waited for either way (no zombie); stopping twice is fine."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


PRIVATE_SERVER_ENV = {
    "AEGENT_REGISTER_PER_ADDRESS": "0", "AEGENT_REGISTER_GLOBAL": "0",
    "AEGENT_AUTH_INFLIGHT_PER_ADDRESS": "0", "AEGENT_MAX_CONNECTIONS_PER_ADDRESS": "0",
}
"""The per-address limits lifted (0: none) on a server of our own, where every agent
connects, registers and logs in from 127.0.0.1 (`aegent agents eval`)."""


SOURCE_ROOT = Path(__file__).resolve().parent.parent
"""The folder that holds agents/ and server/ (a source tree, or site-packages)."""


def start_server(seed: int, data_dir: Path, extra: Sequence[str] = (),
                 env: Mapping[str, str] | None = None, timeout: float = 60.0, *,
                 base_env: Mapping[str, str] | None = None, cwd: Path | None = None,
                 log_file: bool = True) -> ServerProcess:
    """Start `aegent serve` on free ports with `seed` in `data_dir`, and wait until it
    answers /health. It stops by itself once this process has gone (`parent_pid`).

    Args:
        env: environment variables (settings: `AEGENT_*`) over `base_env`.
        base_env: the child's environment before `env` (default: this process's).
        cwd: its working folder, where relative paths in its settings start (default:
            SOURCE_ROOT). Its `server` package is the one beside this `agents` either way
            (`-P`: never one in `cwd`).
        log_file: its output goes to `data_dir/server.log`, as JSON lines (False: to this
            process's stdout and stderr).

    Raises:
        RuntimeError: it exited or did not answer in time (with the end of its log).
    """
    port = free_port()
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "server.log" if log_file else None
    # -P: not a `server` package in the working folder (if it has one), but SOURCE_ROOT's
    cmd = [sys.executable, "-P", "-m", "server.cli", "serve", "--port", str(port),
           "--telnet-port", "0", "--data-dir", str(data_dir), "--seed", str(seed),
           *(["--log-json"] if log is not None else []), *extra]
    # It stops once this process is gone, even killed (server setting parent_pid).
    child_env = {**(os.environ if base_env is None else base_env),
                 "AEGENT_PARENT_PID": str(os.getpid()), **(env or {})}
    if (SOURCE_ROOT / "pyproject.toml").is_file():  # a source tree, maybe not installed
        child_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(SOURCE_ROOT), child_env.get("PYTHONPATH", "")) if p)
    out = open(log, "ab") if log is not None else None  # noqa: SIM115 - the child writes to it
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT if out is not None else None,
                                env=child_env, cwd=cwd or SOURCE_ROOT)
    finally:
        if out is not None:
            out.close()
    try:
        return _wait_until_healthy(proc, port, data_dir, log, timeout)
    except BaseException:  # it is not left behind: killed (if still running) and waited for
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        raise


def _wait_until_healthy(proc: subprocess.Popen[bytes], port: int, data_dir: Path,
                        log: Path | None, timeout: float) -> ServerProcess:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}{_log_end(log)}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                if json.loads(r.read()).get("ok"):
                    return ServerProcess(port, data_dir, proc, log)
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the server did not answer within {timeout} s{_log_end(log)}")


def _log_end(log: Path | None, lines: int = 20) -> str:
    """The end of a child server's log, for an error message (its folder may be gone
    by the time someone reads the message)."""
    if log is None:
        return " (its output is above)"
    try:
        text = log.read_text(encoding="utf-8", errors="replace").rstrip()
    except OSError:
        return ""
    tail = "\n".join(text.splitlines()[-lines:])
    return f"; {log} ends with:\n{tail}" if tail else f"; {log} is empty"


def report(stats: Sequence[AgentStats], seconds: float, policy: str, seed: int
           ) -> dict[str, Any]:
    """The evaluation's figures, per agent and in all."""
    hours = max(seconds, 1e-9) / 3600
    rows: list[dict[str, Any]] = []
    for st in stats:
        gained = max(0, st.level - st.start_level) if st.start_level else 0
        xp_gained = st.xp - (st.start_xp or 0)
        rows.append({
            "agent": st.name, "class": st.cls, "start_level": st.start_level,
            "level": st.level, "levels_gained": gained, "xp_gained": xp_gained,
            "xp_per_hour": round(xp_gained / hours), "deaths": st.deaths, "kills": st.kills,
            "rooms": len(st.rooms), "quests": st.quests, "tokens": st.tokens,
            "tokens_per_level": round(st.tokens / gained) if gained else None,
            "actions": st.actions, "refused": st.refused,
            "longest_stall_s": round(st.longest_stall), "stuck": st.longest_stall > STALL,
            "level_times_s": {str(k): v for k, v in sorted(st.level_times.items())},
            "error": st.error, "reconnects": st.reconnects, "missed_events": st.missed,
        })
    rtts = sorted(x for st in stats for x in st.rtts)

    def pct(p: float) -> float | None:
        if not rtts:
            return None
        return round(1000 * rtts[min(len(rtts) - 1, int(p / 100 * len(rtts)))], 2)

    levels = [r["levels_gained"] for r in rows]
    total_gained = sum(levels)
    tokens = sum(r["tokens"] for r in rows)
    return {
        "policy": policy, "seed": seed, "agents": len(rows), "seconds": round(seconds),
        "levels_gained_mean": round(statistics.mean(levels), 2) if levels else 0,
        "final_level_min": min((r["level"] for r in rows), default=0),
        "final_level_max": max((r["level"] for r in rows), default=0),
        "xp_per_hour_mean": round(statistics.mean(r["xp_per_hour"] for r in rows)) if rows else 0,
        "deaths": sum(r["deaths"] for r in rows), "rooms_mean": round(
            statistics.mean(r["rooms"] for r in rows), 1) if rows else 0,
        "quests": sum(r["quests"] for r in rows), "tokens": tokens,
        "tokens_per_level": round(tokens / total_gained) if total_gained else None,
        "stuck": sum(1 for r in rows if r["stuck"]),
        "rtt_ms": {"p50": pct(50), "p90": pct(90), "p99": pct(99), "n": len(rtts)},
        "rows": rows,
    }


def report_table(rep: dict[str, Any]) -> list[str]:
    """The report as a plain text table (Markdown)."""
    lines = [
        "| agent | class | level | levels gained | XP/hour | deaths | rooms | quests "
        "| tokens/level | reached level at (s) | longest stall (s) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for r in rep["rows"]:
        times = ", ".join(f"{k}: {v:.0f}" for k, v in r["level_times_s"].items()
                          if int(k) > r["start_level"])
        tpl = "-" if r["tokens_per_level"] is None else str(r["tokens_per_level"])
        lines.append(f"| {r['agent']} | {r['class']} | {r['level']} | {r['levels_gained']} "
                     f"| {r['xp_per_hour']} | {r['deaths']} | {r['rooms']} | {r['quests']} "
                     f"| {tpl} | {times or '-'} | {r['longest_stall_s']} |")
    tpl = "-" if rep["tokens_per_level"] is None else str(rep["tokens_per_level"])
    lines.append(f"| **all** | | {rep['final_level_min']}..{rep['final_level_max']} "
                 f"| {rep['levels_gained_mean']} (mean) | {rep['xp_per_hour_mean']} (mean) "
                 f"| {rep['deaths']} | {rep['rooms_mean']} (mean) | {rep['quests']} | {tpl} "
                 f"| | stuck: {rep['stuck']} |")
    return lines


def plot_svg(stats: Sequence[AgentStats], seconds: float, title: str) -> str:
    """Level over time per agent, as a small hand-made SVG (steps at each level gained)."""
    w, h, left, bottom, top, right = 720, 360, 50, 40, 30, 150
    top_level = max([st.level for st in stats] + [2])
    span = max(seconds, 1.0)

    def x(t: float) -> float:
        return left + (w - left - right) * min(t, span) / span

    def y(level: float) -> float:
        return h - bottom - (h - bottom - top) * (level - 1) / max(1, top_level - 1)

    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
               "#17becf", "#7f7f7f", "#bcbd22"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">',
           f"<title>{_esc(title)}</title>",
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{left}" y="18" font-size="14">{_esc(title)}</text>']
    for lv in range(1, top_level + 1):
        out.append(f'<line x1="{left}" y1="{y(lv):.1f}" x2="{w - right}" y2="{y(lv):.1f}" '
                   'stroke="#ddd"/>')
        out.append(f'<text x="{left - 8}" y="{y(lv) + 4:.1f}" text-anchor="end">{lv}</text>')
    ticks = 6
    for i in range(ticks + 1):
        t = span * i / ticks
        out.append(f'<text x="{x(t):.1f}" y="{h - bottom + 16}" text-anchor="middle">'
                   f"{t / 60:.0f}</text>")
    out.append(f'<text x="{(left + w - right) / 2}" y="{h - 6}" text-anchor="middle">'
               "minutes</text>")
    out.append(f'<text x="14" y="{(h - bottom + top) / 2}" transform="rotate(-90 14 '
               f'{(h - bottom + top) / 2})" text-anchor="middle">level</text>')
    for n, st in enumerate(stats):
        colour = colours[n % len(colours)]
        pts: list[tuple[float, float]] = []
        times = sorted((t, lv) for lv, t in st.level_times.items())
        level = times[0][1] if times else 1
        pts.append((x(0), y(level)))
        for t, lv in times[1:]:
            pts.append((x(t), y(level)))
            pts.append((x(t), y(lv)))
            level = lv
        pts.append((x(span), y(level)))
        d = " ".join(f"{px:.1f},{py + (n % 5) * 0.8:.1f}" for px, py in pts)
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{d}"/>')
        ly = top + 14 * n
        out.append(f'<line x1="{w - right + 10}" y1="{ly}" x2="{w - right + 30}" y2="{ly}" '
                   f'stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{w - right + 35}" y="{ly + 4}">{_esc(st.name)} '
                   f"({_esc(st.cls)})</text>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


MARK_START = "<!-- scripted-baseline:start -->"
MARK_END = "<!-- scripted-baseline:end -->"


def write_docs(path: Path, rep: dict[str, Any], command: str, plot: str) -> None:
    """Put the figures in `path` between the markers (added at the end if missing)."""
    body = [MARK_START, "", f"Measured with `{command}` "
            f"({time.strftime('%Y-%m-%d')}, policy {rep['policy']}, seed {rep['seed']}, "
            f"{rep['agents']} agents, {rep['seconds']} s of play):", "",
            *report_table(rep), "",
            f"Command round trip seen by the agents (call to result): p50 "
            f"{rep['rtt_ms']['p50']} ms, p99 {rep['rtt_ms']['p99']} ms over "
            f"{rep['rtt_ms']['n']} calls.", "", f"![Level over time per agent]({plot})", "",
            MARK_END]
    text = path.read_text(encoding="utf-8") if path.exists() else "# Agents\n"
    if MARK_START in text and MARK_END in text:
        head, rest = text.split(MARK_START, 1)
        _, tail = rest.split(MARK_END, 1)
        text = head + "\n".join(body) + tail
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(body) + "\n"
    path.write_text(text, encoding="utf-8")


def _replay_args(argv: Sequence[str]) -> list[str]:
    """The flags of an eval that matter to its figures (not where its files went)."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in ("--out", "--write-docs", "--status-every"):
            skip = "=" not in arg
            continue
        if name == "--quiet":
            continue
        out.append(arg)
    return out


def eval_command(args: argparse.Namespace) -> int:
    """`aegent agents eval`."""
    out_dir = Path(args.out) if args.out else Path("data") / "agents" / time.strftime(
        "eval-%Y%m%d-%H%M%S")
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="aegent-eval-"))
    factory = make_policy_factory(args.policy, args.model, args.seed)
    log_file = configure_logging(out_dir / "agents.log")
    server = start_server(args.seed, tmp / "server", env=PRIVATE_SERVER_ENV)
    print(f"aegent: server pid {server.proc.pid} on {server.url} (seed {args.seed}, data "
          f"{tmp})", file=sys.stderr)
    cfg = RunConfig(url=server.url, policy=args.policy, count=args.count, model=args.model,
                    duration=args.duration, data_dir=tmp, name_prefix=args.name_prefix,
                    classes=tuple(c.strip() for c in args.classes.split(",") if c.strip()),
                    quiet=args.quiet, status_every=args.status_every, min_interval=args.pace,
                    seed=args.seed, until_level=args.until_level)
    t0 = time.monotonic()

    try:
        stats = asyncio.run(_play_until_signal(cfg, factory))
    finally:
        seconds = time.monotonic() - t0
        server.stop()
        log_file.close()
    rep = report(stats, seconds, args.policy, args.seed)
    (out_dir / "report.json").write_text(json.dumps(rep, indent=1), encoding="utf-8")
    plot = out_dir / "levels.svg"
    plot.write_text(plot_svg(stats, seconds, f"{args.policy} policy: level over time "
                                             f"({args.count} agents, seed {args.seed})"),
                    encoding="utf-8")
    for line in report_table(rep):
        print(line)
    print(f"\nround trip p50 {rep['rtt_ms']['p50']} ms, p99 {rep['rtt_ms']['p99']} ms; "
          f"report {out_dir / 'report.json'}, plot {plot}")
    if args.write_docs:
        docs = Path(args.write_docs)
        img = docs.parent / "img" / f"agents-{args.policy}-baseline.svg"
        img.parent.mkdir(parents=True, exist_ok=True)
        img.write_text(plot.read_text(encoding="utf-8"), encoding="utf-8")
        command = " ".join(["aegent", "agents", "eval", *_replay_args(sys.argv[3:])])
        write_docs(docs, rep, command, os.path.relpath(img, docs.parent))
        print(f"wrote the figures into {docs}")
    return 0
