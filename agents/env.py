"""Research environments: `AegentEnv` (Gymnasium) and `AegentParallelEnv` (PettingZoo).

Both play characters over the public protocol (agents/client.py), as every agent does.

- `reset(seed=...)` starts a fresh world of that seed with one character (`AegentEnv`)
  or N (`AegentParallelEnv(num_agents=N)`): by default a server of its own, `aegent
  serve` as a child process (in lockstep, on free loopback ports, with a temporary data
  dir; `_World`), stopped with the episode, so `AegentEnv()` needs nothing else. Given
  `url`, the characters log in to that server instead (registering on first use) and
  the seed only seeds the env's own choices. Either way the env is a client of the
  protocol and nothing more: it imports nothing of server/.
- A step sends each agent's action, one agent after the other in a fixed order and
  each waiting for its result, then advances the world `ticks_per_step` ticks of world
  time (the `advance` message: as fast as the CPU allows), then asks each agent's
  `observe`. A server that runs on the clock (no lockstep) is waited for in real time.
- An observation is `{"text": ..., "observation": ...}`: the text a person would have
  read since the last step (the events' text, then a refusal's message), and the
  server's `observe` answer (the snapshot and the admissible actions) as JSON. `info`
  has the same answer as data (`observation`), the events as data (`events`), what
  became of the action (`outcome`), the admissible command lines (`admissible`), the
  world's tick (`tick`, `episode_ticks`) and the parts of the reward (`reward`).
- An action is a command line as a person types it (a `str`; "" does nothing this
  step) or a tool call `{"tool": "kill", "args": {"target": "rat"}}`. `quit` and
  `password` are refused here: an episode ends by itself.
- The reward weighs (`Rewards`) the XP gained (net of XP lost), the quest steps done
  (`quest_progressed`, `quest_completed`) and deaths. Episodes are truncated after
  `max_ticks` world ticks; nothing in the world terminates one.
- `PolicyAgent` plays an agents/ policy (`ScriptedPolicy`, the LLM policy) through
  either env, from the `info` of each step.

In lockstep the world is a function of its seed and its inputs in order, so the same
seed and the same actions give the same observations (the server's own reports, such
as `stats`, aside). Text a person could read that the space's charset lacks (chat in
other scripts) is folded to its closest ASCII or Latin-1 letters, else `?`.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import secrets
import shutil
import string
import tempfile
import threading
import unicodedata
import weakref
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from agents.client import ClientError, Credentials, GameClient
from agents.contracts import Action, Observation, Outcome, Policy
from agents.observation import Tracker
from agents.runner import PRIVATE_SERVER_ENV, ServerProcess, agent_name, start_server
from agents.scripted import ScriptedPolicy

T = TypeVar("T")
ActionLike = str | Mapping[str, Any] | None
_Parsed = tuple[str | None, dict[str, Any], str]  # (tool, args, line)
Obs = dict[str, Any]  # {"text": str, "observation": str}

TICK_HZ = 10.0
TEXT_MAX = 1 << 16  # characters of text per observation (the latest kept)
JSON_MAX = 1 << 20  # characters of the observation's JSON
ACTION_MAX = 256
_ASCII = "".join(chr(c) for c in range(32, 127))
TEXT_CHARSET = frozenset(_ASCII + "\n" + "".join(chr(c) for c in range(0xA1, 0x100))
                         + "\u2013\u2014\u2018\u2019\u201c\u201d\u2022\u2026\u20ac")
"""What the game prints: printable ASCII, newlines, Latin-1 and typographic punctuation."""
JSON_CHARSET = frozenset(_ASCII + "\x7f")  # json.dumps(ensure_ascii=True) writes only these
ACTION_CHARSET = frozenset(string.ascii_letters + string.digits + string.punctuation + " ")
REFUSED_HERE = frozenset({"quit", "password"})  # they would end or lock the connection
REQUEST_TIMEOUT = 600.0  # seconds an answer may take (a long advance)
WORLD_START_TIMEOUT = 60.0  # seconds a world's server may take to answer
WORLD_STOP_TIMEOUT = 20.0  # seconds it may take to save and exit before it is killed

WORLD_SETTINGS: dict[str, str] = {
    "AEGENT_LOCKSTEP": "true",  # the world ticks only on `advance` (server/host/lockstep.py)
    "AEGENT_FANOUT_DELAY": "0",  # others' events go out at once, before the next step
    "AEGENT_ARGON2_TIME_COST": "1",  # the characters' passwords guard nothing here
    "AEGENT_ARGON2_MEMORY_KIB": "1024",
    "AEGENT_RATE": "1000000",  # the env waits for each answer: no flood to hold back
    "AEGENT_BURST": "10000",
    **PRIVATE_SERVER_ENV,  # every character connects and registers from 127.0.0.1
}
"""The settings of an env's own world over the server's defaults, as `AEGENT_*`
environment variables (`server_settings` win over these)."""
SERVER_ENV_ALIASES = ("DATABASE_URL", "QDRANT_URL")
"""Settings the server also reads without the `AEGENT_` prefix (server/config.py)."""


@dataclass(frozen=True, slots=True)
class Rewards:
    """The weights of the reward: per XP point gained (XP lost counts against), per
    quest step done (each `quest_progressed` and `quest_completed`), per death."""

    xp: float = 1.0
    quest_step: float = 50.0
    death: float = -200.0

    def score(self, parts: Mapping[str, int]) -> float:
        """The reward of one step from its parts (`xp`, `quest_steps`, `deaths`)."""
        return float(self.xp * parts["xp"] + self.quest_step * parts["quest_steps"]
                     + self.death * parts["deaths"])


def clean_text(text: str) -> str:
    """`text` as a member of the text space: other characters folded to the closest
    letters of `TEXT_CHARSET` (é stays, ő becomes o), else `?`; a tab becomes a space;
    only the last `TEXT_MAX` characters are kept."""
    if not TEXT_CHARSET.issuperset(text):
        out: list[str] = []
        for ch in text:
            if ch in TEXT_CHARSET:
                out.append(ch)
            elif ch in "\t\r":
                out.append(" " if ch == "\t" else "")
            else:
                folded = "".join(c for c in unicodedata.normalize("NFKD", ch)
                                 if c in TEXT_CHARSET)
                out.append(folded or "?")
        text = "".join(out)
    return text[-TEXT_MAX:]


def observation_space() -> spaces.Dict:
    """The space of one agent's observations."""
    return spaces.Dict({
        "text": spaces.Text(TEXT_MAX, min_length=0, charset=TEXT_CHARSET),
        "observation": spaces.Text(JSON_MAX, min_length=0, charset=JSON_CHARSET),
    })


