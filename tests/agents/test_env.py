"""The research environments (agents/env.py) against real servers: each episode's own
(`aegent serve`, a child process of the env), or one at a URL (an embedded server).

Both pass their library's own checker (Gymnasium's `check_env`, PettingZoo's
`parallel_api_test`); the same seed and the same actions give the same observations
(in two processes) and another seed does not; actions are lines or tool calls; the
reward counts what the world says happened (XP, deaths); a server URL works, in
lockstep or on the clock. An episode's server goes with it: no process, zombie or
folder is left after the next reset or close; `server_settings` reach it, and a
misspelt one fails the reset. Episodes are short (tens of ticks) so that each test
takes seconds.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium
import psutil
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test

from agents.client import ClientError
from agents.env import AegentEnv, AegentParallelEnv, PolicyAgent, Rewards, clean_text
from server.app import Server
from server.embedded import EmbeddedServer
from world.systems import combat

SMALL: dict[str, Any] = {"max_ticks": 40, "ticks_per_step": 10, "quiet": False}


def test_gymnasium_check_env() -> None:
    env = gymnasium.make("AegentQuest-v0", **SMALL)
    try:
        check_env(env.unwrapped)  # warnings are errors here: it warns of nothing either
    finally:
        env.close()


def test_pettingzoo_parallel_api_test() -> None:
    env = AegentParallelEnv(num_agents=2, classes=("warrior", "cleric"), **SMALL)
    try:
        parallel_api_test(env, num_cycles=10)
    finally:
        env.close()


Trace = list[tuple[str, dict[str, Any], float]]


def scripted_run(seed: int, steps: int = 40) -> tuple[Trace, dict[str, list[dict[str, Any]]]]:
    """Two scripted agents (a warrior, a cleric) in one world of `seed`: every
    observation and reward, in order, and every agent's infos."""
    env = AegentParallelEnv(num_agents=2, classes=("warrior", "cleric"), max_ticks=steps * 10,
                            ticks_per_step=10, quiet=False)
    agents = {a: PolicyAgent.scripted(a, seed=1) for a in env.possible_agents}
    trace: Trace = []
    infos_seen: dict[str, list[dict[str, Any]]] = {a: [] for a in env.possible_agents}
    try:
        obs, infos = env.reset(seed=seed)
        trace += [(a, obs[a], 0.0) for a in sorted(obs)]
        while env.agents:
            actions = {a: agents[a].act(infos[a]) for a in env.agents}
            obs, rewards, _, _, infos = env.step(actions)
            trace += [(a, obs[a], rewards[a]) for a in sorted(obs)]
            for a in infos:
                infos_seen[a].append(infos[a])
    finally:
        env.close()
        for agent in agents.values():
            agent.close()
    return trace, infos_seen


@pytest.fixture(scope="module")
def seven() -> Iterator[tuple[Trace, dict[str, list[dict[str, Any]]]]]:
    yield scripted_run(7)


def test_the_same_seed_and_actions_give_the_same_observations(
        seven: tuple[Trace, dict[str, list[dict[str, Any]]]]) -> None:
    trace, infos = seven
    assert scripted_run(7)[0] == trace
    assert len(trace) == 2 * 41
    assert sum(r for _, _, r in trace) > 0  # it was not an empty episode: they gained XP
    assert any(e["name"] == "hit_landed" for i in infos["Agentaa"] for e in i["events"])


def test_another_seed_gives_other_observations(
        seven: tuple[Trace, dict[str, list[dict[str, Any]]]]) -> None:
    assert scripted_run(8)[0] != seven[0]


def test_the_xp_reward_is_the_xp_the_world_gave(
        seven: tuple[Trace, dict[str, list[dict[str, Any]]]]) -> None:
    _, infos = seven
    for steps in infos.values():
        first, last = steps[0]["observation"], steps[-1]["observation"]
        gained = sum(i["reward"]["xp"] for i in steps[1:])
        assert gained == last["vitals"]["xp"] - first["vitals"]["xp"]
        assert [i["episode_ticks"] for i in steps] == list(range(10, 410, 10))
        assert steps[-1]["tick"] == 400


def test_lines_and_tool_calls() -> None:
    env = AegentEnv(render_mode="ansi", **SMALL)
    try:
        obs, info = env.reset(seed=3)
        assert "Town Square" in obs["text"] and info["outcome"] is None
        assert "north" in info["admissible"]
        assert env.observation_space.contains(obs)

        obs, reward, terminated, truncated, info = env.step("look")
        assert "Town Square" in obs["text"] and info["outcome"]["ok"] is True
        assert env.render() == obs["text"]
        obs, *_, info = env.step({"tool": "go", "args": {"direction": "north"}})
        assert info["observation"]["room"]["id"] == "haven:temple_steps"
        assert info["outcome"] == {"ok": True, "code": "", "message": ""}

        obs, *_, info = env.step("frobnicate")
        assert info["outcome"]["code"] == "unknown_command"
        assert info["outcome"]["message"] in obs["text"]  # as a person reads the refusal
        obs, *_, info = env.step("quit")  # an episode ends by itself, not by quitting
        assert info["outcome"]["code"] == "refused_by_env"
        obs, reward, terminated, truncated, info = env.step("")  # nothing, then time passes
        assert info["outcome"] is None and (terminated, truncated) == (False, True)
        assert info["observation"]["character"]["name"] == env.name
        with pytest.raises(ValueError, match="tool call"):
            env.step({"args": {}})
        with pytest.raises(ValueError, match="command line"):
            env.step(42)  # type: ignore[arg-type]
    finally:
        env.close()
    env.close()  # twice is fine


