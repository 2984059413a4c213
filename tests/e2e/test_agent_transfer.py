"""Moving an agent between two servers with the real `aegent agent export|import`.

Two servers, each with its own data dir, SQLite file and local Qdrant folder. On A an
agent is made (`aegent agent create`), plays (its character saved), and has a few
dozen memories (the real MiniLM embedder); it is exported, imported into B, and then:
its retrieval results on B are those on A, it logs in to B with its NEW key (the old
one is refused there), its character is where it was, and the file holds no key.
Refusals (a name clash, an unknown owner, a bad file) change nothing.
"""

from __future__ import annotations

import asyncio
import io
import re
import uuid
from pathlib import Path
from typing import Any

import msgpack
import pytest
from agent_memories import TEXTS, assert_same_retrieval, fill
from conftest import StartServer, ws_url
from fake_openai import FakeOpenAI
from wsclient import Client, auth_of, events

from agents import portable
from agents.embedding import MiniLMEmbedder
from agents.memory import QdrantMemory
from agents.runner import open_memory as runtime_memory
from server import cli
from server.app import Server
from server.host.agent_transfer import ProgressLine
from server.host.identity_storage import IdentityStore
from server.host.storage import SqlRepository


@pytest.fixture(autouse=True)
def local_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads the environment: SQLite and local Qdrant under --data-dir, MiniLM."""
    for var in ("DATABASE_URL", "QDRANT_URL", "AEGENT_EMBEDDINGS_URL", "AEGENT_EMBEDDINGS_MODEL",
                "AEGENT_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder()


async def aegent(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The real `aegent ...` in a thread (it blocks): exit code, stdout, stderr."""
    capsys.readouterr()
    code = await asyncio.to_thread(cli.main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


KEY = re.compile(r"aq_[A-Za-z0-9]+_[A-Za-z0-9_-]+")


def key_in(out: str) -> str:
    """The API key a command printed. The servers of this test log to the same stdout
    from the event loop while the command runs in a thread, so a log line may share
    the key's line: the key is found by its shape, not by where the line starts."""
    keys = set(KEY.findall(out))
    assert len(keys) == 1, out
    return keys.pop()


async def person(server: Server, name: str) -> Client:
    c = await Client.open(ws_url(server), "aegent.json")
    await c.recv()
    assert auth_of(await c.register(name))["ok"]
    return c


async def key_login(server: Server, key: str) -> tuple[Client, list[Any]]:
    c = await Client.open(ws_url(server), "aegent.msgpack")
    await c.recv()
    await c.send({"type": "login", "api_key": key, "id": "login"})
    got = await c.until(lambda m: m.get("type") == "auth")
    if got[-1]["ok"]:
        got += await c.until(lambda m: m.get("type") == "event" and m["name"] == "vitals")
    return c, got


async def test_an_agent_moves_to_another_server_with_its_memories(
        start_server: StartServer, tmp_path: Path, minilm: MiniLMEmbedder,
        capsys: pytest.CaptureFixture[str]) -> None:
    dir_a, dir_b = tmp_path / "a", tmp_path / "b"
    server_a = await start_server(data_dir=dir_a)
    ann = await person(server_a, "Ann")
    code, old_key, err = await aegent(capsys, "agent", "create", "Scout", "--owner", "ann",
                                      "--rate", "3", "--data-dir", str(dir_a))
    assert code == 0, err
    old_key = key_in(old_key)

    scout, got = await key_login(server_a, old_key)
    assert auth_of(got)["ok"], got
    room = events(await scout.command("north"), "room")[0]["data"]["id"]
    await scout.command("quit")  # saves the character
    await ann.close()

    store_a = QdrantMemory.open(dir_a, embedder=minilm)
    fill(store_a)
    count = store_a.count("Scout")
    store_a.close()  # local mode: one process... one client at a time per folder

    exported = tmp_path / "scout.aegent"
    code, out, err = await aegent(capsys, "agent", "export", "scout", "-o", str(exported),
                                  "--data-dir", str(dir_a))
    assert code == 0, err
    assert f"{count} memories" in out and "all-MiniLM-L6-v2" in out
    blob = exported.read_bytes()
    repo = SqlRepository(server_a.settings.resolved_database_url)
    record = IdentityStore(repo.engine).get_agent("scout")
    repo.close()
    assert record is not None and record.key_id
    for secret in (old_key, record.key_id, record.key_hash, old_key.split("_", 2)[2]):
        assert secret.encode() not in blob  # never the key, its id or its hash
    raw = msgpack.unpackb(blob, raw=False)
    assert raw["identity"] == {"name": "scout", "display_name": "Scout", "owner": "ann",
                               "kind": "agent", "created_at": raw["identity"]["created_at"]}
    assert raw["config"]["rate"] == 3.0 and raw["character"]["room"] == room
    assert raw["embedding"] == {"model": "all-MiniLM-L6-v2", "dim": 384}

    server_b = await start_server(data_dir=dir_b)
    # B has no account called Ann yet: the exported owner is refused, clearly
    code, out, err = await aegent(capsys, "agent", "import", str(exported),
                                  "--data-dir", str(dir_b))
    assert code == 2 and "aq_" not in out
    assert "exported owner ann has no account" in err and "--owner" in err
    bea = await person(server_b, "Bea")
    code, out, err = await aegent(capsys, "agent", "import", str(exported), "--owner", "bea",
                                  "--data-dir", str(dir_b))
    assert code == 0, err
    new_key = key_in(out)
    assert new_key.startswith("aq_") and new_key != old_key
    assert f"{count} memories, vectors kept" in err and "owned by bea" in err

    # the same retrieval on B as on A (same queries, same game times), in the store the
    # agent runtime opens on B (`aegent agents run --data-dir B`)
    store_a = QdrantMemory.open(dir_a, embedder=minilm)
    store_b = runtime_memory(dir_b, env={})
    try:
        assert store_b.count("Scout") == count
        assert_same_retrieval(store_a, store_b, "Scout")
    finally:
        store_a.close()
        store_b.close()

    # it plays on B with its new key, where it was; the old key is not B's
    _, got = await key_login(server_b, old_key)
    assert not auth_of(got)["ok"]
    scout_b, got = await key_login(server_b, new_key)
    auth = auth_of(got)
    assert auth["ok"] and auth["created"] is False, got
    assert auth["character"]["name"] == "Scout" and auth["character"]["kind"] == "agent"
    here = events(await scout_b.command("look"), "room")[0]["data"]["id"]
    assert here == room
    owned = events(await bea.command("agent list"), "agent_managed")[0]["data"]["agents"]
    assert [a["name"] for a in owned] == ["Scout"]  # Bea manages it in game
    await scout_b.close()

    # importing it again clashes with the name, and changes nothing; --rename works
    code, out, err = await aegent(capsys, "agent", "import", str(exported), "--owner", "bea",
                                  "--data-dir", str(dir_b))
    assert code == 2 and "name_taken" in err and "--rename" in err and "aq_" not in out
    code, out, err = await aegent(capsys, "agent", "import", str(exported), "--owner", "bea",
                                  "--rename", "Ranger", "--data-dir", str(dir_b))
    assert code == 0, err
    ranger, got = await key_login(server_b, key_in(out))
    assert auth_of(got)["ok"] and auth_of(got)["character"]["name"] == "Ranger"
    await ranger.close()
    store_b = QdrantMemory.open(dir_b, embedder=minilm)
    try:
        assert store_b.count("Scout") == store_b.count("Ranger") == count
        texts = {m.text for m in store_b.memories("Ranger")}
        assert set(TEXTS) <= texts
    finally:
        store_b.close()
    await bea.close()


async def test_import_refusals_change_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], minilm: MiniLMEmbedder) -> None:
    data = tmp_path / "data"
    repo = SqlRepository(f"sqlite:///{data / 'aegent.sqlite3'}")
    repo.migrate()
    repo.create_account("Ann", "not-a-real-hash")
    repo.close()
    texts = ["I met a wolf.", "The inn is warm."]
    records = [portable.MemoryRecord(str(uuid.uuid4()), "observation", t, 0.5, 1.0, 1.0,
                                     v.astype("<f4").tobytes())
               for t, v in zip(texts, minilm.embed(texts), strict=True)]
    broken = tmp_path / "broken.aegent"  # its config cannot be taken: refused after the
    portable.write(broken, portable.AgentFile(  # memories were written, which must go again
        portable.Identity("scout", "Scout", "ann"), {"rate": -1}, None, minilm.name, 384,
        records))
    code, out, err = await aegent(capsys, "agent", "import", str(broken), "--data-dir",
                                  str(data))
    assert code == 2 and "bad_config" in err and "rate" in err and "aq_" not in out
    store = QdrantMemory.open(data, embedder=minilm)
    try:
        assert store.count("Scout") == 0
    finally:
        store.close()
    fixed = tmp_path / "fixed.aegent"
    portable.write(fixed, portable.AgentFile(portable.Identity("scout", "Scout", "ann"),
                                             {"rate": 2}, None, minilm.name, 384, records))
    code, out, err = await aegent(capsys, "agent", "import", str(fixed), "--data-dir", str(data))
    assert code == 0 and "2 memories, vectors kept" in err, err
    key_in(out)

    bad = tmp_path / "bad.aegent"
    bad.write_bytes(b'{"format": "aegent-agent"}')
    code, out, err = await aegent(capsys, "agent", "import", str(bad), "--data-dir", str(data))
    assert code == 2 and "not_msgpack" in err
    cut = tmp_path / "cut.aegent"
    cut.write_bytes(msgpack.packb({"format": "aegent-agent", "version": 1,
                                   "memories": [1, 2, 3]})[:-2])
    code, out, err = await aegent(capsys, "agent", "import", str(cut), "--data-dir", str(data))
    assert code == 2 and "cut short" in err and "truncated" in err
    code, out, err = await aegent(capsys, "agent", "export", "nobody", "-o",
                                  str(tmp_path / "x"), "--data-dir", str(data))
    assert code == 2 and "no agent is called nobody" in err
    assert not (tmp_path / "x").exists()