def action_space() -> spaces.Text:
    """The space of one agent's command lines (a tool call, a dict, is taken as well)."""
    return spaces.Text(ACTION_MAX, min_length=0, charset=ACTION_CHARSET)


# ---- the world and the connections behind an env ------------------------------------


class _Loop:
    """An event loop in a thread of its own: the clients' connections live there, so that
    they keep answering pings between two steps, and `run` works from any caller."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="aegent-env",
                                       daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close(self) -> None:
        self.run(self._cancel_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    @staticmethod
    async def _cancel_rest() -> None:
        me = asyncio.current_task()
        rest = [t for t in asyncio.all_tasks() if t is not me]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)


@dataclass(slots=True)
class _Player:
    """One character of the env: its connection and what the current step brought."""

    name: str
    cls: str
    client: GameClient | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)  # events not taken yet
    events: list[dict[str, Any]] = field(default_factory=list)  # this step's
    lines: list[str] = field(default_factory=list)  # this step's text
    outcome: dict[str, Any] | None = None
    observation: dict[str, Any] = field(default_factory=dict)

    def take(self) -> None:
        """Move the events received so far into this step, in order."""
        got, self.pending = self.pending, []
        for ev in got:
            self.events.append(ev)
            text = ev.get("text")
            if isinstance(text, str) and text:
                self.lines.append(text)

    def start_step(self) -> None:
        self.events, self.lines, self.outcome = [], [], None

    def parts(self) -> dict[str, int]:
        """This step's reward parts, from its events."""
        xp = steps = deaths = 0
        for ev in self.events:
            name, data = ev.get("name"), ev.get("data") or {}
            if name == "xp_gained":
                xp += int(data.get("amount") or 0)
            elif name == "xp_lost":
                xp -= int(data.get("amount") or 0)
            elif name in ("quest_progressed", "quest_completed"):
                steps += 1
            elif name == "died" and data.get("actor") == self.name:
                deaths += 1
        return {"xp": xp, "quest_steps": steps, "deaths": deaths}