def kill(name: str) -> Any:
    def go(server: Server) -> None:
        ch = server.world.find_online(name)
        assert ch is not None
        combat.damage(server.world, None, ch, ch.hp + 100, "test")
    return go


def test_a_server_url_and_the_cost_of_dying() -> None:
    with EmbeddedServer(seed=5, quiet=False) as srv:
        env = AegentEnv(srv.url, rewards=Rewards(xp=0.0, death=-1.0), name="Dora", **SMALL)
        try:
            env.reset(seed=1)
            srv.call(kill("Dora"))  # on the server's thread, between two of its steps
            _, reward, *_, info = env.step("")
            assert info["reward"]["deaths"] == 1 and reward == -1.0
            assert any(e["name"] == "died" for e in info["events"])
            env.reset()  # the same character logs in again
            _, reward, *_, info = env.step("")
            assert reward == 0.0 and info["tick"] == 20  # the server's world went on
        finally:
            env.close()


def test_a_server_on_the_clock_is_waited_for() -> None:
    with EmbeddedServer(seed=5, lockstep=False, quiet=False) as srv:
        env = AegentEnv(srv.url, max_ticks=2, ticks_per_step=1, quiet=False)
        try:
            env.reset(seed=1)
            *_, truncated, info = env.step("look")
            assert not truncated and info["episode_ticks"] == 1
            *_, truncated, info = env.step("")
            assert truncated and info["observation"]["room"]["id"] == "haven:square"
        finally:
            env.close()


def test_text_outside_the_charset_is_folded() -> None:
    assert clean_text("Zoë says 'ő\u4e16'\ttoo") == "Zoë says 'o?' too"
    assert len(clean_text("x" * 70_000)) == 1 << 16


# ---- an episode's own server -------------------------------------------------------------


@pytest.fixture
def worlds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder where the envs' worlds get their temporary folders (and nothing else)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def world_process(worlds: Path) -> tuple[Path, psutil.Process]:
    """The one world folder under `worlds`, and its server (the pid in its lock file)."""
    (folder,) = worlds.iterdir()
    pid = int((folder / "data" / "aegent.lock").read_text(encoding="ascii"))
    return folder, psutil.Process(pid)


def gone(proc: psutil.Process) -> bool:
    """Whether it ended and was waited for (a zombie is still there)."""
    try:
        proc.status()
    except psutil.NoSuchProcess:
        return True
    return False


def test_each_episode_has_a_server_process_that_goes_with_it(
        worlds: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The shell's settings do not reach the world: it would not start on this database.
    monkeypatch.setenv("AEGENT_LOCKSTEP", "false")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    env = AegentEnv(max_ticks=20)  # quiet: the server's log stays in its folder
    try:
        env.reset(seed=1)
        first, server = world_process(worlds)
        assert server.ppid() == os.getpid() and "serve" in server.cmdline()
        assert server.environ()["AEGENT_LOCKSTEP"] == "true"
        assert "DATABASE_URL" not in server.environ()
        assert (first / "data" / "server.log").is_file()

        env.reset(seed=2)  # a new world: the first one's server and folder are gone
        second, again = world_process(worlds)
        assert second != first and again.pid != server.pid and gone(server)
        *_, info = env.step("look")
        assert info["outcome"]["ok"] is True
    finally:
        env.close()
    assert gone(again) and list(worlds.iterdir()) == []


def test_server_settings_reach_the_world(worlds: Path) -> None:
    env = AegentEnv(max_ticks=20, server_settings={"advance_max_ticks": 5, "journal": False})
    try:
        env.reset(seed=1)
        folder, _ = world_process(worlds)
        assert not (folder / "data" / "journal").exists()
        with pytest.raises(ClientError) as refused:  # a step is 10 ticks, the world says 5
            env.step("")
        assert refused.value.code == "bad_field"
    finally:
        env.close()
    assert list(worlds.iterdir()) == []


@pytest.mark.parametrize(("settings", "error", "message"), [
    ({"tik_hz": 20}, RuntimeError, "unknown setting 'tik_hz'"),
    ({"tick_hz": "fast"}, RuntimeError, "setting tick_hz from AEGENT_TICK_HZ"),
    ({"tick_hz": [20]}, ValueError, "a str, int, float, bool, Path or None, not list"),
    ({"Tick-Hz": 20}, ValueError, "not a setting's name"),
])
def test_a_bad_setting_fails_the_reset_and_leaves_nothing(
        worlds: Path, settings: dict[str, Any], error: type[Exception], message: str) -> None:
    env = AegentEnv(server_settings=settings)
    try:
        with pytest.raises(error, match=message):
            env.reset(seed=1)
    finally:
        env.close()
    assert list(worlds.iterdir()) == []
    assert [p for p in psutil.Process().children() if str(worlds) in " ".join(p.cmdline())] == []