async def test_import_with_an_embeddings_endpoint_re_embeds(
        start_server: StartServer, tmp_path: Path, minilm: MiniLMEmbedder,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    dir_a, dir_b = tmp_path / "a", tmp_path / "b"
    for d in (dir_a, dir_b):  # no server needed: the CLI works on the files
        repo = SqlRepository(f"sqlite:///{d / 'aegent.sqlite3'}")
        repo.migrate()
        repo.create_account("Ann", "not-a-real-hash")
        repo.close()
    code, _, err = await aegent(capsys, "agent", "create", "Scout", "--owner", "ann",
                                "--data-dir", str(dir_a))
    assert code == 0, err
    store_a = QdrantMemory.open(dir_a, embedder=minilm)
    fill(store_a)
    count = store_a.count("Scout")
    store_a.close()
    exported = tmp_path / "scout.aegent"
    assert (await aegent(capsys, "agent", "export", "Scout", "-o", str(exported),
                         "--data-dir", str(dir_a)))[0] == 0

    with FakeOpenAI() as fake:
        monkeypatch.setenv("AEGENT_EMBEDDINGS_URL", fake.base_url)
        monkeypatch.setenv("AEGENT_EMBEDDINGS_MODEL", "fake-embed")
        code, out, err = await aegent(capsys, "agent", "import", str(exported),
                                      "--data-dir", str(dir_b))
        assert code == 0, err
        assert "re-embedded with fake-embed (64d" in err and f"{count} memories" in err
        embedded = sum(len(r.body.get("input") or []) for r in fake.requests
                       if r.path.endswith("/embeddings"))
        assert embedded >= count
    store_b = QdrantMemory.open(dir_b, embedder=minilm)
    try:
        assert store_b.vector_size("Scout") == 64 and store_b.count("Scout") == count
    finally:
        store_b.close()


def test_progress_lines_for_large_memories_only() -> None:
    out = io.StringIO()
    progress = ProgressLine(out, every=3600.0, quiet_under=100)
    for done in range(0, 1001, 100):
        progress("embed", done, 1000)
    progress("import", 5, 50)  # small: nothing
    assert out.getvalue().splitlines() == ["memories: embed 0/1000", "memories: embed 1000/1000"]