class _World:
    """A world of its own for one episode: `aegent serve` as a child process, seeded, in
    lockstep, on free loopback ports, with a temporary data dir; spoken to over the
    protocol only, as any server.

    Its settings are `WORLD_SETTINGS` and `server_settings` (a name of server/config.py
    each: `{"tick_hz": 20}` is `AEGENT_TICK_HZ=20`), as environment variables, and
    nothing from this process's own `AEGENT_*` variables or `aegent.toml`. They are also
    written to the folder's `settings.toml`, the child's `AEGENT_CONFIG`: the server
    refuses a name it does not know there (an unknown variable it would ignore), so a
    misspelt setting fails the reset instead of passing unnoticed.

    `stop()` (also when the `_World` is dropped, and at exit) ends the child, SIGTERM
    then SIGKILL, waits for it, and removes the folder.
    """

    def __init__(self, seed: int, quiet: bool, settings: Mapping[str, Any]) -> None:
        env = _world_env(settings, quiet)  # a bad value: ValueError before anything starts
        folder = Path(tempfile.mkdtemp(prefix="aegent-env-"))
        try:
            config = folder / "settings.toml"
            config.write_text(_settings_toml(settings), encoding="utf-8")
            env["AEGENT_CONFIG"] = str(config)
            self.server = start_server(seed, folder / "data", env=env, base_env=_base_env(),
                                       timeout=WORLD_START_TIMEOUT, cwd=Path.cwd(),
                                       log_file=quiet)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        self.url = self.server.url
        self.stop = weakref.finalize(self, _end_world, self.server, folder)


def _end_world(server: ServerProcess, folder: Path) -> None:
    try:
        server.stop(WORLD_STOP_TIMEOUT)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _base_env() -> dict[str, str]:
    """This process's environment without the server's settings (`AEGENT_*`,
    `DATABASE_URL`, `QDRANT_URL`): an env's world is what the env says, not what the
    shell it runs in happens to set."""
    return {k: v for k, v in os.environ.items()
            if not k.upper().startswith("AEGENT_") and k.upper() not in SERVER_ENV_ALIASES}


def _world_env(settings: Mapping[str, Any], quiet: bool) -> dict[str, str]:
    """The `AEGENT_*` variables of an env's world: `WORLD_SETTINGS`, warnings only if
    `quiet`, then `settings` (None: the server's own default).

    Raises:
        ValueError: a name that cannot be a setting's, or a value of another type than
            str, int, float, bool, Path or None.
    """
    env = dict(WORLD_SETTINGS)
    if quiet:
        env["AEGENT_LOG_LEVEL"] = "warning"
    for name, value in settings.items():
        var = "AEGENT_" + _setting_name(name).upper()
        if value is None:
            env.pop(var, None)
        else:
            env[var] = _env_value(name, value)
    return env


def _settings_toml(settings: Mapping[str, Any]) -> str:
    """`settings` (checked by `_world_env`) as a TOML file (see `_World`)."""
    lines = ["# server_settings of an env's world (agents/env.py); AEGENT_* win over these"]
    for name, value in settings.items():
        if value is None:
            continue
        if isinstance(value, bool | int | float):
            text = _env_value(name, value) if isinstance(value, bool) else repr(value)
        else:  # str or Path
            text = json.dumps(_env_value(name, value), ensure_ascii=False)
        lines.append(f"{name} = {text}")
    return "\n".join(lines) + "\n"


def _setting_name(name: object) -> str:
    if not isinstance(name, str) or not name.isidentifier() or name != name.lower():
        raise ValueError(f"server_settings: {name!r} is not a setting's name "
                         "(server/config.py, e.g. 'tick_hz')")
    return name


def _env_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Path):
        return str(value.resolve())  # relative to this process's folder, as it meant
    if isinstance(value, int | float | str):
        return str(value)
    raise ValueError(f"server_settings[{name!r}]: a str, int, float, bool, Path or None, "
                     f"not {type(value).__name__}")


