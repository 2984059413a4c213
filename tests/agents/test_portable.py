"""The portable agent file (agents/portable.py): format round trip, refusal of bad files,
and moving memories between two real local Qdrant folders (same embedder: the vectors
kept and retrieval identical; another embedder: every text re-embedded)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import pytest
from agent_memories import HOUR, TEXTS, WordHashEmbedder, assert_same_retrieval, fill

from agents import portable
from agents.embedding import MiniLMEmbedder, normalize
from agents.memory import MemoryConfig, QdrantMemory
from agents.portable import AgentFile, Identity, MemoryRecord, PortableError


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[list[QdrantMemory]]:
    opened: list[QdrantMemory] = []
    yield opened
    for store in opened:
        store.close()


def sample_file(n: int = 3, dim: int = 4) -> AgentFile:
    rng = np.random.default_rng(1)
    memories = [MemoryRecord(id=f"00000000-0000-4000-8000-{i:012d}", kind="observation",
                             text=f"memory {i}", importance=0.5, created=float(i),
                             last_access=float(i),
                             vector=normalize(rng.random((1, dim), dtype=np.float32))[0]
                             .astype("<f4").tobytes(), meta={"event": "room", "zone": "town"})
                for i in range(n)]
    character = portable.summarize_character({
        "name": "Scout", "cls": "rogue", "room": "town:square", "level": 4, "xp": 900,
        "gold": 37, "equipment": {"wield": {"proto": "dagger"}},
        "inventory": [{"proto": "bread"}, {"proto": "torch"}]})
    return AgentFile(identity=Identity("scout", "Scout", "ann", "agent",
                                       "2025-01-02T03:04:05+00:00"),
                     config={"rate": 4.0, "policy": "llm", "model": "gpt-4o-mini"},
                     character=character, embedding_model="test-model", embedding_dim=dim,
                     memories=memories)


# -- the format ------------------------------------------------------------------------------


def test_the_format_round_trips(tmp_path: Path) -> None:
    original = sample_file()
    path = tmp_path / "scout.aegent"
    size = portable.write(path, original)
    assert size == path.stat().st_size and path.stat().st_mode & 0o777 == 0o600
    back = portable.read(path)
    assert back == original
    raw = msgpack.unpackb(path.read_bytes(), raw=False)
    assert raw["format"] == "aegent-agent" and raw["version"] == 1
    assert raw["character"]["equipment"] == {"wield": "dagger"}
    assert raw["character"]["inventory"] == ["bread", "torch"]
    assert raw["character"]["gold"] == 37 and raw["character"]["class"] == "rogue"
    assert isinstance(raw["memories"][0]["vector"], bytes)
    assert back.memories[0].array().dtype == np.float32


def test_secrets_never_reach_the_file() -> None:
    agent = sample_file()
    key = "aq_abcdef123456_" + "x" * 43
    config = {"rate": 4.0, "api_key": "sk-live", "openai": {"token": "t", "model": "m"},
              "note": key, "tags": ["a", key], "max_tokens": 300}
    blob = portable.dumps(AgentFile(agent.identity, config, agent.character,
                                    agent.embedding_model, agent.embedding_dim, agent.memories))
    assert b"sk-live" not in blob and key.encode() not in blob
    back = portable.loads(blob)
    assert back.config == {"rate": 4.0, "openai": {"model": "m"}, "tags": ["a"],
                           "max_tokens": 300}


def mutate(**changes: Any) -> bytes:
    data = portable.to_data(sample_file())
    for key, value in changes.items():
        target: Any = data
        *path, last = key.split("__")
        for part in path:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is ...:
            del target[last]
        else:
            target[last] = value
    blob: bytes = msgpack.packb(data, use_bin_type=True)
    return blob


@pytest.mark.parametrize(("blob", "code", "words"), [
    (b"", "truncated", "empty"),
    (b'{"format": "aegent-agent"}', "not_msgpack", "not"),
    (b"\xc1", "not_msgpack", "msgpack"),
    (msgpack.packb([1, 2]), "not_agent_file", "not an aegent agent file"),
    (msgpack.packb({"format": "something-else", "version": 1}), "not_agent_file", "format"),
    (mutate(version=2), "unsupported_version", "newer"),
    (mutate(version=0), "unsupported_version", "older"),
    (mutate(version="1"), "unsupported_version", "version"),
    (mutate(identity__name=...), "invalid", "identity.name is missing"),
    (mutate(identity__kind="person"), "invalid", "identity.kind"),
    (mutate(embedding__dim="4"), "invalid", "embedding.dim must be an integer"),
    (mutate(memories__1__vector=b"\0" * 12), "invalid", "memories[1].vector has 12 bytes"),
    (mutate(memories__0__importance="high"), "invalid", "memories[0].importance"),
    (mutate(memories__2__id="not-a-uuid"), "invalid", "memories[2].id"),
    (mutate(memory_count=5), "truncated", "memory_count says 5"),
    (mutate(exported_at="yesterday"), "invalid", "exported_at"),
    (mutate(character__snapshot__level="four"), "invalid", "character.snapshot.level"),
])
def test_bad_files_are_refused_with_a_clear_error(blob: bytes, code: str, words: str) -> None:
    with pytest.raises(PortableError) as caught:
        portable.loads(blob)
    assert caught.value.code == code
    assert words in caught.value.message


def test_a_file_cut_anywhere_is_refused() -> None:
    blob = portable.dumps(sample_file())
    for cut in (1, 10, len(blob) // 3, len(blob) // 2, len(blob) - 1):
        with pytest.raises(PortableError) as caught:
            portable.loads(blob[:cut])
        assert caught.value.code == "truncated", cut
        assert "cut short" in caught.value.message
    with pytest.raises(PortableError, match="bytes follow"):
        portable.loads(blob + b"\0")


# -- moving memories -------------------------------------------------------------------------


def test_memories_move_between_stores_with_identical_retrieval(
        tmp_path: Path, minilm: MiniLMEmbedder, stores: list[QdrantMemory]) -> None:
    a = QdrantMemory.open(tmp_path / "a", embedder=minilm)
    stores.append(a)
    fill(a)
    model, dim, records = portable.dump_memories(a, "Scout")
    assert (model, dim) == ("all-MiniLM-L6-v2", 384)
    assert len(records) == a.count("Scout") > len(TEXTS)  # the reflections too
    assert {r.kind for r in records} >= {"observation", "action", "reflection"}
    reflection = next(r for r in records if r.kind == "reflection")
    assert reflection.meta["evidence"]  # the source ids travel
    agent = AgentFile(Identity("scout", "Scout", "ann"), {}, None, model, dim, records)
    path = tmp_path / "scout.aegent"
    portable.write(path, agent)

    b = QdrantMemory.open(tmp_path / "b", embedder=minilm)
    stores.append(b)
    loaded = portable.read(path)
    seen: list[tuple[str, int, int]] = []
    report = portable.load_memories(b, "Scout", loaded.memories, loaded.embedding_model,
                                    loaded.embedding_dim, progress=lambda *a: seen.append(a),
                                    batch=16)
    assert not report.reembedded and report.count == len(records) and not report.remapped
    assert seen[-1] == ("import", len(records), len(records))
    assert [m.id for m in b.memories("Scout")] == [m.id for m in a.memories("Scout")]
    va = {p.id: p.vector for page in a.points("Scout") for p in page}
    vb = {p.id: p.vector for page in b.points("Scout") for p in page}
    assert va.keys() == vb.keys() and all(np.array_equal(va[k], vb[k]) for k in va)
    assert_same_retrieval(a, b, "Scout")
    # the rules' known rooms came along (they are seeded from the stored room events)
    assert b.add_event("Scout", "room", {"zone": "z0", "id": "r0"}, 40 * HOUR) is None


def test_another_embedder_re_embeds_every_text(
        tmp_path: Path, minilm: MiniLMEmbedder, stores: list[QdrantMemory]) -> None:
    a = QdrantMemory.open(tmp_path / "a", embedder=minilm)
    stores.append(a)
    fill(a)
    model, dim, records = portable.dump_memories(a, "Scout")
    other = WordHashEmbedder(64)
    b = QdrantMemory.open(tmp_path / "b", embedder=other)
    stores.append(b)
    seen: list[str] = []
    report = portable.load_memories(b, "Scout", records, model, dim,
                                    progress=lambda stage, *_: seen.append(stage))
    assert report.reembedded and (report.model, report.dim) == ("word-hash-64", 64)
    assert "embed" in seen and b.vector_size("Scout") == 64
    texts = {r.id: r.text for r in records}
    for page in b.points("Scout"):
        for p in page:
            assert p.vector.shape == (64,)
            assert np.allclose(p.vector, other.embed([texts[p.id]])[0])
    nearest = b.client.query_points(b.collection("Scout"), limit=1, query=other.embed(
        ["the troll bridge"])[0].tolist()).points[0].payload or {}
    assert "troll" in nearest["text"]  # relevance now comes from the new vectors
    relevance_only = QdrantMemory(b.client, other, MemoryConfig(w_recency=0, w_importance=0))
    found = relevance_only.retrieve("Scout", "the troll bridge", 30 * HOUR, k=5)
    assert "troll" in found[0].text and len(found) == 5
    assert {m.id for m in b.memories("Scout")} == set(texts)


def test_an_agent_with_memories_is_not_overwritten(
        tmp_path: Path, minilm: MiniLMEmbedder, stores: list[QdrantMemory]) -> None:
    store = QdrantMemory.open(tmp_path / "a", embedder=minilm)
    stores.append(store)
    store.add("Scout", "I was here first.", "observation", 0.5, 0.0)
    records = [MemoryRecord("00000000-0000-4000-8000-000000000001", "observation", "hello",
                            0.5, 0.0, 0.0, minilm.embed(["hello"])[0].tobytes())]
    with pytest.raises(PortableError) as caught:
        portable.load_memories(store, "Scout", records, minilm.name, 384)
    assert caught.value.code == "memories_exist"
    assert [m.text for m in store.memories("Scout")] == ["I was here first."]


def test_a_copy_in_a_shared_collection_gets_new_ids(
        tmp_path: Path, minilm: MiniLMEmbedder, stores: list[QdrantMemory]) -> None:
    store = QdrantMemory.open(tmp_path / "a", embedder=minilm,
                              config=MemoryConfig(layout="shared"))
    stores.append(store)
    fill(store)
    model, dim, records = portable.dump_memories(store, "Scout")
    report = portable.load_memories(store, "Twin", records, model, dim)
    assert report.remapped and not report.reembedded
    scout, twin = store.memories("Scout"), store.memories("Twin")
    assert len(scout) == len(twin) == len(records)
    assert not {m.id for m in scout} & {m.id for m in twin}
    assert sorted(m.text for m in scout) == sorted(m.text for m in twin)
    twin_ids = {m.id for m in twin}
    reflection = next(p for page in store.points("Twin") for p in page
                      if p.payload["kind"] == "reflection")
    assert set(reflection.payload["evidence"]) <= twin_ids  # the evidence follows the new ids


def test_export_refuses_vectors_the_configured_embedder_did_not_make(
        tmp_path: Path, minilm: MiniLMEmbedder, stores: list[QdrantMemory]) -> None:
    store = QdrantMemory.open(tmp_path / "a", embedder=minilm)
    store.add("Scout", "A memory.", "observation", 0.5, 0.0)
    store.close()
    other = QdrantMemory.open(tmp_path / "a", embedder=WordHashEmbedder(64))
    stores.append(other)
    with pytest.raises(PortableError, match="vectors of size 384"):
        portable.dump_memories(other, "Scout")
