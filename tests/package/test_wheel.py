"""The wheel, as a user gets it: `python -m build`, a fresh virtualenv outside the checkout,
`pip install` of the wheel from the package index, then the installed `aegent` only.

- `aegent --version` prints the distribution's version;
- run outside any game folder it uses the packaged starter world (server/starter/);
- a command that needs an extra the plain install lacks says which, in one line;
- `aegent init DIR` writes a game folder, and `aegent serve` inside it reads its
  aegent.toml (the data goes to DIR/data), listens, and a client plays once;
- with the `agents` extra but without the MiniLM model, `aegent agents run --policy llm`
  says in one line which command installs the model, and the agent plays on without
  memory (against tests/fake_openai.py for the chat model).

Nothing from the checkout is on the venv's path: its `aegent` imports the installed copy.
The build and the installs take 60 to 80 s on 2 cores with pip's cache warm (measured:
the module ran in 60 s on a quiet machine, 76 s on a busy one), more than `make test`
should carry, so this module runs in `make package-test` (AEGENT_PACKAGE_TEST=1), which
.ci/run runs after `make test`; in `make test` it is skipped, saying so.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import tomllib
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, Reply, chat_reply, tool_call
from wsclient import Client, auth_of, events

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]

pytestmark = [
    pytest.mark.package,
    pytest.mark.timeout(600),
    pytest.mark.skipif(os.environ.get("AEGENT_PACKAGE_TEST") != "1",
                       reason="builds and installs the wheel (a minute): make package-test"),
]


@dataclass(frozen=True)
class Installed:
    """A fresh virtualenv with the built wheel installed in it."""

    root: Path
    wheel: Path

    @property
    def aegent(self) -> str:
        return str(self.root / "bin" / "aegent")

    @property
    def pip(self) -> list[str]:
        return [str(self.root / "bin" / "python"), "-m", "pip"]


def clean_env(**more: str) -> dict[str, str]:
    """This process's environment less every setting and path that could leak the checkout
    or this machine's configuration into the installed command."""
    drop = ("AEGENT_", "PYTHON", "VIRTUAL_ENV", "DATABASE_URL", "QDRANT_", "OPENAI_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**env, "AEGENT_ARGON2_TIME_COST": "1", "AEGENT_ARGON2_MEMORY_KIB": "1024", **more}


def run(*args: str, cwd: Path, timeout: float = 300, **env: str) -> str:
    done = subprocess.run(args, cwd=cwd, env=clean_env(**env), capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build the sdist and the wheel (the wheel from the sdist, as `python -m build` does),
    then install the wheel into a new virtualenv with its dependencies from the index."""
    dist = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT), cwd=dist)
    wheel = next(dist.glob("aegent_quest-*.whl"))
    root = tmp_path_factory.mktemp("venv")
    assert ROOT not in root.parents  # outside the checkout
    venv.create(root, with_pip=True, clear=True)
    made = Installed(root, wheel)
    run(*made.pip, "install", "--quiet", str(wheel), cwd=root)
    return made


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def served(installed: Installed, tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """`aegent init game`, then `aegent serve` in it on a free port; (game folder, port)."""
    out = run(installed.aegent, "init", "game", cwd=tmp_path)
    assert "game folder" in out
    game = tmp_path / "game"
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen([installed.aegent, "serve", "--port", str(port),
                                 "--telnet-port", "0"], cwd=game, env=clean_env(),
                                stdout=sink, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            if proc.poll() is not None:
                raise AssertionError(log.read_text())
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise AssertionError("the installed server did not start")
        yield game, port
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_the_wheel_carries_the_starter_world_and_says_its_version(installed: Installed,
                                                                  tmp_path: Path) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    assert "server/starter/world.yaml" in names and "server/starter/zones/haven.yaml" in names
    assert not [n for n in names if n.startswith(("content/", "tests/"))]
    assert run(installed.aegent, "--version", cwd=tmp_path).strip() == f"aegent-quest {VERSION}"
    shown = run(installed.aegent, "config", "show", cwd=tmp_path)  # no game folder here
    content_dir = next(line for line in shown.splitlines() if line.startswith("content_dir"))
    assert str(installed.root) in content_dir and "server/starter" in content_dir
    assert "(default)" in content_dir
    assert "rooms" in run(installed.aegent, "content", "check", cwd=tmp_path)
    # A plain install: what needs an extra says which, in one line.
    done = subprocess.run([installed.aegent, "agent", "export", "Robo", "-o", "robo.aq"],
                          cwd=tmp_path, env=clean_env(), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert done.stderr == ("aegent: this needs the agents extra: pip install "
                           "'aegent-quest[agents]' (no module numpy)\n")


async def test_init_then_serve_in_the_game_folder_and_play(served: tuple[Path, int]) -> None:
    game, port = served
    assert (game / "aegent.toml").is_file() and (game / "content" / "world.yaml").is_file()
    c = await Client.open(f"ws://127.0.0.1:{port}/ws", "aegent.json")
    try:
        hello = await c.recv()
        assert hello["type"] == "hello"
        assert auth_of(await c.register("Wheela", cls="warrior"))["ok"]
        room = events(await c.command("look"), "room")[0]["data"]
        assert room["id"] == "haven:square"
    finally:
        await c.close()
    assert (game / "data" / "aegent.sqlite3").is_file()  # aegent.toml's data_dir


def walker(body: dict[str, object]) -> Reply:
    return chat_reply(tool_call("go", {"direction": "north"}), content="North.")


async def test_agents_extra_without_the_model_plays_on_and_names_the_command(
        installed: Installed, served: tuple[Path, int], tmp_path: Path) -> None:
    await asyncio.to_thread(run, *installed.pip, "install", "--quiet",
                            f"{installed.wheel}[agents]", cwd=tmp_path)
    game, port = served
    with FakeOpenAI(responder=walker) as fake:
        out = await asyncio.to_thread(
            run, installed.aegent, "agents", "run", "--server", f"ws://127.0.0.1:{port}/ws",
            "--policy", "llm", "--model", "fake-model", "--count", "1", "--duration", "4",
            "--quiet", "--data-dir", str(tmp_path / "agents"), cwd=tmp_path,
            OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY="test")
        assert fake.chat_bodies  # the agent played: the model was asked what to do
    lines = [line for line in out.splitlines() if "install-model" in line]
    assert lines == ["aegent: the MiniLM model for agent memory is not installed: run "
                     "`aegent agents install-model` (or set AEGENT_EMBEDDINGS_URL to an "
                     "endpoint); the agents play without memory"], out
    assert not (tmp_path / "agents" / "qdrant").exists()