class _Runtime:
    """The world (a server of its own, or `url`), the players' connections, and the
    step: act, advance, observe (see the module docstring)."""

    def __init__(self, names: Sequence[str], classes: Sequence[str], url: str | None,
                 password: str | None, max_ticks: int, ticks_per_step: int, tick_hz: float,
                 quiet: bool, server_settings: Mapping[str, Any] | None) -> None:
        if max_ticks < 1 or ticks_per_step < 1:
            raise ValueError("max_ticks and ticks_per_step must be at least 1")
        if not classes:
            raise ValueError("classes must name at least one class")
        self.players = [_Player(n, classes[i % len(classes)]) for i, n in enumerate(names)]
        self.url = url
        self.password = password or secrets.token_urlsafe(18)
        self.max_ticks = max_ticks
        self.ticks_per_step = ticks_per_step
        self.tick_hz = tick_hz
        self.quiet = quiet
        self.server_settings = dict(server_settings or {})
        self.world: _World | None = None  # the episode's own server (no `url`)
        self.loop: _Loop | None = None
        self.tick = 0  # the world's tick count
        self.episode_ticks = 0
        self.realtime = False  # the server runs on the clock: steps wait in real time

    # ---- life cycle ---------------------------------------------------------------

    def start(self, seed: int) -> None:
        """A fresh world of `seed` (a server of its own) or a new connection to `url`,
        and every player logged in, one after the other."""
        self.stop()
        url = self.url
        if url is None:
            self.world = _World(seed, self.quiet, self.server_settings)
            url = self.world.url
        self.loop = _Loop()
        self.tick = self.episode_ticks = 0
        self.realtime = False
        self.loop.run(self._log_in(url))

    async def _log_in(self, url: str) -> None:
        for p in self.players:
            p.pending, p.observation = [], {}
            p.start_step()
            p.client = GameClient(url, Credentials(p.name, self.password, p.cls),
                                  request_timeout=REQUEST_TIMEOUT)
            p.client.on_frame = self._collector(p)
            await p.client.connect()
        await self._observe_all()

    @staticmethod
    def _collector(p: _Player) -> Callable[[dict[str, Any]], None]:
        def collect(msg: dict[str, Any]) -> None:
            if msg.get("type") == "event":
                p.pending.append(msg)
        return collect

    def stop(self) -> None:
        """Close the connections and stop the world's server (if its own)."""
        loop, self.loop = self.loop, None
        try:
            if loop is not None:
                loop.run(self._close_clients())
                loop.close()
        finally:
            world, self.world = self.world, None
            if world is not None:
                world.stop()

    async def _close_clients(self) -> None:
        for p in self.players:
            if p.client is not None:
                await p.client.close()
                p.client = None

    # ---- a step -------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.episode_ticks >= self.max_ticks

    def step(self, actions: Mapping[str, ActionLike]) -> None:
        """Each player acts (in order), the world advances, each player observes."""
        if self.loop is None:
            raise RuntimeError("call reset() first")
        parsed = {p.name: _parse_action(actions.get(p.name)) for p in self.players}
        self.loop.run(self._step(parsed))

    async def _step(self, actions: Mapping[str, _Parsed]) -> None:
        for p in self.players:
            p.start_step()
            p.take()  # what came between two steps (a server on the clock)
            await self._act(p, *actions[p.name])
        await self._advance(min(self.ticks_per_step, self.max_ticks - self.episode_ticks))
        await self._observe_all()

    async def _act(self, p: _Player, tool: str | None, args: dict[str, Any], line: str
                   ) -> None:
        assert p.client is not None
        if tool is None and not line:
            return
        word = (tool or line.split()[0]).lower()
        if word in REFUSED_HERE:
            message = f"'{word}' is not an action here: an episode ends by itself."
            p.outcome = {"ok": False, "code": "refused_by_env", "message": message}
            p.lines.append(message)
            return
        result = await (p.client.call(tool, args) if tool is not None
                        else p.client.command(line))
        p.take()  # the events up to the result, in order
        p.outcome = {"ok": result.ok, "code": result.code, "message": result.message}
        if not result.ok and result.message:
            p.lines.append(result.message)  # as a person reads a refusal

    async def _advance(self, ticks: int) -> None:
        clock = self.players[0].client
        assert clock is not None
        if ticks <= 0:  # stepped past the end: the actions apply, no time passes
            return
        if not self.realtime:
            try:
                self.tick = await clock.advance(ticks)
            except ClientError as exc:
                if exc.code != "lockstep_off":
                    raise
                self.realtime = True
        if self.realtime:
            await asyncio.sleep(ticks / self.tick_hz)
            self.tick += ticks
        self.episode_ticks += ticks

    async def _observe_all(self) -> None:
        # An `observe` answer comes after every event sent before it on that connection:
        # the events taken after it are all those of the step.
        for p in self.players:
            assert p.client is not None
            reply = await p.client.observe()
            p.take()
            p.observation = {k: v for k, v in reply.items() if k not in ("type", "id")}

    # ---- what the env returns ------------------------------------------------------

    def obs(self, p: _Player) -> Obs:
        return {"text": clean_text("\n".join(p.lines)),
                "observation": json.dumps(p.observation, ensure_ascii=True,
                                          separators=(",", ":"))}

    def info(self, p: _Player, parts: Mapping[str, int]) -> dict[str, Any]:
        observation = copy.deepcopy(p.observation)
        return {
            "tick": self.tick,
            "episode_ticks": self.episode_ticks,
            "observation": observation,
            "admissible": [str(a.get("line")) for a in observation.get("actions") or []
                           if isinstance(a, dict) and a.get("line")],
            "events": copy.deepcopy(p.events),
            "outcome": dict(p.outcome) if p.outcome is not None else None,
            "reward": dict(parts),
        }


