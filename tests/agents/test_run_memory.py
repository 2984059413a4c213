"""`aegent agents run --policy llm` opens the agents' memory, and `--no-memory` does not.

The real command in its own process against the real server (in this test's event
loop) and tests/fake_openai.py (chat completions and embeddings); the memory is the
real Qdrant store in local mode under the run's data dir. A first run walks north
and so stores "Found Temple Steps"; a second run, a new process with the same data
dir, is shown that memory in its first prompt.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import StartServer, ws_url
from fake_openai import FakeOpenAI, Reply, chat_reply, tool_call

ROOT = Path(__file__).resolve().parents[2]
MEMORIES = re.compile(r"<<<DATA memories\n(.*?)\nDATA>>>", flags=re.S)


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def walker(body: dict[str, Any]) -> Reply:
    """Walk north out of the square, then wait."""
    final = str(body["messages"][-1]["content"])
    if "Room: Town Square" in final:
        return chat_reply(tool_call("go", {"direction": "north"}), content="North.")
    return chat_reply(content="Waiting.")


async def agents_run(url: str, fake: FakeOpenAI, data_dir: Path, *more: str) -> str:
    """`aegent agents run --policy llm` for a few seconds; its stderr."""
    env = {**os.environ, "OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "test",
           "AEGENT_EMBEDDINGS_URL": fake.base_url, "AEGENT_EMBEDDINGS_MODEL": "fake-embed"}
    env.pop("QDRANT_URL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", "agents", "run", "--server", url,
        "--policy", "llm", "--model", "fake-model", "--count", "1", "--duration", "5",
        "--data-dir", str(data_dir), "--quiet", *more,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode == 0, (out + err).decode()[-3000:]
    return err.decode()


def memory_blocks(bodies: list[dict[str, Any]]) -> list[str]:
    found = []
    for body in bodies:
        m = MEMORIES.search(str(body["messages"][-1]["content"]))
        if m:
            found.append(m.group(1))
    return found


async def test_agents_run_remembers_across_runs(start_server: StartServer, fake: FakeOpenAI,
                                                tmp_path: Path) -> None:
    server = await start_server()
    fake.responder = walker
    data = tmp_path / "agents-data"
    await agents_run(ws_url(server), fake, data)
    first = list(fake.chat_bodies)
    assert any("Room: Temple Steps" in str(b["messages"][-1]["content"]) for b in first)
    assert (data / "qdrant").is_dir()  # local mode, under the data dir
    assert "Found Temple Steps" not in str(first[0]["messages"][-1]["content"])

    await agents_run(ws_url(server), fake, data)
    second = fake.chat_bodies[len(first):]
    assert second
    blocks = memory_blocks(second)
    assert blocks and "Found Temple Steps in zone haven." in blocks[0]  # the first prompt


async def test_no_memory_runs_without_a_store(start_server: StartServer, fake: FakeOpenAI,
                                              tmp_path: Path) -> None:
    server = await start_server()
    fake.responder = walker
    data = tmp_path / "agents-data"
    await agents_run(ws_url(server), fake, data, "--no-memory")
    assert fake.chat_bodies
    assert not memory_blocks(fake.chat_bodies)
    assert not (data / "qdrant").exists()
    assert not [r for r in fake.requests if r.path.endswith("/embeddings")]