def _parse_action(action: ActionLike) -> _Parsed:
    """(tool, args, line) of an action; ValueError for something that is neither a line
    nor a tool call."""
    if action is None:
        return None, {}, ""
    if isinstance(action, str):
        return None, {}, action.strip()
    if isinstance(action, Mapping):
        tool, args = action.get("tool"), action.get("args", {})
        if not isinstance(tool, str) or not tool or not isinstance(args, Mapping):
            raise ValueError('a tool call is {"tool": str, "args": {...}}')
        return tool, dict(args), ""
    raise ValueError(f"an action is a command line (str) or a tool call (dict), not "
                     f"{type(action).__name__}")


def _world_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def _render(runtime: _Runtime | None, mode: str | None, many: bool) -> str | None:
    if mode is None or runtime is None:
        return None
    if many:
        text = "\n".join(f"== {p.name} ==\n" + "\n".join(p.lines) for p in runtime.players)
    else:
        text = "\n".join(runtime.players[0].lines)
    if mode == "human":
        print(text)
        return None
    return text


METADATA: dict[str, Any] = {"render_modes": ["human", "ansi"], "render_fps": 10}


# ---- Gymnasium ------------------------------------------------------------------------


class AegentEnv(gym.Env[Obs, ActionLike]):
    """One character in a world of its own (see the module docstring).

    Args:
        url: a server's WebSocket URL (None: a server of its own per episode).
        max_ticks: the episode's length in world ticks (18,000: 30 minutes at 10 Hz).
        ticks_per_step: world ticks per step.
        rewards: the reward's weights.
        cls: the character's class.
        name: the character's name (letters only).
        password: its password on `url` (default: a random one for this env).
        render_mode: "ansi" (`render()` returns the step's text) or "human" (prints it).
        tick_hz: the server's ticks per second (waiting in real time, without lockstep).
        quiet: keep its own server's log to warnings, in its data dir (False: its log
            goes to this process's stdout and stderr).
        server_settings: more settings of its own server, by name (server/config.py:
            `{"tick_hz": 20}`); str, int, float, bool, Path or None (the default) each.
    """

    metadata = METADATA

    def __init__(self, url: str | None = None, *, max_ticks: int = 18_000,
                 ticks_per_step: int = 10, rewards: Rewards | None = None,
                 cls: str = "warrior", name: str = "Agentaa", password: str | None = None,
                 render_mode: str | None = None, tick_hz: float = TICK_HZ, quiet: bool = True,
                 server_settings: Mapping[str, Any] | None = None) -> None:
        if render_mode is not None and render_mode not in METADATA["render_modes"]:
            raise ValueError(f"render_mode must be one of {METADATA['render_modes']}")
        self.render_mode = render_mode
        self.rewards = rewards or Rewards()
        self.observation_space = observation_space()
        self.action_space = action_space()
        self._runtime = _Runtime([name], [cls], url, password, max_ticks, ticks_per_step,
                                 tick_hz, quiet, server_settings)
        # An env dropped without close() stops its world (at exit its thread just ends;
        # its world's server is stopped then by the world's own finalizer).
        weakref.finalize(self, self._runtime.stop).atexit = False
        self._started = False

    @property
    def name(self) -> str:
        """The character's name."""
        return self._runtime.players[0].name

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[Obs, dict[str, Any]]:
        """A fresh world (the seed's, else one drawn from the env's generator)."""
        super().reset(seed=seed)
        self._runtime.start(seed if seed is not None else _world_seed(self.np_random))
        self._started = True
        p = self._runtime.players[0]
        return self._runtime.obs(p), self._runtime.info(p, p.parts())

    def step(self, action: ActionLike) -> tuple[Obs, float, bool, bool, dict[str, Any]]:
        """Act, advance `ticks_per_step` world ticks, observe."""
        rt = self._runtime
        if not self._started:
            raise RuntimeError("call reset() first")
        rt.step({rt.players[0].name: action})
        p = rt.players[0]
        parts = p.parts()
        return rt.obs(p), self.rewards.score(parts), False, rt.done, rt.info(p, parts)

    def render(self) -> str | None:
        """The text of the last step (see `render_mode`)."""
        return _render(self._runtime if self._started else None, self.render_mode, False)

    def close(self) -> None:
        """Close the connection and stop its own server (closing twice is fine)."""
        self._runtime.stop()
        self._started = False


gym.register(id="AegentQuest-v0", entry_point="agents.env:AegentEnv")


# ---- PettingZoo ---------------------------------------------------------------------------


class AegentParallelEnv(ParallelEnv):  # type: ignore[misc]  # pettingzoo has no types
    """N characters in one world, acting at once (see the module docstring). The agents'
    ids are their characters' names (`Agentaa`, `Agentab`...).

    Args:
        num_agents: how many characters.
        url: a server's WebSocket URL (None: a server of its own per episode).
        classes: their classes, in turn (("warrior", "cleric"): a warrior, a cleric...).
        name_prefix: the names' start (letters only).
        other arguments: as `AegentEnv`'s.
    """

    metadata = {**METADATA, "name": "aegent_quest_v0", "is_parallelizable": True}

    def __init__(self, num_agents: int = 2, url: str | None = None, *,
                 max_ticks: int = 18_000, ticks_per_step: int = 10,
                 rewards: Rewards | None = None, classes: Sequence[str] = ("warrior",),
                 name_prefix: str = "Agent", password: str | None = None,
                 render_mode: str | None = None, tick_hz: float = TICK_HZ, quiet: bool = True,
                 server_settings: Mapping[str, Any] | None = None) -> None:
        if num_agents < 1:
            raise ValueError("num_agents must be at least 1")
        if render_mode is not None and render_mode not in METADATA["render_modes"]:
            raise ValueError(f"render_mode must be one of {METADATA['render_modes']}")
        self.render_mode = render_mode
        self.rewards = rewards or Rewards()
        self.possible_agents = [agent_name(name_prefix, n) for n in range(num_agents)]
        self.agents: list[str] = []
        self._obs_spaces = {a: observation_space() for a in self.possible_agents}
        self._act_spaces = {a: action_space() for a in self.possible_agents}
        self._runtime = _Runtime(self.possible_agents, list(classes), url, password,
                                 max_ticks, ticks_per_step, tick_hz, quiet, server_settings)
        # An env dropped without close() stops its world (at exit its thread just ends;
        # its world's server is stopped then by the world's own finalizer).
        weakref.finalize(self, self._runtime.stop).atexit = False
        self._rng = np.random.default_rng()
        self._started = False

    def observation_space(self, agent: str) -> spaces.Dict:
        """The agent's observation space (the same object each time)."""
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> spaces.Text:
        """The agent's action space (the same object each time)."""
        return self._act_spaces[agent]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[str, Obs], dict[str, dict[str, Any]]]:
        """A fresh world (the seed's, else one drawn from the env's generator) with every
        agent in it."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        rt = self._runtime
        rt.start(seed if seed is not None else _world_seed(self._rng))
        self._started = True
        self.agents = list(self.possible_agents)
        return ({p.name: rt.obs(p) for p in rt.players},
                {p.name: rt.info(p, p.parts()) for p in rt.players})

    def step(self, actions: Mapping[str, ActionLike]) -> tuple[
            dict[str, Obs], dict[str, float], dict[str, bool], dict[str, bool],
            dict[str, dict[str, Any]]]:
        """Every agent acts (in the order of `possible_agents`; one missing from
        `actions` does nothing), the world advances, every agent observes."""
        rt = self._runtime
        if not self._started or not self.agents:
            raise RuntimeError("no episode under way: call reset() first")
        rt.step(actions)
        obs: dict[str, Obs] = {}
        rewards: dict[str, float] = {}
        infos: dict[str, dict[str, Any]] = {}
        for p in rt.players:
            parts = p.parts()
            obs[p.name] = rt.obs(p)
            rewards[p.name] = self.rewards.score(parts)
            infos[p.name] = rt.info(p, parts)
        done = rt.done
        terminations = dict.fromkeys(self.agents, False)
        truncations = dict.fromkeys(self.agents, done)
        if done:
            self.agents = []
        return obs, rewards, terminations, truncations, infos

    def render(self) -> str | None:
        """The text of the last step, per agent (see `render_mode`)."""
        return _render(self._runtime if self._started else None, self.render_mode, True)

    def close(self) -> None:
        """Close the connections and stop its own server (closing twice is fine)."""
        self._runtime.stop()
        self._started = False
        self.agents = []


# ---- policies through an env ------------------------------------------------------------


class WorldClock:
    """World time in seconds, as of the last step an agent saw (a policy's `clock`)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class PolicyAgent:
    """Plays an agents/ policy through either env: each step's `info` is folded into the
    `Observation` the policy expects (agents/observation.py, as `aegent agents run`
    does), and the policy's first action is returned as a tool call ("" to wait).

    Call it from synchronous code: it runs the policy on an event loop of its own,
    closed by `close()` or when the agent is garbage-collected.

    Args:
        policy: what decides.
        name: the character's name (the env's `name`, or the agent's id).
        clock: set to the world's time at each step (give the same to a policy that
            keeps time, as `scripted` does).
        tick_hz: the world's ticks per second.
    """

    def __init__(self, policy: Policy, name: str, clock: WorldClock | None = None,
                 tick_hz: float = TICK_HZ) -> None:
        self.policy = policy
        self.tracker = Tracker(name)
        self.clock = clock or WorldClock()
        self.tick_hz = tick_hz
        self.last: Action | None = None
        self._loop = asyncio.new_event_loop()
        self._close = weakref.finalize(self, self._loop.close)

    @classmethod
    def scripted(cls, name: str, seed: int | None = None, tick_hz: float = TICK_HZ
                 ) -> PolicyAgent:
        """The scripted baseline (agents/scripted.py), keeping time in world seconds."""
        clock = WorldClock()
        return cls(ScriptedPolicy(seed=seed, clock=clock), name, clock, tick_hz)

    def observation(self, info: Mapping[str, Any]) -> Observation:
        """Fold one step's `info` (a copy of it) and start the policy's turn."""
        self.clock.now = float(info.get("tick") or 0) / self.tick_hz
        self.tracker.fold_all(copy.deepcopy(list(info.get("events") or [])))
        self.tracker.fold({"type": "observation", **copy.deepcopy(dict(info["observation"]))})
        outcomes: list[Outcome] = []
        got = info.get("outcome")
        if self.last is not None and isinstance(got, Mapping):
            outcomes.append(Outcome(self.last, bool(got.get("ok")), str(got.get("code") or ""),
                                    str(got.get("message") or "")))
        return self.tracker.start_turn(outcomes)

    def act(self, info: Mapping[str, Any]) -> ActionLike:
        """The policy's action for the next step, from the last step's `info`."""
        obs = self.observation(info)
        actions = self._loop.run_until_complete(self.policy.decide(obs))
        self.last = actions[0] if actions else None
        if self.last is None:
            return ""
        return {"tool": self.last.tool, "args": dict(self.last.args)}

    def close(self) -> None:
        """Close its event loop (closing twice is fine)."""
        self._close()
